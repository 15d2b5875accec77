"""Committed expected values: one CSV row per benchmark, with its tolerance.

The file is meant to be read in review and committed beside the code (PyTorch keeps its
instruction-count gate this way). Format, version 1::

    # measure expectations v1: regenerate with `measure gate --candidate RUN.json --expectations FILE --update`
    # platform: {"backend": "valgrind", "isa": "x86_64", ...}
    benchmark,metric,expected,tolerance
    tests/test_parse.py::test_parse[small],instructions,1482771,0.01

``expected`` is the median count (instructions) or the mean of per-process median times (ns);
``tolerance`` a fraction (0.01 = 1 %; for time benchmarks the minimum effect). Lines starting
with ``#`` are comments; the ``# platform:`` line holds the PlatformKey (JSON) the values were
measured under, so a gate on another platform refuses them.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union


from ..errors import InputFileError
from ..model import PlatformKey
from .compare import GatePolicy, learned_tolerance
from .resultset import BenchResult, ResultSet

HEADER = ["benchmark", "metric", "expected", "tolerance"]
FIRST_LINE = ("# measure expectations v1: regenerate with "
              "`measure gate --candidate RUN.json --expectations FILE --update`")


@dataclass(frozen=True)
class Expectation:
    name: str
    metric: str
    expected: float
    tolerance: float


@dataclass(frozen=True)
class Expectations:
    platform: PlatformKey
    rows: Dict[str, Expectation]

    def as_resultset(self) -> ResultSet:
        """The expected values as a one-value-per-benchmark baseline (tolerances attached)."""
        return ResultSet(self.platform, {n: BenchResult(n, e.metric, ((e.expected,),), "ok", "", e.tolerance)
                                         for n, e in self.rows.items()}, {"source": "expectations"})

    def tolerances(self) -> Dict[str, float]:
        return {n: e.tolerance for n, e in self.rows.items()}


def load_expectations(path: Union[str, Path]) -> Expectations:
    """Parse the file; an InputFileError names the line and the remedy."""
    src = repr(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot read the expectations file {src}: {exc.strerror}. Create it with "
                             "`measure gate --candidate RUN.json --expectations FILE --update`.") from None
    except UnicodeDecodeError:
        raise InputFileError(f"the expectations file {src} is not UTF-8 text") from None
    platform: Optional[PlatformKey] = None
    data_lines: List[str] = []
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("# platform:"):
            try:
                platform = PlatformKey(**json.loads(s[len("# platform:"):]))
            except (ValueError, TypeError) as exc:
                raise InputFileError(f"{src} line {i}: the platform line is not a PlatformKey ({exc}); "
                                     "regenerate the file with --update") from None
        elif s and not s.startswith("#"):
            data_lines.append(line)
    if platform is None:
        raise InputFileError(f"{src} has no '# platform:' line: it was not written by measure (or the line was "
                             "removed). Regenerate it with `measure gate --candidate RUN.json --expectations FILE "
                             "--update`.")
    reader = csv.reader(io.StringIO("\n".join(data_lines)))
    header = next(reader, None)
    if header != HEADER:
        raise InputFileError(f"{src}: the first data line must be {','.join(HEADER)!r}, got {header!r}")
    rows: Dict[str, Expectation] = {}
    for n, rec in enumerate(reader, 2):
        if len(rec) != 4:
            raise InputFileError(f"{src}: data row {n} has {len(rec)} fields, expected 4 ({','.join(HEADER)})")
        name, metric, exp, tol = rec
        try:
            e, t = float(exp), float(tol)
        except ValueError:
            raise InputFileError(f"{src}: row {n} ({name!r}): expected and tolerance must be numbers, got "
                                 f"{exp!r} and {tol!r}") from None
        if not (math.isfinite(e) and e > 0 and 0 <= t < 1):
            raise InputFileError(f"{src}: row {n} ({name!r}): expected must be > 0 and tolerance a fraction in "
                                 f"[0, 1) (0.01 = 1 %), got {exp} and {tol}")
        if name in rows:
            raise InputFileError(f"{src}: benchmark {name!r} appears twice")
        rows[name] = Expectation(name, metric, e, t)
    return Expectations(platform, rows)


def updated(candidate: ResultSet, old: Optional[Expectations], policy: GatePolicy) -> Expectations:
    """Expectations from a measured run: the candidate's values; each benchmark keeps its committed
    tolerance, a new one gets max(default, learn_factor x its observed spread). Benchmarks that did
    not run ok keep their old row (if any); benchmarks no longer measured are dropped."""
    rows: Dict[str, Expectation] = {}
    default = policy.tolerance if candidate.deterministic else policy.min_effect
    for name, b in sorted(candidate.benchmarks.items()):
        prev = old.rows.get(name) if old else None
        if not b.ok:
            if prev is not None:
                rows[name] = prev
            continue
        if prev is not None:
            tol = prev.tolerance
        else:
            tol = policy.tolerances.get(name, b.tolerance if b.tolerance is not None else default)
            if candidate.deterministic:
                tol = learned_tolerance(b.values, b.values, tol, policy.learn_factor)
        value = b.center(candidate.deterministic)
        rows[name] = Expectation(name, b.metric, round(value), round(tol, 6))
    return Expectations(candidate.platform, rows)


def render(exp: Expectations) -> str:
    out = io.StringIO()
    out.write(FIRST_LINE + "\n")
    out.write("# platform: " + json.dumps(asdict(exp.platform), sort_keys=True) + "\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for name in sorted(exp.rows):
        e = exp.rows[name]
        w.writerow([e.name, e.metric, f"{e.expected:.0f}", f"{e.tolerance:g}"])
    return out.getvalue()


def save_expectations(exp: Expectations, path: Union[str, Path]) -> None:
    """Atomic write: the committed file is replaced whole or not at all."""
    from ..jsonfile import write_json_atomic
    write_json_atomic(path, render(exp))
