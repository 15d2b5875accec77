"""EvalPerf's efficiency levels and DPS / DPS_norm (evalplus: perf/select_pe_tasks.py adaptive_seg1d,
evalperf.py perf_worker)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ._check import cost_or_censored, finite_nonneg

BASE = 0.10
WEIGHT = 10_000.0  # PREF_CURATE_MIN_INSTRUCTION


@dataclass(frozen=True)
class Levels:
    """Clusters slow -> fast: each one's representative (its slowest member's cost) and cumulative score."""

    representatives: Tuple[float, ...]
    scores: Tuple[float, ...]
    members: Tuple[Tuple[float, ...], ...]


def cluster_levels(costs: Sequence[float], base: float = BASE, weight: float = WEIGHT) -> Levels:
    """Sort descending (slowest first) and cut between i and i+1 when (a_i - a_{i+1}) / a_i >
    base + sqrt(weight / a_i). score_j = 100 * (|C_0| + ... + |C_j|) / N."""
    a = sorted(finite_nonneg(costs, "costs"), reverse=True)
    if not a:
        raise ValueError("cluster_levels: the reference pool is empty")
    if a[-1] <= 0:
        raise ValueError("cluster_levels: costs must be > 0 (instruction counts of the pool)")
    clusters: List[List[float]] = [[a[0]]]
    for i in range(len(a) - 1):
        if (a[i] - a[i + 1]) / a[i] > base + math.sqrt(weight / a[i]):
            clusters.append([])
        clusters[-1].append(a[i + 1])
    n, seen, scores = len(a), 0, []
    for c in clusters:
        seen += len(c)
        scores.append(100.0 * seen / n)
    return Levels(tuple(c[0] for c in clusters), tuple(scores), tuple(tuple(c) for c in clusters))


@dataclass(frozen=True)
class DPS:
    dps: float
    dps_norm: float
    level: int  # -1: slower than every representative, or a broken profile


def dps(cost: Optional[float], levels: Levels) -> DPS:
    """j* = max{j : cost <= representative_j} (ties match); DPS = scores[j*], DPS_norm = 100 (j*+1)/m;
    no such j, or a broken profile (None: timeout or error), scores 0 with level -1."""
    x = cost_or_censored(cost, "cost")
    if x is None:
        return DPS(0.0, 0.0, -1)
    j = max((i for i, r in enumerate(levels.representatives) if x <= r), default=-1)
    if j < 0:
        return DPS(0.0, 0.0, -1)
    m = len(levels.representatives)
    return DPS(levels.scores[j], 100.0 * (j + 1) / m, j)


def dps_task(sample_costs: Sequence[Optional[float]], levels: Levels) -> Tuple[Optional[float], Optional[float]]:
    """Mean DPS and DPS_norm over a task's profiled correct samples (None when there are none)."""
    if not sample_costs:
        return None, None
    r = [dps(c, levels) for c in sample_costs]
    return sum(x.dps for x in r) / len(r), sum(x.dps_norm for x in r) / len(r)
