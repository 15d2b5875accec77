"""The one way measure prints a table and a number: aligned plain-text columns (the CLI, the gate's
log, the pytest summary, the calibration reports, the benchmarks), as pyperf and hyperfine do."""
from __future__ import annotations

import argparse
from typing import Collection, List, Optional, Sequence


def table(rows: Sequence[Sequence[str]], right: Collection[int] = (), sep: str = "  ") -> List[str]:
    """The lines of ``rows`` (the first usually the header) in aligned columns: the columns whose
    index is in ``right`` right-aligned (numbers), the others left-aligned; no trailing spaces.
    Rows may be shorter than the longest (missing cells are empty)."""
    if not rows:
        return []
    n = max(len(r) for r in rows)
    cells = [[str(c) for c in r] + [""] * (n - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(n)]
    return [sep.join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in cells]


def count(v: Optional[float]) -> str:
    """An instruction count (or any count) with thousands separators; "-" for None."""
    return "-" if v is None else f"{v:,.0f}"


def value(v: Optional[float], unit: str) -> str:
    """1,482,771 (unit "instr"), or a time in ns given with its unit (ns, us, ms, s) to 3
    significant digits; "-" for None."""
    if v is None:
        return "-"
    if unit == "instr":
        return f"{v:,.0f}"
    for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if v >= scale:
            return f"{v / scale:.3g} {name}"
    return f"{v:.3g} ns"


def percent(v: Optional[float], sign: bool = True, digits: int = 2) -> str:
    """A fraction as a percentage: +1.23 % (or 1.23 % without ``sign``); "-" for None."""
    if v is None:
        return "-"
    return f"{v * 100:+.{digits}f} %" if sign else f"{v * 100:.{digits}f} %"


def number(v: Optional[float], spec: str = ".4f") -> str:
    """``v`` in the format ``spec`` (a score, a ratio); "-" for None."""
    return "-" if v is None else format(v, spec)


def parse_fraction(text: str) -> float:
    """A tolerance as written on a command line (the gate's CLI and the pytest plugin): '1%' or
    '1 %' -> 0.01; '0.01' -> 0.01. A bare number >= 1 is refused (ambiguous)."""
    t = text.strip()
    try:
        if t.endswith("%"):
            v = float(t[:-1]) / 100
        else:
            v = float(t)
            if v >= 1:
                raise argparse.ArgumentTypeError(f"{text!r}: write a percentage with '%' (e.g. 2%) or a fraction "
                                                 "below 1 (e.g. 0.02)")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (2%) or a fraction (0.02)") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 % and 100 %")
    return v
