"""EvalPerf on its own task file, scored as evalplus scores it (``measure score evalperf``).

**The task file** is the EvalPerf dataset as evalplus publishes it (Hugging Face ``evalplus/evalperf``,
split ``test``, loaded by ``evalplus.data.get_evalperf_data``; written by ``tools/evalperf/hf_upload.py``
from ``evalplus/perf/select_pe_tasks.py``'s ``evalperf-DATE.jsonl``): one task per JSON line (``.gz``
too), or a JSON array of tasks. Fields: ``task_id`` ("HumanEval/10", "Mbpp/2"), ``entry_point``,
``reference`` (full programs, the representatives of the original pool's efficiency clusters,
slowest first), ``scores`` (one cumulative percentage of that pool per reference), ``pe_input``
(the performance-exercising input: a JSON text, as on the Hub, or the list itself, as in
``evalperf-DATE.jsonl``; a list whose first element is the argument list, the one evalplus
profiles) and ``prompt`` (optional, kept in ``meta``). ``pe_input`` is decoded as evalplus decodes
it: ``json.loads``, then for MBPP tasks the per-task type restorations of
``evalplus.data.mbpp.mbpp_deserialize_inputs`` (tuples, sets, complex numbers).

**Correctness tests** are not in that file: evalplus checks EvalPerf samples on the HumanEval+ and
MBPP+ "NoExtreme" tasks' ``base_input`` + ``plus_input`` (``evalplus/evalperf.py`` correctness_check).
Give those files with ``tests`` (``--tests``, repeatable: HumanEvalPlus-NoExtreme and
MbppPlus-NoExtreme ``.jsonl[.gz]``); without them a sample is checked only on the perf input,
against the first reference's output. Outputs are compared as evalplus's ``unsafe_execute`` does
(equality; floats within ``atol``, or 1e-6 when the task's ``atol`` is 0, with rtol 1e-7; MBPP's set-
equal tasks and its special oracles; HumanEval/32's root check), against the first reference's
outputs (evalplus: the canonical solution's; every reference passed those tests).

**Scores**: a sample must pass the tests and give the perf input's output; the first ``max_profile``
correct samples of a task with at least ``min_correct`` correct ones are profiled, and each scores
DPS / DPS_norm against the task's stored ``scores`` with the references re-measured in the same
session (:mod:`measure.scores.evalplus_dps`, evalplus's ``perf_worker``); a broken profile (timeout
or error on the perf input) scores 0. Per task and overall: means (``statistics.mean``);
pass@1 is c / n (a fraction, as ``measure score dps``; evalplus prints it in percent).
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError
from ..jsonfile import read_records
from ..scores import pass_at_k
from ..scores.evalplus_dps import match_reference, stored_dps, task_dps
from .adapter import Evaluation, ScoreDocument, evaluate as evaluate_with
from .evalperf import MAX_PROFILE, MIN_CORRECT, DpsAdapter, dps_overall
from .problems import Problem, ReferencePool, Run, load_samples
from .runner import file_sha256
from .store import Check

REQUIRED = ("task_id", "entry_point", "reference", "scores", "pe_input")


# --- reading files ---------------------------------------------------------------------------------

def _records(path: str, what: str) -> Dict[str, Tuple[int, Dict[str, Any]]]:
    """Task id -> (line, record); a record without a task id, or one seen twice, is an error."""
    out: Dict[str, Tuple[int, Dict[str, Any]]] = {}
    for n, rec in read_records(path, what):
        if not isinstance(rec, dict):
            raise InputFileError(f"{path!r} line {n}: a task is a JSON object, got {type(rec).__name__}")
        tid = rec.get("task_id")
        if not isinstance(tid, str) or not tid:
            raise InputFileError(f"{path!r} line {n}: field 'task_id' is missing or not a string "
                                 "(e.g. \"HumanEval/10\", \"Mbpp/2\")")
        if tid in out:
            raise InputFileError(f"{path!r} line {n}: task {tid!r} appears twice (first on line {out[tid][0]}): "
                                 "task ids must be unique")
        out[tid] = (n, rec)
    return out


# --- MBPP's stored types ---------------------------------------------------------------------------
# MBPP+ and EvalPerf store MBPP inputs as JSON, so tuples, sets and complex numbers are written as lists
# or strings; evalplus restores them per task (evalplus/data/mbpp.py mbpp_deserialize_inputs). Each rule
# maps one stored argument list to the arguments evalplus passes.

def _deep_tuple(x: Any) -> Any:
    return tuple(_deep_tuple(v) for v in x) if isinstance(x, list) else x


_MBPP_RULES: Dict[int, Callable[[Any], Any]] = {}


def _rule(ids: Sequence[int], fn: Callable[[Any], Any]) -> None:
    for i in ids:
        _MBPP_RULES[i] = fn


_rule((2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809),
      lambda a: [tuple(arg) for arg in a])                                   # every argument a tuple
_rule((63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
      lambda a: [[tuple(x) for x in arg] for arg in a])                      # every argument a list of tuples
_rule((75, 413, 444, 753), lambda a: [[tuple(x) for x in a[0]], a[1]])
_rule((106, 750), lambda a: [a[0], tuple(a[1])])
_rule((115,), lambda a: [[set(x) if isinstance(x, list) and x else {} for x in a[0]]])   # upstream: {} for empty
_rule((124,), lambda a: (float(a[0]), complex(a[1])))
_rule((250, 405, 446, 617, 720, 763, 808), lambda a: [tuple(a[0]), a[1]])
_rule((259, 401, 445), lambda a: [tuple(tuple(x) for x in arg) for arg in a])     # tuples of tuples
_rule((278,), lambda a: [tuple(tuple(x) if isinstance(x, list) else x for x in a[0])])
_rule((307,), lambda a: [tuple(a[0]), a[1], a[2]])
_rule((722,), lambda a: [{k: tuple(v) for k, v in a[0].items()}] + list(a[1:]))
_rule((252,), lambda a: [complex(a[0])])
_rule((580, 615, 791), _deep_tuple)                                          # every list, at any depth, a tuple


def mbpp_number(task_id: str) -> Optional[int]:
    """The MBPP task number of ``Mbpp/N`` (None for other tasks)."""
    if not task_id.startswith("Mbpp/"):
        return None
    tail = task_id.split("/")[-1]
    return int(tail) if tail.isdigit() else None


def decode_inputs(task_id: str, inputs: Any, where: str) -> List[Tuple[Any, ...]]:
    """A stored list of argument lists as the argument tuples evalplus calls with (MBPP's types restored)."""
    if not isinstance(inputs, list):
        raise InputFileError(f"{where}: expected a list of argument lists, got {type(inputs).__name__}")
    number = mbpp_number(task_id)
    rule = None if number is None else _MBPP_RULES.get(number)
    out = []
    for k, args in enumerate(inputs):
        if rule is not None:
            try:
                args = rule(args)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                raise InputFileError(f"{where}: input {k} does not have the shape evalplus stores for {task_id} "
                                     f"({type(exc).__name__}: {exc})") from None
        if not isinstance(args, (list, tuple)):
            raise InputFileError(f"{where}: input {k} is {type(args).__name__}, not a list of the function's arguments")
        out.append(tuple(args))
    return out


def decode_pe_input(task_id: str, raw: Any, where: str) -> Tuple[Any, ...]:
    """The arguments evalplus profiles: ``pe_input`` (a JSON text, or the decoded list) decoded, MBPP's
    types restored, its first element (evalplus's ``perf_worker`` uses ``pe_input[0]`` only)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InputFileError(f"{where}: not valid JSON text ({exc})") from None
    if not isinstance(raw, list) or not raw:
        got = "an empty list" if isinstance(raw, list) else type(raw).__name__
        raise InputFileError(f"{where}: expected a non-empty list whose first element is the argument list, "
                             f"got {got}")
    return decode_inputs(task_id, raw[:1], where)[0]


# --- evalplus's output comparison, as a problem checker --------------------------------------------
# The rules of evalplus/eval/__init__.py unsafe_execute (with its special oracles, _special_oracle.py),
# written as the source of a check(args, expected, output) for measure's checker field.

_CHECKER = '''
import math

DATASET = {dataset!r}
ENTRY = {entry!r}
ATOL = {atol!r}
SET_EQUAL = ("similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
             "intersection_array", "find_dissimilar", "Diff")


def _floats(x):
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(v, float) for v in x)


def _shape(x):
    if isinstance(x, (list, tuple)):
        return (len(x),) + (_shape(x[0]) if x else ())
    return ()


def _flat(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _flat(v)
    else:
        yield x


def _allclose(a, b, atol, rtol=1e-07):
    # numpy.allclose on numbers or equally shaped nested lists: |a - b| <= atol + rtol |b|, nan never close
    if _shape(a) != _shape(b):
        return False
    fa, fb = list(_flat(a)), list(_flat(b))
    if len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb):
        if not isinstance(x, (int, float, complex)) or not isinstance(y, (int, float, complex)):
            return False
        if x == y:
            continue
        if isinstance(x, complex) or isinstance(y, complex):
            if not abs(x - y) <= atol + rtol * abs(y):
                return False
            continue
        if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
            return False
        if not abs(x - y) <= atol + rtol * abs(y):
            return False
    return True


def _poly(xs, x):
    return sum(c * math.pow(x, i) for i, c in enumerate(xs))


def _surface_area(base_edge, height):
    slant = math.sqrt((base_edge / 2) ** 2 + height ** 2)
    return round(base_edge ** 2 + 4 * (base_edge * slant) / 2)


def _digit_distance(a, b):
    sa, sb = str(a), str(b)
    n = max(len(sa), len(sb))
    return sum(abs(int(x) - int(y)) for x, y in zip(sa.zfill(n), sb.zfill(n)))


def check(args, expected, output):
    out, exp, atol = output, expected, ATOL
    exact = out == exp
    if DATASET == "mbpp":
        if ENTRY == "are_equivalent":
            exact = True
        elif ENTRY == "sum_div":
            exact = exact or out == 0
        elif ENTRY == "surface_Area":
            exact = exact or abs(out - _surface_area(*args)) <= atol
        elif ENTRY == "digit_distance_nums":
            exact = exact or out == _digit_distance(*args)
        elif ENTRY in SET_EQUAL:
            exact = set(out) == set(exp)
    if DATASET == "humaneval" and ENTRY == "find_zero":
        return abs(_poly(*args, out)) <= atol
    if atol == 0 and _floats(exp):
        atol = 1e-6
    if not exact and atol != 0:
        if type(out) != type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return _allclose(out, exp, atol)
    return bool(exact)
'''


def checker_source(task_id: str, entry: str, atol: float) -> str:
    """The checker of one task: evalplus's comparison with the task's ``atol`` (0 without a tests file)."""
    dataset = "mbpp" if task_id.startswith("Mbpp/") else "humaneval"
    return _CHECKER.format(dataset=dataset, entry=entry, atol=float(atol))


# --- the task file ---------------------------------------------------------------------------------

def _field(rec: Dict[str, Any], name: str, where: str) -> Any:
    if name not in rec:
        raise InputFileError(f"{where}: field {name!r} is missing (an EvalPerf task has "
                             f"{', '.join(REQUIRED)})")
    return rec[name]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_task(rec: Dict[str, Any], where: str) -> Tuple[str, Tuple[str, ...], Tuple[float, ...]]:
    entry = _field(rec, "entry_point", where)
    if not isinstance(entry, str) or not entry.isidentifier():
        raise InputFileError(f"{where}: field 'entry_point' is {entry!r}, not a function name")
    refs = _field(rec, "reference", where)
    if not isinstance(refs, list) or not refs:
        raise InputFileError(f"{where}: field 'reference' must be a non-empty list of programs")
    for i, r in enumerate(refs):
        if not isinstance(r, str) or not r.strip():
            raise InputFileError(f"{where}: field 'reference' item {i} is not a program (a non-empty string)")
    scores = _field(rec, "scores", where)
    if not isinstance(scores, list) or len(scores) != len(refs):
        n = len(scores) if isinstance(scores, list) else type(scores).__name__
        raise InputFileError(f"{where}: field 'scores' has {n} values for {len(refs)} references: "
                             "one stored score per reference, in the same order")
    for i, s in enumerate(scores):
        if not _number(s) or not 0 <= s <= 100 + 1e-9:
            raise InputFileError(f"{where}: field 'scores' item {i} is {s!r}, not a percentage in [0, 100]")
        if i and s < scores[i - 1]:
            raise InputFileError(f"{where}: field 'scores' decreases at item {i} ({scores[i - 1]!r} then {s!r}): "
                                 "the stored scores are cumulative, slowest reference first")
    prompt = rec.get("prompt", "")
    if not isinstance(prompt, str):
        raise InputFileError(f"{where}: field 'prompt' is {type(prompt).__name__}, not a string")
    return entry, tuple(refs), tuple(float(s) for s in scores)


def _plus_tests(plus: Dict[str, Tuple[str, Dict[str, Any]]], tid: str, entry: str,
                sources: str) -> Tuple[Tuple[Tuple[Any, ...], ...], float]:
    """A task's correctness inputs (base_input + plus_input) and atol from a HumanEval+/MBPP+ file."""
    if tid not in plus:
        raise InputFileError(f"task {tid!r} is not in the tests file(s) {sources}: give the HumanEval+ and MBPP+ "
                             "NoExtreme task files that cover every EvalPerf task, or leave --tests out")
    path, rec = plus[tid]
    where = f"{path!r}, task {tid!r}"
    if rec.get("entry_point") != entry:
        raise InputFileError(f"{where}: field 'entry_point' is {rec.get('entry_point')!r} but the EvalPerf task's is "
                             f"{entry!r}: the files are of different releases")
    cases = []
    for name in ("base_input", "plus_input"):
        if name not in rec:
            raise InputFileError(f"{where}: field {name!r} is missing (HumanEval+/MBPP+ tasks have base_input, "
                                 "plus_input and atol)")
        cases += decode_inputs(tid, rec[name], f"{where}: field {name!r}")
    atol = rec.get("atol", 0)
    if not _number(atol) or atol < 0:
        raise InputFileError(f"{where}: field 'atol' is {atol!r}, not a number >= 0")
    return tuple(cases), float(atol)


def load_evalperf(path: str, tests: Sequence[str] = ()) -> List[Problem]:
    """EvalPerf's task file as :class:`Problem` s (see the module docstring), in file order.
    ``tests``: HumanEval+/MBPP+ task files whose base_input + plus_input become each task's
    correctness tests (every task must be in one of them). ``meta``: ``scores`` (the stored
    scores), ``prompt``, ``atol``. Any malformed field is an InputFileError naming task and field."""
    plus: Dict[str, Tuple[str, Dict[str, Any]]] = {}
    for t in tests:
        for tid, (_, rec) in _records(t, "HumanEval+/MBPP+ tests file").items():
            plus.setdefault(tid, (t, rec))
    sources = ", ".join(repr(t) for t in tests)
    out = []
    for tid, (n, rec) in _records(path, "EvalPerf task file").items():
        where = f"{path!r}, task {tid!r}"
        entry, refs, scores = _check_task(rec, where)
        perf = decode_pe_input(tid, _field(rec, "pe_input", where), f"{where}: field 'pe_input'")
        cases, atol = _plus_tests(plus, tid, entry, sources) if tests else ((), 0.0)
        out.append(Problem(tid, entry, cases, (perf,), refs, checker=checker_source(tid, entry, atol),
                           meta={"scores": scores, "prompt": rec.get("prompt", ""), "atol": atol}))
    if not out:
        raise InputFileError(f"{path!r} has no tasks: expected EvalPerf's task file (one JSON task per line)")
    return out


def load_evalplus_samples(path: str, problems: Sequence[Problem]) -> Dict[str, List[str]]:
    """evalplus's samples file (JSON lines of ``task_id`` and ``solution``, a full program, or
    ``completion``, appended to the task's prompt as evalplus does): each task's programs in file
    order. ``task_id`` may use ``_`` for ``/`` (evalplus's folder form); tasks that are not in the
    task file are ignored, as evalplus's evalperf ignores them."""
    by_id = {p.id: p for p in problems}
    out: Dict[str, List[str]] = {}
    for n, rec in read_records(path, "samples file"):
        if not isinstance(rec, dict) or not isinstance(rec.get("task_id"), str):
            raise InputFileError(f"{path!r} line {n}: a sample is a JSON object with 'task_id' and 'solution'")
        tid = rec["task_id"].replace("_", "/")
        if tid not in by_id:
            continue
        if isinstance(rec.get("solution"), str):
            code = rec["solution"]
        elif isinstance(rec.get("completion"), str):
            code = by_id[tid].meta.get("prompt", "") + rec["completion"]
        else:
            raise InputFileError(f"{path!r} line {n}, task {tid!r}: field 'solution' (or 'completion') is missing "
                                 "or not a string")
        out.setdefault(tid, []).append(code)
    return out


# --- the adapter -----------------------------------------------------------------------------------

def _count(v: Any) -> bool:
    return _number(v) and v >= 0


_RECORD: Dict[str, Check] = {
    "problem": (lambda v: isinstance(v, str) and v != "", "a task id (a string)"),
    "sample": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer"),
    "correct": (lambda v: isinstance(v, bool), "true or false"),
    "cost": (lambda v: v is None or _count(v), "a finite non-negative number or null"),
    "reference_costs": (lambda v: isinstance(v, list) and bool(v) and all(_count(x) for x in v),
                        "a non-empty list of finite non-negative numbers"),
}


class EvalPlusAdapter(DpsAdapter):
    """EvalPerf's DPS and DPS_norm on its own task file, against each task's stored scores
    (``measure score evalperf``); ``tests``: the HumanEval+/MBPP+ files of the correctness tests."""

    name = "evalperf"
    schema = "measure/score-evalperf"
    title = "EvalPerf (stored scores)"
    record_fields = _RECORD

    help = "EvalPerf's own task file: DPS against each task's stored scores, DPS_norm beside it"
    dataset_help = ("EvalPerf's task file as evalplus publishes it (JSON lines, .gz, or a JSON array; fields task_id, "
                    "entry_point, reference, scores, pe_input)")
    samples_help = ("evalplus samples (.jsonl: task_id and solution, or completion) or measure's JSON (an object "
                    "from task id to a list of full programs)")

    @classmethod
    def add_arguments(cls, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--tests", action="append", metavar="FILE", default=None,
                            help="HumanEval+ / MBPP+ NoExtreme task file (.jsonl or .jsonl.gz; repeat for both): its "
                                 "base_input + plus_input are the correctness tests, as in evalplus's evalperf "
                                 "(default: only the perf input's output is checked)")

    @classmethod
    def from_args(cls, args) -> "EvalPlusAdapter":
        return cls(args.min_correct, args.max_profile, args.tests or ())

    def __init__(self, min_correct: int = MIN_CORRECT, max_profile: int = MAX_PROFILE, tests: Sequence[str] = ()):
        super().__init__(min_correct, max_profile)
        self.tests = tuple(tests)

    def params(self) -> Dict[str, Any]:
        return {"tests_sha256": [file_sha256(t) for t in self.tests]}   # what the records depend on

    def load(self, dataset: str) -> List[Problem]:
        return load_evalperf(dataset, self.tests)

    def load_samples(self, path: str, problems: List[Any]) -> Dict[Any, List[str]]:
        if path.endswith((".jsonl", ".jsonl.gz")):
            return load_evalplus_samples(path, problems)
        return load_samples(path, [p.id for p in problems])

    def score_run(self, problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
        refs = list(pool.costs)
        if not run.correct:
            return {"dps": None, "dps_norm": None, "level": None, "reference_costs": refs}
        d, n = stored_dps(run.cost, refs, problem.meta["scores"])   # a broken profile (cost None) scores 0
        return {"dps": d, "dps_norm": n, "level": match_reference(run.cost, refs), "reference_costs": refs}

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        scores = {p.id: p.meta["scores"] for p in ev.problems}
        per = []
        for pid, recs in ev.records().items():
            t = task_dps([r["correct"] for r in recs], [r["cost"] for r in recs], recs[0]["reference_costs"],
                         scores[pid], self.min_correct, self.max_profile)
            c = sum(r["correct"] for r in recs)
            per.append({"problem": pid, "n": len(recs), "correct": c, "profiled": len(t.profiled),
                        "levels": len(scores[pid]), "pass@1": pass_at_k(len(recs), c, 1),
                        "dps": t.dps, "dps_norm": t.dps_norm})
        return ev.document(self, dps_overall(per), per, min_correct=self.min_correct, max_profile=self.max_profile)


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             min_correct: int = MIN_CORRECT, max_profile: int = MAX_PROFILE, tests: Sequence[str] = (),
             **options: Any) -> Dict[str, Any]:
    """Score a samples file against EvalPerf's task file; resumable through ``results_path`` (JSONL).
    Returns the score document (``schema: measure/score-evalperf``); ``options`` are those of
    :func:`measure.harness.adapter.evaluate`."""
    return evaluate_with(EvalPlusAdapter(min_correct, max_profile, tests), dataset, samples_path, results_path,
                         problems, **options)
