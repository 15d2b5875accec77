"""EffiBench's ET / MU / TMU and their normalised forms (huangd1999/EffiBench
src/code_efficiency_calculator.py, src/report_overhead.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ._check import finite_nonneg


@dataclass(frozen=True)
class Usage:
    et: float   # execution time: last - first timestamp (s)
    mu: float   # max memory usage (MB)
    tmu: float  # trapezoidal integral of memory over time (MB s)


def usage(samples: Sequence[Tuple[float, float]]) -> Usage:
    """From (timestamp s, memory MB) samples in time order (mprof's .dat, '__main__.' lines removed)."""
    if len(samples) < 1:
        raise ValueError("usage: no memory samples")
    t = finite_nonneg([s[0] for s in samples], "timestamps")
    m = finite_nonneg([s[1] for s in samples], "memory")
    if any(b < a for a, b in zip(t, t[1:])):
        raise ValueError("usage: timestamps must not decrease")
    tmu = sum((m[i - 1] + m[i]) / 2 * (t[i] - t[i - 1]) for i in range(1, len(t)))
    return Usage(t[-1] - t[0], max(m), tmu)


def normalized(model: Sequence[Optional[float]], canonical: Sequence[Optional[float]],
               variant: str = "ratio_of_sums") -> float:
    """NET/NMU/NTMU over problems where both have a value (failures drop out, as upstream).
    ``ratio_of_sums`` (what the code prints) or ``mean_of_ratios`` (what the paper writes)."""
    if len(model) != len(canonical):
        raise ValueError(f"{len(model)} model values for {len(canonical)} canonical values")
    pairs = [(a, b) for a, b in zip(model, canonical) if a is not None and b is not None]
    finite_nonneg([x for p in pairs for x in p], "values")
    if not pairs:
        raise ValueError("normalized: no problem has both values")
    if variant == "ratio_of_sums":
        den = sum(b for _, b in pairs)
        if den == 0:
            raise ValueError("normalized: the canonical values sum to 0")
        return sum(a for a, _ in pairs) / den
    if variant == "mean_of_ratios":
        if any(b == 0 for _, b in pairs):
            raise ValueError("normalized: a canonical value is 0, its ratio is undefined")
        return sum(a / b for a, b in pairs) / len(pairs)
    raise ValueError(f"unknown variant {variant!r}: use 'ratio_of_sums' or 'mean_of_ratios'")
