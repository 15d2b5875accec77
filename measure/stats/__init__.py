"""Statistics for repeated measurements (docs/statistics-and-scores.md).

Deterministic backends need no test: one process, k calls, and a flag when the spread is above
a threshold (:func:`check_spread`). Timings need the two-level design: summarise each process
first, then compare processes (pooling iterations makes noise look significant: an A/A test here
gave 34-66 % false positives for a pooled t-test, about 5 % per process).
"""
from .summary import Summary, hodges_lehmann, mad, mean, median, relative_spread, trimmed_mean, check_spread, SpreadCheck
from .twolevel import (Comparison, RatioCI, TestResult, bootstrap_ratio_ci, compare, mann_whitney, per_process,
                       welch_t)
from .adaptive import AdaptiveResult, adaptive_processes, mean_ci, ratio_ci
from .aa import AAResult, aa_false_positive_rate, RULES

__all__ = [
    "Summary", "hodges_lehmann", "mad", "mean", "median", "relative_spread", "trimmed_mean", "check_spread",
    "SpreadCheck", "Comparison", "RatioCI", "TestResult", "bootstrap_ratio_ci", "compare", "mann_whitney",
    "per_process", "welch_t", "AdaptiveResult", "adaptive_processes", "mean_ci", "ratio_ci", "AAResult",
    "aa_false_positive_rate", "RULES",
]
