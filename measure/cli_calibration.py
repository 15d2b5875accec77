"""``measure calibrate`` and ``measure normalize``.

Exit codes: 0 done (and, with --validate, the platform accepted); 1 validation rejected the
platform; 2 usage, input-file or infrastructure error (raised as MeasureError, printed by main()).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

from .errors import InputFileError
from .fmt import percent, table
from .model import BACKENDS


def _percent(x: Optional[float]) -> str:
    return percent(x, sign=False, digits=1)


def render_profile(p, elapsed: Optional[float] = None) -> str:
    """The short report of a profile's fit."""
    fit = p.fit
    ok = [n for n, c in p.programs.items() if c.status == "ok"]
    skipped = [f"{n} ({c.reason})" for n, c in p.programs.items() if c.status != "ok"]
    head = f"calibration  {p.platform.label()}  {p.metric}  {len(ok)} programs"
    if elapsed is not None:
        head += f"  {elapsed:.0f} s"
    lines = [head]
    if skipped:
        lines.append(f"skipped      {'; '.join(skipped)}")
    if p.is_reference:
        lines.append("reference    this profile is the reference platform (factor 1)")
        return "\n".join(lines)
    ref = p.reference["platform"]
    lines.append(f"reference    {ref['backend']}/{ref['isa']}/{ref['implementation']}-{ref['python_version']}"
                 f"@{ref['python_build'][:8]}  {p.reference['metric']}")
    alts = ", ".join(f"{k} {v:.4f}" for k, v in fit.alternatives.items())
    lines.append(f"factor       {fit.factor:.4f}  {100 * fit.confidence:.0f} % CI [{fit.ci[0]:.4f}, "
                 f"{fit.ci[1]:.4f}]  (OLS on {fit.n_programs} programs; {alts})")
    sd = fit.interaction_sd
    lines.append(f"interaction  SD {sd:.4f} (log) = ±{100 * sd:.1f} % per program: the floor on agreement")
    lo = fit.lopo
    if lo is not None:
        lines.append(f"LOPO         median {_percent(lo.median)}  p90 {_percent(lo.p90)}  worst {_percent(lo.worst)}"
                     "  (platform factor)")
    il = fit.ipb_lopo
    if il is not None and fit.ipb is not None:
        used = "used: beats the single factor" if fit.ipb_pays else "not used: no better than one factor"
        lines.append(f"IPB model    median {_percent(il.median)}  p90 {_percent(il.p90)}  worst {_percent(il.worst)}"
                     f"  slope {fit.ipb.beta:+.4f} per log(instr/bytecode)  ({used})")
    fl, fm = fit.functions_lopo, fit.functions
    if fl is not None and fm is not None:
        lines.append(f"functions    median {_percent(fl.median)}  p90 {_percent(fl.p90)}  worst {_percent(fl.worst)}"
                     f"  ({len(fm.coef)} C functions, ridge lambda {fm.lam:.3g}; nested LOPO)")
    names = {"factor": "platform factor", "ipb": "IPB model", "functions": "function model"}
    lines.append(f"model        {names[fit.model]} (the lowest cross-validated error)")
    if fit.kind_factors:
        lines.append("kinds        " + "  ".join(f"{k} {f:.3f}" for k, (f, _) in sorted(fit.kind_factors.items())))
    return "\n".join(lines)


def render_validation(v) -> str:
    from .calibration.validate import THRESHOLDS as T
    lines = [f"held-out     {v.n} programs  median {_percent(v.median_error)}  worst {_percent(v.worst_error)}  "
             f"Spearman {v.spearman:.3f}  Kendall {v.kendall:.3f}"]
    if v.lopo_median is not None:
        lines.append(f"suite LOPO   median {_percent(v.lopo_median)}  worst {_percent(v.lopo_worst)}")
    lines.append(f"verdict      {v.verdict}" + (f": {'; '.join(v.reasons)}" if v.reasons else "") +
                 f"  (thresholds: median <= {T['heldout_median']:.0%}, worst <= {T['heldout_worst']:.0%}, "
                 f"Spearman >= {T['spearman']}, Kendall >= {T['kendall']}, suite LOPO median <= {T['lopo_median']:.0%})")
    return "\n".join(lines)


def _default_out(p) -> str:
    k = p.platform
    return f"measure-profile-{k.backend}-{k.implementation}{k.python_version}-{k.python_build[:8]}.json"


def _progress_line(msg: str) -> None:
    """A phase of ``calibrate`` on stderr (above a progress bar, when one is drawn)."""
    from tqdm import tqdm
    tqdm.write(f"... {msg}", file=sys.stderr)
    sys.stderr.flush()


def _cmd_calibrate(args) -> int:
    from .calibration import profile as prof
    from .calibration.calibrate import calibrate, validate_profile
    t0 = time.time()
    progress = None if args.json else _progress_line
    bar = not args.json and sys.stderr.isatty()        # progress bars with ETA while measuring
    reference = prof.load(args.reference) if args.reference else None
    programs = [x.strip() for x in args.programs.split(",") if x.strip()] if args.programs else None
    p = calibrate(python=args.python, backend=args.backend, reference=reference, as_reference=args.as_reference,
                  programs=programs, repeat=args.repeat, processes=args.processes, timeout=args.timeout,
                  progress=progress, bar=bar)
    elapsed = time.time() - t0
    out = args.out or _default_out(p)
    v = None
    if args.as_reference and args.heldout:
        from dataclasses import replace
        from .calibration.calibrate import heldout_counts_section
        p = replace(p, validation={"heldout_counts": heldout_counts_section(args.heldout, args.python, args.timeout,
                                                                              progress, bar)})
    if args.validate:
        if p.is_reference:
            raise InputFileError("--validate compares a platform with the reference: drop --as-reference")
        from .calibration.programs import HELDOUT_DIR
        heldout = args.heldout or HELDOUT_DIR
        if not Path(heldout).is_dir():
            raise InputFileError(f"no held-out programs at {heldout!r}: pass --heldout DIR (a directory of calibration "
                                 f"programs; the shipped ones are in {HELDOUT_DIR})")
        v, norm, refc, c = validate_profile(p, heldout, reference_python=args.reference_python, python=args.python,
                                            timeout=args.timeout, progress=progress, bar=bar)
        from dataclasses import replace
        vd = v.to_dict()
        vd["heldout"] = {n: {"count": pc.count, "bytecodes": pc.bytecodes, "functions": pc.functions,
                             "normalized": norm.get(n), "reference": refc.get(n), "digest": pc.digest}
                         for n, pc in c.programs.items() if pc.status == "ok"}
        p = replace(p, validation=vd)
        if args.plot:
            from .calibration.plot import plot_normalized
            lopo = p.fit.used_lopo                           # out-of-sample: each suite program left out of its fit
            errors = {} if lopo is None else lopo.errors
            suite_norm = {n: c * (1 + errors[n]) for n, c in p.reference["counts"].items() if n in errors}
            plot_normalized(suite_norm, p.reference["counts"], args.plot, heldout=norm, heldout_reference=refc,
                            title=f"{p.platform.label()} normalised to the reference")
    prof.save(p, out)
    if args.json:
        print(json.dumps(p.to_dict(), indent=1))
    else:
        print(render_profile(p, elapsed))
        if v is not None:
            print(render_validation(v))
        if args.plot and v is not None:
            print(f"plot         {args.plot}")
        print(f"profile      {out}")
    return 1 if v is not None and v.verdict != "accepted" else 0


def _cmd_normalize(args) -> int:
    from .model import Measurement
    from .calibration import profile as prof
    from .calibration.normalize import normalize_all
    ms = [Measurement.load(r) for r in args.results]
    profiles = [prof.load(p) for p in args.profile or []]
    bytecodes = functions = None
    if args.source:
        if len(ms) != 1:
            raise InputFileError("--source counts the bytecodes of one program: give one RESULTS file with it")
        from .model import load_inputs
        from .model import Program
        from .calibration.bytecodes import count_program
        if not args.inputs:
            raise InputFileError("--source needs --inputs (the inputs the results were measured on)")
        program = Program.from_file(args.source, ms[0].entry)
        inputs = load_inputs(args.inputs, None)
        bytecodes = count_program(program, inputs, python=args.python)
        match = next((p for p in profiles if p.matches(ms[0].platform)), None)
        if match is not None and match.fit.model == "functions" and ms[0].platform.backend == "valgrind":
            from .calibration.collect import functions_of
            functions = functions_of(program, inputs, python=args.python)
    keys = {m.platform.label() for m in ms}
    if len(keys) > 1 and not profiles:
        from .errors import MissingProfile
        from .calibration.normalize import missing_profile_message
        raise MissingProfile(f"these results come from {len(keys)} platforms ({', '.join(sorted(keys))}) and no "
                             "profile was given. " + missing_profile_message(ms[0].platform))
    if bytecodes is not None:
        from .calibration.normalize import normalize
        match = next((p for p in profiles if p.matches(ms[0].platform)), None)
        if match is None:
            return _cmd_normalize_plain(args, ms, profiles)
        out = [normalize(ms[0], match, bytecodes=bytecodes, functions=functions, allow_rejected=args.allow_rejected)]
    else:
        out = normalize_all(ms, profiles, allow_rejected=args.allow_rejected)
    return _print_normalized(args, out)


def _cmd_normalize_plain(args, ms, profiles) -> int:
    from .calibration.normalize import normalize_all
    return _print_normalized(args, normalize_all(ms, profiles, allow_rejected=args.allow_rejected))


def _print_normalized(args, out) -> int:
    from .jsonfile import write_json_atomic
    from .calibration.profile import REFERENCE_DESCRIPTION
    doc = {"schema": "measure/normalized", "version": 1, "reference_platform": REFERENCE_DESCRIPTION,
           "results": [n.to_dict() for n in out]}
    if args.out:
        write_json_atomic(args.out, json.dumps(doc, indent=1))
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    for n in out:
        print(f"{n.program}.{n.entry}  {n.platform.label()}  factor {n.factor:.4f}  ({n.model})  "
              f"-> reference units ({REFERENCE_DESCRIPTION})")
        rows = [("input", "status", "count", "reference units", "95 % CI", "prediction", "suite coverage")]
        for i in n.inputs:
            if i.value is None:
                rows.append((i.name or str(i.index), i.status, "-", "-", "", "", ""))
            else:
                rows.append((i.name or str(i.index), i.status, f"{i.count:,.0f}", f"{i.value:,.0f}",
                             f"[{i.ci[0]:,.0f} – {i.ci[1]:,.0f}]", f"[{i.prediction[0]:,.0f} – {i.prediction[1]:,.0f}]",
                             "" if i.coverage is None else f"{100 * i.coverage:.1f} %"))
        k_cols = 7 if any(r[6] for r in rows[1:]) else 6
        print("\n".join(table([r[:k_cols] for r in rows], right={2, 3, 6})))
    return 0


def register(sub) -> None:
    """Add ``calibrate`` and ``normalize`` to the measure CLI's subparsers."""
    c = sub.add_parser("calibrate", help="measure the calibration suite and write this platform's profile")
    c.add_argument("--python", help="measured interpreter (default: the one running measure)")
    c.add_argument("--backend", default="valgrind", choices=BACKENDS,
                   help="counter to calibrate (default valgrind; time uses 5 processes x 5 calls)")
    c.add_argument("--out", metavar="FILE", help="profile file to write (default: measure-profile-<platform>.json)")
    c.add_argument("--reference", metavar="FILE", help="reference profile (default: the one shipped with measure)")
    c.add_argument("--as-reference", action="store_true", help="make a reference profile (factor 1) instead")
    c.add_argument("--programs", metavar="A,B", help="only these suite programs (default: the whole suite); the factor is then fitted on "
                   "these alone, which its CI and LOPO errors show")
    c.add_argument("--repeat", type=int, help="counted calls per program and process (default 1; time: 5)")
    c.add_argument("--processes", type=int, help="worker processes (default 1; time: 5)")
    c.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per call (default 600)")
    c.add_argument("--validate", action="store_true", help="also validate against the reference on held-out programs")
    c.add_argument("--heldout", metavar="DIR", help="held-out programs (default: the 16 shipped in measure/calibration/heldout); with "
                   "--as-reference: also measure them and store their counts in the reference profile")
    c.add_argument("--reference-python", metavar="PATH",
                   help="measure the held-out programs on this reference interpreter now (default: the counts "
                        "stored in the reference profile)")
    c.add_argument("--plot", metavar="FILE.png", help="with --validate: plot normalised vs reference counts")
    c.add_argument("--json", action="store_true", help="print the profile document")
    c.set_defaults(func=_cmd_calibrate)
    n = sub.add_parser("normalize", help="turn counts into reference-platform units through a profile")
    n.add_argument("results", nargs="+", metavar="RESULTS.json", help="Measurement documents (measure run --out)")
    n.add_argument("--profile", action="append", metavar="FILE",
                   help="profile of a results file's platform (repeat for several platforms)")
    n.add_argument("--allow-rejected", action="store_true", help="use a profile whose validation rejected it")
    n.add_argument("--source", metavar="FILE.py", help="the program's source: count its bytecodes for the IPB model "
                   "and, where the profile uses the function model, its instructions per C function (one valgrind run)")
    n.add_argument("--inputs", metavar="FILE", help="with --source: the inputs the results were measured on")
    n.add_argument("--python", help="with --source: the interpreter of the results (counts its bytecodes)")
    n.add_argument("--out", metavar="FILE", help="also write the normalised document to FILE")
    n.add_argument("--json", action="store_true", help="print the normalised document")
    n.set_defaults(func=_cmd_normalize)
