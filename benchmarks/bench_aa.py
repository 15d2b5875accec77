"""A/A test on a time-backend benchmark: how often does each decision rule call two halves of the
same measurements different? (reference/measurement.md 5.2)

    python benchmarks/bench_aa.py [--processes 40] [--iterations 10]

A "process" is one worker session (its own interpreter start-up); its iterations are the counted
calls inside it. Per-process tests should stay at about their nominal 5 %; tests on pooled
iterations treat correlated values as independent and should not.
"""
from __future__ import annotations

import argparse
import sys

from measure import Config, Program, Status, measure
from measure.stats import RULES, aa_false_positive_rate

WORKLOAD = """
def work(n):
    d = {}
    for i in range(n):
        d[i % 97] = d.get(i % 97, 0) + i
    return sum(d.values())
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=40)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--splits", type=int, default=400)
    args = ap.parse_args(argv)
    program = Program(WORKLOAD, "work")
    procs = []
    for p in range(args.processes):
        m = measure(program, [[20_000]], Config(backend="time", repeat=args.iterations, timeout=30))
        r = m.inputs[0]
        if r.status is not Status.OK:
            print(f"process {p}: {r.status}: {r.message}", file=sys.stderr)
            return 1
        procs.append([s.task_clock_ns for s in r.samples])
    flat = [v for p in procs for v in p]
    print(f"time backend, {args.processes} processes x {args.iterations} calls, task-clock median "
          f"{sorted(flat)[len(flat) // 2] / 1e6:.2f} ms; {args.splits} random splits into two halves")
    print(f"{'rule':26s} {'false positives':>16s}  95 % interval")
    for rule in RULES:
        r = aa_false_positive_rate(procs, rule, splits=args.splits)
        print(f"{rule:26s} {r.rate * 100:15.1f} %  [{r.low * 100:.1f} %, {r.high * 100:.1f} %]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
