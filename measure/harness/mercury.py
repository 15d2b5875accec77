"""Mercury (Du et al., NeurIPS 2024 D&B) from its own task records:
``measure score mercury --dataset <tasks> --samples <samples>``.

**Tasks**: the records of the Hugging Face dataset ``Elfsong/Mercury`` (split ``eval``: 256 LeetCode
tasks), as a JSON list or JSON Lines (``datasets``' ``to_json`` writes the latter). The fields read,
as Mercury's evaluator (Elfsong/Mercury ``src/evaluator.py``, ``DistributeWiseEvaluator.evaluate``)
and bigcode-evaluation-harness (``bigcode_eval/tasks/custom_metrics/beyond_eval.py``) read them:

- ``slug_name``: the task's id (problem id here); ``difficulty``: "Easy", "Medium" or "Hard";
- ``entry_point``: the method of ``class Solution`` called as ``Solution().entry_point(*inputs)``;
- ``test_cases``: a JSON text (or the list itself) of ``{"input": [arguments], "expected": value}``,
  decoded with :func:`json.loads`, never evaluated;
- ``convert_offline``, ``evaluate_offline``: the task's own code (trusted dataset code, as a checker
  is): ``convert_offline((inputs, expected))`` turns the stored values into the call's arguments
  (linked lists and trees through the ``lctk`` package), ``evaluate_offline(inputs, outputs, expected)``
  is the verdict;
- ``solutions``: LeetCode's accepted submissions ``{"solution": code, "runtime": "44ms"}``: the
  references. Their stored runtimes are LeetCode's milliseconds, kept in the problem's ``meta``
  (``leetcode_runtimes``); the runtime distribution here is of the references' costs measured in the
  same session (instruction counts, or task-clock ns on the time backend).

Other fields (``prompt``, ``pretty_content``, ``generator_code``, ...) are ignored.

**Samples**: Mercury's own samples file (``{slug_name: [{"task_id": ..., "completion": code}, ...]}``),
the same with code strings, or a JSON list (one list of programs per task, in file order: the
bigcode harness's generations).

**How a program runs**: every program (reference or sample) is prefixed with Mercury's sandbox
namespace (its imports, ``ListNode``, ``TreeNode``, ``print`` as a no-op, ``sortedcontainers`` where
installed) and a module ``lctk`` that behaves as lctk 0.0.6 (the package Mercury's tasks convert
with). Mercury times one loop over all test cases; here every test case is a performance input:
the program's cost is the sum over the cases, each output checked by the task's ``evaluate_offline``
(in this process, on the decoded output). A task whose code needs no node conversion and whose
verdict does not read the inputs calls ``Solution.<entry_point>`` directly (kind "class"), its
arguments converted here by ``convert_offline``; otherwise (linked lists, trees, in-place methods)
the call goes through :data:`CASE_CLASS`, which runs ``convert_offline`` in the worker, calls the
method and returns the output as plain data (nodes written as ``{"$node": "list" | "tree", ...}``),
and the inputs as the call left them where the verdict reads them; there the conversion is counted
with the call (as in Mercury's timed loop: the same for every program on a case), and so is writing
the output (and those inputs) as plain data.

**References**: as in Mercury, the solutions that pass form the distribution; one that fails is
left out and counted (``references_failed``, and a warning). A task none of whose solutions passes
is excluded (``--strict``: an error).

**Scores** (a sample passes when every case gives the expected output; its cost is then the sum,
else it is censored): per sample both Beyond values against the passing references' costs, each
named in the document:

- ``beyond``: the paper's and bigcode harness's formula, :func:`measure.scores.mercury.beyond`,
  ``(max - clip(r, min, max)) / (max - min)`` in [0, 1];
- ``beyond_code``: Mercury's repository's code, which wrote its published ``beyond_p`` values,
  :func:`measure.scores.mercury_code.beyond_code`: not clipped at the fastest reference (it may
  exceed 1); its cap of ``max - r`` at 1 second applies on the time backend (1e9 ns) and has no
  counterpart in instruction counts (no cap).

Beyond@k is the mean of the first k samples' values per task, then the mean over tasks; pass@k
the HumanEval estimator; both for every k of Mercury's list (1, 3, 5, 10, 15, 20, 30, 50, 100) that
every task has samples for, overall ("Average") and per difficulty. On the time backend each
program runs 5 times and its cost is the mean (bigcode's 5 runs of a generation); a call's
wall-clock limit is 10 x the slowest passing reference call, at least 4 s.
"""
from __future__ import annotations

import ast
import builtins
import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError, ReferenceFailed
from ..fmt import number
from ..jsonfile import read_json, read_records
from ..scores import pass_at_k
from ..scores.mercury import beyond, beyond_at_k
from ..scores.mercury_code import beyond_code
from ..stats import mean
from .adapter import Adapter, Evaluation, ScoreDocument
from .inputs import encode
from .problems import REFERENCE_TIMEOUT_S, Problem, guarded, run_program
from .runner import Session
from .store import Check

KS = (1, 3, 5, 10, 15, 20, 30, 50, 100)   # bigcode harness's compute_beyond_eval
DIFFICULTIES = ("Easy", "Medium", "Hard")
TIME_REPEAT = 5        # bigcode: each generation run 5 times, its runtime the mean
TIME_FACTOR = 10.0
MIN_WALL_S = 4.0
CAP_NS = 1e9           # Mercury's cap of max - r at 1 (second), on the time backend's task-clock ns
CASE_CLASS = "_MercuryCase"
FORMULAS = {
    "beyond": "(max - clip(r, min, max)) / (max - min): the paper's and bigcode-evaluation-harness's "
              "(beyond_eval.py, compute_beyond_eval); in [0, 1]",
    "beyond_code": "max(min(max - r, cap), 0) / (max - min): Elfsong/Mercury src/evaluator.py "
                   "(DistributeWiseEvaluator.evaluate, d712fa0), which wrote its stored beyond_p; may exceed 1; "
                   "cap 1 s on the time backend, none on counts",
}

# Mercury's sandbox namespace (src/sandbox.py, Sandbox.unsafe_execute), a module ``lctk`` that
# behaves as lctk 0.0.6, and the plain form of nodes. Run at the top of every program in the worker
# (its module body: setup, not counted), and in this process for the tasks' own code.
RUNTIME = r'''
import re, itertools, collections, heapq, bisect, string, sys, functools, math, copy
from math import floor, ceil, factorial, sqrt, inf
from sys import maxsize, stdin
from bisect import bisect_left, bisect_right
from itertools import permutations, zip_longest
from heapq import heappush, heappop, heapify
from collections import deque, defaultdict, OrderedDict
from typing import List, Optional, Tuple
from functools import lru_cache, cache
try:
    import sortedcontainers
except ImportError:
    pass


class ListNode(object):
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode(object):
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def print(*args):
    pass


def _mercury_lctk(list_node=ListNode, tree_node=TreeNode):
    """A module ``lctk`` with lctk 0.0.6's four functions and their behaviour (a bad cycle
    position gives None; a tree's array loses its trailing falsy values, not only its Nones)."""
    import types
    from collections import deque as _deque

    def linkedList(arr, cyclePos=-1):
        nodes = [list_node(x) for x in arr]
        for a, b in zip(nodes, nodes[1:]):
            a.next = b
        if cyclePos >= 0:
            if cyclePos >= len(nodes):
                return None
            nodes[-1].next = nodes[cyclePos]
        return nodes[0] if nodes else None

    def linkedList2Arr(head):
        out, seen = [], set()
        while head is not None and id(head) not in seen:
            seen.add(id(head))
            out.append(head.val)
            head = head.next
        return out

    def binaryTree(arr):
        if not arr:
            return None
        root = tree_node(arr[0])
        todo, i = _deque([root]), 1
        while todo and i < len(arr):
            node = todo.popleft()
            for side in ("left", "right"):
                if i < len(arr):
                    if arr[i] is not None:
                        child = tree_node(arr[i])
                        setattr(node, side, child)
                        todo.append(child)
                    i += 1
        return root

    def binaryTree2Arr(root):
        out, todo = [], _deque([root])
        while todo:
            node = todo.popleft()
            out.append(None if node is None else node.val)
            if node is not None:
                todo.append(node.left)
                todo.append(node.right)
        while out and not out[-1]:
            out.pop()
        return out

    module = types.ModuleType("lctk")
    module.ListNode, module.TreeNode = list_node, tree_node
    module.linkedList, module.linkedList2Arr = linkedList, linkedList2Arr
    module.binaryTree, module.binaryTree2Arr = binaryTree, binaryTree2Arr
    return module


def _mercury_plain(value):
    """``value`` with its linked lists and trees as plain data (an output or inputs, for the wire)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_mercury_plain(v) for v in value) if type(value) in (list, tuple) else value
    if type(value) is dict:
        return {k: _mercury_plain(v) for k, v in value.items()}
    if hasattr(value, "val") and hasattr(value, "next"):
        values, where, node = [], {}, value
        while node is not None and id(node) not in where:
            where[id(node)] = len(values)
            values.append(_mercury_plain(node.val))
            node = node.next
        return {"$node": "list", "values": values, "cycle": -1 if node is None else where[id(node)]}
    if hasattr(value, "val") and hasattr(value, "left") and hasattr(value, "right"):
        values, seen, todo, i = [], set(), [value], 0
        while i < len(todo):
            node = todo[i]
            i += 1
            if node is None:
                values.append(None)
                continue
            if id(node) in seen:
                return {"$node": "invalid"}
            seen.add(id(node))
            values.append(_mercury_plain(node.val))
            todo.append(node.left)
            todo.append(node.right)
        while values and values[-1] is None:
            values.pop()
        return {"$node": "tree", "values": values}
    return value
'''

_WORKER = RUNTIME + r'''
sys.modules["lctk"] = _mercury_lctk()
'''

_CASE = r'''

def _mercury_task_function(source, name):
    scope = dict(globals())
    exec(source, scope)
    return scope[name]


_mercury_convert = _mercury_task_function({convert!r}, "convert_offline")


class {cls}:
    def run(self, inputs):
        inputs, _ = _mercury_convert((inputs, None))
        outputs = getattr(Solution(), {method!r})(*inputs)
        if not {reads_inputs!r}:
            return _mercury_plain(outputs), None
        return _mercury_plain(outputs), _mercury_plain(inputs if type(inputs) in (list, tuple) else list(inputs))
'''


@dataclass(frozen=True)
class TaskCode:
    """A task's own functions, run in this process: ``convert((inputs, expected))`` and
    ``evaluate(inputs, outputs, expected)``, with Mercury's namespace and the lctk module; and
    ``rebuild``, which turns plain nodes back into nodes."""

    convert: Callable[[Any], Any]
    evaluate: Callable[[Any, Any, Any], Any]
    rebuild: Callable[[Any], Any]


def task_code(convert_src: str, evaluate_src: str, where: str) -> TaskCode:
    """Compile a task's ``convert_offline`` and ``evaluate_offline`` (trusted dataset code, as a
    problem's checker is) in a namespace of their own; InputFileError when they do not define them."""
    scope: Dict[str, Any] = {"__name__": "__mercury_task__"}
    lctk: List[Any] = []

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "lctk" and level == 0:
            return lctk[0]
        return builtins.__import__(name, globals, locals, fromlist, level)

    scope["__builtins__"] = {**vars(builtins), "__import__": import_}
    exec(compile(RUNTIME, "<mercury runtime>", "exec", dont_inherit=True), scope)
    lctk.append(scope["_mercury_lctk"]())
    fns = []
    for src, name in ((convert_src, "convert_offline"), (evaluate_src, "evaluate_offline")):
        try:
            exec(compile(src, f"<{name}>", "exec", dont_inherit=True), scope)
            fn = scope.pop(name)
        except Exception as exc:
            raise InputFileError(f"{where}: its {name} does not define {name}: {type(exc).__name__}: {exc}. "
                                 "Give the task's code as Mercury's dataset stores it") from None
        if not callable(fn):
            raise InputFileError(f"{where}: its {name} defines {name} as a {type(fn).__name__}, not a function")
        fns.append(fn)
    return TaskCode(fns[0], fns[1], node_rebuilder(lctk[0]))


class _Invalid:
    """A node structure that is not a list or a tree (shared or cyclic tree nodes): no verdict passes."""


def node_rebuilder(lctk: Any) -> Callable[[Any], Any]:
    """The inverse of the worker's plain form: ``{"$node": ...}`` back to nodes built with ``lctk``."""
    def rebuild(value: Any) -> Any:
        if type(value) is dict and "$node" in value:
            kind = value.get("$node")
            if kind == "list" and isinstance(value.get("values"), list) and type(value.get("cycle")) is int:
                return lctk.linkedList([rebuild(v) for v in value["values"]], value["cycle"])
            if kind == "tree" and isinstance(value.get("values"), list):
                return lctk.binaryTree([rebuild(v) for v in value["values"]])
            return _Invalid()
        if type(value) in (list, tuple):
            return type(value)(rebuild(v) for v in value)
        if type(value) is dict:
            return {k: rebuild(v) for k, v in value.items()}
        return value
    return rebuild


def _reads_inputs(evaluate_src: str) -> bool:
    """Whether ``evaluate_offline`` reads its first parameter (a method that works in place)."""
    try:
        tree = ast.parse(evaluate_src)
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "evaluate_offline" and node.args.args:
            first = node.args.args[0].arg
            return any(isinstance(n, ast.Name) and n.id == first for b in node.body for n in ast.walk(b))
    return True


# --- reading Mercury's files -----------------------------------------------------------------------

def _field(rec: Dict[str, Any], name: str, where: str) -> str:
    if name not in rec:
        raise InputFileError(f"{where}: no {name!r} field: a Mercury task record has slug_name, entry_point, "
                             "test_cases, solutions, convert_offline and evaluate_offline")
    v = rec[name]
    if not isinstance(v, str) or not v.strip():
        raise InputFileError(f"{where}: {name!r} is {json.dumps(v)[:40]}, not a non-empty string")
    return v


def _test_cases(raw: Any, where: str) -> List[Tuple[list, Any]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InputFileError(f"{where}: test_cases is not valid JSON ({exc})") from None
    if not isinstance(raw, list) or not raw:
        raise InputFileError(f"{where}: test_cases must be a non-empty JSON list of "
                             '{"input": [arguments], "expected": value}')
    out = []
    for i, case in enumerate(raw):
        if not isinstance(case, dict) or "input" not in case or "expected" not in case:
            raise InputFileError(f"{where}, test case {i}: expected an object with \"input\" and \"expected\"")
        if not isinstance(case["input"], list):
            raise InputFileError(f"{where}, test case {i}: \"input\" is {type(case['input']).__name__}, "
                                 "not the list of the method's arguments")
        out.append((case["input"], case["expected"]))
    return out


_MS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*ms\s*$")


def _solutions(raw: Any, where: str) -> Tuple[Tuple[str, ...], Tuple[Any, ...]]:
    if not isinstance(raw, list) or not raw:
        raise InputFileError(f"{where}: solutions must be a non-empty list of {{\"solution\": code, "
                             "\"runtime\": \"44ms\"}: Mercury's runtime distribution needs them")
    codes, runtimes = [], []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or not isinstance(s.get("solution"), str) or not s["solution"].strip():
            raise InputFileError(f"{where}, solution {i}: expected an object with the code in \"solution\"")
        codes.append(s["solution"])
        runtimes.append(s.get("runtime"))
    return tuple(codes), tuple(runtimes)


def leetcode_ms(runtime: Any) -> Optional[float]:
    """A stored LeetCode runtime ("44ms") in milliseconds; None when it is not in that form."""
    if isinstance(runtime, (int, float)) and not isinstance(runtime, bool):
        return float(runtime)
    m = _MS.match(runtime) if isinstance(runtime, str) else None
    return float(m.group(1)) if m else None


def task_problem(rec: Any, where: str) -> Problem:
    """One Mercury task record as a Problem (see the module docstring)."""
    if not isinstance(rec, dict):
        raise InputFileError(f"{where}: a task record is a JSON object, got {type(rec).__name__}")
    slug = _field(rec, "slug_name", where)
    where = f"{where} ({slug})"
    method = _field(rec, "entry_point", where)
    if not method.isidentifier():
        raise InputFileError(f"{where}: entry_point {method!r} is not a method name")
    if "test_cases" not in rec:
        raise InputFileError(f"{where}: no 'test_cases' field: Mercury evaluates a task on its stored test cases")
    cases = _test_cases(rec["test_cases"], where)
    convert_src = _field(rec, "convert_offline", where)
    evaluate_src = _field(rec, "evaluate_offline", where)
    codes, runtimes = _solutions(rec.get("solutions"), where)
    difficulty = rec.get("difficulty")
    meta = {"difficulty": difficulty if difficulty in DIFFICULTIES else None, "entry_point": method,
            "convert_offline": convert_src, "evaluate_offline": evaluate_src,
            "leetcode_runtimes": list(runtimes), "leetcode_ms": [leetcode_ms(r) for r in runtimes]}
    code = task_code(convert_src, evaluate_src, where)
    direct, reads_inputs = None, _reads_inputs(evaluate_src)
    if "lctk" not in convert_src + evaluate_src and not reads_inputs:
        direct = _direct_cases(code, cases, where)
    if direct is not None:
        inputs, expected = direct
        return Problem(slug, f"Solution.{method}", (), inputs, codes, None, _WORKER, None, "class",
                       expected, meta={**meta, "call": "direct"})
    prompt = _WORKER + _CASE.format(convert=convert_src, cls=CASE_CLASS, method=method, reads_inputs=reads_inputs)
    return Problem(slug, f"{CASE_CLASS}.run", (), tuple((copy.deepcopy(i),) for i, _ in cases), codes, None, prompt,
                   None, "class", tuple(e for _, e in cases), meta={**meta, "call": "converted in the worker"})


def _direct_cases(code: TaskCode, cases, where: str):
    """The cases' arguments and expected outputs through ``convert_offline`` here, when they are
    plain values that travel to the worker as they are; None otherwise."""
    inputs, expected = [], []
    for i, (args, want) in enumerate(cases):
        try:
            conv_args, conv_want = code.convert((copy.deepcopy(args), copy.deepcopy(want)))
            conv_args = tuple(conv_args)
            encode(conv_args, f"{where}, test case {i}")
        except Exception:   # not plain, or convert_offline needs the worker: convert it there
            return None
        inputs.append(conv_args)
        expected.append(conv_want)
    return tuple(inputs), tuple(expected)


def load_tasks(path: str) -> List[Problem]:
    """Mercury's task records (a JSON list or JSON Lines) as problems; errors name the record."""
    records = [rec for _, rec in read_records(path, "Mercury task file")]
    if not isinstance(records, list) or not records:
        raise InputFileError(f"{path!r} holds no Mercury task records: give the dataset's records (Elfsong/Mercury, "
                             "split eval) as a JSON list or JSON Lines")
    out, seen = [], set()
    for n, rec in enumerate(records):
        p = task_problem(rec, f"{path!r}, record {n}")
        if p.id in seen:
            raise InputFileError(f"{path!r}, record {n}: slug_name {p.id!r} appears twice: task ids must be unique")
        seen.add(p.id)
        out.append(p)
    return out


def load_mercury_samples(path: str, ids: Sequence[str]) -> Dict[str, List[str]]:
    """Mercury's samples file ``{slug: [{"completion": code, ...}, ...]}``, the same with code strings,
    or a list (one list of programs per task, in task-file order)."""
    data = read_json(path, "samples file")
    if isinstance(data, list):
        if len(data) != len(ids):
            raise InputFileError(f"{path!r} has {len(data)} entries but the task file has {len(ids)} tasks: "
                                 "give one list of programs per task, in task-file order")
        data = dict(zip(ids, data))
    elif not isinstance(data, dict):
        raise InputFileError(f"{path!r} must be Mercury's samples object (slug_name -> list of completions) or a "
                             "JSON list of lists of programs")
    known = set(ids)
    out: Dict[str, List[str]] = {}
    for slug, items in data.items():
        if slug not in known:
            raise InputFileError(f"{path!r}: {slug!r} is not a task of the task file: keys must be slug_name values")
        if not isinstance(items, list) or not items:
            raise InputFileError(f"{path!r}, task {slug!r}: expected a non-empty list of completions")
        codes = []
        for j, item in enumerate(items):
            code = item.get("completion") if isinstance(item, dict) else item
            if not isinstance(code, str):
                raise InputFileError(f"{path!r}, task {slug!r}, sample {j}: expected a program string or an object "
                                     "with its \"completion\"")
            codes.append(code)
        out[slug] = codes
    return out


# --- measuring and scoring -------------------------------------------------------------------------

def checker_of(problem: Problem) -> Callable[[Tuple[Any, ...], Any, Any], bool]:
    """``check(args, expected, output)`` of a task: its ``evaluate_offline`` on the decoded output
    (and, for a call converted in the worker, on the inputs as the call left them, against the
    expected value as ``convert_offline`` gives it). An exception is a fail."""
    code = task_code(problem.meta["convert_offline"], problem.meta["evaluate_offline"], f"task {problem.id!r}")
    if problem.meta["call"] == "direct":
        def check(args, expected, output):
            return code.evaluate(copy.deepcopy(args), output, copy.deepcopy(expected))
    else:
        def check(args, expected, output):
            if type(output) not in (list, tuple) or len(output) != 2:
                return False
            _, want = code.convert((copy.deepcopy(args[0]), copy.deepcopy(expected)))
            return code.evaluate(code.rebuild(output[1]), code.rebuild(output[0]), want)
    return guarded(check)


@dataclass(frozen=True)
class Distribution:
    """A task's references as measured here: the passing ones' costs (the runtime distribution),
    the failing ones (index and status), a sample's wall-clock limit per call, and the checker."""

    costs: Tuple[float, ...]
    failed: Tuple[Tuple[int, str], ...]
    wall_limit_s: float
    checker: Callable[..., bool]


def _count(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 and v != float("inf")


def _index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_NUMBER: Check = (_count, "a finite non-negative number")
# what the summary reads from a sample's record, checked when a results file is resumed
RECORD_FIELDS: Dict[str, Check] = {
    "problem": (lambda v: isinstance(v, str) and v != "", "a task's slug_name"),
    "sample": (_index, "a non-negative integer"),
    "correct": (lambda v: isinstance(v, bool), "true or false"),
    "beyond": _NUMBER, "beyond_code": _NUMBER, "reference_min": _NUMBER, "reference_max": _NUMBER,
    "references": (lambda v: _index(v) and v >= 1, "a positive integer"),
    "references_failed": (_index, "a non-negative integer"),
}


def code_cap(metric: str) -> Optional[float]:
    """The cap of ``max - r`` in :func:`~measure.scores.mercury_code.beyond_code` for a session's
    metric: Mercury's 1 second on the time backend (task-clock ns); none on instruction counts."""
    return CAP_NS if metric == "task_clock_ns" else None


class MercuryAdapter(Adapter):
    """Mercury's Pass@k and Beyond@k (both formulas) from its own task records (``measure score mercury``)."""

    name = "mercury"
    schema = "measure/score-mercury"
    title = "Mercury Beyond"
    time_repeat = TIME_REPEAT
    aggregate = staticmethod(mean)
    record_fields = RECORD_FIELDS
    help = "Mercury: Pass@k and Beyond@k (the paper's formula and Mercury's code) from its task records"
    dataset_help = "Mercury's task records (HF Elfsong/Mercury, split eval) as a JSON list or JSON Lines"
    samples_help = ("Mercury's samples JSON ({slug_name: [{\"completion\": code}, ...]}) or a JSON list of lists of "
                    "programs in task order")

    def load(self, dataset: str) -> List[Problem]:
        return load_tasks(dataset)

    def load_samples(self, path: str, problems: List[Problem]) -> Dict[Any, List[str]]:
        return load_mercury_samples(path, [p.id for p in problems])

    def prepare(self, session: Session, problem: Problem) -> Distribution:
        checker = checker_of(problem)
        costs, walls, failed = [], [], []
        for i, code in enumerate(problem.references):
            run = run_program(session, problem, code, REFERENCE_TIMEOUT_S, (), checker, problem.perf_expected)
            if run.correct and run.status == "ok" and run.cost is not None:
                costs.append(run.cost)
                walls.append(run.max_wall_ns)
            else:
                failed.append((i, run.status))
        if not costs:
            raise ReferenceFailed(f"task {problem.id!r}: none of its {len(problem.references)} solutions passes its "
                                  f"test cases here ({', '.join(sorted({s for _, s in failed}))}): Mercury's runtime "
                                  "distribution needs at least one")
        return Distribution(tuple(costs), tuple(failed), max(MIN_WALL_S, TIME_FACTOR * max(walls) / 1e9), checker)

    def score(self, session: Session, problem: Problem, prepared: Distribution, code: str) -> Dict[str, Any]:
        run = run_program(session, problem, code, prepared.wall_limit_s, (), prepared.checker, problem.perf_expected)
        passed = run.correct and run.status == "ok" and run.cost is not None
        cost = run.cost if passed else None
        return {"correct": passed, "status": run.status, "cost": cost, "beyond": beyond(cost, prepared.costs),
                "beyond_code": beyond_code(cost, prepared.costs, cap=code_cap(session.metric)),
                "reference_min": min(prepared.costs), "reference_max": max(prepared.costs),
                "references": len(prepared.costs), "references_failed": len(prepared.failed),
                "failed_references": [list(f) for f in prepared.failed]}

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        by_problem = ev.records()
        difficulty = {p.id: p.meta.get("difficulty") for p in ev.problems}
        n_min = min((len(r) for r in by_problem.values()), default=0)
        ks = [k for k in KS if k <= n_min]
        per = []
        for pid, recs in by_problem.items():
            n, c = len(recs), sum(r["correct"] for r in recs)
            row: Dict[str, Any] = {"problem": pid, "difficulty": difficulty[pid], "n": n, "passed": c,
                                   "references": recs[0]["references"],
                                   "references_failed": recs[0]["references_failed"],
                                   "failed_references": recs[0].get("failed_references", []),
                                   "reference_min": recs[0]["reference_min"], "reference_max": recs[0]["reference_max"]}
            for k in ks:
                row[f"pass@{k}"] = pass_at_k(n, c, k)
                row[f"beyond@{k}"] = beyond_at_k([[r["beyond"] for r in recs]], k)
                row[f"beyond_code@{k}"] = beyond_at_k([[r["beyond_code"] for r in recs]], k)
            per.append(row)
        figures = [f"{m}@{k}" for k in ks for m in ("pass", "beyond", "beyond_code")]

        def means(rows):
            return {f: mean([r[f] for r in rows]) for f in figures} if rows else {}

        overall = {**means(per), "by_difficulty": {d: means([r for r in per if r["difficulty"] == d])
                                                   for d in DIFFICULTIES if any(r["difficulty"] == d for r in per)}}
        with_failed = [r for r in per if r["references_failed"]]
        if with_failed:
            ev.warnings.append(f"{len(with_failed)} task(s) had solutions that fail here, left out of their runtime "
                               "distribution as Mercury does: " + ", ".join(f"{r['problem']} ({r['references_failed']})"
                                                                            for r in with_failed[:5]))
        unit = ev.session.metric
        return ev.document(self, overall, per, ks=ks, unit=unit, formulas=dict(FORMULAS),
                           beyond_code_cap=code_cap(unit))

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        head = ["task", "difficulty", "n", "passed", "refs", "pass@1", "beyond@1", "beyond_code@1"]
        rows = [[str(r["problem"]), r["difficulty"] or "-", str(r["n"]), str(r["passed"]),
                 f"{r['references']}" + (f" (-{r['references_failed']})" if r["references_failed"] else ""),
                 number(r.get("pass@1")), number(r.get("beyond@1")), number(r.get("beyond_code@1"))]
                for r in doc["per_problem"]]
        o = doc["overall"]
        for d, figs in o.get("by_difficulty", {}).items():
            rows.append([d, "", "", "", "", number(figs.get("pass@1")), number(figs.get("beyond@1")),
                         number(figs.get("beyond_code@1"))])
        rows.append(["all", "", "", "", "", number(o.get("pass@1")), number(o.get("beyond@1")),
                     number(o.get("beyond_code@1"))])
        return head, rows
