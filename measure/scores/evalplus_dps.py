"""EvalPerf's DPS and DPS_norm against a task's STORED per-reference scores, exactly as evalplus
computes them (evalplus/evalplus, ``evalplus/evalperf.py``: ``perf_worker`` for a sample and a task,
``script`` for the gate and the overall means; commit 26d6d00b).

EvalPerf's task file stores, per task, ``reference`` (representatives r_0 .. r_{m-1}, slowest first:
each the slowest member of one efficiency cluster of the original solution pool) and ``scores``
(s_0 .. s_{m-1}: the cumulative percentage of that pool in clusters 0..j, s_{m-1} = 100). The
representatives are re-measured in the session; the scores are not recomputed. For a sample of cost x
(instructions; None = a broken profile: timeout or error on the performance input):

    j*       = max { j : x <= c_j }     c_j = the session's cost of reference j (ties match)
    DPS      = s_{j*}
    DPS_norm = 100 (j* + 1) / m         m = the number of references
    no such j (slower than every reference) or a broken profile: DPS = DPS_norm = 0, j* = -1

evalplus scans j from m-1 down to 0 and stops at the first ``x <= c_j``, which is the max above even
when the re-measured c_j are out of order (its default ``lazy_evaluation`` does not check the order).
``measure.scores.evalperf`` is the other path: it re-clusters the references it is given.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ._check import cost_or_censored, finite_nonneg


def _pool(reference_costs: Sequence[float], scores: Sequence[float]) -> Tuple[List[float], List[float]]:
    refs = finite_nonneg(reference_costs, "reference_costs")
    stored = finite_nonneg(scores, "scores")
    if not refs:
        raise ValueError("reference_costs is empty: an EvalPerf task has at least one reference")
    if len(refs) != len(stored):
        raise ValueError(f"{len(refs)} reference costs but {len(stored)} stored scores: "
                         "pass one score per reference, in the task's reference order")
    return refs, stored


def match_reference(cost: Optional[float], reference_costs: Sequence[float]) -> int:
    """evalplus's ``matching_cluster_idx``: the largest j with ``cost <= reference_costs[j]`` (ties
    match); -1 when the sample is slower than every reference or its profile is broken (``cost`` None
    or +inf). ``reference_costs`` are the session's costs in the task's reference order, all finite."""
    refs = finite_nonneg(reference_costs, "reference_costs")
    if not refs:
        raise ValueError("reference_costs is empty: an EvalPerf task has at least one reference")
    x = cost_or_censored(cost, "cost")
    if x is None:
        return -1
    for j in range(len(refs) - 1, -1, -1):
        if x <= refs[j]:
            return j
    return -1


def stored_dps(cost: Optional[float], reference_costs: Sequence[float],
               scores: Sequence[float]) -> Tuple[float, float]:
    """(DPS, DPS_norm) of one profiled correct sample, both in 0..100: the stored score of the matched
    reference and 100 (j*+1)/m; (0.0, 0.0) when it matches none or its profile is broken.
    ``scores`` are the task's stored ``scores``, one per reference (same order)."""
    refs, stored = _pool(reference_costs, scores)
    j = match_reference(cost, refs)
    if j < 0:
        return 0.0, 0.0
    return stored[j], 100.0 * (j + 1) / len(refs)


@dataclass(frozen=True)
class TaskDPS:
    """One task's EvalPerf figures. ``dps``/``dps_norm`` are None when the task was not profiled
    (fewer than ``min_correct`` correct samples); ``profiled`` are the indices of the samples scored
    and ``levels`` their matched reference (-1: none or broken)."""

    dps: Optional[float]
    dps_norm: Optional[float]
    profiled: Tuple[int, ...]
    levels: Tuple[int, ...]


def task_dps(passed: Sequence[bool], costs: Sequence[Optional[float]], reference_costs: Sequence[float],
             scores: Sequence[float], min_correct: int = 10, max_profile: int = 20) -> TaskDPS:
    """A task's DPS and DPS_norm as evalplus's ``script`` + ``perf_worker``: profiled only when at
    least ``min_correct`` samples pass; then the first ``max_profile`` passing samples in order are
    scored with ``stored_dps`` and the task's figures are their means (``statistics.mean``, as
    upstream). ``costs[i]`` is sample i's cost on the performance input (None: broken profile; read
    only for profiled samples)."""
    if len(passed) != len(costs):
        raise ValueError(f"{len(passed)} pass flags but {len(costs)} costs: give one of each per sample")
    if not (isinstance(min_correct, int) and isinstance(max_profile, int) and 1 <= min_correct <= max_profile):
        raise ValueError(f"need integers 1 <= min_correct <= max_profile, got {min_correct!r} and {max_profile!r}")
    refs, stored = _pool(reference_costs, scores)
    correct = [i for i, ok in enumerate(passed) if ok]
    if len(correct) < min_correct:
        return TaskDPS(None, None, (), ())
    chosen = tuple(correct[:max_profile])
    levels = tuple(match_reference(costs[i], refs) for i in chosen)
    pairs = [stored_dps(costs[i], refs, stored) for i in chosen]
    return TaskDPS(statistics.mean(p[0] for p in pairs), statistics.mean(p[1] for p in pairs), chosen, levels)
