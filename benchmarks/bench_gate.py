"""The gate's acceptance figures: the planted-regression corpus under valgrind, rerun; the time
backend's A/A false-positive rate and its power on a 20 % slowdown.

    python benchmarks/bench_gate.py corpus [--reruns 10]      # about 15 s per rerun (2 cores)
    python benchmarks/bench_gate.py time [--reps 20]          # about 15 s per repetition here

corpus: measures tests/gate_corpus/{base,head}.toml ``reruns`` times each and gates every pair at
the default 1 % tolerance; prints each benchmark's change and how many reruns gave each verdict.

time: each repetition measures three benchmarks with the time backend, interleaved process by
process (20 processes x 5 calls each, the defaults): A = the corpus's ``pct_20`` workload at
n = 100000 (about 10 ms a call), A' = the same code
from a copy of the file, B = the candidate's ``pct_20`` (20 % more work). The gate (Welch on
per-process medians, alpha 0.01, minimum effect 5 %) is applied to A' vs A (an A/A comparison: any
failure is a false positive) and to B vs A (a 20 % slowdown: it should fail).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
N_TIME = 100_000  # about 10 ms per call here: long enough that a fork's fixed costs do not dilute the slowdown
CORPUS = os.path.join(HERE, "..", "tests", "gate_corpus")
sys.path.insert(0, os.path.join(HERE, ".."))

from measure.gate.bench import BenchSpec, RunOptions, run_benchmarks  # noqa: E402
from measure.gate.compare import GatePolicy, compare_sets  # noqa: E402
from measure.gate.resultset import ResultSet  # noqa: E402
from measure.gate.suite import load_suite  # noqa: E402
from measure.model import Program  # noqa: E402


def corpus(reruns: int) -> None:
    verdicts = {}
    changes = {}
    t0 = time.monotonic()
    for k in range(reruns):
        sides = []
        for side in ("base", "head"):
            specs, opts, _ = load_suite(os.path.join(CORPUS, f"{side}.toml"))
            sides.append(run_benchmarks(specs, opts))
        report = compare_sets(sides[0], sides[1], GatePolicy())
        for c in report.comparisons:
            verdicts.setdefault(c.name, Counter())[c.verdict] += 1
            changes.setdefault(c.name, set()).add(round(c.change * 100, 6))
        print(f"rerun {k + 1}/{reruns}: exit code {report.exit_code}", file=sys.stderr)
    print(f"valgrind, planted-regression corpus, {reruns} reruns of both sides, tolerance 1 %, "
          f"{time.monotonic() - t0:.0f} s")
    print(f"{'benchmark':16}  {'change (every rerun)':>22}  verdicts")
    for name in sorted(verdicts):
        ch = ", ".join(f"{c:+.4f} %" for c in sorted(changes[name]))
        print(f"{name:16}  {ch:>22}  {dict(verdicts[name])}")


def time_backend(reps: int, processes: int, repeat: int) -> None:
    tmp = tempfile.mkdtemp(prefix="bench-gate-")
    try:
        copy = os.path.join(tmp, "base_copy.py")
        shutil.copy(os.path.join(CORPUS, "base.py"), copy)

        def prog(path: str, name: str) -> Program:
            with open(path, encoding="utf-8") as f:
                return Program(f.read(), "run", name)
        a = BenchSpec("w", prog(os.path.join(CORPUS, "base.py"), "base"), ("pct_20", N_TIME))
        a2 = BenchSpec("w", prog(copy, "base_copy"), ("pct_20", N_TIME))
        b = BenchSpec("w", prog(os.path.join(CORPUS, "head.py"), "head"), ("pct_20", N_TIME))
        policy = GatePolicy()
        aa, ab, t0 = Counter(), Counter(), time.monotonic()
        pa, pb, effects = [], [], []
        for k in range(reps):
            specs = [BenchSpec("A", a.program, a.args), BenchSpec("A2", a2.program, a2.args),
                     BenchSpec("B", b.program, b.args)]
            rs = run_benchmarks(specs, RunOptions(backend="time", processes=processes, repeat=repeat))

            def side(name: str) -> ResultSet:
                return ResultSet(rs.platform, {"w": rs.benchmarks[name]}, rs.meta)
            r_aa = compare_sets(side("A"), side("A2"), policy).comparisons[0]
            r_ab = compare_sets(side("A"), side("B"), policy).comparisons[0]
            aa[r_aa.verdict] += 1
            ab[r_ab.verdict] += 1
            pa.append(r_aa.pvalue)
            pb.append(r_ab.pvalue)
            effects.append((r_aa.change, r_ab.change))
            print(f"rep {k + 1}/{reps}: A/A {r_aa.change * 100:+.2f} % p={r_aa.pvalue:.3f} {r_aa.verdict}; "
                  f"20 % slowdown {r_ab.change * 100:+.2f} % p={r_ab.pvalue:.2g} {r_ab.verdict}", file=sys.stderr)
        from statsmodels.stats.proportion import proportion_confint
        fails_aa = aa.get("slower", 0)  # the gate fails on slowdowns only (no --fail-on-improvement)
        lo, hi = proportion_confint(fails_aa, reps, alpha=0.05, method="wilson")
        caught = ab.get("slower", 0)
        print(f"time backend, {processes} processes x {repeat} calls per benchmark, interleaved; "
              f"{reps} repetitions, {time.monotonic() - t0:.0f} s")
        print(f"rule: {policy.alpha:g} two-sided Welch on per-process medians, minimum effect "
              f"{policy.min_effect * 100:g} %: stated false-positive rate <= {policy.alpha / 2 * 100:g} %")
        print(f"A/A (same code twice):  gate failed {fails_aa}/{reps} = {fails_aa / reps * 100:.1f} % "
              f"[95 % CI {lo * 100:.1f} %, {hi * 100:.1f} %]; p < alpha in {sum(p < policy.alpha for p in pa)}/{reps}; "
              f"changes {min(e[0] for e in effects) * 100:+.2f} % .. {max(e[0] for e in effects) * 100:+.2f} %")
        print(f"20 % slowdown:          caught {caught}/{reps}; measured changes "
              f"{min(e[1] for e in effects) * 100:+.2f} % .. {max(e[1] for e in effects) * 100:+.2f} %")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--reruns", type=int, default=10)
    t = sub.add_parser("time")
    t.add_argument("--reps", type=int, default=20)
    t.add_argument("--processes", type=int, default=20)
    t.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.what == "corpus":
        corpus(args.reruns)
    else:
        time_backend(args.reps, args.processes, args.repeat)


if __name__ == "__main__":
    main()
