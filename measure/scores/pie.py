"""PIE's speedup@k and %Opt (LearningOpt/pie gem5/gem5_eval.py report_results)."""
from __future__ import annotations

from typing import Optional, Sequence

from ._check import check_k, cost_or_censored

THRESHOLDS = (1.10, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0)


def best_at_k(runtimes: Sequence[Optional[float]], k: int) -> Optional[float]:
    """The fastest of the first k generations (None: none of them was correct)."""
    check_k(len(runtimes), k)
    vals = [cost_or_censored(r, f"runtimes[{i}]") for i, r in enumerate(runtimes[:k])]
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


def problem_speedup(source_runtime: float, runtimes: Sequence[Optional[float]], k: int) -> float:
    """max(1, source / best@k): an incorrect or slower result counts as keeping the original (1.0)."""
    src = cost_or_censored(source_runtime, "source_runtime")
    if src is None:
        raise ValueError("the source program has no runtime: it must be correct")
    best = best_at_k(runtimes, k)
    if best is None:
        return 1.0
    return max(1.0, src / best) if best > 0 else float("inf")


def speedup_at_k(sources: Sequence[float], generations: Sequence[Sequence[Optional[float]]], k: int) -> float:
    """Mean over problems of the floored per-problem speedup."""
    if len(sources) != len(generations) or not sources:
        raise ValueError("speedup_at_k: one source runtime and one list of generations per problem")
    return sum(problem_speedup(s, g, k) for s, g in zip(sources, generations)) / len(sources)


def pct_opt(speedups: Sequence[float], threshold: float = 1.10) -> float:
    """Fraction of problems whose best@k speedup is at least ``threshold`` (PIE also reports 1.25 ... 10)."""
    if not speedups:
        raise ValueError("pct_opt: no problems")
    return sum(1 for s in speedups if s >= threshold) / len(speedups)
