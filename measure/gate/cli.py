"""``measure gate`` and ``measure history``.

Exit codes of ``measure gate``: **0** every benchmark passed (or results were only saved or
recorded); **1** a regression (or a failed benchmark, an improvement under
``--fail-on-improvement``, a one-sided benchmark under ``--require-all``); **2** usage error, a
missing or malformed file, different platforms, or an infrastructure error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict

from ..errors import ConfigError
from ..fmt import parse_fraction, table
from ..model import BACKEND_CHOICES
from .vcs import current_branch, current_commit


def parse_named_fraction(text: str):
    name, sep, value = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=PERCENT, e.g. 'corpus.pct_1=2%'")
    return name, parse_fraction(value)


def _policy(args):
    from .compare import GatePolicy
    tolerances: Dict[str, float] = dict(args.tolerance_for or [])
    return GatePolicy(tolerance=args.tolerance, tolerances=tolerances, learn_factor=args.learn_factor,
                      alpha=args.alpha, min_effect=args.min_effect, fail_on_improvement=args.fail_on_improvement,
                      require_all=args.require_all)


def _candidate(args):
    from .bench import RunOptions, run_benchmarks
    from .resultset import load_results
    from .suite import load_suite
    if args.candidate and args.suite:
        raise ConfigError("give either --candidate FILE (results already measured) or --suite FILE (measure now), "
                          "not both")
    if args.candidate:
        return load_results(args.candidate, "candidate")
    if not args.suite:
        raise ConfigError("nothing to gate: give --candidate RUN.json (from pytest --measure-save, `measure run "
                          "--json` or `measure gate --save`) or --suite SUITE.toml to measure now")
    specs, opts, _ = load_suite(args.suite)
    opts = RunOptions(backend=args.backend or opts.backend, repeat=args.repeat or opts.repeat,
                      processes=args.processes or opts.processes, python=args.python or opts.python,
                      timeout=opts.timeout, jobs=args.jobs, meta={"suite": args.suite})
    print(f"measuring {len(specs)} benchmarks of {args.suite} ...", file=sys.stderr)
    return run_benchmarks(specs, opts, progress=lambda s: print(f"  measured {s}", file=sys.stderr))


def cmd_gate(args) -> int:
    from . import expectations as ex
    from .compare import check_platforms, compare_sets
    from .history import record
    from .report import render_junit, render_text, write_markdown, write_text
    from .resultset import load_results, save_results

    policy = _policy(args)
    if args.update and not args.expectations:
        raise ConfigError("--update rewrites an expectations file: give it with --expectations FILE")
    if not (args.baseline or args.expectations or args.save or args.history):
        raise ConfigError("nothing to compare against: give --baseline BASE.json or --expectations FILE "
                          "(or --save / --history to only record the run)")
    cand = _candidate(args)
    if args.save:
        save_results(cand, args.save)
        print(f"saved {len(cand.benchmarks)} benchmarks to {args.save}", file=sys.stderr)
    if args.history:
        commit = args.commit or current_commit()
        if not commit:
            raise ConfigError("--history needs --commit SHA (no $GITHUB_SHA and no git repository here)")
        run_id = record(args.history, cand, commit, args.branch or current_branch())
        print(f"recorded run {run_id} ({commit[:12]}) in {args.history}", file=sys.stderr)

    old_exp = None
    if args.expectations and os.path.exists(args.expectations):
        old_exp = ex.load_expectations(args.expectations)
    elif args.expectations and not args.update:
        raise ConfigError(f"the expectations file {args.expectations!r} does not exist: create it with --update")

    if args.update:
        new = ex.updated(cand, old_exp, policy)
        ex.save_expectations(new, args.expectations)
        print(f"wrote {len(new.rows)} expected values to {args.expectations}", file=sys.stderr)
        if not args.baseline:
            return 0

    if args.baseline:
        base = load_results(args.baseline, "baseline")
        expected = False
        if old_exp is not None:  # tolerances from the committed file
            tol = old_exp.tolerances()
            tol.update(policy.tolerances)
            from dataclasses import replace
            policy = replace(policy, tolerances=tol)
    elif old_exp is not None:
        base, expected = old_exp.as_resultset(), True
    else:
        return 0  # saved / recorded only

    notes = []
    if args.calibration and not base.platform.comparable_to(cand.platform):
        from .calibrated import calibrate
        base, cand, policy, notes = calibrate(base, cand, args.calibration, policy)
    check_platforms(base, cand)
    report = compare_sets(base, cand, policy, expected=expected)
    report.notes.extend(notes)
    text = render_text(report)
    print(text)
    where = write_markdown(report, args.markdown)
    if where:
        print(f"markdown summary appended to {where}", file=sys.stderr)
    if args.junit:
        write_text(args.junit, render_junit(report))
    if args.json:
        from dataclasses import asdict
        write_text(args.json, json.dumps({"exit_code": report.exit_code, "method": report.method,
                                          "comparisons": [asdict(c) for c in report.comparisons]}, indent=1))
    improved = [c for c in report.comparisons if c.verdict == "faster" and c.fails]
    if improved and args.expectations and not args.update:
        new = ex.updated(cand, old_exp, policy)
        print(f"\n{len(improved)} benchmark(s) got faster beyond their tolerance: commit these expectations "
              f"(or run with --update):\n--- {args.expectations} ---")
        print(ex.render(new), end="")
    return report.exit_code


def _history_db(args) -> str:
    from .history import default_path
    return args.db or default_path()


def cmd_history_add(args) -> int:
    from .history import record
    from .resultset import load_results
    rs = load_results(args.results, "results")
    commit = args.commit or current_commit()
    if not commit:
        raise ConfigError("give --commit SHA (no $GITHUB_SHA and no git repository here)")
    run_id = record(_history_db(args), rs, commit, args.branch if args.branch is not None else current_branch(),
                    args.time)
    print(f"recorded run {run_id}: {len(rs.benchmarks)} benchmarks at {commit[:12]} in {_history_db(args)}")
    return 0


def cmd_history_list(args) -> int:
    from .history import History
    with History(_history_db(args)) as h:
        rows = h.benchmarks()
    if not rows:
        print(f"no runs recorded in {_history_db(args)}")
        return 0
    print("\n".join(table([("benchmark", "runs", "last run")] + [(r["benchmark"], str(r["runs"]), r["last"])
                                                                   for r in rows], right={1})))
    return 0


def cmd_history_show(args) -> int:
    from .changepoint import change_points
    from .history import History
    from ..fmt import value as fmt_value
    from .resultset import unit_of
    with History(_history_db(args)) as h:
        plats = h.platforms(args.benchmark, args.branch)
        pts = h.series(args.benchmark, args.branch, args.platform)
    if not pts:
        raise ConfigError(f"no runs of {args.benchmark!r} in {_history_db(args)}"
                          + (f" on branch {args.branch!r}" if args.branch else "")
                          + ": `measure history list` shows the recorded benchmarks")
    ok = [p for p in pts if p.value is not None]
    cps = change_points([p.value for p in ok], min_change=args.min_change) if ok else []
    starts = {ok[c.index].run_id: c for c in cps}
    if args.json:
        print(json.dumps({"benchmark": args.benchmark, "platform": pts[0].platform,
                          "series": [p.__dict__ for p in pts],
                          "change_points": [{"commit": ok[c.index].commit, "time": ok[c.index].time,
                                             "index": c.index, "before": c.before, "after": c.after,
                                             "change": c.change} for c in cps]}, indent=1))
        return 0
    unit = unit_of(pts[0].metric)
    print(f"{args.benchmark}  platform {pts[0].platform}  {len(pts)} runs"
          + (f"  (other platforms: {', '.join(p for p in plats if p != pts[0].platform)})" if len(plats) > 1 else ""))
    rows = [("time", "commit", "branch", f"value ({unit})", "change point")]
    for p in pts:
        c = starts.get(p.run_id)
        mark = f"<- {c.change * 100:+.2f} % starts here" if c else ""
        rows.append((p.time, p.commit[:12], p.branch, fmt_value(p.value, unit) if p.value is not None else p.status,
                     mark))
    print("\n".join(table(rows, right={3})))
    if cps:
        print(f"\n{len(cps)} change point(s) (PELT, steps >= {args.min_change * 100:g} %):")
        for c in cps:
            p = ok[c.index]
            print(f"  {p.commit}  {p.time}  {fmt_value(c.before, unit)} -> {fmt_value(c.after, unit)}  "
                  f"({c.change * 100:+.2f} %)")
    else:
        print(f"\nno change point (PELT, steps >= {args.min_change * 100:g} %)")
    return 0


def register(sub) -> None:
    """Add ``gate`` and ``history`` to the measure CLI's subparsers."""
    g = sub.add_parser("gate", help="compare benchmark results and fail on a regression (exit 1)",
                       description="Compare a candidate run with a baseline run or committed expected values. "
                                   "Exit codes: 0 pass, 1 regression, 2 usage, file or infrastructure error.")
    src = g.add_argument_group("what to compare")
    src.add_argument("--baseline", nargs="+", metavar="FILE", help="baseline results (several files: processes merged)")
    src.add_argument("--candidate", nargs="+", metavar="FILE", help="candidate results")
    src.add_argument("--suite", metavar="FILE", help="measure this suite file (TOML/JSON) as the candidate")
    src.add_argument("--expectations", metavar="FILE", help="committed expected values (CSV); the baseline when "
                                                            "--baseline is not given, else the tolerances")
    src.add_argument("--update", action="store_true", help="rewrite --expectations from the candidate")
    src.add_argument("--save", metavar="FILE", help="save the candidate's results (JSON)")
    src.add_argument("--calibration", nargs="+", metavar="PROFILE",
                     help="calibration profiles (measure calibrate) of the two platforms: compare across platforms "
                          "in reference units, with the tolerance widened by the transfer error")
    rule = g.add_argument_group("the rule")
    rule.add_argument("--tolerance", type=parse_fraction, default=0.01, metavar="PCT",
                      help="deterministic backends: default tolerance (default 1%%)")
    rule.add_argument("--tolerance-for", type=parse_named_fraction, action="append", metavar="NAME=PCT",
                      help="one benchmark's tolerance (time: its minimum effect); repeatable")
    rule.add_argument("--learn-factor", type=float, default=3.0, metavar="X",
                      help="tolerance >= X times the observed relative spread (default 3; 0: off)")
    rule.add_argument("--alpha", type=float, default=0.01, help="time backend: level of the two-sided Welch "
                                                                "test on per-process medians (default 0.01)")
    rule.add_argument("--min-effect", type=parse_fraction, default=0.05, metavar="PCT",
                      help="time backend: smallest slowdown that fails (default 5%%)")
    rule.add_argument("--fail-on-improvement", action="store_true",
                      help="an improvement beyond the tolerance fails too, and the updated expectations are printed")
    rule.add_argument("--require-all", action="store_true", help="a benchmark on one side only fails the gate")
    out = g.add_argument_group("output")
    out.add_argument("--markdown", metavar="FILE", help="append a Markdown summary (default: $GITHUB_STEP_SUMMARY)")
    out.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    out.add_argument("--json", metavar="FILE", help="write the comparisons as JSON")
    out.add_argument("--history", metavar="DB", help="record the candidate in this history database")
    out.add_argument("--commit", help="commit of the candidate (default: $GITHUB_SHA or git HEAD)")
    out.add_argument("--branch", help="branch of the candidate (default: from $GITHUB_* or git)")
    run = g.add_argument_group("measuring a --suite")
    run.add_argument("--backend", choices=BACKEND_CHOICES)
    run.add_argument("--repeat", type=int, metavar="K", help="calls per process")
    run.add_argument("--processes", type=int, metavar="P", help="worker processes per benchmark (time: >= 2)")
    run.add_argument("--python", help="measured interpreter")
    run.add_argument("--jobs", type=int, default=1, help="programs measured at once (deterministic backends)")
    g.set_defaults(func=cmd_gate)

    h = sub.add_parser("history", help="the history of runs, and where a benchmark changed",
                       description="Runs are kept in one SQLite file (--db, $MEASURE_HISTORY, or "
                                   ".measure-history.sqlite).")
    h.add_argument("--db", help="history database (default: $MEASURE_HISTORY or .measure-history.sqlite)")
    hs = h.add_subparsers(dest="history_command", required=True)
    a = hs.add_parser("add", help="record a results file as one run")
    a.add_argument("results", nargs="+", help="results files of one run (merged)")
    a.add_argument("--commit", help="commit id (default: $GITHUB_SHA or git HEAD)")
    a.add_argument("--branch", help="branch (default: from $GITHUB_* or git)")
    a.add_argument("--time", help="ISO time of the run (default: the file's, else now)")
    a.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    a.set_defaults(func=cmd_history_add)
    ls = hs.add_parser("list", help="benchmarks and their number of runs")
    ls.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ls.set_defaults(func=cmd_history_list)
    s = hs.add_parser("show", help="a benchmark's series and its change points")
    s.add_argument("benchmark")
    s.add_argument("--branch", help="only runs of this branch")
    s.add_argument("--platform", help="platform label (default: the platform of the latest run)")
    s.add_argument("--min-change", type=parse_fraction, default=0.01, metavar="PCT",
                   help="smallest step reported (default 1%%)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_history_show)
