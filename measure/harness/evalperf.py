"""EvalPerf-style scoring (Liu et al., COLM 2024; reference/metrics.md section 2) on a measure
problem set: each problem's ``references`` are the pool of correct solutions, its ``perf_inputs``
the performance-exercising input.

The pool is measured in the same session as the samples and clustered into efficiency levels
(``measure.scores.evalperf.cluster_levels``: base 0.10, the sqrt(10000 / a_i) term, slowest member
as representative, cumulative-percentage scores). A sample must pass the correctness tests (under
max(4 s, 4 x the slowest reference call), EvalPerf's limit, applied to wall time under the
backend); the first ``max_profile`` correct samples in order are profiled and score DPS / DPS_norm
against the levels; a broken profile (a timeout or error on the perf input) scores 0. A problem
with fewer than ``min_correct`` correct samples has no DPS (EvalPerf's defaults: 10 and 20).
Overall figures are means over problems that have one; pass@1 is over every problem.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from ..errors import ConfigError
from ..scores import pass_at_k
from ..scores.evalperf import cluster_levels, dps
from ..stats import mean
from .problems import Evaluation, Problem, ReferencePool, Run, evaluate_problem_set, records_by_problem

MIN_CORRECT = 10
MAX_PROFILE = 20
TIME_FACTOR = 4.0   # DEFAULT_GT_TIME_LIMIT_FACTOR
MIN_TIME_S = 4.0    # DEFAULT_MIN_TIME_LIMIT


def _score(problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
    levels = cluster_levels(pool.costs)
    if not run.correct:
        return {"dps": None, "dps_norm": None, "level": None, "n_levels": len(levels.representatives)}
    d = dps(run.cost, levels)   # a broken profile (cost None) scores 0 at level -1
    return {"dps": d.dps, "dps_norm": d.dps_norm, "level": d.level, "n_levels": len(levels.representatives)}


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             backend: str = "auto", python: Optional[str] = None, jobs: Optional[int] = None,
             cache_dir: Optional[str] = None, progress: bool = True, min_correct: int = MIN_CORRECT,
             max_profile: int = MAX_PROFILE) -> Dict[str, Any]:
    """Score a samples file against a problem set; resumable through ``results_path`` (JSONL).
    Returns the versioned score document (``schema: measure/score-dps``)."""
    if min_correct < 1 or max_profile < min_correct:
        raise ConfigError(f"need 1 <= min_correct <= max_profile, got {min_correct} and {max_profile}: "
                          "lower --min-correct or raise --max-profile")
    ev = evaluate_problem_set("evalperf", dataset, samples_path, results_path, _score, problems, backend, python,
                              jobs, cache_dir, progress, time_repeat=1, aggregate=mean, time_factor=TIME_FACTOR,
                              min_wall_s=MIN_TIME_S)
    return summarize(ev, min_correct, max_profile)


def summarize(ev: Evaluation, min_correct: int = MIN_CORRECT, max_profile: int = MAX_PROFILE) -> Dict[str, Any]:
    per = []
    for pid, recs in records_by_problem(ev).items():
        correct = [r for r in recs if r["correct"]]
        profiled = correct[:max_profile]
        enough = len(correct) >= min_correct
        per.append({"problem": pid, "n": len(recs), "correct": len(correct), "profiled": len(profiled) if enough else 0,
                    "levels": recs[0]["n_levels"], "pass@1": pass_at_k(len(recs), len(correct), 1),
                    "dps": mean([r["dps"] for r in profiled]) if enough else None,
                    "dps_norm": mean([r["dps_norm"] for r in profiled]) if enough else None})
    scored = [r for r in per if r["dps"] is not None]
    overall = {"pass@1": mean([r["pass@1"] for r in per]),
               "dps": mean([r["dps"] for r in scored]) if scored else None,
               "dps_norm": mean([r["dps_norm"] for r in scored]) if scored else None,
               "problems_scored": len(scored)}
    return {"schema": "measure/score-dps", "version": 1, "backend": ev.session.backend.name,
            "platform": ev.session.platform.label(), "problems": len(per), "min_correct": min_correct,
            "max_profile": max_profile, "overall": overall, "per_problem": per,
            "jobs": {"measured": ev.session.measured, "from_cache": ev.session.cached}, "warnings": ev.warnings}
