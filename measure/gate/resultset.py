"""Result sets: the per-benchmark values a gate compares, read from any file measure writes.

A *result set* maps benchmark names to the values of one metric, grouped by process:
``processes[p][i]`` is the i-th counted call of process p. Deterministic backends (valgrind,
perf) need one process; the time backend needs several, because its tests work on per-process
summaries (docs/statistics-and-scores.md).

Files read (:func:`load_results`), all checked, errors naming the file and the remedy:

* a result-set document (``"schema": "measure/results"``), written by the pytest plugin
  (``--measure-save``) and by ``measure gate --suite ... --save``;
* a Measurement document (``measure run --json`` / ``--out``): one benchmark per input, named
  ``program.entry[input]``, one process;
* a JSON list of Measurement documents (one process each, e.g. several ``measure run`` outputs).

Several files given for one side are merged: their processes are appended per benchmark.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import InputFileError, PlatformMismatch
from ..jsonfile import read_json, write_json_atomic
from ..model import Measurement, PlatformKey, Status, is_deterministic, metric_of

RESULTS_SCHEMA = "measure/results"
RESULTS_VERSION = 1


def unit_of(metric: str) -> str:
    return "ns" if metric.endswith("_ns") else "instr"


@dataclass(frozen=True)
class BenchResult:
    """One benchmark's values on one side.

    processes: per process, the ok values of ``metric`` (instructions, or task-clock ns);
    status: ``ok``, or the first non-ok status of a call (then the values may be empty);
    tolerance: a per-benchmark tolerance (fraction, 0.02 = 2 %) set where the benchmark is
    defined (pytest marker, suite file), or None for the gate's default.
    """

    name: str
    metric: str
    processes: Tuple[Tuple[float, ...], ...]
    status: str = "ok"
    message: str = ""
    tolerance: Optional[float] = None

    @property
    def values(self) -> List[float]:
        return [v for p in self.processes for v in p]

    @property
    def ok(self) -> bool:
        return self.status == Status.OK.value and bool(self.values)

    def center(self, deterministic: bool) -> Optional[float]:
        """The value the gate compares and records: the median of the counts on a deterministic
        backend, the mean of per-process medians on time; None when there are no values."""
        if not self.values:
            return None
        if deterministic:
            return float(np.median(self.values))
        return float(np.mean([np.median(p) for p in self.processes if p]))

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["processes"] = [list(p) for p in self.processes]
        return d

    @classmethod
    def from_dict(cls, name: str, d: Any, source: str) -> "BenchResult":
        if not isinstance(d, dict):
            raise InputFileError(f"{source}: benchmark {name!r} must be an object with 'metric' and 'processes'")
        try:
            procs = tuple(tuple(_number(v, source, name) for v in p) for p in d["processes"])
            tol = d.get("tolerance")
            return cls(name=name, metric=str(d["metric"]), processes=procs, status=str(d.get("status", "ok")),
                       message=str(d.get("message", "")), tolerance=None if tol is None else float(tol))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(f"{source}: benchmark {name!r} is malformed ({type(exc).__name__}: {exc}); "
                                 "expected {'metric': ..., 'processes': [[values...], ...]}. "
                                 "Re-create the file with `measure gate --save` or pytest --measure-save.") from None


def _number(v: Any, source: str, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v < 0:
        raise InputFileError(f"{source}: benchmark {name!r} has a value {v!r} that is not a non-negative number")
    return v


@dataclass(frozen=True)
class ResultSet:
    """All benchmarks of one run on one platform. ``meta``: commit, branch, time, tool, ... (strings)."""

    platform: PlatformKey
    benchmarks: Dict[str, BenchResult]
    meta: Dict[str, str] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return self.platform.backend

    @property
    def deterministic(self) -> bool:
        return is_deterministic(self.platform.backend)

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": RESULTS_SCHEMA, "version": RESULTS_VERSION, "platform": asdict(self.platform),
                "meta": dict(self.meta),
                "benchmarks": {n: {k: v for k, v in b.to_dict().items() if k != "name"}
                               for n, b in sorted(self.benchmarks.items())}}


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def from_measurement(m: Measurement, tolerance: Optional[float] = None,
                     names: Optional[Dict[int, str]] = None) -> Dict[str, BenchResult]:
    """One BenchResult per input of ``m`` (one process). ``names`` maps input index -> benchmark name
    (default ``program.entry[input name or index]``, as pyperf exports name them)."""
    metric = metric_of(m.platform.backend)
    out: Dict[str, BenchResult] = {}
    for r in m.inputs:
        name = (names or {}).get(r.index) or f"{m.program}.{m.entry}[{r.name or r.index}]"
        vals = tuple(getattr(s, metric) for s in r.samples
                     if s.status is Status.OK and getattr(s, metric) is not None)
        status, message = r.status.value, r.message
        if m.setup.status is not Status.OK:
            status, message = m.setup.status.value, f"setup: {m.setup.message}"
        out[name] = BenchResult(name, metric, (vals,) if vals else (), status, message[-2000:], tolerance)
    return out


def merge(sets: Sequence[ResultSet], what: str) -> ResultSet:
    """Append the processes of several result sets of the same platform, benchmark by benchmark."""
    if not sets:
        raise InputFileError(f"no {what} result files given")
    first = sets[0]
    benches: Dict[str, BenchResult] = dict(first.benchmarks)
    for s in sets[1:]:
        if not s.platform.comparable_to(first.platform):
            raise PlatformMismatch(f"the {what} files come from platforms that count differently (they differ in "
                                   f"{'; '.join(s.platform.differences(first.platform))}): give files measured "
                                   "under one PlatformKey per side")
        for n, b in s.benchmarks.items():
            if n not in benches:
                benches[n] = b
                continue
            a = benches[n]
            if a.metric != b.metric:
                raise InputFileError(f"benchmark {n!r} has metric {a.metric} in one {what} file and {b.metric} "
                                     "in another")
            status = a.status if a.status != "ok" else b.status
            benches[n] = replace(a, processes=a.processes + b.processes, status=status,
                                 message=a.message or b.message,
                                 tolerance=a.tolerance if a.tolerance is not None else b.tolerance)
    meta = dict(first.meta)
    return ResultSet(first.platform, benches, meta)


def from_document(doc: Any, source: str) -> ResultSet:
    """A ResultSet from a parsed results or Measurement document (a list of them: merged)."""
    return _from_document(doc, source)


def _from_document(doc: Any, source: str) -> ResultSet:
    if isinstance(doc, list):
        if not doc:
            raise InputFileError(f"{source} is an empty list: expected Measurement documents")
        return merge([_from_document(d, f"{source}[{i}]") for i, d in enumerate(doc)], source)
    if not isinstance(doc, dict):
        raise InputFileError(f"{source} is not a measure results file (a JSON {type(doc).__name__}): give a file "
                             "written by pytest --measure-save, `measure gate --save` or `measure run --json`")
    schema, version = doc.get("schema"), doc.get("version")
    if schema == RESULTS_SCHEMA:
        if version != RESULTS_VERSION:
            raise InputFileError(f"{source} is a results file of version {version!r}; this engine reads version "
                                 f"{RESULTS_VERSION}. Re-measure the baseline with this version of measure.")
        try:
            platform = PlatformKey(**doc["platform"])
        except (KeyError, TypeError) as exc:
            raise InputFileError(f"{source}: 'platform' is missing or malformed ({exc}); re-create the file") from None
        benches = doc.get("benchmarks")
        if not isinstance(benches, dict):
            raise InputFileError(f"{source}: 'benchmarks' must be an object mapping names to results")
        meta = doc.get("meta") or {}
        return ResultSet(platform, {n: BenchResult.from_dict(n, b, source) for n, b in benches.items()},
                         {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {})
    if schema == "measure/measurement":
        m = Measurement.from_dict(doc, source)
        return ResultSet(m.platform, from_measurement(m), {"started": m.started})
    raise InputFileError(f"{source} has schema {schema!r} (version {version!r}): not a file measure can gate. "
                         "Give a file written by pytest --measure-save, `measure gate --save` or `measure run --json`.")


def load_results(paths: Union[str, Path, Sequence[Union[str, Path]]], what: str = "results") -> ResultSet:
    """Read and merge one or more result files (see the module docstring for the formats)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return merge([_from_document(read_json(p, f"{what} file"), repr(str(p))) for p in paths], what)


def save_results(rs: ResultSet, path: Union[str, Path]) -> None:
    """Atomic write (temporary file renamed over the target): a crash never leaves half a file."""
    import json
    write_json_atomic(path, json.dumps(rs.to_dict(), indent=1, allow_nan=False))
