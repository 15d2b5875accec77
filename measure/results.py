"""A Measurement as a pandas DataFrame or a pyperf benchmark suite (its JSON document is
:meth:`measure.Measurement.to_json`). Below the data model: these read a Measurement's fields and
import nothing of it, so that the model's ``to_dataframe``/``to_pyperf`` are one-way calls."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .errors import InputFileError
from .extras import require

if TYPE_CHECKING:
    from .model import Measurement


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
        ok = [s for s in r.samples if s.status.value == "ok" and getattr(s, metric) is not None]
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
