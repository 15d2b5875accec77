"""ENAMEL's per-level efficiency with right-censoring, and its hardness-weighted sample score
(q-rz/enamel enam/evaluate.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ._check import cost_or_censored, finite_nonneg

HARDNESS = (0.0, 3.0, 3.0, 4.0)   # level 0 only gates correctness
ALPHA = 2.0                       # time limit = alpha x the slowest reference level


def time_limit(reference_level_costs: Sequence[float], hardness: Sequence[float] = HARDNESS,
               alpha: float = ALPHA) -> float:
    """T = alpha * max_j t*_j over the levels with hardness > 0 (one limit per problem)."""
    ref = finite_nonneg(reference_level_costs, "reference_level_costs")
    if len(ref) != len(hardness):
        raise ValueError(f"{len(ref)} reference level costs for {len(hardness)} hardness weights")
    return alpha * max(t for t, h in zip(ref, hardness) if h > 0)


def level_score(cost: Optional[float], reference_cost: float, limit: float) -> float:
    """e_j = max(0, T - t_j) / (T - t*_j); not clipped at 1; a censored run (None, inf or t >= T) scores 0."""
    t = cost_or_censored(cost, "cost")
    (ref, T) = finite_nonneg([reference_cost, limit], "reference_cost/limit")
    if T <= ref:
        raise ValueError(f"time limit {T} must exceed the reference cost {ref} (alpha > 1 and a reference cost > 0)")
    if t is None:
        return 0.0
    return max(0.0, T - t) / (T - ref)


@dataclass(frozen=True)
class LevelOutcome:
    """One level of one sample: ``status`` as measure reports it, ``cost`` the max over the level's
    tests (instructions or seconds) when all of them are ok."""

    status: str
    cost: Optional[float] = None


_BREAK = ("timeout", "memory", "overflow")


def sample_score(levels: Sequence[LevelOutcome], reference_level_costs: Sequence[float],
                 hardness: Sequence[float] = HARDNESS, alpha: float = ALPHA):
    """(passed, e(s)) with ENAMEL's failure semantics: a wrong answer or error at any level fails the
    sample (score 0); a timeout, memory error or OverflowError (status ``overflow``) at level j breaks:
    levels >= j score 0, and the sample fails only if j == 0. e(s) = sum_j h_j e_j / sum_j h_j."""
    if len(levels) != len(hardness):
        raise ValueError(f"{len(levels)} level outcomes for {len(hardness)} levels")
    T = time_limit(reference_level_costs, hardness, alpha)
    scores = []
    for j, lv in enumerate(levels):
        if lv.status in _BREAK:
            if j == 0:
                return False, 0.0
            scores += [0.0] * (len(levels) - j)
            break
        if lv.status != "ok":
            return False, 0.0
        scores.append(level_score(lv.cost, reference_level_costs[j], T) if hardness[j] > 0 else 0.0)
    return True, sum(h * e for h, e in zip(hardness, scores)) / sum(hardness)
