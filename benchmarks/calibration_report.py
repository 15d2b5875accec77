"""Cross-platform agreement of calibrated counts: the README's calibration tables.

Reads profiles written by ``measure calibrate --validate`` (each holds its suite counts and its
held-out counts), one per platform, and prints:

1. per platform against the reference: factor and CI, interaction SD, LOPO errors, held-out
   errors and rank agreement, for the platform factor and the IPB model;
2. every ordered platform pair A -> B: A's held-out counts normalised into B's units by a model
   fitted on the suite counts of A against B (the same code as ``measure calibrate --reference B``);
3. within-platform reference ratios (candidate / reference solution) of the held-out pairs on
   every platform, and their agreement across platforms;
4. reproducibility: whether two runs of a platform gave identical counts;
5. time-backend profiles, where present.

Usage (the five platforms, twice, then the report; about 30 minutes under valgrind on 2 cores):

    for py in ~/.pyenv/versions/{3.10.13,3.11.7,3.12.1,3.13.0}/bin/python /usr/bin/python3.11; do
        measure calibrate --python $py --validate --out /tmp/calib/profile-LABEL-run1.json ...
    done
    python benchmarks/calibration_report.py /tmp/calib
"""
from __future__ import annotations

import glob
import itertools
import math
import os
import re
import sys

import numpy as np

from measure.calibration import programs as P
from measure.calibration.model import fit_platform
from measure.calibration.profile import load, reference_profile
from measure.calibration.validate import rank_agreement

from measure.calibration.programs import HELDOUT_DIR as HELDOUT  # noqa: E402
ORDER = ["3.11.7", "deb3.11.2", "3.10.13", "3.12.1", "3.13.0"]


def heldout_of(p):
    return {n: h for n, h in (p.validation or {}).get("heldout", {}).items()}


def pair_figures(a, b, kinds):
    """Fit A against B on the suite; normalise A's held-out counts into B's units."""
    fit = fit_platform(a.per_process, b.per_process, kinds,
                       bytecodes={n: c.bytecodes for n, c in a.programs.items() if c.bytecodes},
                       functions={n: c.functions for n, c in a.programs.items() if c.functions})
    ha, hb = heldout_of(a), heldout_of(b)
    names = sorted(set(ha) & set(hb))
    out = {"fit": fit}
    for model in ("factor", "ipb", "functions"):
        pred = {}
        for n in names:
            y = ha[n]["count"]
            if model == "ipb" and fit.ipb is not None:
                f = math.exp(fit.ipb.log_factor(y, ha[n]["bytecodes"])[0])
            elif model == "functions" and fit.functions is not None and ha[n].get("functions"):
                f = math.exp(fit.functions.log_factor(ha[n]["functions"]))
            else:
                f = fit.factor.value
            pred[n] = y / f
        truth = {n: hb[n]["count"] for n in names}
        errs = np.array([pred[n] / truth[n] - 1 for n in names])
        rho, tau = rank_agreement([pred[n] for n in names], [truth[n] for n in names])
        worst = names[int(np.argmax(np.abs(errs)))]
        out[model] = {"median": float(np.median(np.abs(errs))), "worst": float(np.max(np.abs(errs))),
                      "worst_program": worst, "spearman": rho, "kendall": tau, "n": len(names)}
    return out


def main(directory: str) -> None:
    profiles = {}
    for path in sorted(glob.glob(os.path.join(directory, "profile-*-run1.json"))):
        label = re.match(r"profile-(.+)-run1\.json", os.path.basename(path)).group(1)
        profiles[label] = load(path)
    labels = [l for l in ORDER if l in profiles] + sorted(set(profiles) - set(ORDER))
    kinds = {p.name: p.kind for p in P.suite()}
    ref = reference_profile()
    print(f"reference platform: {ref.platform.label()} (CPython {ref.platform.python_version}, "
          f"{ref.platform.backend}); suite of {len(ref.programs)} programs, "
          f"{len(P.load_directory(HELDOUT))} held-out programs\n")

    print("## Each platform against the reference (the profile's own fit and validation)\n")
    print("| platform | factor [95 % CI] | interaction SD | LOPO median / worst: factor | IPB | functions "
          "| model used | held-out median / worst | Spearman / Kendall | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for l in labels:
        p = profiles[l]
        f, v = p.fit, p.validation or {}
        cvs = [f.lopo, f.ipb_lopo, f.functions_lopo]
        print(f"| {l} | {f.factor:.4f} [{f.ci[0]:.4f}, {f.ci[1]:.4f}] | {f.interaction_sd:.4f} | " +
              " | ".join(f"{100 * c.median if c else 0:.1f} % / {100 * c.worst if c else 0:.1f} %" for c in cvs) +
              f" | {f.model} | "
              f"{100 * v.get('median_error', 0):.1f} % / {100 * v.get('worst_error', 0):.1f} % | "
              f"{v.get('spearman', float('nan')):.3f} / {v.get('kendall', float('nan')):.3f} | {v.get('verdict', '-')} |")

    print("\n## Every platform pair: A's held-out counts normalised into B's units\n")
    print("Models fitted on the suite counts of A against B; the one with the lowest leave-one-program-out error "
          "is used (the rule `measure calibrate` applies).\n")
    print("| A -> B | factor | model used | held-out median / worst | worst program | Spearman / Kendall "
          "| factor alone: median / worst | IPB alone | function model alone |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a, b in itertools.permutations(labels, 2):
        r = pair_figures(profiles[a], profiles[b], kinds)
        used = r["fit"].model
        u = r[used]
        alone = " | ".join(f"{100 * r[m]['median']:.1f} % / {100 * r[m]['worst']:.1f} %" for m in ("factor", "ipb", "functions"))
        print(f"| {a} -> {b} | {r['fit'].factor.value:.4f} | {used} | {100 * u['median']:.1f} % / {100 * u['worst']:.1f} % | "
              f"{u['worst_program']} | {u['spearman']:.3f} / {u['kendall']:.3f} | {alone} |")

    print("\n## Within-platform reference ratios (candidate / reference solution, same platform)\n")
    held = P.load_directory(HELDOUT)
    pairs = [(p.name, p.reference) for p in held if p.reference]
    print("| pair | " + " | ".join(labels) + " | max deviation from the reference platform |")
    print("|---|" + "---|" * (len(labels) + 1))
    devs = []
    for cand, refsol in pairs:
        ratios = {}
        for l in labels:
            h = heldout_of(profiles[l])
            if cand in h and refsol in h:
                ratios[l] = h[cand]["count"] / h[refsol]["count"]
        base = ratios.get("3.11.7")
        dev = max(abs(r / base - 1) for r in ratios.values()) if base else float("nan")
        devs.append(dev)
        print(f"| {cand} / {refsol} | " + " | ".join(f"{ratios[l]:.3f}" if l in ratios else "-" for l in labels)
              + f" | {100 * dev:.1f} % |")
    same = [abs(heldout_of(profiles[l])[c]["count"] / heldout_of(profiles[l])[r]["count"] /
                (heldout_of(profiles["3.11.7"])[c]["count"] / heldout_of(profiles["3.11.7"])[r]["count"]) - 1)
            for c, r in pairs for l in labels if l == "deb3.11.2" and "3.11.7" in profiles]
    print(f"\nmedian max-deviation over pairs: {100 * float(np.median(devs)):.1f} %; "
          f"Debian 3.11.2 vs reference, median / worst: "
          f"{100 * float(np.median(same)) if same else float('nan'):.1f} % / {100 * max(same) if same else float('nan'):.1f} %")

    print("\n## Reproducibility (two `measure calibrate` runs per platform)\n")
    for l in labels:
        p2 = os.path.join(directory, f"profile-{l}-run2.json")
        if not os.path.exists(p2):
            print(f"{l}: no second run")
            continue
        a, b = profiles[l], load(p2)
        same_suite = {n: c.values for n, c in a.programs.items()} == {n: c.values for n, c in b.programs.items()}
        same_held = ({n: h["count"] for n, h in heldout_of(a).items()} ==
                     {n: h["count"] for n, h in heldout_of(b).items()})
        print(f"{l}: suite counts identical: {same_suite}; held-out counts identical: {same_held}; "
              f"factor {a.factor:.6f} / {b.factor:.6f}")

    times = sorted(glob.glob(os.path.join(directory, "profile-*-time.json")))
    if times:
        print("\n## Time backend (task-clock ns -> reference instructions; 5 processes x 5 calls)\n")
        print("| platform | factor (ns per reference instruction) [95 % CI] | interaction SD | LOPO median / worst |")
        print("|---|---|---|---|")
        for path in times:
            p = load(path)
            f = p.fit
            lo = f.lopo
            print(f"| {os.path.basename(path)[8:-10]} time | {f.factor:.4f} [{f.ci[0]:.4f}, {f.ci[1]:.4f}] | "
                  f"{f.interaction_sd:.4f} | {100 * lo.median if lo else 0:.1f} % / {100 * lo.worst if lo else 0:.1f} % |")
        tp = {os.path.basename(x)[8:-10]: load(x) for x in times}
        if len(tp) >= 2:
            for a, b in itertools.permutations(sorted(tp), 2):
                r = fit_platform(tp[a].per_process, tp[b].per_process, kinds)
                print(f"\ntime {a} -> time {b}: factor {r.factor.value:.4f} [{r.factor.low:.4f}, {r.factor.high:.4f}], "
                      f"interaction SD {r.interaction_sd:.4f}, LOPO median {100 * r.lopo.median:.1f} % "
                      f"worst {100 * r.lopo.worst:.1f} %")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/calib")
