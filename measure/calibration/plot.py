"""A PNG of normalised platform counts against reference counts, per program (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Union

from ..extras import require


def plot_normalized(normalized: Mapping[str, float], reference: Mapping[str, float], path: Union[str, Path], *,
                    title: str = "", heldout: Optional[Mapping[str, float]] = None,
                    heldout_reference: Optional[Mapping[str, float]] = None) -> Path:
    """Left: log-log scatter of normalised counts (y) against reference counts (x), identity line and
    ±5 % / ±15 % bands, suite programs as dots and held-out programs as crosses. Right: each
    program's relative error (normalised / reference - 1), sorted, with the same bands."""
    matplotlib = require("matplotlib", "measure calibrate --plot")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "measure calibrate --plot")
    import numpy as np

    sets = [(normalized, reference, "o", "suite (each left out of its fit)", "tab:blue"),
            (heldout or {}, heldout_reference or {}, "x", "held-out", "tab:orange")]
    rows = []
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 7), dpi=100, gridspec_kw={"width_ratios": [1, 1]})
    allx = []
    for pts, ref, marker, label, colour in sets:
        names = sorted(set(pts) & set(ref))
        if not names:
            continue
        x = np.array([ref[n] for n in names])
        y = np.array([pts[n] for n in names])
        allx.extend(x)
        ax.scatter(x, y, marker=marker, label=label, s=28, color=colour)
        rows += [(n, pts[n] / ref[n] - 1, colour) for n in names]
    if allx:
        lo, hi = min(allx) / 1.5, max(allx) * 1.5
        xs = np.array([lo, hi])
        ax.plot(xs, xs, "k-", lw=0.8, label="identity")
        for band, style in ((0.05, "--"), (0.15, ":")):
            ax.plot(xs, xs * (1 + band), color="grey", ls=style, lw=0.7, label=f"±{band:.0%}")
            ax.plot(xs, xs * (1 - band), color="grey", ls=style, lw=0.7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("count on the reference platform")
    ax.set_ylabel("normalised count (reference units)")
    ax.legend(fontsize=8)
    rows.sort(key=lambda r: r[1])
    pos = np.arange(len(rows))
    bx.barh(pos, [100 * r[1] for r in rows], color=[r[2] for r in rows])
    bx.set_yticks(pos)
    bx.set_yticklabels([r[0] for r in rows], fontsize=6)
    for band, style in ((5, "--"), (15, ":")):
        bx.axvline(band, color="grey", ls=style, lw=0.7)
        bx.axvline(-band, color="grey", ls=style, lw=0.7)
    bx.axvline(0, color="k", lw=0.8)
    bx.set_xlabel("relative error of the normalised count (%)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
