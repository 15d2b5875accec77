"""ENAMEL (Qiu et al., ICLR 2025) on measure: eff@k from deterministic counts.

Follows ENAMEL's own harness (q-rz/enamel enam/evaluate.py):
tests from each problem's ``generate_input`` seeded with ``seed ^ i ^ (offset_j + c)`` (generated
under PYTHONHASHSEED=0 with ENAMEL's helper functions from its ``enam`` package), answers from the
expert reference, the per-problem checker, 4 levels with hardness 0, 3, 3, 4, alpha = 2, a sample
program run after the problem's prompt, and its failure semantics: a wrong answer or error fails
the sample; a timeout, memory error or OverflowError breaks the level and every later one (and
fails the sample at level 0). Cost is the instruction count (the ``time`` backend gives task-clock instead).

A run is censored, never imputed. A count at or above T = alpha x the reference's most expensive
test scores 0 for its level (ENAMEL's e_j = max(0, T - t) / (T - t*)) without breaking: ENAMEL's
alarm fires only at T + 10 ms. A timeout (level break) is that alarm in instructions: a call that
counts more than T + ``SLACK_INSTRUCTIONS`` (ENAMEL's 10 ms at ``NATIVE_RATE``) is over its
budget (:attr:`measure.Config.budget`). The verdict is then a function of the counts alone, the
same on a quiet machine and a loaded one; the wall clock is only the backend's backstop, far above.
On the ``time`` backend (no counts) the limit stays a wall-clock one derived from the reference's
own wall time (``WALL_MARGIN`` x alpha x its slowest test, at least ``MIN_WALL_S``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..fmt import number
from ..errors import InputFileError, MeasureError, ReferenceFailed
from ..extras import install_hint
from ..jsonfile import write_json_atomic
from ..model import Program, Status
from ..platform import base_environment
from .. import wire
from ..scores import eff_at_k, pass_at_k
from ..scores.enamel import ALPHA, HARDNESS, LevelOutcome, sample_score, time_limit
from .adapter import Adapter, Evaluation, ScoreDocument, evaluate as evaluate_with
from .cache import read_cached_tests
from .problems import REFERENCE_TIMEOUT_S, guarded
from .runner import Session

PROBLEMSET = tuple(sorted(set(range(164)) - {2, 23, 41, 45, 53, 60, 71, 92, 97, 99, 102, 123, 124, 135, 137,
                                              138, 144, 148, 156, 157, 159, 160}))
SEED = 998244353
N_TESTS = (8, 4, 4, 4)
# ENAMEL's alarm fires at T + 10 ms (its ``tolerence_sec``). In instructions: 10 ms at the median rate
# at which CPython 3.11 runs the calibration suite natively on the reference machine, 1.36e10/s
# (benchmarks/instruction_rate.py, 2026-11-28: 7.8e9 .. 1.95e10 over its 41 programs).
TOLERANCE_S = 0.010
NATIVE_RATE = 1.36e10
SLACK_INSTRUCTIONS = int(TOLERANCE_S * NATIVE_RATE)
WALL_MARGIN = 3.0
MIN_WALL_S = 10.0  # under valgrind a call's fork and re-instrumentation alone take ~0.2 s of CPU; on a
                   # loaded machine 2 s of wall time cut short calls that were well within T


@dataclass(frozen=True)
class EnamelProblem:
    index: int
    task_id: str
    prompt: str
    generator: str
    sizes: Tuple[int, ...]
    reference_body: str
    checker: str
    entry: str

    @property
    def id(self) -> int:
        """The problem's id in samples and results files: its row index in enamel.csv."""
        return self.index

    @property
    def reference_program(self) -> str:
        """The reference as a full program, as ENAMEL's references sample file holds it."""
        return self.prompt + "\n" + self.reference_body

    def sample_source(self, code: str) -> str:
        """ENAMEL runs a sample after the prompt (so the prompt's imports are there)."""
        return self.prompt + "\n" + code


def load_problems(path: str) -> List[EnamelProblem]:
    csv.field_size_limit(1 << 30)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputFileError(f"cannot read the ENAMEL dataset {path!r}: {exc.strerror}") from None
    need = {"task_id", "prompt", "input_generator", "input_levels", "reference_solution", "checker", "entry_point"}
    if not rows or not need <= set(rows[0]):
        raise InputFileError(f"{path!r} is not ENAMEL's enamel.csv: it needs the columns {', '.join(sorted(need))}")
    out = []
    for i, r in enumerate(rows):
        try:
            sizes = tuple(int(x) for x in r["input_levels"].split())
        except ValueError:
            raise InputFileError(f"{path!r} row {i} ({r['task_id']}): input_levels {r['input_levels']!r} "
                                 "is not a list of integers") from None
        out.append(EnamelProblem(i, r["task_id"], r["prompt"], r["input_generator"], sizes, r["reference_solution"],
                                 r["checker"], r["entry_point"]))
    return out


_GENERATE = r"""
import importlib, importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("wire", sys.argv[1])  # stdlib-only; not the package
wire = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wire)
datautils = importlib.import_module("enam.datautils")
job = json.load(sys.stdin)
out = {}
for p in job["problems"]:
    levels, offset = [], 0
    for j, size in enumerate(p["sizes"]):
        level = []
        for c in range(job["n_tests"][j]):
            scope = dict(time=time, **vars(datautils))
            exec("%s\n%s\nrandom.seed(%d)\n__input = generate_input(size = %d, lid = %d, cid = %d)\n"
                 % (p["prompt"], p["generator"], job["seed"] ^ p["index"] ^ (offset + c), size, j, c), scope)
            level.append(wire.encode_value(scope["__input"], allow_pickle=True))
        levels.append(level)
        offset += job["n_tests"][j]
    out[str(p["index"])] = levels
json.dump(out, sys.stdout)
"""


def generate_tests(problems: Sequence[EnamelProblem], cache_dir: Optional[str] = None, seed: int = SEED,
                   n_tests: Sequence[int] = N_TESTS,
                   warnings: Optional[List[str]] = None) -> Dict[int, List[List[Any]]]:
    """Encoded test inputs per problem and level (each the tuple ``generate_input`` returned),
    generated in a subprocess with PYTHONHASHSEED=0, cached by content. A truncated or corrupt
    cache file is generated again and overwritten, with a line in ``warnings``."""
    job = {"problems": [{"index": p.index, "prompt": p.prompt, "generator": p.generator, "sizes": list(p.sizes)}
                        for p in problems], "seed": seed, "n_tests": list(n_tests)}
    key = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()
    path = os.path.join(cache_dir, f"enamel-tests-{key[:24]}.json") if cache_dir else None
    corrupt = None
    if path:
        cached, corrupt = read_cached_tests(path, {p.index: list(n_tests[:len(p.sizes)]) for p in problems})
        if cached is not None:
            return cached
    env = dict(base_environment(), PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    proc = subprocess.run([sys.executable, "-c", _GENERATE, wire.__file__], input=json.dumps(job), capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise MeasureError(f"generating ENAMEL's tests failed: {proc.stderr.strip()[-1500:]}"
                           + (f"\nRemedy: {install_hint('enam')} (ENAMEL's helpers)" if "enam" in proc.stderr else "")
                           + (f"\n(they were generated again because the cached tests {path} are corrupt: {corrupt})"
                              if corrupt else ""))
    tests = {int(k): v for k, v in json.loads(proc.stdout).items()}
    if path:
        write_json_atomic(path, {str(k): v for k, v in tests.items()})
        if corrupt and warnings is not None:
            warnings.append(f"the cached ENAMEL tests {path} were truncated or corrupt ({corrupt}): "
                            "generated again and rewritten")
    return tests


def make_checker(problem: EnamelProblem) -> Callable[[Any, Any, Any], bool]:
    """ENAMEL's ``__check(input, answer, output)``, defined after the prompt as ENAMEL does."""
    scope: Dict[str, Any] = {}
    exec(problem.prompt + "\n    pass\n" + problem.checker, scope)  # trusted dataset code, plain-data arguments
    return guarded(scope["__check"])


@dataclass(frozen=True)
class Reference:
    answers: List[Any]
    level_costs: List[float]      # max cost over each level's tests (T is alpha x the largest)
    wall_limit_s: float
    budget: Optional[int] = None  # instructions a sample's call may count (None on the time backend)


def measure_reference(session: Session, problem: EnamelProblem, tests: List[List[Any]]) -> Reference:
    """Measure the expert reference on every test; raise ReferenceFailed unless all pass."""
    flat = [t for level in tests for t in level]
    # stop_on_failure as for samples: a sample identical to its reference then shares its cache entry
    m = session.measure(Program(problem.sample_source(problem.reference_program), problem.entry), flat,
                        REFERENCE_TIMEOUT_S, stop_on_failure=True)
    bad = [r for r in m.inputs if r.status is not Status.OK] if m.setup.status is Status.OK else [m.setup]
    if bad:
        raise ReferenceFailed(f"problem {problem.index} ({problem.task_id}): the reference fails its own tests "
                              f"({bad[0].status}: {bad[0].message.strip()[-300:]}); leave it out with --problems")
    walls, level_costs, k = [], [], 0
    for j, level in enumerate(tests):
        level_c = [session.cost(m.inputs[k + c].samples) for c in range(len(level))]
        walls += [max(s.wall_ns or 0 for s in m.inputs[k + c].samples) for c in range(len(level))]
        level_costs.append(max(level_c))
        k += len(level)
    if session.metric == "instructions":
        budget = int(time_limit(level_costs, HARDNESS, ALPHA)) + SLACK_INSTRUCTIONS
        return Reference([r.output for r in m.inputs], level_costs, MIN_WALL_S, budget)
    wall = max(MIN_WALL_S, WALL_MARGIN * ALPHA * max(walls) / 1e9)
    return Reference([r.output for r in m.inputs], level_costs, wall)


def score_sample(session: Session, problem: EnamelProblem, tests: List[List[Any]], ref: Reference,
                 checker, code: str) -> Dict[str, Any]:
    flat = [t for level in tests for t in level]
    # stop at the first failing test: ENAMEL's scoring never looks past it
    m = session.measure(Program(problem.sample_source(code), problem.entry), flat, ref.wall_limit_s,
                        stop_on_failure=True, budget=ref.budget)
    results = {r.index: r for r in m.inputs}
    levels: List[LevelOutcome] = []
    detail = []
    k = 0
    for j, level in enumerate(tests):
        status, worst = "ok", 0.0
        for c in range(len(level)):
            r = results.get(k + c) if m.setup.status is Status.OK else None
            st = r.status.value if r is not None else m.setup.status.value
            if st == "error" and r is not None and r.message.startswith(wire.OVERFLOW_MARK):
                st = "overflow"  # ENAMEL breaks the level on OverflowError, as on a timeout
            cost = session.cost(r.samples) if r is not None and st == "ok" else None
            if st == "ok" and not checker(wire.decode_value(level[c], trusted=True), ref.answers[k + c], r.output):
                st = "wrong_answer"
            detail.append({"level": j, "case": c, "status": st, "cost": cost})
            if st != "ok":
                status = st
                break
            worst = max(worst, cost)
        levels.append(LevelOutcome(status, worst if status == "ok" else None))
        k += len(level)
        if status != "ok":
            levels += [LevelOutcome("not_reached")] * (len(tests) - j - 1)  # scoring stops before these
            break
    passed, score = sample_score(levels, ref.level_costs, HARDNESS, ALPHA)
    return {"passed": passed, "score": score, "levels": [lv.status for lv in levels], "tests": detail}


class EnamelAdapter(Adapter):
    """ENAMEL's pass@k and eff@k (``measure score enamel``): problems are enamel.csv's rows,
    identified by row index; by default ENAMEL's 142."""

    name = "enamel"
    schema = "measure/score-enamel"
    title = "ENAMEL"
    time_repeat = 6   # Hodges-Lehmann over 6 repetitions, as ENAMEL

    help = "ENAMEL: pass@k and eff@k"
    dataset_help = "ENAMEL's enamel.csv"
    samples_help = "JSON list, per problem, of full programs (ENAMEL's format)"

    @staticmethod
    def parse_ids(text: str) -> List[Any]:
        """``--problems``: comma-separated 0-based rows of enamel.csv."""
        try:
            return sorted({int(x) for x in text.split(",") if x.strip()})
        except ValueError:
            raise ValueError(f"{text!r}: give comma-separated 0-based problem indices, e.g. 0,1,5") from None

    def __init__(self):
        self.tests: Dict[int, List[List[Any]]] = {}

    def load(self, dataset: str) -> List[EnamelProblem]:
        return load_problems(dataset)

    def default_subset(self, problems: List[Any]) -> List[Any]:
        return list(PROBLEMSET)

    def params(self) -> Dict[str, Any]:
        return {"alpha": ALPHA, "hardness": list(HARDNESS), "seed": SEED, "n_tests": list(N_TESTS),
                "slack_instructions": SLACK_INSTRUCTIONS}

    def setup(self, problems, session, cache_dir, warnings) -> None:
        self.tests = generate_tests(problems, cache_dir, warnings=warnings)

    def prepare(self, session: Session, problem: EnamelProblem):
        tests = self.tests[problem.index]
        return tests, measure_reference(session, problem, tests), make_checker(problem)

    def score(self, session: Session, problem: EnamelProblem, prepared, code: str) -> Dict[str, Any]:
        tests, ref, checker = prepared
        return score_sample(session, problem, tests, ref, checker, code)

    def summarize(self, ev: Evaluation, ks=(1, 10, 100)) -> ScoreDocument:
        by_problem = ev.records()
        n_min = min((len(rs) for rs in by_problem.values()), default=0)
        ks = [k for k in ks if k <= n_min]
        per = []
        for i, rs in by_problem.items():
            c = sum(r["passed"] for r in rs)
            row = {"problem": i, "n": len(rs), "passed": c}
            for k in ks:
                row[f"pass@{k}"] = pass_at_k(len(rs), c, k)
                row[f"eff@{k}"] = eff_at_k([r["score"] for r in rs], k)
            per.append(row)
        overall = {m: sum(r[m] for r in per) / len(per) for k in ks for m in (f"pass@{k}", f"eff@{k}")}
        return ev.document(self, overall, per)

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        ks = [m.split("@")[1] for m in doc["overall"] if m.startswith("pass@")]
        head = ["problem", "n", "passed"] + [f"{m}@{k}" for k in ks for m in ("pass", "eff")]
        rows = [[str(r["problem"]), str(r["n"]), str(r["passed"])] + [number(r[h]) for h in head[3:]]
                for r in doc["per_problem"]]
        rows.append(["all", "", ""] + [number(doc["overall"][h]) for h in head[3:]])
        return head, rows


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[int]] = None,
             **options: Any) -> Dict[str, Any]:
    """Score a sample file; resumable through ``results_path`` (JSONL); ``options`` are those of
    :func:`measure.harness.adapter.evaluate` (``ray``: score the problems as Ray tasks)."""
    return evaluate_with(EnamelAdapter(), dataset, samples_path, results_path, problems, **options)
