"""EffiBench's ET / MU / TMU from measure's per-call counts instead of a memory time series
(huangd1999/EffiBench src/report_overhead.py).

EffiBench samples the memory of the whole script every millisecond (memory_profiler, in MiB, which
it calls MB) and takes ET = last - first timestamp (s), MU = the largest sample, TMU = the
trapezoidal integral of memory over time (MB s). measure reports, per counted call, its
instructions (deterministic) and the peak resident set of the process that ran it; it has no
memory time series. So, over a program's counted calls:

- ``et``: the sum of the calls' costs (instructions on a counting backend: instructions stand in
  for seconds);
- ``mu``: the largest peak resident set, in MiB (2**20 bytes, memory_profiler's unit);
- ``tmu_bound``: the sum over calls of peak MiB x cost (MiB x instructions). The memory at any
  point of a call is at most the call's peak, so this is an **upper bound** on EffiBench's
  integral (with instructions in place of time), reached only when a call holds its peak from its
  first instruction to its last. It is not the integral: a call that peaks briefly is charged its
  peak throughout, and NTMU computed from it is a ratio of bounds, not a bound on NTMU.

Normalise with :func:`measure.scores.effibench.normalized` (NET, NMU, NTMU(bound); both averaging
variants).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ._check import finite_nonneg

MIB = 2 ** 20  # bytes in memory_profiler's "MiB" (EffiBench's "MB")


@dataclass(frozen=True)
class CountUsage:
    """One program's usage over its counted calls."""

    et: float                   # sum of the calls' costs (instructions, or ns on the time backend)
    mu: Optional[float]         # largest peak resident set (MiB); None when a call has no peak
    tmu_bound: Optional[float]  # sum of peak MiB x cost: an upper bound on the memory-time integral


def usage_from_calls(calls: Sequence[Tuple[float, Optional[int]]]) -> CountUsage:
    """From ``(cost, peak_rss_bytes)`` per counted call. A call whose peak is unknown (None: the
    backend reported none) leaves ``mu`` and ``tmu_bound`` None, never a guess; ``et`` stays.
    Raises ValueError on no calls or a negative or non-finite value."""
    if not calls:
        raise ValueError("usage_from_calls: no counted calls: a program's usage needs at least one")
    costs = finite_nonneg([c for c, _ in calls], "costs")
    et = sum(costs)
    peaks = [p for _, p in calls]
    if any(p is None for p in peaks):
        return CountUsage(et, None, None)
    mib = [b / MIB for b in finite_nonneg(peaks, "peak_rss_bytes")]
    return CountUsage(et, max(mib), sum(m * c for m, c in zip(mib, costs)))
