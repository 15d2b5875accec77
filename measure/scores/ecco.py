"""ECCO's speedup, memory reduction and runtime/memory percentiles (CodeEff/ECCO evaluation/),
without its 0 -> 1 percentile bug."""
from __future__ import annotations

from typing import Sequence

from ._check import finite_nonneg


def _ratio_of_sums(before: Sequence[float], after: Sequence[float], passed: Sequence[bool], what: str) -> float:
    if not len(before) == len(after) == len(passed):
        raise ValueError(f"{what}: before, after and passed must have one entry per test")
    b = [x for x, ok in zip(before, passed) if ok]
    a = [x for x, ok in zip(after, passed) if ok]
    finite_nonneg(b + a, what)
    if not a or sum(a) == 0:
        raise ValueError(f"{what}: no passed test with a non-zero cost")
    return sum(b) / sum(a)


def speedup(time_in: Sequence[float], time_out: Sequence[float], passed: Sequence[bool]) -> float:
    """History-based editing: sum of the input program's times / the output's, over the tests the output passed."""
    return _ratio_of_sums(time_in, time_out, passed, "speedup")


def memory_reduction(mem_in: Sequence[float], mem_out: Sequence[float], passed: Sequence[bool]) -> float:
    return _ratio_of_sums(mem_in, mem_out, passed, "memory_reduction")


def percentile(cost: float, human_costs: Sequence[float]) -> float:
    """i / N where, with the human submissions sorted slowest first, i is the index of the first one
    strictly faster than ``cost``; 1 when none is faster. (Upstream turns i = 0 into 1: not here.)"""
    humans = sorted(finite_nonneg(human_costs, "human_costs"), reverse=True)
    (c,) = finite_nonneg([cost], "cost")
    if not humans:
        raise ValueError("percentile: no human submissions")
    i = next((j for j, h in enumerate(humans) if h < c), None)
    return 1.0 if i is None else i / len(humans)
