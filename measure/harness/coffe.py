"""COFFE-style scoring (Peng et al., FSE 2025) on a measure problem
set: each problem's ``references`` are its ground-truth solutions, its ``perf_inputs`` the stressful
tests. (COFFE's own files: :mod:`measure.harness.coffe_files`.)

A program's cost is the sum of its costs over the stressful tests (COFFE: each test run 12 times,
min and max dropped, the rest averaged; on a deterministic backend one count is exact). The best
ground truth is the cheapest reference measured in the same session (COFFE ships one best
solution per problem; give one reference to reproduce that exactly). A sample is *efficient* when
it passes the correctness tests, gives the stressful tests' outputs, and costs strictly less than
the best ground truth (a tie is not). efficient@k is the pass@k estimator over efficient samples
(COFFE's code computes n = k = 1); speedup is sum(best ground truth) / sum(sample) over every
correct (problem, sample) pair whose stressful tests all finished: a ratio of sums, COFFE's
definition with one sample per problem. With a tie tolerance t, a second verdict beside the strict
one: efficient only when cheaper by more than the fraction t (``efficient_tol``).
Per-call wall-clock limit: 10 x the slowest ground-truth call (COFFE's factor), at least 4 s.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigError
from ..fmt import number
from ..scores import pass_at_k
from ..scores.coffe import efficient_at_k, is_efficient, speedup
from ..stats import mean, trimmed_mean
from .adapter import Evaluation, ProblemSetAdapter, ScoreDocument, evaluate as evaluate_with
from .problems import Problem, ReferencePool, Run

TIME_REPEAT = 12    # runs per stressful test on the time backend; min and max dropped
TIME_FACTOR = 10.0
MIN_TIME_S = 4.0
KS = (1, 10, 100)


class CoffeAdapter(ProblemSetAdapter):
    """COFFE's efficient@k and speedup on a measure problem set (``measure score coffe``)."""

    name = "coffe"
    schema = "measure/score-coffe"
    title = "COFFE"
    time_repeat = TIME_REPEAT
    aggregate = staticmethod(trimmed_mean)
    time_factor = TIME_FACTOR
    min_wall_s = MIN_TIME_S

    help = "COFFE-style: efficient@k and speedup against the best ground truth"

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--tie-tolerance", type=float, default=0.0, metavar="FRACTION",
                            help="also count a sample efficient only when cheaper than the best ground truth by more "
                                 "than this fraction (e.g. 0.01), reported beside COFFE's strict verdict (default 0)")

    @classmethod
    def from_args(cls, args) -> "CoffeAdapter":
        return cls(args.tie_tolerance)

    def __init__(self, tie_tolerance: float = 0.0):
        if not 0.0 <= tie_tolerance < 1.0:
            raise ConfigError(f"--tie-tolerance must be a fraction in [0, 1), got {tie_tolerance!r}: "
                              "e.g. 0.01 for 1 %")
        self.tie_tolerance = tie_tolerance

    def params(self) -> Dict[str, Any]:
        return {"tie_tolerance": self.tie_tolerance}

    def score_run(self, problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
        best = min(pool.costs)
        return {"best_ground_truth_cost": best, "efficient": is_efficient(run.correct, run.cost, best),
                "efficient_tol": is_efficient(run.correct, run.cost, best, self.tie_tolerance)}

    def summarize(self, ev: Evaluation, ks: Sequence[int] = KS) -> ScoreDocument:
        by_problem = ev.records()
        n_min = min((len(recs) for recs in by_problem.values()), default=0)
        ks = [k for k in ks if k <= n_min]
        per, gt, pred = [], [], []
        for pid, recs in by_problem.items():
            n = len(recs)
            c = sum(r["correct"] for r in recs)
            ce = sum(r["efficient"] for r in recs)
            ct = sum(r.get("efficient_tol", r["efficient"]) for r in recs)
            row = {"problem": pid, "n": n, "correct": c, "efficient": ce, "efficient_tol": ct,
                   "best_ground_truth_cost": recs[0]["best_ground_truth_cost"]}
            for k in ks:
                row[f"pass@{k}"] = pass_at_k(n, c, k)
                row[f"efficient@{k}"] = efficient_at_k(n, ce, k)
                row[f"efficient_tol@{k}"] = efficient_at_k(n, ct, k)
            ok = [r for r in recs if r["correct"] and r["cost"] is not None]
            row["speedup"] = speedup([r["best_ground_truth_cost"] for r in ok], [r["cost"] for r in ok]) if ok else None
            gt += [r["best_ground_truth_cost"] for r in ok]
            pred += [r["cost"] for r in ok]
            per.append(row)
        overall: Dict[str, Any] = {m: mean([r[m] for r in per]) if per else None for k in ks
                                   for m in (f"pass@{k}", f"efficient@{k}", f"efficient_tol@{k}")}
        overall["speedup"] = speedup(gt, pred) if pred else None
        return ev.document(self, overall, per, tie_tolerance=self.tie_tolerance)

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        ks = [m.split("@")[1] for m in doc["overall"] if m.startswith("pass@")]
        tol = doc.get("tie_tolerance") or 0.0
        metrics = [m for k in ks for m in (f"pass@{k}", f"efficient@{k}")
                   + ((f"efficient_tol@{k}",) if tol else ())]
        head = ["problem", "n", "correct", "efficient"] + metrics + ["speedup"]
        names = [h.replace("efficient_tol", f"eff(tol {tol:g})") for h in head]

        def speed(x):
            return number(x, ".3f") + ("x" if x is not None else "")

        rows = [[str(r["problem"]), str(r["n"]), str(r["correct"]), str(r["efficient"])]
                + [number(r[m]) for m in metrics] + [speed(r["speedup"])] for r in doc["per_problem"]]
        o = doc["overall"]
        rows.append(["all", "", "", ""] + [number(o[m]) for m in metrics] + [speed(o["speedup"])])
        return names, rows


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             tie_tolerance: float = 0.0, **options: Any) -> Dict[str, Any]:
    """Score a samples file against a problem set; resumable through ``results_path`` (JSONL).
    Returns the versioned score document (``schema: measure/score-coffe``); ``options`` are those
    of :func:`measure.harness.adapter.evaluate`."""
    return evaluate_with(CoffeAdapter(tie_tolerance), dataset, samples_path, results_path, problems, **options)
