"""Change points of a benchmark's history: where its level moved, and the commit where it began.

Method: PELT (Killick, Fearnhead & Eckley, "Optimal detection of changepoints with a linear
computational cost", JASA 2012), the exact minimiser of a penalised least-squares segmentation,
through the ``ruptures`` library (Truong, Oudre & Vayatis, Signal Processing 2020). The series
is first divided by its median (changes are relative); the penalty is the BIC-style
``2 sigma^2 ln n`` with sigma estimated robustly from the first differences (1.4826 x MAD / sqrt 2),
and, as in Hunter/Otava's E-divisive pipeline, each candidate boundary is then re-tested between
its adjacent segments (Welch's t, p < 0.001) and must move the level by at least ``min_change``
(relative, default 1 %): noise-free instruction counts report only steps that matter, and timings
only steps that stand out of their noise.

Why ruptures and not E-divisive (checked 2026-11 on this project's Python 3.9-3.13 and numpy 2.4):
MongoDB's ``signal-processing-algorithms`` 2.1.6 declares ``python ~3.11`` and ``numpy ^1.24`` (it
cannot be installed beside numpy 2) and pulls in gevent; Apache Otava 0.8.0 pins
``numpy==2.2.0`` and ``scipy<1.17`` on Python < 3.14 (it would downgrade this project's numpy and
scipy) and brings BigQuery, Postgres and Slack clients. ``ruptures`` 1.1.10 (maintained, 2025)
depends on numpy and scipy only and ships wheels for CPython 3.9-3.13; PELT is a published,
exact method whose only knob, the penalty, is stated above. On Python >= 3.14, where ruptures has
no release yet, :func:`change_points` raises a clear error and the rest of the gate works.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from ..extras import require


@dataclass(frozen=True)
class ChangePoint:
    """A level shift starting at ``index`` (the first point of the new level).

    before, after: mean of the segment before and after (in the series' unit); change: after /
    before - 1.
    """

    index: int
    before: float
    after: float
    change: float


def noise_sigma(x: np.ndarray) -> float:
    """Robust noise level of a piecewise-constant series: MAD of first differences, scaled."""
    if x.size < 3:
        return 0.0
    d = np.diff(x)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))


def change_points(values: Sequence[float], min_change: float = 0.01, min_size: int = 2,
                  max_pvalue: float = 0.001) -> List[ChangePoint]:
    """Level shifts of ``values`` (in order) of at least ``min_change`` (relative), each significant
    between its adjacent segments at ``max_pvalue`` (Welch; Otava's default level).

    ``min_size``: fewest points in a segment (2: a single outlying run is not a change).
    Fewer than ``2 * min_size`` values: no change point can be found, returns [].
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("change_points: need a 1-D series of finite numbers")
    if x.size < 2 * min_size:
        return []
    med = float(np.median(x))
    if med <= 0:
        raise ValueError("change_points: the series must be positive (counts or times)")
    ruptures = require("ruptures", "change-point detection (measure history show)")
    rel = x / med
    sigma = noise_sigma(rel)
    floor = min_change / 4  # a noise-free series still needs a positive penalty
    pen = 2 * max(sigma, floor) ** 2 * np.log(x.size)
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(rel.reshape(-1, 1)).predict(pen=pen)
    kept = [int(e) for e in ends[:-1]]  # ruptures returns segment ends; the last one is len(x)
    out: List[ChangePoint] = []
    # Hunter's second step (Fleming et al. 2023, arXiv 2301.03034): each boundary must separate two
    # adjacent segments significantly (Welch's t, p < max_pvalue) and by at least min_change; the
    # weakest failing boundary is dropped and its neighbours re-tested, until all pass.
    while kept:
        edges = [0] + kept + [x.size]
        worst, worst_score = None, None
        for j in range(1, len(edges) - 1):
            a, b = x[edges[j - 1]:edges[j]], x[edges[j]:edges[j + 1]]
            p = _pvalue(a, b)
            big = abs(b.mean() / a.mean() - 1) >= min_change
            if p >= max_pvalue or not big:
                score = (big, -p)
                if worst_score is None or score < worst_score:
                    worst, worst_score = j - 1, score
        if worst is None:
            break
        kept.pop(worst)
    edges = [0] + kept + [x.size]
    for j in range(1, len(edges) - 1):
        before = float(x[edges[j - 1]:edges[j]].mean())
        after = float(x[edges[j]:edges[j + 1]].mean())
        out.append(ChangePoint(edges[j], before, after, after / before - 1))
    return out


def _pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's two-sided p-value; 0 when both segments are constant and differ (exact counts), 1 when equal."""
    if a.std() == 0 and b.std() == 0:
        return 0.0 if a.mean() != b.mean() else 1.0
    from scipy import stats
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    return float(p) if np.isfinite(p) else 1.0
