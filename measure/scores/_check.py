"""Argument checks shared by the score functions: errors name the argument and the fix."""
from __future__ import annotations

import math
from typing import Optional, Sequence


def finite_nonneg(values: Sequence[float], what: str) -> list:
    out = []
    for i, v in enumerate(values):
        if v is None or not isinstance(v, (int, float)) or math.isnan(v) or math.isinf(v) or v < 0:
            raise ValueError(f"{what}[{i}] = {v!r}: costs and scores must be finite and >= 0 "
                             "(a timed-out run is censored: pass None where the metric allows it)")
        out.append(float(v))
    return out


def cost_or_censored(v: Optional[float], what: str) -> Optional[float]:
    """None or +inf mean censored (timeout, failure); anything else must be a finite cost >= 0."""
    if v is None or (isinstance(v, float) and math.isinf(v) and v > 0):
        return None
    return finite_nonneg([v], what)[0]


def check_k(n: int, k: int, what: str = "k") -> None:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"{what} must be an integer >= 1, got {k!r}")
    if k > n:
        raise ValueError(f"{what} = {k} exceeds the {n} samples available: use k <= n")
