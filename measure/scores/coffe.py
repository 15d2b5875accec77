"""COFFE's efficient@k and speedup (JohnnyPeng18/Coffe coffe/evaluator.py Metrics.cal)."""
from __future__ import annotations

from typing import Optional, Sequence

from ._check import cost_or_censored
from .passk import pass_at_k


def is_efficient(correct: bool, cost: Optional[float], best_ground_truth_cost: float,
                 tie_tolerance: float = 0.0) -> bool:
    """Correct and *strictly* cheaper than the best ground-truth solution (a tie is not efficient);
    with ``tie_tolerance`` t > 0, cheaper by more than the fraction t (cost < best x (1 - t)), so a
    near tie (a renamed variable) is not a verdict either. t = 0 is COFFE's strict rule."""
    if not 0.0 <= tie_tolerance < 1.0:
        raise ValueError(f"tie_tolerance must be in [0, 1), got {tie_tolerance!r}")
    c = cost_or_censored(cost, "cost")
    gt = cost_or_censored(best_ground_truth_cost, "best_ground_truth_cost")
    if gt is None:
        raise ValueError("the best ground-truth solution has no cost: it must run within the limits")
    return bool(correct) and c is not None and c < gt * (1.0 - tie_tolerance)


def efficient_at_k(n: int, c_efficient: int, k: int) -> float:
    """The paper's pass@k analogue 1 - C(n - c_e, k) / C(n, k); with n = k = 1 it is COFFE's code."""
    return pass_at_k(n, c_efficient, k)


def speedup(ground_truth_costs: Sequence[Optional[float]], prediction_costs: Sequence[Optional[float]]) -> float:
    """sum(ground truth) / sum(prediction) over problems where both are finite (a ratio of sums;
    a failed or incorrect prediction is None and leaves its problem out)."""
    if len(ground_truth_costs) != len(prediction_costs):
        raise ValueError(f"{len(ground_truth_costs)} ground-truth costs for {len(prediction_costs)} predictions")
    pairs = [(cost_or_censored(g, f"ground_truth_costs[{i}]"), cost_or_censored(p, f"prediction_costs[{i}]"))
             for i, (g, p) in enumerate(zip(ground_truth_costs, prediction_costs))]
    pairs = [(g, p) for g, p in pairs if g is not None and p is not None]
    if not pairs or sum(p for _, p in pairs) == 0:
        raise ValueError("speedup: no problem with a finite, non-zero prediction cost")
    return sum(g for g, _ in pairs) / sum(p for _, p in pairs)
