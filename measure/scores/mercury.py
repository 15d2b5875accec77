"""Mercury's Beyond@k (bigcode-evaluation-harness custom_metrics/beyond_eval.py)."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ._check import check_k, cost_or_censored, finite_nonneg


def beyond(runtime: Optional[float], reference_runtimes: Sequence[float]) -> float:
    """(max_p - clip(r, min_p, max_p)) / (max_p - min_p) in [0, 1] over the passing human solutions'
    runtimes; an incorrect sample (None or inf) scores 0. Guarded where upstream divides by zero:
    when max_p == min_p, a sample at or below it scores 1, a slower one 0."""
    r, lo, hi = runtime_range(runtime, reference_runtimes, "beyond")
    if r is None:
        return 0.0
    if hi == lo:
        return 1.0 if r <= lo else 0.0
    return (hi - min(max(r, lo), hi)) / (hi - lo)


def runtime_range(runtime: Optional[float], reference_runtimes: Sequence[float],
                  name: str) -> Tuple[Optional[float], float, float]:
    """(r, min_p, max_p), checked; r None for a sample that failed (None or inf)."""
    ref = finite_nonneg(reference_runtimes, "reference_runtimes")
    if not ref:
        raise ValueError(f"{name}: no reference runtimes for this task")
    return cost_or_censored(runtime, "runtime"), min(ref), max(ref)


def beyond_at_k(per_task_values: Sequence[Sequence[float]], k: int) -> float:
    """Mean over tasks of the mean of the *first k* samples' beyond values (not the best of k)."""
    if not per_task_values:
        raise ValueError("beyond_at_k: no tasks")
    total = 0.0
    for i, vals in enumerate(per_task_values):
        check_k(len(vals), k, f"k for task {i}")
        total += sum(finite_nonneg(vals[:k], f"task {i} values")) / k
    return total / len(per_task_values)
