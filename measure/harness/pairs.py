"""Program pairs, ECCO's and PIE's: a slow *source* program per
pair, whole programs that read standard input and write standard output, and the candidate's
optimised versions of it, scored by speedup over the source in instruction counts.

**Files** (each benchmark's own; nothing converted by hand). Both read a JSON Lines file of pairs
and a test-case folder ``<test_cases>/<problem_id>/input.N.txt`` with ``output.N.txt`` (the
layout of ECCO's ``test_cases.zip`` and of PIE's merged/public test cases); default
``test_cases/`` beside the dataset, else ``--test-cases``. A problem whose folder has no output
files is checked against the source program's outputs; some outputs but not all is an error.

- **ECCO** (CodeEff/ECCO, history-based editing): records with ``problem_id``, ``input`` (the
  slow program) and optionally ``target`` (the human fast version), as in the HF ``edit`` split
  exported with ``ds.to_json(path)``, or as ECCO's ``experiments/inference.py`` writes its
  generations file, which also carries the samples (``generated_codes``: a list of programs or
  one), so one file can be both ``--dataset`` and ``--samples``. Every test case of the folder
  is used. A pair is named ``<problem_id>#<k>`` (its k-th row of that problem).
- **PIE** (LearningOpt/pie ``gem5/gem5_eval.py``; madaan/pie-perf for Python): records with
  ``problem_id``, the slow program in ``src_code`` (PIE's ICLR test set) or ``input`` (pie-perf's
  Python splits), optionally ``tgt_code``/``target`` and ``tests`` (the test-case numbers to run;
  default all), named by ``src_id`` or ``submission_id_v0`` when present. The samples are PIE's
  generations file: the same records with ``generated_answers`` (a list of programs or one),
  matched to the pairs by that id, else by the stripped slow program (as pie-perf joins them).

**Correctness**, as each benchmark's judge decides it: ECCO through Judge0, which accepts an
output equal to the expected one after removing trailing whitespace from every line and from the
whole (:func:`judge0_accepts`); PIE's ``get_accuracy`` compares stripped outputs line by line,
exactly or as floats within 1e-3, and a program is correct when its mean accuracy over the tests
is 1.0 (:func:`pie_accuracy`; lines the output has beyond the expected ones are not looked at, as
upstream; an empty expected output accepts an empty output, where upstream divides by zero).

**Costs**: each program runs on every test case (no early stop, so partial passes are known); a
test's cost is its count, a program's the sum over the tests. The source is measured in the same
session as its samples; a source that fails a test excludes its pair (ECCO computes nothing for
such a pair; PIE's pairs pass by construction). Samples get ``time_factor`` x the slowest source
call of wall-clock time per call, at least ``min_wall_s``.

**Scores** (per pair, then over pairs; each named as its benchmark's code names it):

- ECCO (``evaluation/edit_eval.py``): the best sample is the one passing the most tests, then
  with the least summed cost over the tests that ran (first on ties); ``speedup`` = sum of the
  source's costs / sum of the best sample's, over the tests the best sample passed, when it
  passed at least one; ``output_pass_rate`` its fraction of tests passed. ECCO's code stops at
  these per-pair values: over pairs we report the mean ``speedup`` over the pairs that have one,
  the mean pass rate, and pass@1 (the unbiased estimator over all samples).
- PIE (``report_results``): for k = 1 .. n, best@k is the cheapest correct sample among the first
  k (accuracy: the highest), ``speedup_best@k`` = max(1, source / best@k), 1.0 when none is
  correct; over pairs ``mean_speedup_best@k``, ``is_correct_best@k`` (fraction correct),
  ``mean_accuracy_best@k`` and ``percent_programs_speedup_best@k>=speedup_threshold_T`` for T in
  1.1 ... 10 (%Opt is T = 1.1; a speedup equal to T counts); pass@1 beside them. PIE divides by
  its stored ``src_agg_runtime``; here the source is re-measured, in counts.

Per sample record: ``correct``, ``status``, ``cost`` (the sum, when correct), per-test
``test_costs`` and ``test_passed``, the source's costs, ``speedup`` over the source (ECCO: over
the tests it passed; PIE: when correct); PIE adds ``accuracy`` and ``optimised`` (speedup >= 1.1).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError, ReferenceFailed
from ..jsonfile import read_records
from ..fmt import number, value
from ..model import Measurement, Status
from ..scores import pass_at_k
from ..scores.ecco import speedup as ecco_speedup
from ..scores.pie import THRESHOLDS, pct_opt, problem_speedup
from ..stats import mean
from .adapter import Adapter, Evaluation, ScoreDocument
from .problems import REFERENCE_TIMEOUT_S, Problem
from .runner import Session
from .store import Check

TIME_FACTOR = 10.0
MIN_WALL_S = 4.0
PIE_OPT_THRESHOLD = 1.10    # %Opt: speedup_best@k >= 1.10
PIE_FLOAT_TOLERANCE = 1e-3  # get_accuracy: abs(float(out) - float(expected)) < 1e-3
RUBY_WHITESPACE = " \t\n\v\f\r\0"   # what Ruby's String#rstrip removes (Judge0's strip)
_INPUT_FILE = re.compile(r"input\.(\d+)\.txt")
_PROBLEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# ------------------------------------------------------------------ the judges

def judge0_accepts(expected: str, output: Any) -> bool:
    """Judge0's verdict on one test (status 3, accepted): both texts with trailing whitespace
    removed from every line and then from the whole are equal. Leading spaces and blank lines
    between lines still matter."""
    if not isinstance(output, str):
        return False

    def strip(text: str) -> str:
        return "\n".join(line.rstrip(RUBY_WHITESPACE) for line in text.split("\n")).rstrip(RUBY_WHITESPACE)

    return strip(expected) == strip(output)


def pie_accuracy(expected: str, output: Any) -> float:
    """PIE's accuracy of one test in [0, 1]: the fraction of the expected output's lines (both
    stripped, then split into lines) that the output's line at the same place matches, exactly
    or as numbers within an absolute 1e-3. Extra output lines are ignored (as upstream); an empty
    expected output scores 1.0 for an empty output, else 0.0 (upstream divides by zero there)."""
    if not isinstance(output, str):
        return 0.0
    want, got = expected.strip().splitlines(), output.strip().splitlines()
    if not want:
        return 1.0 if not got else 0.0
    right = 0
    for g, w in zip(got, want):
        ok = g == w
        if not ok:
            try:
                ok = abs(float(g) - float(w)) < PIE_FLOAT_TOLERANCE
            except ValueError:
                ok = False
        right += ok
    return right / len(want)


# ------------------------------------------------------------------ the files

def read_jsonl(path: str, what: str) -> List[Tuple[int, Dict[str, Any]]]:
    """(line number, record) of every record of the file; InputFileError naming the file and line
    when it cannot be read, a line is not JSON or not an object, or there is none."""
    out = read_records(path, what)
    for n, rec in out:
        if not isinstance(rec, dict):
            raise InputFileError(f"{path!r} line {n} is a JSON {type(rec).__name__}, not a record (an object)")
    if not out:
        raise InputFileError(f"the {what} {path!r} has no records")
    return out


@dataclass(frozen=True)
class TestCases:
    """One problem's test cases: their numbers (N of input.N.txt), standard inputs and expected
    outputs (None: the folder has none; the source program's outputs are expected)."""

    numbers: Tuple[int, ...]
    inputs: Tuple[str, ...]
    outputs: Optional[Tuple[str, ...]]


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise InputFileError(f"cannot read the test-case file {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"the test-case file {path!r} is not UTF-8 text") from None


def read_test_cases(root: str, problem_id: str, numbers: Optional[Sequence[int]], where: str) -> TestCases:
    """The test cases of ``problem_id`` under ``root`` (``numbers``: those to use, in that order;
    None: every input.N.txt, by N)."""
    folder = os.path.join(root, problem_id)
    if not os.path.isdir(folder):
        raise InputFileError(f"{where}: no test-case folder {folder!r}: give --test-cases, the folder that holds one "
                             "folder per problem_id with input.N.txt and output.N.txt")
    found = {}
    for name in os.listdir(folder):
        m = _INPUT_FILE.fullmatch(name)
        if m:
            found[int(m.group(1))] = name
    chosen = sorted(found) if numbers is None else list(numbers)
    if not chosen:
        raise InputFileError(f"{where}: {folder!r} has no input.N.txt files")
    for n in chosen:
        if n not in found:
            raise InputFileError(f"{where}: its test case {n} has no file input.{n}.txt in {folder!r}")
    names = [(found[n], "output" + found[n][len("input"):]) for n in chosen]
    have = [os.path.exists(os.path.join(folder, out)) for _, out in names]
    if any(have) and not all(have):
        inp, out = next(pair for pair, ok in zip(names, have) if not ok)
        raise InputFileError(f"{where}: {folder!r} has {inp} but no {out}: give every test case its expected output, "
                             "or none (then the source program's outputs are expected)")
    inputs = tuple(_read_text(os.path.join(folder, inp)) for inp, _ in names)
    outputs = tuple(_read_text(os.path.join(folder, out)) for _, out in names) if all(have) else None
    return TestCases(tuple(chosen), inputs, outputs)


def _text_field(rec: Dict[str, Any], names: Sequence[str], where: str, what: str) -> Tuple[str, str]:
    """The first of ``names`` the record has, and its (string) value."""
    for name in names:
        if name in rec:
            v = rec[name]
            if not isinstance(v, str) or not v.strip():
                raise InputFileError(f"{where}: {name!r} must be {what} (a non-empty string), got {json.dumps(v)[:40]}")
            return name, v
    fields = " or ".join(repr(n) for n in names)
    raise InputFileError(f"{where} has no {fields} field ({what})")


def _test_numbers(raw: Any, where: str) -> Optional[List[int]]:
    """PIE's ``tests``: the test-case numbers to run (ints, or their decimal strings)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            pass
    if isinstance(raw, list) and raw and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0
                                             or isinstance(t, str) and t.isdigit() for t in raw):
        return [int(t) for t in raw]
    raise InputFileError(f"{where}: \"tests\" must be a non-empty list of test-case numbers (N of input.N.txt), "
                         f"got {json.dumps(raw)[:40]}")


# ------------------------------------------------------------------ measuring

@dataclass(frozen=True)
class CaseRun:
    """One test case of one program: how the call ended, its cost (None unless ok), its output
    (None unless ok) and its wall time (ns)."""

    status: str
    cost: Optional[float]
    output: Any
    wall_ns: int


def run_cases(session: Session, problem: Problem, code: str, timeout: float) -> Tuple[CaseRun, ...]:
    """``code`` on every test case of ``problem`` (none skipped after a failure), one measurement."""
    m: Measurement = session.measure(problem.program(code), problem.cases(), timeout, stop_on_failure=False,
                                     where=f"pair {problem.id!r}")
    n = len(problem.perf_inputs)
    if m.setup.status is not Status.OK:
        return tuple(CaseRun(m.setup.status.value, None, None, 0) for _ in range(n))
    by_index = {r.index: r for r in m.inputs}
    out = []
    for i in range(n):
        r = by_index.get(i)
        if r is None:
            out.append(CaseRun("not_reached", None, None, 0))
        elif r.status is not Status.OK:
            out.append(CaseRun(r.status.value, None, None, 0))
        else:
            out.append(CaseRun("ok", session.cost(r.samples), r.output,
                               max((s.wall_ns or 0 for s in r.samples), default=0)))
    return tuple(out)


@dataclass(frozen=True)
class Source:
    """The source program measured: per-test costs and the outputs samples are checked against."""

    test_costs: Tuple[float, ...]
    expected: Tuple[str, ...]
    wall_limit_s: float


def _status(runs: Sequence[CaseRun], passed: Sequence[bool]) -> str:
    for r, ok in zip(runs, passed):
        if r.status != "ok":
            return r.status
        if not ok:
            return Status.WRONG_ANSWER.value
    return "ok"


# ------------------------------------------------------------------ the adapters

def _is_count(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


_ID: Check = (lambda v: isinstance(v, str) and v != "", "a pair id (a string)")
_INDEX: Check = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer")
_BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
_COST: Check = (_is_count, "a finite non-negative number")
_COST_OR_NULL: Check = (lambda v: v is None or _is_count(v), "a finite non-negative number or null")
_COSTS: Check = (lambda v: isinstance(v, list) and all(x is None or _is_count(x) for x in v),
                 "a list of finite non-negative numbers or nulls")
_COSTS_SET: Check = (lambda v: isinstance(v, list) and v != [] and all(_is_count(x) for x in v),
                     "a non-empty list of finite non-negative numbers")
_BOOLS: Check = (lambda v: isinstance(v, list) and all(isinstance(x, bool) for x in v), "a list of true/false")
_FRACTION: Check = (lambda v: _is_count(v) and v <= 1, "a number in [0, 1]")

COMMON_FIELDS: Dict[str, Check] = {
    "problem": _ID, "sample": _INDEX, "correct": _BOOL, "cost": _COST_OR_NULL, "test_costs": _COSTS,
    "test_passed": _BOOLS, "source_cost": _COST, "source_test_costs": _COSTS_SET, "speedup": _COST_OR_NULL}


class PairsAdapter(Adapter):
    """What ECCO and PIE share: pairs read from JSON Lines with a test-case folder, the source
    measured per test, every sample run on every test. Subclasses name their fields and judge."""

    time_factor: float = TIME_FACTOR
    min_wall_s: float = MIN_WALL_S
    slow_fields: Tuple[str, ...] = ("input",)
    target_fields: Tuple[str, ...] = ("target",)
    id_fields: Tuple[str, ...] = ()
    generations_col: str = ""
    dataset_help = ("JSON Lines of pairs (problem_id and the slow program), test cases in TEST_CASES/<problem_id>/"
                    "input.N.txt and output.N.txt")

    def __init__(self, test_cases: Optional[str] = None, generations_col: Optional[str] = None):
        self.test_cases = test_cases
        if generations_col:
            self.generations_col = generations_col
        self._digest: Optional[str] = None

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--test-cases", metavar="DIR",
                            help="folder with one folder per problem_id holding input.N.txt and output.N.txt "
                                 "(default: test_cases/ beside the dataset)")
        parser.add_argument("--generations-col", metavar="FIELD", default=cls.generations_col,
                            help=f"the samples' field holding the generated programs (default: {cls.generations_col})")

    @classmethod
    def from_args(cls, args) -> "PairsAdapter":
        return cls(args.test_cases, args.generations_col)

    def params(self) -> Dict[str, Any]:
        return {"test_cases_sha256": self._digest, "generations_col": self.generations_col}

    # ---- reading

    def selected_tests(self, rec: Dict[str, Any], where: str) -> Optional[List[int]]:
        """The test-case numbers a pair runs (None: all of its folder)."""
        return None

    def load(self, dataset: str) -> List[Problem]:
        """One script problem per pair: the source as its reference, every selected test case a
        perf input (literal standard input) with its expected output where the folder has one."""
        root = self.test_cases or os.path.join(os.path.dirname(os.path.abspath(dataset)), "test_cases")
        digest = hashlib.sha256()
        problems: List[Problem] = []
        seen: Dict[str, int] = {}
        per_problem: Dict[str, int] = {}
        for line, rec in read_jsonl(dataset, f"{self.title} dataset"):
            where = f"{dataset!r} line {line}"
            pid = rec.get("problem_id")
            if not isinstance(pid, str) or not _PROBLEM_ID.fullmatch(pid) or pid in (".", ".."):
                raise InputFileError(f"{where}: \"problem_id\" must name its test-case folder (letters, digits, "
                                     f"'_', '.', '-'), got {json.dumps(pid)[:40]}")
            _, slow = _text_field(rec, self.slow_fields, where, "the slow source program")
            target = next((rec[f] for f in self.target_fields if isinstance(rec.get(f), str)), None)
            k = per_problem.get(pid, 0)
            per_problem[pid] = k + 1
            row_id = next((rec[f] for f in self.id_fields if isinstance(rec.get(f), str) and rec[f]), f"{pid}#{k}")
            if row_id in seen:
                raise InputFileError(f"{where}: pair {row_id!r} appears twice (also line {seen[row_id]}): "
                                     "ids must be unique")
            seen[row_id] = line
            cases = read_test_cases(root, pid, self.selected_tests(rec, where), where)
            for n, stdin, out in zip(cases.numbers, cases.inputs, cases.outputs or [None] * len(cases.inputs)):
                digest.update(json.dumps([pid, n, stdin, out]).encode("utf-8"))
            meta = {"problem_id": pid, "tests": list(cases.numbers), "line": line}
            if target is not None:
                meta["target"] = target
            problems.append(Problem(row_id, "", (), tuple((s,) for s in cases.inputs), (slow,), kind="script",
                                    perf_expected=cases.outputs, compare="whitespace", meta=meta))
        self._digest = digest.hexdigest()
        return problems

    def load_samples(self, path: str, problems: List[Problem]) -> Dict[Any, List[str]]:
        """The generations file: each record's programs (a list, or one string) matched to a pair
        by its id field when it has one, else by problem_id and the stripped slow program (in
        order, when several pairs share them)."""
        by_id = {p.id: p for p in problems}
        queues: Dict[Tuple[str, str], List[str]] = {}
        for p in problems:
            queues.setdefault((p.meta["problem_id"], p.references[0].strip()), []).append(p.id)
        out: Dict[Any, List[str]] = {}
        taken: Dict[str, int] = {}
        col = self.generations_col
        for line, rec in read_jsonl(path, f"{self.title} generations file"):
            where = f"{path!r} line {line}"
            if col not in rec:
                raise InputFileError(f"{where} has no {col!r} field (the generated programs): name the field with "
                                     "--generations-col")
            gens = rec[col]
            if isinstance(gens, str):
                gens = [gens]
            if not isinstance(gens, list) or not gens:
                raise InputFileError(f"{where}: {col!r} must be a program or a non-empty list of programs")
            for j, g in enumerate(gens):
                if not isinstance(g, str):
                    raise InputFileError(f"{where}: {col!r} item {j} is {json.dumps(g)[:40]}, not a program (a string)")
            key = next((rec[f] for f in self.id_fields if isinstance(rec.get(f), str) and rec[f]), None)
            if key is not None:
                if key not in by_id:
                    raise InputFileError(f"{where}: its pair {key!r} is not in the dataset")
                pair = key
            else:
                _, slow = _text_field(rec, self.slow_fields, where, "the slow source program it optimises")
                queue = queues.get((rec.get("problem_id"), slow.strip()), [])
                pair = next((q for q in queue if q not in taken), None)
                if pair is None:
                    raise InputFileError(f"{where}: no pair of the dataset (left) has its problem_id "
                                         f"{json.dumps(rec.get('problem_id'))[:40]} and slow program")
            if pair in taken:
                raise InputFileError(f"{where}: pair {pair!r} already has samples (line {taken[pair]})")
            taken[pair] = line
            out[pair] = gens
        return out

    # ---- measuring

    def passes(self, expected: str, output: Any) -> bool:
        raise NotImplementedError

    def prepare(self, session: Session, problem: Problem) -> Source:
        """The source on every test: each must finish and (where the folder gives outputs) pass."""
        runs = run_cases(session, problem, problem.references[0], REFERENCE_TIMEOUT_S)
        expected = problem.perf_expected
        for i, r in enumerate(runs):
            number = problem.meta["tests"][i]
            if r.status != "ok":
                raise ReferenceFailed(f"pair {problem.id!r}: the source program fails test case {number} ({r.status}); "
                                      "fix it or remove the pair (speedups need a source that passes every test)")
            if expected is not None and not self.passes(expected[i], r.output):
                raise ReferenceFailed(f"pair {problem.id!r}: the source program's output on test case {number} is "
                                      "not the expected one; fix the pair or its output file")
        walls = max(r.wall_ns for r in runs)
        return Source(tuple(r.cost for r in runs), tuple(expected) if expected is not None
                      else tuple(r.output for r in runs), max(self.min_wall_s, self.time_factor * walls / 1e9))

    def score(self, session: Session, problem: Problem, prepared: Source, code: str) -> Dict[str, Any]:
        runs = run_cases(session, problem, code, prepared.wall_limit_s)
        return self.score_runs(prepared, runs)

    def score_runs(self, source: Source, runs: Sequence[CaseRun]) -> Dict[str, Any]:
        """A sample's record fields from its test runs."""
        passed = [r.status == "ok" and self.passes(e, r.output) for r, e in zip(runs, source.expected)]
        correct = all(passed)
        src = float(sum(source.test_costs))
        cost = float(sum(r.cost for r in runs)) if correct else None
        return {"correct": correct, "status": _status(runs, passed), "cost": cost,
                "test_costs": [r.cost for r in runs], "test_passed": passed,
                "source_cost": src, "source_test_costs": list(source.test_costs)}

    def unit(self, doc: Dict[str, Any]) -> str:
        return "ns" if doc.get("backend") == "time" else "instr"


def mean_after_first(values: Sequence[float]) -> float:
    """pie-perf's time per test on the time backend: the mean of its trials without the first
    (``ignore_first_k: 1``; a single trial is its own mean)."""
    return mean(values[1:]) if len(values) > 1 else mean(values)


def _speedup_cell(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3f}x"


class EccoAdapter(PairsAdapter):
    """ECCO's history-based editing (``measure score ecco``): speedup of the best sample over the
    tests it passed, its pass rate, pass@1."""

    name = "ecco"
    schema = "measure/score-ecco"
    title = "ECCO"
    time_repeat = 3                  # Judge0 number_of_runs, averaged
    aggregate = staticmethod(mean)
    slow_fields = ("input",)
    target_fields = ("target",)
    id_fields = ()
    generations_col = "generated_codes"
    record_fields = dict(COMMON_FIELDS)
    help = "ECCO program pairs: speedup of the best sample over the slow program, on the tests it passes"
    samples_help = "ECCO's generations file (JSON Lines: problem_id, input, generated_codes); may be the dataset"

    def passes(self, expected: str, output: Any) -> bool:
        return judge0_accepts(expected, output)

    def score_runs(self, source: Source, runs: Sequence[CaseRun]) -> Dict[str, Any]:
        rec = super().score_runs(source, runs)
        ok = [i for i, p in enumerate(rec["test_passed"]) if p]
        rec["speedup"] = ecco_speedup([source.test_costs[i] for i in ok], [rec["test_costs"][i] for i in ok],
                                      [True] * len(ok)) if ok else None
        return rec

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        per = []
        problem_ids = {p.id: p.meta["problem_id"] for p in ev.problems}
        for pid, recs in ev.records().items():
            best = ecco_best(recs)
            b = recs[best]
            ok = [i for i, p in enumerate(b["test_passed"]) if p]
            n_tests = len(b["test_passed"])
            per.append({"problem": pid, "problem_id": problem_ids[pid], "n": len(recs), "correct": sum(r["correct"] for r in recs),
                        "pass@1": pass_at_k(len(recs), sum(r["correct"] for r in recs), 1), "best": best,
                        "output_pass_rate": len(ok) / n_tests,
                        "input_run_cost": sum(b["source_test_costs"][i] for i in ok) if ok else None,
                        "best_run_cost": sum(b["test_costs"][i] for i in ok) if ok else None,
                        "speedup": b["speedup"]})
        with_speedup = [r["speedup"] for r in per if r["speedup"] is not None]
        overall = {"pass@1": mean([r["pass@1"] for r in per]) if per else None,
                   "output_pass_rate": mean([r["output_pass_rate"] for r in per]) if per else None,
                   "speedup": mean(with_speedup) if with_speedup else None, "pairs_with_speedup": len(with_speedup)}
        return ev.document(self, overall, per, **self.params())

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        unit = self.unit(doc)
        head = ["pair", "n", "correct", "pass@1", "best", "pass rate", "source cost", "best cost", "speedup"]
        rows = [[str(r["problem"]), str(r["n"]), str(r["correct"]), number(r["pass@1"]), str(r["best"]),
                 number(r["output_pass_rate"]), value(r["input_run_cost"], unit), value(r["best_run_cost"], unit),
                 _speedup_cell(r["speedup"])] for r in doc["per_problem"]]
        o = doc["overall"]
        rows.append(["all", "", "", number(o["pass@1"]), "", number(o["output_pass_rate"]), "", "",
                     _speedup_cell(o["speedup"])])
        return head, rows


def ecco_best(records: Sequence[Dict[str, Any]]) -> int:
    """ECCO's best sample: the most tests passed, then the least summed cost over the tests that
    ran (accepted or wrong answer), the first on ties."""
    def key(i: int) -> Tuple[int, float]:
        r = records[i]
        return (-sum(r["test_passed"]), sum(c for c in r["test_costs"] if c is not None))
    return min(range(len(records)), key=key)


class PieAdapter(PairsAdapter):
    """PIE's speedup@k, %Opt@k and %Correct@k (``measure score pie``)."""

    name = "pie"
    schema = "measure/score-pie"
    title = "PIE"
    time_repeat = 25                 # pie-perf: 25 trials per test, the first ignored, the rest averaged
    aggregate = staticmethod(mean_after_first)
    slow_fields = ("src_code", "input")
    target_fields = ("tgt_code", "target")
    id_fields = ("src_id", "submission_id_v0")
    generations_col = "generated_answers"
    record_fields = {**COMMON_FIELDS, "accuracy": _FRACTION, "optimised": _BOOL}
    help = "PIE program pairs: speedup@k (floored at 1), %Opt@k (speedup >= 1.1) and %Correct@k"
    samples_help = "PIE's generations file (JSON Lines: src_id or src_code, generated_answers)"

    def selected_tests(self, rec: Dict[str, Any], where: str) -> Optional[List[int]]:
        return _test_numbers(rec.get("tests"), where)

    def passes(self, expected: str, output: Any) -> bool:
        return pie_accuracy(expected, output) == 1.0

    def score_runs(self, source: Source, runs: Sequence[CaseRun]) -> Dict[str, Any]:
        rec = super().score_runs(source, runs)
        accs = [pie_accuracy(e, r.output) if r.status == "ok" else 0.0 for r, e in zip(runs, source.expected)]
        rec["accuracy"] = sum(accs) / len(accs)
        rec["speedup"] = rec["source_cost"] / rec["cost"] if rec["correct"] and rec["cost"] else None
        rec["optimised"] = rec["speedup"] is not None and rec["speedup"] >= PIE_OPT_THRESHOLD
        return rec

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        by_pair = ev.records()
        n_min = min((len(r) for r in by_pair.values()), default=0)
        ks = list(range(1, n_min + 1))
        per = []
        problem_ids = {p.id: p.meta["problem_id"] for p in ev.problems}
        for pid, recs in by_pair.items():
            costs = [r["cost"] if r["correct"] else None for r in recs]
            row: Dict[str, Any] = {"problem": pid, "problem_id": problem_ids[pid], "n": len(recs), "correct": sum(r["correct"] for r in recs),
                                   "pass@1": pass_at_k(len(recs), sum(r["correct"] for r in recs), 1),
                                   "source_cost": recs[0]["source_cost"]}
            for k in ks:
                best = [c for c in costs[:k] if c is not None]
                row[f"agg_cost_best@{k}"] = min(best) if best else None
                row[f"accuracy_best@{k}"] = max(r["accuracy"] for r in recs[:k])
                row[f"is_correct_best@{k}"] = row[f"accuracy_best@{k}"] == 1.0
                row[f"speedup_best@{k}"] = problem_speedup(row["source_cost"], costs, k)
            per.append(row)
        overall: Dict[str, Any] = {"pass@1": mean([r["pass@1"] for r in per]) if per else None}
        for k in ks:
            speedups = [r[f"speedup_best@{k}"] for r in per]
            overall[f"mean_accuracy_best@{k}"] = mean([r[f"accuracy_best@{k}"] for r in per])
            overall[f"is_correct_best@{k}"] = mean([float(r[f"is_correct_best@{k}"]) for r in per])
            overall[f"mean_speedup_best@{k}"] = mean(speedups)
            for t in THRESHOLDS:
                overall[f"percent_programs_speedup_best@{k}>=speedup_threshold_{t}"] = pct_opt(speedups, t)
        return ev.document(self, overall, per, **self.params())

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        unit = self.unit(doc)
        ks = [int(m.split("@")[1]) for m in doc["overall"] if m.startswith("mean_speedup_best@")]
        shown = sorted({ks[0], ks[-1]}) if ks else []
        head = ["pair", "n", "correct", "source cost"]
        for k in shown:
            head += [f"best@{k} cost", f"correct@{k}", f"speedup@{k}", f"opt@{k}"]
        rows = []
        for r in doc["per_problem"]:
            row = [str(r["problem"]), str(r["n"]), str(r["correct"]), value(r["source_cost"], unit)]
            for k in shown:
                s = r[f"speedup_best@{k}"]
                row += [value(r[f"agg_cost_best@{k}"], unit), "yes" if r[f"is_correct_best@{k}"] else "no",
                        _speedup_cell(s), "yes" if s >= PIE_OPT_THRESHOLD else "no"]
            rows.append(row)
        o = doc["overall"]
        last = ["all", "", "", ""]
        for k in shown:
            last += ["", _pct(o[f"is_correct_best@{k}"]), _speedup_cell(o[f"mean_speedup_best@{k}"]),
                     _pct(o[f"percent_programs_speedup_best@{k}>=speedup_threshold_{PIE_OPT_THRESHOLD}"])]
        rows.append(last)
        return head, rows


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{v * 100:.1f} %"


def evaluate(adapter: str, dataset: str, samples_path: str, results_path: str, test_cases: Optional[str] = None,
             **options: Any) -> Dict[str, Any]:
    """Score ``samples_path`` against the pairs of ``dataset`` with the ``"ecco"`` or ``"pie"``
    adapter; ``options`` are those of :func:`measure.harness.adapter.evaluate`."""
    from .adapter import evaluate as evaluate_with
    cls: Callable[..., PairsAdapter] = {"ecco": EccoAdapter, "pie": PieAdapter}[adapter]
    return evaluate_with(cls(test_cases), dataset, samples_path, results_path, **options)
