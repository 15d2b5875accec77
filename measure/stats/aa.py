"""A/A tests: how often does a decision rule call two halves of the *same* benchmark different?

Split one benchmark's processes at random into two groups many times and apply the rule; the
fraction of "significant" splits estimates its false-positive rate (nominal: alpha)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Sequence

import numpy as np
from scipy.stats import binomtest

from .twolevel import bootstrap_ratio_ci, mann_whitney, welch_t

Rule = Callable[[Sequence[Sequence[float]], Sequence[Sequence[float]]], bool]


def _pooled_t(a, b, alpha=0.05) -> bool:
    from scipy import stats
    return bool(stats.ttest_ind(np.concatenate(a), np.concatenate(b)).pvalue < alpha)  # what pyperf does


RULES: Dict[str, Rule] = {
    "pooled_t": _pooled_t,
    "welch_per_process": lambda a, b: welch_t(a, b).pvalue < 0.05,
    "mannwhitney_per_process": lambda a, b: mann_whitney(a, b).pvalue < 0.05,
    "bootstrap_ratio_ci": lambda a, b: not (lambda r: r.low <= 1 <= r.high)(bootstrap_ratio_ci(a, b, n_boot=1000)),
}


@dataclass(frozen=True)
class AAResult:
    """``rate`` of significant splits with its Wilson 95 % interval (sampling error of the A/A test)."""

    rule: str
    splits: int
    group_size: int
    rate: float
    low: float
    high: float


def aa_false_positive_rate(processes: Sequence[Sequence[float]], rule: str | Rule = "welch_per_process",
                           group_size: int | None = None, splits: int = 400, seed: int = 0) -> AAResult:
    """Estimate the false-positive rate of ``rule`` on one benchmark's processes (>= 4)."""
    n = len(processes)
    m = group_size or n // 2
    if n < 4 or not 2 <= m <= n // 2:
        raise ValueError(f"need at least 4 processes and 2 <= group_size <= {n // 2}, got {n} and {m}")
    name, fn = (rule, RULES[rule]) if isinstance(rule, str) else (getattr(rule, "__name__", "custom"), rule)
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(splits):
        idx = rng.permutation(n)
        a = [processes[i] for i in idx[:m]]
        b = [processes[i] for i in idx[m:2 * m]]
        hits += bool(fn(a, b))
    low, high = binomtest(hits, splits).proportion_ci(confidence_level=0.95, method="wilson")
    return AAResult(name, splits, m, hits / splits, float(low), float(high))
