"""Summaries and spreads of one set of repeated values (pure functions, any unit)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


def _array(values: Sequence[float], what: str = "values") -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{what}: need a non-empty 1-D sequence of numbers, got {a.size} values")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: contains NaN or infinity; a timed-out run is censored, not a number: "
                         "leave it out or score it with a censoring-aware metric")
    return a


def median(values: Sequence[float]) -> float:
    return float(np.median(_array(values)))


def mean(values: Sequence[float]) -> float:
    return float(np.mean(_array(values)))


def hodges_lehmann(values: Sequence[float]) -> float:
    """Median of the Walsh averages (t_a + t_b) / 2 over a <= b, self-pairs included (ENAMEL's
    per-test estimator, enam/evaluate.py calc_exec_time)."""
    a = _array(values)
    i, j = np.triu_indices(a.size)
    return float(np.median((a[i] + a[j]) / 2))


def trimmed_mean(values: Sequence[float], drop_low: int = 1, drop_high: int = 1) -> float:
    """Mean after dropping the ``drop_low`` smallest and ``drop_high`` largest values (COFFE: 12
    runs, drop the min and the max, mean of the other 10). Needs more values than are dropped."""
    a = np.sort(_array(values))
    if drop_low < 0 or drop_high < 0 or a.size <= drop_low + drop_high:
        raise ValueError(f"trimmed_mean: {a.size} values cannot lose {drop_low} + {drop_high}")
    return float(np.mean(a[drop_low:a.size - drop_high]))


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation from the median (unscaled, as pyperf reports it)."""
    a = _array(values)
    return float(np.median(np.abs(a - np.median(a))))


def relative_spread(values: Sequence[float]) -> float:
    """(max - min) / median; 0 when all values are equal; inf when the median is 0 but values differ."""
    a = _array(values)
    rng = float(a.max() - a.min())
    med = float(np.median(a))
    if rng == 0:
        return 0.0
    return rng / abs(med) if med else math.inf


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    mean: float
    min: float
    max: float
    mad: float
    relative_spread: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        a = _array(values)
        return cls(int(a.size), median(a), mean(a), float(a.min()), float(a.max()), mad(a), relative_spread(a))


@dataclass(frozen=True)
class SpreadCheck:
    """A deterministic backend's repeat check: ``flagged`` when the relative spread is above ``threshold``."""

    relative_spread: float
    threshold: float
    flagged: bool


def check_spread(values: Sequence[float], threshold: float = 0.01) -> SpreadCheck:
    """For deterministic counts: one process, k calls, no test. measurement.md 5.4: flag above 1 %."""
    s = relative_spread(values)
    return SpreadCheck(s, threshold, s > threshold)
