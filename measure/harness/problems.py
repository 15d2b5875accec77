"""A benchmark problem in measure's own format, the sample files every adapter reads, and what the
problem-set adapters share: measuring a problem's reference solutions and a sample on the
problem's correctness tests and performance inputs.

Problem-set file (JSON, schema ``measure/schema/problems-1.json``)::

    {"schema": "measure/problems", "version": 1, "problems": [
      {"id": "count_primes", "entry": "count_primes",
       "kind": "function",                           # optional: "function", "class" or "script"
       "prompt": "import math",                      # optional: prepended to every program
       "tests": [[10], [100]],                       # correctness inputs: argument lists
       "expected": [4, 25],                          # optional: else the first reference's outputs
       "perf_inputs": [[200000], {"code": "[10**6]"}],   # performance inputs (the cost)
       "perf_expected": [17984, 78498],              # optional: else the first reference's outputs
       "references": ["def count_primes(n): ...", ...],
       "checker": "def check(args, expected, output): ...",   # optional: else equality
       "compare": "whitespace"}]}                    # scripts: "exact", "whitespace" or "float"

Kinds: ``function`` calls ``entry``; ``class`` calls ``Class().method(*args)`` with ``entry``
``"Class.method"`` (LeetCode-style, as Mercury and EffiBench); ``script`` runs the whole program
with each input as its standard input (a string) and checks its standard output
(:meth:`measure.Program.script`). Values are written losslessly (tuples, sets, bytes, complex,
non-finite floats, dicts with non-string keys: the tagged forms of
:mod:`measure.harness.inputs`); an input may be trusted code (``{"code": EXPR}`` or
``{"code": MODULE, "call": "generate_input"}``) evaluated outside the count, so big inputs are
never written out.

A program's cost is the sum of its costs over ``perf_inputs`` (EvalPerf has one such input per
task, COFFE about five stressful tests); every output is checked, the perf inputs' against
``perf_expected`` or the first reference's; the correctness tests are measured in the same run
but not costed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import InputFileError, ReferenceFailed
from ..jsonfile import check_schema, read_json
from ..model import Measurement, Program, Status
from .. import wire
from .inputs import Case, InputCode, decode
from .runner import Session

REFERENCE_TIMEOUT_S = 600.0  # per call, under the backend (qemu: 8-14x native, valgrind: 38-105x)
KINDS = ("function", "class", "script")
COMPARES = ("exact", "whitespace", "float")


@dataclass(frozen=True)
class Problem:
    """One problem: how its programs are entered (``kind``, ``entry``), correctness tests (with
    expected outputs, or the first reference's), performance inputs (with expected outputs, or the
    first reference's), reference solutions, an optional checker, and ``meta``: data of the
    adapter that loaded it (EvalPerf's stored scores, Mercury's runtimes), not compared."""

    id: str
    entry: str
    tests: Tuple[Case, ...]
    perf_inputs: Tuple[Case, ...]
    references: Tuple[str, ...]
    expected: Optional[Tuple[Any, ...]] = None
    prompt: str = ""
    checker: Optional[str] = None
    kind: str = "function"
    perf_expected: Optional[Tuple[Any, ...]] = None
    compare: str = "exact"
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputFileError(f"problem {self.id!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "class" and self.entry.count(".") != 1:
            raise InputFileError(f"problem {self.id!r}: a class problem's entry is 'Class.method', got {self.entry!r}")
        if self.kind == "function" and not self.entry.isidentifier():
            raise InputFileError(f"problem {self.id!r}: entry {self.entry!r} is not a function name")
        if self.compare not in COMPARES:
            raise InputFileError(f"problem {self.id!r}: compare {self.compare!r} is not one of {', '.join(COMPARES)}")
        for name, want, cases in (("expected", self.expected, self.tests),
                                  ("perf_expected", self.perf_expected, self.perf_inputs)):
            if want is not None and len(want) != len(cases):
                what = "tests" if name == "expected" else "perf inputs"
                raise InputFileError(f"problem {self.id!r}: {len(want)} {name} outputs for {len(cases)} {what}: "
                                     f"give one per input, or none to use the first reference's")

    def source(self, code: str) -> str:
        """A program's text as run: the problem's prompt (imports, helpers), then the code."""
        return self.prompt + "\n" + code if self.prompt else code

    def program(self, code: str) -> Program:
        """``code`` as the sandbox runs it, entered as the problem's kind says."""
        src = self.source(code)
        if self.kind == "script":
            return Program.script(src)
        if self.kind == "class":
            cls, method = self.entry.split(".")
            return Program.method(src, cls, method)
        return Program(src, self.entry)

    def cases(self) -> List[Any]:
        """Tests then perf inputs, for one measurement: literal ones wire-encoded, code as it is."""
        return [c if isinstance(c, InputCode) else wire.encode_value(tuple(c)) for c in self.tests + self.perf_inputs]


def _case(raw: Any, kind: str, where: str) -> Case:
    if isinstance(raw, dict):
        return InputCode(raw["code"], raw.get("call"))
    if kind == "script":
        if not isinstance(raw, str):
            raise InputFileError(f"{where}: a script's input is its standard input, a string; got {type(raw).__name__}")
        return (raw,)
    if not isinstance(raw, list):
        raise InputFileError(f"{where}: an input is a list of the function's arguments; got {type(raw).__name__}")
    return tuple(decode(raw, where))


def _outputs(raw: Optional[list], where: str) -> Optional[Tuple[Any, ...]]:
    return None if raw is None else tuple(decode(v, f"{where} {i}") for i, v in enumerate(raw))


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
        kind = raw.get("kind", "function")
        where = f"{path!r}, problem {pid!r}"
        if kind != "script" and not raw.get("entry"):
            raise InputFileError(f"{where}: a {kind} problem needs its entry (the function, or 'Class.method')")
        out.append(Problem(
            pid, raw.get("entry", ""),
            tuple(_case(c, kind, f"{where}, test {i}") for i, c in enumerate(raw["tests"])),
            tuple(_case(c, kind, f"{where}, perf input {i}") for i, c in enumerate(raw["perf_inputs"])),
            tuple(raw["references"]), _outputs(raw.get("expected"), f"{where}, expected output"),
            raw.get("prompt", ""), raw.get("checker"), kind,
            _outputs(raw.get("perf_expected"), f"{where}, perf expected output"),
            raw.get("compare", "whitespace" if kind == "script" else "exact")))
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
    """The default checker of functions: equality, with tuples equal to lists (a list for a tuple
    is a common, harmless difference) and floats equal within a relative 1e-9 (absolute 1e-12
    near zero)."""
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


FLOAT_TOLERANCE = 1e-6


def text_equal(expected: str, output: str, compare: str) -> bool:
    """A script's standard output against the expected one: ``exact``; ``whitespace``: the same
    whitespace-separated tokens (line breaks, trailing spaces and blank lines do not matter);
    ``float``: that, with tokens that both parse as numbers equal within a relative or absolute
    :data:`FLOAT_TOLERANCE` (the usual checker of competitive programming)."""
    if not isinstance(output, str) or not isinstance(expected, str):
        return False
    if compare == "exact":
        return output == expected
    a, b = expected.split(), output.split()
    if compare == "whitespace" or len(a) != len(b):
        return a == b
    for x, y in zip(a, b):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return False
        if not math.isclose(fx, fy, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE):
            return False
    return True


def make_checker(problem: Problem) -> Callable[[Tuple[Any, ...], Any, Any], bool]:
    """``check(args, expected, output)``: the problem's own (trusted dataset code), else
    :func:`text_equal` for scripts and :func:`outputs_equal` for functions."""
    if not problem.checker:
        if problem.kind == "script":
            return lambda args, expected, output: text_equal(expected, output, problem.compare)
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
    """One program on one problem. ``correct``: it passed every test and gave no wrong output on
    a perf input; ``cost``: the sum over the perf inputs, None when one of them did not finish ok
    (right-censored, never imputed: a correct program may have no cost); ``status``: the first
    input not ok, or ``wrong_answer``; ``outputs``: tests then perf inputs, only for a run that
    finished every input; ``perf_costs`` and ``perf_peaks``: each perf input's cost and the
    largest peak resident set (bytes; None where unknown) of its ok calls, for a finished run."""

    correct: bool
    status: str
    cost: Optional[float]
    max_wall_ns: int
    outputs: Tuple[Any, ...]
    perf_costs: Tuple[float, ...] = ()
    perf_peaks: Tuple[Optional[int], ...] = ()


def _args(case: Case) -> Any:
    return case if isinstance(case, InputCode) else tuple(case)


def run_program(session: Session, problem: Problem, code: str, timeout: float, expected: Optional[Sequence[Any]],
                checker, perf_expected: Optional[Sequence[Any]] = None) -> Run:
    """Measure ``code`` on the tests then the perf inputs, stopping at the first failure. Outputs
    are checked where an expectation is given: a wrong test is ``wrong_answer`` and not correct;
    so is a wrong perf-input output (a fast wrong answer on a stressful input is not a cost)."""
    m: Measurement = session.measure(problem.program(code), problem.cases(), timeout, stop_on_failure=True,
                                     where=f"problem {problem.id!r}")
    if m.setup.status is not Status.OK:
        return Run(False, m.setup.status.value, None, 0, ())
    results = {r.index: r for r in m.inputs}
    n_tests = len(problem.tests)
    for i, case in enumerate(problem.tests):
        r = results.get(i)
        if r is None or r.status is not Status.OK:
            return Run(False, r.status.value if r else "not_reached", None, 0, ())
        if expected is not None and not checker(_args(case), expected[i], r.output):
            return Run(False, Status.WRONG_ANSWER.value, None, 0, ())
    costs, peaks = [], []
    for j, case in enumerate(problem.perf_inputs):
        r = results.get(n_tests + j)
        if r is None or r.status is not Status.OK:
            return Run(True, r.status.value if r else "not_reached", None, 0, ())
        if perf_expected is not None and not checker(_args(case), perf_expected[j], r.output):
            return Run(False, Status.WRONG_ANSWER.value, None, 0, ())
        costs.append(session.cost(r.samples))
        ok = [s.peak_rss_bytes for s in r.samples if s.status is Status.OK]
        peaks.append(None if not ok or None in ok else max(ok))
    walls = [s.wall_ns or 0 for r in m.inputs for s in r.samples]
    return Run(True, "ok", float(sum(costs)), max(walls, default=0),
               tuple(results[i].output for i in range(n_tests + len(problem.perf_inputs))), tuple(costs), tuple(peaks))


@dataclass(frozen=True)
class ReferencePool:
    costs: Tuple[float, ...]          # per reference, in file order
    expected: Tuple[Any, ...]         # the tests' outputs samples are checked against
    perf_expected: Tuple[Any, ...]    # the perf inputs' outputs samples are checked against
    wall_limit_s: float               # per call, for samples


def measure_references(session: Session, problem: Problem, checker, time_factor: float,
                       min_wall_s: float) -> ReferencePool:
    """Measure every reference; each must pass the tests and give the perf inputs' outputs
    (against ``expected``/``perf_expected``, else agreeing with the first reference), else
    :class:`ReferenceFailed`, which names the reference and why. A sample's wall-clock limit per
    call is ``time_factor`` x the slowest reference call, at least ``min_wall_s``."""
    expected, perf_expected = problem.expected, problem.perf_expected
    costs, walls = [], []
    for r, code in enumerate(problem.references):
        run = run_program(session, problem, code, REFERENCE_TIMEOUT_S, expected, checker, perf_expected)
        if not run.correct or run.cost is None:
            raise ReferenceFailed(f"problem {problem.id!r}: reference {r} fails ({run.status}); fix it or remove it "
                                  "from the problem set (every reference must pass the tests and run the perf inputs)")
        n = len(problem.tests)
        if expected is None:
            expected = run.outputs[:n]
        if perf_expected is None:
            perf_expected = run.outputs[n:]
        costs.append(run.cost)
        walls.append(run.max_wall_ns)
    return ReferencePool(tuple(costs), tuple(expected), tuple(perf_expected),
                         max(min_wall_s, time_factor * max(walls) / 1e9))
