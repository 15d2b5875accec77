"""The ``measure`` command line.

Exit codes: 0 measured and every input ok; 1 measured, but the setup or some input is not ok
(its status says why); 2 usage, input-file or infrastructure error (the message says the remedy).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from ._version import __version__
from .errors import MeasureError
from .extras import require
from .fmt import count as _fmt_count, table
from .model import BACKEND_CHOICES, Config, Measurement, Program, Status, load_inputs, metric_of

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*$")


def parse_size(text: str) -> int:
    """'512M', '2G', '1.5GiB', '1048576' -> bytes (powers of 1024)."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: write e.g. 512M, 2G or a number of bytes")
    mult = 1024 ** " KMGT".index((m.group(2) or " ").upper())
    return int(float(m.group(1)) * mult)


def render(m: Measurement) -> str:
    """The short aligned table: input, status, instructions (median), spread, backend."""
    p = m.platform
    metric = metric_of(p.backend)
    unit = "instructions" if metric == "instructions" else "ns task-clock"
    head = (f"{m.program}.{m.entry}  backend {p.backend}  CPython {p.python_version} ({p.isa})  "
            f"k={m.config.get('repeat')}  {m.elapsed_s:.1f} s")
    rows = [("input", "status", f"median ({unit})", "spread", "k")]
    s = m.setup
    rows.append(("setup", s.status.value, _fmt_count(getattr(s, metric)), "", "1"))
    for r in m.inputs:
        summ = r.summary(metric)
        spread = "" if summ is None else (f"±{summ.relative_spread / 2 * 100:.2f} %  [{summ.min:,} – {summ.max:,}]")
        rows.append((r.name or str(r.index), r.status.value, _fmt_count(summ.median if summ else None), spread,
                     str(len(summ.values) if summ else 0)))
    lines = [head, ""] + table(rows, right={2, 4})
    for r in m.inputs:
        if r.status is not Status.OK and r.message:
            lines.append(f"\ninput {r.name or r.index}: {r.status.value}: {r.message.strip().splitlines()[-1][:300]}")
    if s.status is not Status.OK:
        lines.append(f"\nsetup: {s.status.value}: {s.message.strip()[-600:]}")
    lines += [f"warning: {w}" for w in m.warnings]
    return "\n".join(lines)


def _cmd_run(args) -> int:
    from .results import export_pyperf
    from .run import measure
    program = Program.from_file(args.source, args.entry)
    inputs = load_inputs(args.inputs, args.expected)
    config = Config(backend=args.backend, python=args.python, repeat=args.repeat, warmup=args.warmup,
                    timeout=args.timeout, memory=args.memory, isolation=args.isolation, functions=args.functions,
                    budget=args.budget)
    if args.pyperf:  # before measuring: a missing extra must not cost the measurement
        require("pyperf", "the pyperf export (--pyperf)")
    m = measure(program, inputs, config)
    if args.out:
        m.save(args.out)
    if args.pyperf:
        export_pyperf(m, args.pyperf)
    print(m.to_json() if args.json else render(m))
    return 0 if m.ok else 1


def _cmd_doctor(args) -> int:
    from .doctor import diagnose, render as render_doctor
    report = diagnose(args.python)
    print(json.dumps(report, indent=2) if args.json else render_doctor(report))
    return 0


def _report_footer(report, results: str) -> List[str]:
    lines = [f"jobs: {report['jobs']['measured']} measured, {report['jobs']['from_cache']} from the cache;  "
             f"results: {results}"]
    if report.get("excluded"):
        lines.append(f"excluded: {len(report['excluded'])} problem(s) (see the warning)")
    return lines + [f"warning: {w}" for w in report["warnings"]]


def _cmd_score(args) -> int:
    """``measure score NAME``: any registered adapter, one loop (measure.harness.adapter.evaluate)."""
    from .harness.adapter import evaluate
    from .harness.registry import adapter_class
    from .platform import default_cache_dir
    cls = adapter_class(args.adapter)
    adapter = cls.from_args(args)
    results = args.results or (Path(args.samples).stem + f".{args.adapter}.measure.jsonl")
    report = evaluate(adapter, args.dataset, args.samples, results, args.problems, backend=args.backend,
                      python=args.python, jobs=args.jobs, cache_dir=args.cache or default_cache_dir(),
                      progress=not args.json, ray=args.ray, strict=args.strict)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    head, rows = adapter.columns(report)
    print(f"{adapter.heading(report)}  backend {report['backend']}  {report['platform']}")
    print("\n".join(table([head] + rows, right=range(len(head))) + _report_footer(report, results)))
    return 0


def _ids(parse):
    def parse_ids(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse_ids


def _add_score_parsers(sub) -> None:
    from .harness.registry import adapter_class, names
    score = sub.add_parser("score", help="score samples of a benchmark with its own files")
    ssub = score.add_subparsers(dest="adapter", required=True)
    for name in names():
        cls = adapter_class(name)
        sp = ssub.add_parser(name, help=cls.help)
        sp.add_argument("--dataset", required=True, help=cls.dataset_help)
        sp.add_argument("--samples", required=True, help=cls.samples_help)
        sp.add_argument("--problems", type=_ids(cls.parse_ids), help="comma-separated problem ids (default: all)")
        sp.add_argument("--results",
                        help=f"JSONL file of results, resumed when it exists (default: SAMPLES.{name}.measure.jsonl)")
        sp.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
        sp.add_argument("--python", help="measured interpreter")
        sp.add_argument("--jobs", type=int, help="parallel measurements (default: the core count)")
        sp.add_argument("--cache", help="cache directory of measurements (default: ~/.cache/measure)")
        sp.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                        help="score the problems as tasks on a Ray cluster (default address: auto, the cluster this "
                             "machine belongs to; the ray extra)")
        sp.add_argument("--strict", action="store_true",
                        help="a failing reference is an error (default: its problem is left out of the scores, "
                             "with a note and a count)")
        sp.add_argument("--json", action="store_true", help="print the versioned score document")
        cls.add_arguments(sp)
        sp.set_defaults(func=_cmd_score)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="measure", description="Deterministic instruction counts of Python code.")
    ap.add_argument("--version", action="version", version=f"measure {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="count a function on a list of inputs")
    run.add_argument("source", help="Python source file defining the function")
    run.add_argument("--entry", required=True, help="name of the function to measure")
    run.add_argument("--inputs", required=True, help="JSON list of argument lists, one per call")
    run.add_argument("--expected", help="JSON list of expected outputs, one per input (default: not checked)")
    d = Config()  # the API's defaults are the command's
    run.add_argument("--backend", default=d.backend, choices=BACKEND_CHOICES)
    run.add_argument("--python", help="measured interpreter (default: the one running measure)")
    run.add_argument("--repeat", type=int, default=d.repeat, metavar="K", help=f"counted calls per input (default {d.repeat})")
    run.add_argument("--warmup", type=int, default=d.warmup, metavar="W",
                     help=f"uncounted calls before each counted call (default {d.warmup}: first-call costs count)")
    run.add_argument("--timeout", type=float, default=d.timeout, metavar="SECONDS",
                     help=f"wall-clock limit per call under the backend (default {d.timeout:g}; qemu runs code 8-14x "
                          "slower than native, valgrind 40-105x)")
    run.add_argument("--memory", type=parse_size, default=d.memory, metavar="SIZE",
                     help=f"memory limit of the worker, e.g. 512M, 2G (default {d.memory // 2**30}G)")
    run.add_argument("--isolation", default=d.isolation, choices=["best-effort", "strict"])
    run.add_argument("--functions", action="store_true",
                     help="valgrind: also record each call's instructions per C function (for `measure normalize`'s "
                          "function model)")
    run.add_argument("--json", action="store_true", help="print the versioned Measurement document")
    run.add_argument("--out", metavar="FILE", help="also save the Measurement document to FILE")
    run.add_argument("--pyperf", metavar="FILE", help="also export the counts in pyperf's JSON format")
    run.add_argument("--budget", type=int, metavar="INSTRUCTIONS",
                     help="instructions a counted call may execute: a call that counts more is a timeout, "
                          "whatever the wall clock says (perf, qemu, valgrind)")
    run.set_defaults(func=_cmd_run)
    _add_score_parsers(sub)
    doc = sub.add_parser("doctor", help="which backends work here, and how to fix those that do not")
    doc.add_argument("--python", help="interpreter to check (default: the one running measure)")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=_cmd_doctor)
    from .cli_calibration import register as register_calibration
    from .gate.cli import register as register_gate
    register_calibration(sub)
    register_gate(sub)
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MeasureError as exc:
        print(f"measure: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("measure: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
