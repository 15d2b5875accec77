"""pass@k and eff@k (ENAMEL, Qiu et al. ICLR 2025)."""
from __future__ import annotations

from typing import Sequence

from ._check import check_k, finite_nonneg


def pass_at_k(n: int, c: int, k: int) -> float:
    """HumanEval's unbiased pass@k for n samples of which c are correct: 1 - C(n-c, k)/C(n, k),
    computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i)."""
    if not (isinstance(n, int) and isinstance(c, int) and 0 <= c <= n and n >= 1):
        raise ValueError(f"need integers 0 <= c <= n, n >= 1; got n={n!r}, c={c!r}")
    check_k(n, k)
    if n - c < k:
        return 1.0
    p = 1.0
    for i in range(n - c + 1, n + 1):
        p *= 1.0 - k / i
    return 1.0 - p


def eff_at_k(scores: Sequence[float], k: int) -> float:
    """Unbiased Rao-Blackwellised eff@k of one problem: the mean, over all size-k subsets of the
    n scores, of the subset maximum, as sum_{r=k}^{n} C(r-1,k-1)/C(n,k) * e_(r) with the weights
    built by the stable recursion w_n = k/n, w_r = w_{r+1} (1 - (k-1)/r). Equals pass@k on 0/1 scores.
    Scores are >= 0 and may exceed 1 (a sample faster than the reference)."""
    e = sorted(finite_nonneg(scores, "scores"))
    n = len(e)
    check_k(n, k)
    w = k / n
    total = w * e[n - 1]
    for r in range(n - 1, k - 1, -1):  # r is 1-based: weight of e_(r), e[r-1]
        w *= 1.0 - (k - 1) / r
        total += w * e[r - 1]
    return total
