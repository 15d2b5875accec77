"""Spread of repeated measurements per backend, and what one measurement costs next to running
the code natively. Not a test: it prints a table (recorded in the README).

    python benchmarks/bench_core.py [--repeat 10] [--backends valgrind,time]

Native time is the best of 5 in-process calls of the same function. "cost/call" is the wall
time of one ``measure()`` divided by its number of counted calls, over the native time: it
includes the worker's start-up, the fork per call and the backend's slowdown.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402

from measure import Config, Program, Status, measure  # noqa: E402
from measure.errors import BackendUnavailable  # noqa: E402

SIZES = {"loop": 200_000, "sort": 100_000, "dict_ops": 60_000, "strings": 60_000, "numpy_call": 400_000}


def native_seconds(fn, n: int) -> float:
    fn(n)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--backends", default="perf,valgrind,time")
    args = ap.parse_args(argv)
    rows = []
    for name, n in SIZES.items():
        fn = getattr(workloads, name)
        # the candidate is the function alone (numpy imported by its module body, counted as setup)
        source = ("import numpy as np\n\n" if name == "numpy_call" else "") + inspect.getsource(fn)
        native = native_seconds(fn, n)
        for backend in args.backends.split(","):
            cfg = Config(backend=backend, repeat=args.repeat, timeout=600)
            t = time.perf_counter()
            try:
                m = measure(Program(source, name, "workloads"), [[n]], cfg)
            except BackendUnavailable as exc:
                print(f"# {backend}: unavailable here ({type(exc).__name__})", file=sys.stderr)
                continue
            wall = time.perf_counter() - t
            r = m.inputs[0]
            if r.status is not Status.OK:
                rows.append((name, f"{native * 1e3:.1f} ms", backend, r.status.value, "", ""))
                continue
            metric, unit = ("instructions", "instr") if backend != "time" else ("task_clock_ns", "ns")
            s = r.summary(metric)
            rows.append((name, f"{native * 1e3:.1f} ms", backend, f"{s.median:,.0f} {unit}",
                         f"{s.relative_spread * 100:.3f} %", f"{wall / args.repeat / native:.1f}x"))
            print(f"# {name} {backend} done in {wall:.1f} s", file=sys.stderr, flush=True)
    head = ("workload", "native", "backend", "median", "spread (max-min)/median", "cost/call")
    table = [head] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print(f"k={args.repeat} counted calls per backend and workload; CPython {sys.version.split()[0]}")
    for r in table:
        print("  ".join(c.rjust(w) if i in (1, 3, 4, 5) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
