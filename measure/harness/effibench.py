"""EffiBench (Huang et al., NeurIPS 2024; huangd1999/EffiBench) from its own dataset file: ET, MU,
TMU and their normalised forms NET, NMU, NTMU against each problem's canonical solution
(its src/report_overhead.py), in instruction counts and peak resident sets.

**The dataset** (``data/dataset.json``, a JSON list; or JSON lines): one object per LeetCode
problem with ``problem_idx`` (its id), ``task_name``, ``description``/``markdown_description``,
``canonical_solution`` (a ``class Solution``), ``small_test_cases`` (the few asserts shown in the
prompt), ``test_case`` (the asserts EffiBench runs and measures: ``solution = Solution()`` then
``assert solution.METHOD(args) == expected`` lines) and ``test_case_generator`` (the code that
wrote them). A model's results file (``results/MODEL.json``) is the same list with a
``completion`` per problem; either serves as ``--dataset``.

**What runs.** Every program is EffiBench's: its imports (``from typing import *`` and the
other modules of ``src/code_efficiency_calculator.py``, star-imported and imported) and its
``TreeNode``/``ListNode`` classes, then the solution (the problem's ``prompt``). The asserts of
``test_case`` are read with :mod:`ast` (parsed, never executed: arguments and expected values
must be Python literals, read with :func:`ast.literal_eval`) into a ``class`` problem, entry
``Solution.METHOD``: each assert is one performance input whose output must equal the asserted
value (:func:`~measure.harness.problems.outputs_equal`: Python's ``==``, except that a tuple
equals a list and floats agree within 1e-9). So a sample is correct when every assert would pass,
and what is costed is the same run: EffiBench has one script for both. No dataset text is
evaluated in this process; the solutions run in the sandbox.

A record that cannot be measured so is left out at load, named in a warning and in the score
document's ``skipped`` with the reason: a canonical solution without ``class Solution``
(EffiBench's harness cannot run it either), or test code that is not ``assert
solution.METHOD(literals) == literal`` lines (e.g. ``ListNode``/``TreeNode`` arguments: built
objects cannot cross into the sandbox as inputs nor come back as outputs). EffiBench has no
plain-function records (its harness runs only ``class Solution`` programs), so every problem is of
kind ``class``.

**What is measured** (:mod:`measure.scores.effibench_counts`): per counted call, instructions and
the peak resident set of the process that ran it; over a program's calls ``et`` = the sum of the
instructions (EffiBench: seconds), ``mu`` = the largest peak in MiB (EffiBench: the largest
1 ms memory sample, in memory_profiler's MiB), ``tmu_bound`` = the sum of peak MiB x
instructions: an **upper bound** on EffiBench's TMU (the integral of memory over time), not that
integral, which needs a memory time series measure does not record. Normalised against the
canonical solution measured in the same session with :func:`measure.scores.effibench.normalized`,
over (problem, sample) pairs where both finished correct; failures drop out, as upstream:

- ``net``, ``nmu``, ``ntmu_bound``: **ratio of sums** (sum over samples / sum over canonicals),
  what EffiBench's code prints (``src/report_overhead.py``);
- ``net_mean``, ``nmu_mean``, ``ntmu_bound_mean``: **mean of ratios**, the paper's definition.

With one sample per problem (EffiBench's setting) the overall figures are EffiBench's; ``et``,
``mu``, ``tmu_bound`` are means over the pairs, and pass@1 the mean over scored problems of the
fraction of correct samples (EffiBench divides by its 1000 problems, counting those whose canonical
solution failed as failures; here such a problem is excluded and named, as for every adapter).

Differences from EffiBench's harness, by design: its ET and MU cover the whole script
(interpreter start-up, the imports, building each assert's arguments and comparing), ours the
solution's calls alone, so that a constant does not pull every NET towards 1; it calls one
``Solution()`` for all asserts, we a fresh one per call; it fails a program that writes to
standard error, we judge outputs only; its 5 s limit is for the whole script, ours per call is
``TIME_FACTOR`` x the canonical's slowest call, at least ``MIN_WALL_S`` (wall time under the
backend); its exit-status bug (a killed run may keep a partial measurement) is not reproduced.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError, ReferenceFailed
from ..fmt import count, number
from ..jsonfile import read_json, read_records
from ..scores import pass_at_k
from ..scores.effibench import normalized
from ..scores.effibench_counts import CountUsage, usage_from_calls
from ..stats import mean
from .adapter import Adapter, Evaluation, ScoreDocument, evaluate as evaluate_with
from .problems import REFERENCE_TIMEOUT_S, Problem, Run, load_samples, make_checker, run_program
from .runner import Session

TIME_FACTOR = 4.0
MIN_WALL_S = 4.0

# What EffiBench puts before every program (src/code_efficiency_calculator.py): these modules
# star-imported in this order, then imported by name, then its two node classes.
STAR_IMPORTS = ("typing", "bisect", "collections", "copy", "datetime", "heapq", "math", "re", "string", "random",
                "itertools", "functools", "operator")
MODULE_IMPORTS = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                  "itertools", "functools", "operator")
NODE_CLASSES = '''
class TreeNode:
    def __init__(self, val=0, left=None, right=None, next=None):
        self.val, self.left, self.right, self.next = val, left, right, next


class ListNode:
    def __init__(self, val=0, next=None):
        self.val, self.next = val, next
'''
PRELUDE = "".join(f"from {m} import *\n" for m in STAR_IMPORTS) + "".join(f"import {m}\n" for m in MODULE_IMPORTS) \
    + NODE_CLASSES
REQUIRED = ("problem_idx", "canonical_solution", "test_case")
FIGURES = ("et", "mu", "tmu_bound")
VARIANTS = {"": "ratio_of_sums", "_mean": "mean_of_ratios"}


class Unsupported(ValueError):
    """A record this adapter cannot measure faithfully (the reason says why); it is skipped."""


# ---------------------------------------------------------------------------- the dataset file

def read_asserts(code: str) -> Tuple[str, List[Tuple[Any, ...]], List[Any]]:
    """EffiBench's test code as (method, argument tuples, expected outputs). Allowed statements:
    ``solution = Solution()`` (skipped) and ``assert solution.METHOD(a, b, ...) == expected`` with
    literal arguments and expected value, one method throughout. The code is parsed, never run.
    Raises :class:`Unsupported` naming the first line that is anything else."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise Unsupported(f"its test code does not parse (line {exc.lineno}: {exc.msg})") from None
    method: Optional[str] = None
    args_list: List[Tuple[Any, ...]] = []
    expected: List[Any] = []
    for stmt in tree.body:
        if _is_solution_instance(stmt):
            continue
        text = ((ast.get_source_segment(code, stmt) or "").splitlines() or [""])[0][:70]
        call = _asserted_call(stmt)
        if call is None:
            raise Unsupported(f"test line {stmt.lineno} ({text!r}) is not `assert solution.METHOD(...) == value`")
        name, arg_nodes, want = call
        if method is not None and name != method:
            raise Unsupported(f"test line {stmt.lineno} calls solution.{name}, earlier lines solution.{method}: "
                              "one method per problem")
        method = name
        args_list.append(tuple(_literal(a, f"test line {stmt.lineno}, argument {k + 1}", code)
                               for k, a in enumerate(arg_nodes)))
        expected.append(_literal(want, f"test line {stmt.lineno}, expected value", code))
    if method is None:
        raise Unsupported("its test code has no `assert solution.METHOD(...) == value` line")
    return method, args_list, expected


def _is_solution_instance(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "solution" and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "Solution"
            and not stmt.value.args and not stmt.value.keywords)


def _asserted_call(stmt: ast.stmt) -> Optional[Tuple[str, List[ast.expr], ast.expr]]:
    """(method, argument nodes, expected node) of ``assert solution.M(...) == E``; else None."""
    if not isinstance(stmt, ast.Assert) or not isinstance(stmt.test, ast.Compare):
        return None
    cmp = stmt.test
    if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], ast.Eq):
        return None
    call = cmp.left
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "solution"):
        return None
    if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    return call.func.attr, list(call.args), cmp.comparators[0]


def _literal(node: ast.expr, where: str, code: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        text = (ast.get_source_segment(code, node) or "")[:50]
        raise Unsupported(f"{where} ({text!r}) is not a Python literal") from None


def extract_program(completion: str) -> str:
    """A model's completion as EffiBench runs it: when it contains ``class Solution`` and a
    ```` ```python ```` fence, the text after the first such fence up to the next ```` ``` ````;
    otherwise the text as it is (without ``class Solution`` EffiBench runs nothing: the program
    then fails here as there)."""
    if "class Solution" in completion and "```python" in completion:
        body = completion[completion.find("```python") + len("```python"):]
        return body[:body.find("```")] if "```" in body else body
    return completion


def problem_of(raw: Dict[str, Any]) -> Problem:
    """One validated record as a problem (raises :class:`Unsupported` for one to skip)."""
    if "class Solution" not in raw["canonical_solution"]:
        raise Unsupported("its canonical solution has no `class Solution` (EffiBench's harness runs only those)")
    method, args, expected = read_asserts(raw["test_case"])
    if not method.isidentifier():
        raise Unsupported(f"solution.{method} is not a method name")
    return Problem(str(raw["problem_idx"]), f"Solution.{method}", (), tuple(args), (raw["canonical_solution"],),
                   prompt=PRELUDE, kind="class", perf_expected=tuple(expected),
                   meta={"task_name": raw.get("task_name", "")})


def load_dataset(path: str) -> Tuple[List[Problem], List[str], Dict[str, str]]:
    """EffiBench's dataset as problems, every record's id in file order, and the ids of the records
    left out with why. InputFileError for a file that is not an EffiBench dataset, a malformed
    record (naming it and the field) or one with nothing to measure."""
    records = [rec for _, rec in read_records(path, "EffiBench dataset")]
    if not records:
        raise InputFileError(f"{path!r} has no problem records: expected EffiBench's data/dataset.json")
    problems, order, skipped = [], [], {}
    for i, raw in enumerate(records):
        where = f"{path!r}, record {i}"
        if not isinstance(raw, dict):
            raise InputFileError(f"{where} is a JSON {type(raw).__name__}, not an object (a problem)")
        missing = [k for k in REQUIRED if k not in raw]
        if missing:
            raise InputFileError(f"{where} has no {missing[0]!r} field: an EffiBench problem needs "
                                 f"{', '.join(REQUIRED)}")
        pid = raw["problem_idx"]
        if isinstance(pid, bool) or not isinstance(pid, (int, str)) or str(pid) == "":
            raise InputFileError(f"{where}: problem_idx is {json.dumps(pid)}, not an integer or a non-empty string")
        for k in ("canonical_solution", "test_case"):
            if not isinstance(raw[k], str):
                raise InputFileError(f"{where} (problem_idx {pid}): {k} is a JSON {type(raw[k]).__name__}, "
                                     "not a string of Python code")
        pid = str(pid)
        if pid in order:
            raise InputFileError(f"{where}: problem_idx {pid} appears twice: ids must be unique")
        order.append(pid)
        try:
            problems.append(problem_of(raw))
        except Unsupported as exc:
            skipped[pid] = str(exc)
    if not problems:
        first = next(iter(skipped.items()))
        raise InputFileError(f"{path!r}: none of its {len(order)} problems can be measured (problem {first[0]}: "
                             f"{first[1]})")
    return problems, order, skipped


def load_completions(path: str, order: Sequence[str], loaded: Sequence[str]) -> Dict[str, List[str]]:
    """Samples: EffiBench's results file (records with ``completion``: one sample per problem,
    :func:`extract_program` applied), or measure's samples file (a list with one list of programs
    per dataset record, in file order, skipped records included; or an object from problem_idx
    to such a list). Samples of problems left out at load are dropped."""
    data = read_json(path, "samples file")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        out: Dict[str, List[str]] = {}
        for i, rec in enumerate(data):
            if not isinstance(rec, dict) or "problem_idx" not in rec or not isinstance(rec.get("completion"), str):
                raise InputFileError(f"{path!r}, record {i}: an EffiBench results record needs problem_idx and a "
                                     "completion string")
            out[str(rec["problem_idx"])] = [extract_program(rec["completion"])]
    else:
        out = load_samples(path, list(order))
    keep = set(loaded)
    return {pid: codes for pid, codes in out.items() if pid in keep}


# ---------------------------------------------------------------------------- measuring

def usage_of(run: Run) -> Optional[CountUsage]:
    """A correct run's usage over its calls (None for a run that failed or has no cost)."""
    if not run.correct or run.cost is None:
        return None
    return usage_from_calls(list(zip(run.perf_costs, run.perf_peaks)))


@dataclass(frozen=True)
class Canonical:
    usage: CountUsage
    wall_limit_s: float
    checker: Callable[..., bool] = field(compare=False)


def _number_or_null(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0)


_FIELDS = {"problem": (lambda v: isinstance(v, str) and v != "", "a problem id (a string)"),
           "sample": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer"),
           "correct": (lambda v: isinstance(v, bool), "true or false"),
           **{f: (_number_or_null, "a finite non-negative number or null") for f in FIGURES},
           **{f"canonical_{f}": (_number_or_null, "a finite non-negative number or null") for f in FIGURES}}


def _norm(model: Sequence[Optional[float]], canon: Sequence[Optional[float]], variant: str) -> Optional[float]:
    """normalized() over the pairs where both are known; None when there is none."""
    if not any(a is not None and b is not None for a, b in zip(model, canon)):
        return None
    return normalized(model, canon, variant)


def figures(recs: Sequence[Dict[str, Any]]) -> Dict[str, Optional[float]]:
    """ET, MU, TMU(bound) means over the correct samples, and NET, NMU, NTMU(bound) under both
    variants over (sample, canonical) pairs; a failed sample drops out."""
    out: Dict[str, Optional[float]] = {}
    for f in FIGURES:
        model = [r[f] if r["correct"] else None for r in recs]
        canon = [r[f"canonical_{f}"] for r in recs]
        known = [a for a, b in zip(model, canon) if a is not None and b is not None]
        out[f] = mean(known) if known else None
        for suffix, variant in VARIANTS.items():
            out[f"n{f}{suffix}"] = _norm(model, canon, variant)
    return out


class EffiBenchAdapter(Adapter):
    """EffiBench's NET / NMU / NTMU(bound) from its own dataset file (``measure score effibench``)."""

    name = "effibench"
    schema = "measure/score-effibench"
    title = "EffiBench"
    time_factor = TIME_FACTOR
    min_wall_s = MIN_WALL_S
    record_fields = _FIELDS

    help = "EffiBench: ET, MU, TMU(bound) and NET, NMU, NTMU(bound) against the canonical solutions"
    dataset_help = "EffiBench's data/dataset.json (or a results/MODEL.json, or JSON lines)"
    samples_help = ("EffiBench's results/MODEL.json (records with a completion), or a JSON list per dataset "
                    "record (or object from problem_idx) of full programs")

    def __init__(self) -> None:
        self.order: List[str] = []
        self.skipped: Dict[str, str] = {}

    def load(self, dataset: str) -> List[Problem]:
        problems, self.order, self.skipped = load_dataset(dataset)
        return problems

    def load_samples(self, path: str, problems: List[Problem]) -> Dict[Any, List[str]]:
        return load_completions(path, self.order, [p.id for p in problems])

    def setup(self, problems: List[Any], session: Session, cache_dir: Optional[str], warnings: List[str]) -> None:
        if self.skipped:
            warnings.append(f"{len(self.skipped)} problem(s) of the dataset left out at load (not measurable as "
                            "literal asserts): " + "; ".join(f"{p}: {why}" for p, why in list(self.skipped.items())[:5])
                            + ("; ..." if len(self.skipped) > 5 else "") + " (all in the document's 'skipped')")

    def prepare(self, session: Session, problem: Problem) -> Canonical:
        checker = make_checker(problem)
        run = run_program(session, problem, problem.references[0], REFERENCE_TIMEOUT_S, None, checker,
                          problem.perf_expected)
        usage = usage_of(run)
        if usage is None:
            raise ReferenceFailed(f"problem {problem.id!r}: the canonical solution fails its test_case ({run.status}); "
                                  "EffiBench drops such a problem too")
        return Canonical(usage, max(self.min_wall_s, self.time_factor * run.max_wall_ns / 1e9), checker)

    def score(self, session: Session, problem: Problem, prepared: Canonical, code: str) -> Dict[str, Any]:
        run = run_program(session, problem, code, prepared.wall_limit_s, None, prepared.checker, problem.perf_expected)
        u, c = usage_of(run), prepared.usage
        # one script for correctness and cost, as EffiBench: an assert that did not finish fails the sample
        return {"correct": u is not None, "status": run.status,
                **{f: getattr(u, f) if u else None for f in FIGURES},
                **{f"canonical_{f}": getattr(c, f) for f in FIGURES}}

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        by_problem = ev.records()
        task = {p.id: p.meta.get("task_name", "") for p in ev.problems}
        per, pooled = [], []
        for pid, recs in by_problem.items():
            n, c = len(recs), sum(r["correct"] for r in recs)
            per.append({"problem": pid, "task_name": task.get(pid, ""), "n": n, "correct": c,
                        "pass@1": pass_at_k(n, c, 1), **{f"canonical_{f}": recs[0][f"canonical_{f}"] for f in FIGURES},
                        **figures(recs)})
            pooled += recs
        overall: Dict[str, Any] = {"pass@1": mean([r["pass@1"] for r in per]) if per else None,
                                   "pairs": sum(r["correct"] for r in pooled), **figures(pooled)}
        return ev.document(self, overall, per, et_unit=ev.session.metric, mu_unit="MiB",
                           tmu_bound_unit=f"MiB x {ev.session.metric}",
                           variants={**{f"n{f}": "ratio_of_sums: sum over samples / sum over canonical solutions, "
                                        "what EffiBench's code prints (src/report_overhead.py)" for f in FIGURES},
                                     **{f"n{f}_mean": "mean_of_ratios: the mean of sample / canonical, the paper's "
                                        "definition" for f in FIGURES}},
                           tmu_bound="an upper bound on EffiBench's TMU: sum over calls of peak resident set x cost, "
                                     "not the integral of memory over time (measure records peaks, no time series)",
                           skipped=[{"problem": p, "reason": why} for p, why in self.skipped.items()])

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        head = ["problem", "n", "correct", "pass@1", "ET", "MU MiB", "NET", "NMU", "NTMU<=",
                "NET(mean)", "NMU(mean)", "NTMU<=(mean)"]
        keys = ("net", "nmu", "ntmu_bound", "net_mean", "nmu_mean", "ntmu_bound_mean")

        def row(name: str, r: Dict[str, Any], n: str, c: str) -> List[str]:
            return [name, n, c, number(r["pass@1"]), count(r["et"]), number(r["mu"], ".1f")] \
                + [number(r[k], ".3f") for k in keys]

        rows = [row(str(r["problem"]), r, str(r["n"]), str(r["correct"])) for r in doc["per_problem"]]
        rows.append(row("all", doc["overall"], "", str(doc["overall"]["pairs"])))
        return head, rows


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             **options: Any) -> Dict[str, Any]:
    """Score a samples file against EffiBench's dataset; resumable through ``results_path`` (JSONL).
    Returns the versioned score document (``schema: measure/score-effibench``); ``options`` are
    those of :func:`measure.harness.adapter.evaluate`."""
    return evaluate_with(EffiBenchAdapter(), dataset, samples_path, results_path, problems, **options)
