"""Adaptive stopping: add processes until the confidence interval of the quantity asked for is
narrow enough, or a budget is spent, and say which happened."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from .twolevel import bootstrap_ratio_ci, per_process

Estimate = Tuple[float, float, float]  # estimate, low, high


def mean_ci(processes: Sequence[Sequence[float]], confidence: float = 0.95) -> Estimate:
    """Mean of per-process means with a Student t interval over processes."""
    from scipy import stats
    p = per_process(processes)
    m = float(p.mean())
    if p.size < 2:
        return m, -np.inf, np.inf
    h = float(stats.t.ppf((1 + confidence) / 2, p.size - 1) * p.std(ddof=1) / np.sqrt(p.size))
    return m, m - h, m + h


def ratio_ci(pairs: Sequence[Tuple[Sequence[float], Sequence[float]]], confidence: float = 0.95) -> Estimate:
    """For processes that each measured (a, b): mean(a)/mean(b) with a bootstrap CI over processes."""
    if len(pairs) < 2:
        return np.nan, -np.inf, np.inf
    r = bootstrap_ratio_ci([a for a, _ in pairs], [b for _, b in pairs], confidence=confidence)
    return r.ratio, r.low, r.high


@dataclass(frozen=True)
class AdaptiveResult:
    """``reason``: ``target`` (the relative half-width reached ``target``), ``max_processes`` or
    ``budget`` (seconds spent) — only ``target`` means the precision asked for was met."""

    estimate: float
    low: float
    high: float
    processes: int
    reason: str
    elapsed_s: float
    data: List[Any]

    @property
    def relative_half_width(self) -> float:
        return (self.high - self.low) / 2 / abs(self.estimate) if self.estimate else np.inf


def adaptive_processes(run_process: Callable[[], Any], target: float,
                       quantity: Callable[[Sequence[Any]], Estimate] = mean_ci, min_processes: int = 5,
                       max_processes: int = 50, budget_s: Optional[float] = None) -> AdaptiveResult:
    """Call ``run_process()`` (one new process's measurements) until the relative CI half-width of
    ``quantity`` is at most ``target`` (e.g. 0.01 for +-1 %), or ``max_processes`` / ``budget_s`` is hit.
    At least ``min_processes`` are always run (fewer give intervals that cannot be trusted)."""
    if target <= 0:
        raise ValueError("target must be a positive relative half-width, e.g. 0.01")
    if not 2 <= min_processes <= max_processes:
        raise ValueError("need 2 <= min_processes <= max_processes")
    t0 = time.monotonic()
    data: List[Any] = []
    while True:
        data.append(run_process())
        est, low, high = quantity(data)
        n, spent = len(data), time.monotonic() - t0
        if n >= min_processes:
            half = (high - low) / 2 / abs(est) if est else np.inf
            reason = ("target" if half <= target else "max_processes" if n >= max_processes
                      else "budget" if budget_s is not None and spent >= budget_s else None)
            if reason:
                return AdaptiveResult(est, low, high, n, reason, spent, data)
