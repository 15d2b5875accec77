"""COFFE-style scoring (Peng et al., FSE 2025; reference/metrics.md section 3) on a measure problem
set: each problem's ``references`` are its ground-truth solutions, its ``perf_inputs`` the stressful
tests.

A program's cost is the sum of its costs over the stressful tests (COFFE: each test run 12 times,
min and max dropped, the rest averaged; on a deterministic backend one count is exact). The best
ground truth is the cheapest reference measured in the same session (COFFE ships one best
solution per problem; give one reference to reproduce that exactly). A sample is *efficient* when
it passes the correctness tests and costs strictly less than the best ground truth (a tie is not).
efficient@k is the pass@k estimator over efficient samples (COFFE's code computes n = k = 1);
speedup is sum(best ground truth) / sum(sample) over every correct (problem, sample) pair whose
stressful tests all finished: a ratio of sums, COFFE's definition with one sample per problem.
Per-call wall-clock limit: 10 x the slowest ground-truth call (COFFE's factor), at least 4 s.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from ..scores import pass_at_k
from ..scores.coffe import efficient_at_k, is_efficient, speedup
from ..stats import mean, trimmed_mean
from .problems import Evaluation, Problem, ReferencePool, Run, evaluate_problem_set, records_by_problem

TIME_REPEAT = 12    # runs per stressful test on the time backend; min and max dropped
TIME_FACTOR = 10.0
MIN_TIME_S = 4.0


def _score(problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
    best = min(pool.costs)
    return {"best_ground_truth_cost": best, "efficient": is_efficient(run.correct, run.cost, best)}


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             backend: str = "auto", python: Optional[str] = None, jobs: Optional[int] = None,
             cache_dir: Optional[str] = None, progress: bool = True) -> Dict[str, Any]:
    """Score a samples file against a problem set; resumable through ``results_path`` (JSONL).
    Returns the versioned score document (``schema: measure/score-coffe``)."""
    ev = evaluate_problem_set("coffe", dataset, samples_path, results_path, _score, problems, backend, python, jobs,
                              cache_dir, progress, time_repeat=TIME_REPEAT, aggregate=trimmed_mean,
                              time_factor=TIME_FACTOR, min_wall_s=MIN_TIME_S)
    return summarize(ev)


def summarize(ev: Evaluation, ks: Sequence[int] = (1, 10, 100)) -> Dict[str, Any]:
    by_problem = records_by_problem(ev)
    n_min = min(len(recs) for recs in by_problem.values())
    ks = [k for k in ks if k <= n_min]
    per, gt, pred = [], [], []
    for pid, recs in by_problem.items():
        n = len(recs)
        c = sum(r["correct"] for r in recs)
        ce = sum(r["efficient"] for r in recs)
        row = {"problem": pid, "n": n, "correct": c, "efficient": ce,
               "best_ground_truth_cost": recs[0]["best_ground_truth_cost"]}
        for k in ks:
            row[f"pass@{k}"] = pass_at_k(n, c, k)
            row[f"efficient@{k}"] = efficient_at_k(n, ce, k)
        ok = [r for r in recs if r["correct"] and r["cost"] is not None]
        row["speedup"] = speedup([r["best_ground_truth_cost"] for r in ok], [r["cost"] for r in ok]) if ok else None
        gt += [r["best_ground_truth_cost"] for r in ok]
        pred += [r["cost"] for r in ok]
        per.append(row)
    overall = {m: mean([r[m] for r in per]) for k in ks for m in (f"pass@{k}", f"efficient@{k}")}
    overall["speedup"] = speedup(gt, pred) if pred else None
    return {"schema": "measure/score-coffe", "version": 1, "backend": ev.session.backend.name,
            "platform": ev.session.platform.label(), "problems": len(per), "overall": overall, "per_problem": per,
            "jobs": {"measured": ev.session.measured, "from_cache": ev.session.cached}, "warnings": ev.warnings}
