"""A Measurement as a versioned JSON document, a pandas DataFrame, or a pyperf benchmark suite."""
from __future__ import annotations

import json
import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Union

from .errors import InputFileError
from .extras import require
from .jsonfile import check_schema, packaged_schema, read_json, write_json_atomic
from .model import SCHEMA_VERSION, CountSummary, InputResult, Measurement, PlatformKey, Sample, Status
from .sandbox import wire


def schema() -> Dict[str, Any]:
    return packaged_schema(f"measurement-{SCHEMA_VERSION}")


def _summary(s: CountSummary | None):
    return None if s is None else {"median": s.median, "min": s.min, "max": s.max, "values": list(s.values)}


def to_dict(m: Measurement) -> Dict[str, Any]:
    """The versioned JSON document (schema ``measure/schema/measurement-1.json``)."""
    return {
        "schema": "measure/measurement", "version": SCHEMA_VERSION,
        "program": m.program, "entry": m.entry, "started": m.started, "elapsed_s": m.elapsed_s,
        "warnings": list(m.warnings), "isolation": dict(m.isolation), "config": m.config, "platform": asdict(m.platform),
        "setup": m.setup.to_dict(),
        "inputs": [{"index": r.index, "name": r.name, "status": r.status.value, "message": r.message,
                    "output": wire.encode_value(r.output) if _plain(r.output) else repr(r.output),
                    "instructions": _summary(r.instructions),
                    "samples": [s.to_dict() for s in r.samples]} for r in m.inputs],
    }


def _plain(x: Any) -> bool:
    try:
        wire.encode_value(x)
        return True
    except wire.WireError:
        return False


def to_json(m: Measurement, indent: int | None = 2) -> str:
    return json.dumps(to_dict(m), indent=indent, allow_nan=False)


def from_dict(doc: Any, source: str = "<document>") -> Measurement:
    """Validate against the schema and rebuild the Measurement. Raises InputFileError naming the field."""
    check_schema(doc, f"measurement-{SCHEMA_VERSION}", f"{source} is not a measure Measurement (version {SCHEMA_VERSION})",
                 "Produce it with `measure run --json` or Measurement export.")
    inputs = tuple(
        InputResult(index=r["index"], name=r.get("name"), status=Status(r["status"]),
                    samples=tuple(Sample.from_dict(s) for s in r["samples"]),
                    output=wire.decode_value(r.get("output")), message=r.get("message", ""))
        for r in doc["inputs"])
    return Measurement(program=doc["program"], entry=doc["entry"], platform=PlatformKey(**doc["platform"]),
                       config=doc["config"], setup=Sample.from_dict(doc["setup"]), inputs=inputs,
                       warnings=tuple(doc.get("warnings", ())), isolation=dict(doc.get("isolation", {})),
                       started=doc.get("started", ""),
                       elapsed_s=doc.get("elapsed_s", 0.0))


def load(path: Union[str, Path]) -> Measurement:
    return from_dict(read_json(path, "measurement file"), repr(str(path)))


def save(m: Measurement, path: Union[str, Path]) -> None:
    """Write atomically (a temporary file renamed over the target): a crash never leaves half a file."""
    write_json_atomic(path, to_json(m))


def to_dataframe(m: Measurement):
    """One row per counted call: input, repeat, status and every counter (pandas DataFrame)."""
    pd = require("pandas", "Measurement.to_dataframe()")
    rows = []
    for r in m.inputs:
        for k, s in enumerate(r.samples):
            row = {"program": m.program, "entry": m.entry, "input": r.index, "input_name": r.name, "repeat": k}
            row.update(s.to_dict())
            row["backend"] = m.platform.backend
            row["platform"] = m.platform.label()
            rows.append(row)
    cols = ["program", "entry", "input", "input_name", "repeat", "status", "instructions", "cycles", "branches",
            "branch_misses", "task_clock_ns", "wall_ns", "peak_rss_bytes", "scaled", "message", "backend", "platform"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("instructions", "cycles", "branches", "branch_misses", "task_clock_ns", "wall_ns", "peak_rss_bytes"):
        df[c] = df[c].astype("Int64")
    return df


def to_pyperf(m: Measurement, metric: str = "instructions"):
    """A ``pyperf.BenchmarkSuite``: one benchmark per input with ok samples, one run per counted call
    (each ran in its own process). Instruction counts use pyperf's ``integer`` unit; times ``second``."""
    pyperf = require("pyperf", "the pyperf export")
    unit, scale = ("second", 1e-9) if metric.endswith("_ns") else ("integer", 1)
    benches = []
    for r in m.inputs:
        ok = [s for s in r.samples if s.status is Status.OK and getattr(s, metric) is not None]
        if not ok:
            continue
        name = f"{m.program}.{m.entry}[{r.name or r.index}]"
        meta = {"name": name, "unit": unit, "python_version": m.platform.python_version,
                "python_implementation": m.platform.implementation, "cpu_model_name": m.platform.cpu_model,
                "hostname": socket.gethostname(), "platform": f"Linux-{m.platform.kernel}-{m.platform.isa}",
                "description": f"measure {metric}, backend {m.platform.backend}"}
        if m.started:
            meta["date"] = m.started
        # duration: the call's own wall time under the backend (without it pyperf takes an instruction
        # count for seconds and prints a total of days)
        runs = [pyperf.Run([getattr(s, metric) * scale if unit == "second" else int(getattr(s, metric))],
                           metadata=dict(meta, **({"duration": s.wall_ns / 1e9} if s.wall_ns else {})),
                           collect_metadata=False)
                for s in ok]
        benches.append(pyperf.Benchmark(runs))
    if not benches:
        raise InputFileError(f"no ok samples with {metric!r} to export: pyperf needs at least one value")
    return pyperf.BenchmarkSuite(benches)


def export_pyperf(m: Measurement, path: Union[str, Path], metric: str = "instructions") -> None:
    suite = to_pyperf(m, metric)
    p = Path(path)
    if p.exists():
        p.unlink()  # pyperf refuses to overwrite
    suite.dump(str(p))
