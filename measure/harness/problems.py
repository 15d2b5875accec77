"""A benchmark problem in measure's own format, the sample files every adapter reads, and what the
EvalPerf-style and COFFE-style adapters share: measuring a problem's reference solutions and a sample
on the problem's correctness tests and performance inputs.

Problem-set file (JSON, schema ``measure/schema/problems-1.json``)::

    {"schema": "measure/problems", "version": 1, "problems": [
      {"id": "count_primes", "entry": "count_primes",
       "prompt": "import math",                      # optional: prepended to every program
       "tests": [[10], [100]],                       # correctness inputs: argument lists
       "expected": [4, 25],                          # optional: else the first reference's outputs
       "perf_inputs": [[200000]],                    # performance-exercising inputs (the cost)
       "references": ["def count_primes(n): ...", ...],
       "checker": "def check(args, expected, output): ..."}]}   # optional: else equality

A program's cost is the sum of its costs over ``perf_inputs`` (EvalPerf has one such input per task,
COFFE about five stressful tests); the correctness tests are measured in the same run but not
costed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError, ReferenceFailed
from ..jsonfile import check_schema, read_json
from ..model import Measurement, Status
from .. import wire
from ..platform import resolve_interpreter
from .runner import Session

REFERENCE_TIMEOUT_S = 600.0  # per call, under the backend (qemu: 7-16x native, valgrind: 38-105x)


@dataclass(frozen=True)
class Problem:
    """One problem: the function to call, correctness tests (with expected outputs, or the first
    reference's), performance inputs, reference solutions and an optional checker."""

    id: str
    entry: str
    tests: Tuple[Tuple[Any, ...], ...]
    perf_inputs: Tuple[Tuple[Any, ...], ...]
    references: Tuple[str, ...]
    expected: Optional[Tuple[Any, ...]] = None
    prompt: str = ""
    checker: Optional[str] = None

    def source(self, code: str) -> str:
        """A program as run: the problem's prompt (imports, helpers), then the code."""
        return self.prompt + "\n" + code if self.prompt else code

    def encoded_inputs(self) -> List[Any]:
        """Tests then perf inputs, wire-encoded for one measurement."""
        return [wire.encode_value(tuple(a)) for a in self.tests + self.perf_inputs]


def load_problem_set(path: str) -> List[Problem]:
    """Read and validate a problem-set file; every error names the problem and the remedy."""
    data = read_json(path, "problem-set file")
    check_schema(data, "problems-1", f"{path!r} is not a measure problem-set file",
                 "See measure/harness/problems.py for the format")
    out, seen = [], set()
    for raw in data["problems"]:
        pid = raw["id"]
        if pid in seen:
            raise InputFileError(f"{path!r}: problem id {pid!r} appears twice: ids must be unique")
        seen.add(pid)
        expected = raw.get("expected")
        if expected is not None and len(expected) != len(raw["tests"]):
            raise InputFileError(f"{path!r}, problem {pid!r}: {len(expected)} expected outputs for "
                                 f"{len(raw['tests'])} tests: give one per test, or none to use the first reference's")
        out.append(Problem(pid, raw["entry"], tuple(tuple(a) for a in raw["tests"]),
                           tuple(tuple(a) for a in raw["perf_inputs"]), tuple(raw["references"]),
                           None if expected is None else tuple(expected), raw.get("prompt", ""), raw.get("checker")))
    return out


def load_samples(path: str, ids: Sequence[Any]) -> Dict[Any, List[str]]:
    """A samples file: a JSON list with one list of full programs per problem, in problem-set order,
    or an object from problem id to such a list (a subset is allowed)."""
    data = read_json(path, "samples file")
    if isinstance(data, list):
        if len(data) != len(ids):
            raise InputFileError(f"{path!r} has {len(data)} entries but the dataset has {len(ids)} problems: "
                                 "give one list of programs per problem, in dataset order")
        data = dict(zip(ids, data))
    elif isinstance(data, dict):
        by_name = {str(i): i for i in ids}
        unknown = [k for k in data if k not in by_name]
        if unknown:
            raise InputFileError(f"{path!r}: {unknown[0]!r} is not a problem of the problem set: keys must be "
                                 "problem ids (for ENAMEL: row indices)")
        data = {by_name[k]: v for k, v in data.items()}
    else:
        raise InputFileError(f"{path!r} must be a JSON list (or object) of lists of programs")
    for i, codes in data.items():
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            bad = next((j for j, c in enumerate(codes) if not isinstance(c, str)), None) \
                if isinstance(codes, list) and codes else None
            what = f"sample {bad} is not a string" if bad is not None else "expected a non-empty list of program strings"
            raise InputFileError(f"{path!r}, problem {i}: {what}")
    return data


def outputs_equal(a: Any, b: Any) -> bool:
    """The default checker: equality, with tuples equal to lists (JSON has no tuples) and floats
    equal within a relative 1e-9 (absolute 1e-12 near zero)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(outputs_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(outputs_equal(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def make_checker(problem: Problem) -> Callable[[Tuple[Any, ...], Any, Any], bool]:
    """``check(args, expected, output)``: the problem's own (trusted dataset code) or equality."""
    if not problem.checker:
        return lambda args, expected, output: outputs_equal(expected, output)
    scope: Dict[str, Any] = {}
    try:
        exec(problem.checker, scope)
        check = scope["check"]
    except Exception as exc:
        raise InputFileError(f"problem {problem.id!r}: its checker does not define check(args, expected, output): "
                             f"{type(exc).__name__}: {exc}") from None

    return guarded(check)


def guarded(check: Callable[..., Any]) -> Callable[..., bool]:
    """A dataset's checker as a verdict: truthy is a pass; an exception (on a hostile output) a fail."""
    def checker(*args) -> bool:
        try:
            return bool(check(*args))
        except Exception:
            return False
    return checker


@dataclass(frozen=True)
class Run:
    """One program on one problem: correct on every test, its cost (the sum over the perf inputs,
    None when one of them did not finish ok: right-censored, never imputed) and why not."""

    correct: bool
    status: str
    cost: Optional[float]
    max_wall_ns: int
    outputs: Tuple[Any, ...]


def run_program(session: Session, problem: Problem, code: str, timeout: float,
                expected: Optional[Sequence[Any]], checker) -> Run:
    """Measure ``code`` on the tests then the perf inputs, stopping at the first failure."""
    m: Measurement = session.measure(problem.source(code), problem.entry, problem.encoded_inputs(), timeout,
                                     stop_on_failure=True)
    if m.setup.status is not Status.OK:
        return Run(False, m.setup.status.value, None, 0, ())
    results = {r.index: r for r in m.inputs}
    n_tests = len(problem.tests)
    for i, args in enumerate(problem.tests):
        r = results.get(i)
        if r is None or r.status is not Status.OK:
            return Run(False, r.status.value if r else "not_reached", None, 0, ())
        if expected is not None and not checker(args, expected[i], r.output):
            return Run(False, Status.WRONG_ANSWER.value, None, 0, ())
    costs = []
    for j in range(len(problem.perf_inputs)):
        r = results.get(n_tests + j)
        if r is None or r.status is not Status.OK:
            return Run(True, r.status.value if r else "not_reached", None, 0, ())
        costs.append(session.cost(r.samples))
    walls = [s.wall_ns or 0 for r in m.inputs for s in r.samples]
    return Run(True, "ok", float(sum(costs)), max(walls, default=0),
               tuple(results[i].output for i in range(n_tests)))


@dataclass(frozen=True)
class ReferencePool:
    costs: Tuple[float, ...]          # per reference, in file order
    expected: Tuple[Any, ...]         # the outputs samples are checked against
    wall_limit_s: float               # per call, for samples


def measure_references(session: Session, problem: Problem, checker, time_factor: float,
                       min_wall_s: float) -> ReferencePool:
    """Measure every reference; each must pass the tests (against ``expected``, or agree with the
    first reference) and finish every perf input, else :class:`ReferenceFailed`. A sample's wall-clock
    limit per call is ``time_factor`` x the slowest reference call, at least ``min_wall_s``."""
    expected = problem.expected
    costs, walls = [], []
    for r, code in enumerate(problem.references):
        run = run_program(session, problem, code, REFERENCE_TIMEOUT_S, expected, checker)
        if not run.correct or run.cost is None:
            raise ReferenceFailed(f"problem {problem.id!r}: reference {r} fails ({run.status}); fix it or remove it "
                                  "from the problem set (every reference must pass the tests and run the perf inputs)")
        if expected is None:
            expected = run.outputs
        costs.append(run.cost)
        walls.append(run.max_wall_ns)
    return ReferencePool(tuple(costs), tuple(expected), max(min_wall_s, time_factor * max(walls) / 1e9))


@dataclass
class Evaluation:
    """A finished (or resumed) run over a problem set: what the adapter's summary reads."""

    problems: List[Problem]
    samples: Dict[str, List[str]]
    store: Any          # ResultStore
    session: Session
    warnings: List[str]


def evaluate_problem_set(adapter: str, dataset: str, samples_path: str, results_path: str,
                         score_run: Callable[[Problem, ReferencePool, Run], Dict[str, Any]],
                         problem_ids: Optional[Sequence[str]] = None, backend: str = "auto",
                         python: Optional[str] = None, jobs: Optional[int] = None, cache_dir: Optional[str] = None,
                         progress: bool = True, time_repeat: int = 1, aggregate=None, time_factor: float = 4.0,
                         min_wall_s: float = 4.0, params: Optional[Dict[str, Any]] = None) -> Evaluation:
    """Measure each problem's references, then every pending sample, in one session; each sample's
    record (``score_run``'s fields plus correct/status/cost) is appended to ``results_path`` as it
    completes, so a rerun skips what is done. ``time_repeat`` and ``aggregate`` apply on the time
    backend (a deterministic backend counts each call once)."""
    from ..backends import select_backend
    from .cache import MeasurementCache
    from .runner import file_sha256, pending_samples, run_pending
    from .store import ResultStore

    problems = load_problem_set(dataset)
    by_id = {p.id: p for p in problems}
    ids = [p.id for p in problems]
    samples = load_samples(samples_path, ids)
    subset = ids if problem_ids is None else list(problem_ids)
    for pid in subset:
        if pid not in by_id:
            raise InputFileError(f"problem {pid!r} is not in {dataset!r} (its ids: {', '.join(ids[:10])}"
                                 f"{', ...' if len(ids) > 10 else ''})")
        if pid not in samples:
            raise InputFileError(f"{samples_path!r} has no samples for problem {pid!r}")
    interp = resolve_interpreter(python)
    chosen, warnings = select_backend(backend, interp.executable)
    kw = {} if chosen.deterministic or aggregate is None else {"aggregate": aggregate}
    session = Session(chosen, python, MeasurementCache(cache_dir) if cache_dir else None,
                      repeat=1 if chosen.deterministic else time_repeat, **kw)
    header = {"adapter": adapter, "dataset_sha256": file_sha256(dataset), "samples_sha256": file_sha256(samples_path),
              "platform": session.platform.label(), "backend": chosen.name, **(params or {})}
    store = ResultStore(results_path, header)
    pending = pending_samples(store, ((pid, s) for pid in subset for s in range(len(samples[pid]))))

    def score_problem(pid: str, todo: List[int]):
        p = by_id[pid]
        checker = make_checker(p)
        pool = measure_references(session, p, checker, time_factor, min_wall_s)
        for s in todo:
            run = run_program(session, p, samples[pid][s], pool.wall_limit_s, pool.expected, checker)
            yield {"key": f"{pid}/{s}", "problem": pid, "sample": s, "correct": run.correct, "status": run.status,
                   "cost": run.cost, **score_run(p, pool, run)}

    run_pending(store, pending, score_problem, jobs, progress)
    return Evaluation([by_id[pid] for pid in subset], samples, store, session,
                      list(warnings) + (session.cache.warnings() if session.cache else []))


def records_by_problem(ev: Evaluation) -> Dict[str, List[Dict[str, Any]]]:
    """Each problem's sample records in sample order."""
    recs: Dict[str, Dict[int, Dict[str, Any]]] = {}
    for r in ev.store:
        recs.setdefault(r["problem"], {})[r["sample"]] = r
    return {p.id: [recs[p.id][s] for s in range(len(ev.samples[p.id]))] for p in ev.problems}
