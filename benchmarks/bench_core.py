"""Spread of repeated measurements per backend, and what one measurement costs next to running
the code natively. Not a test: it prints a table (docs/backends.md records one).

    python benchmarks/bench_core.py [--repeat 10] [--backends perf,qemu,valgrind,time]

Native time is the best of 5 in-process calls of the same function. Each (workload, backend) is
measured twice, with 1 and with k counted calls; "cost/call" is the difference of their wall
times over k - 1 (one more counted call: a fork, the call under the backend, its report), over
the native time. "start-up" is what a measure() costs besides its calls: the worker's start
under the backend, loading the candidate, the setup region (the empty function's row).
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
from measure.fmt import table  # noqa: E402

SIZES = {"empty": 0, "loop": 200_000, "sort": 100_000, "dict_ops": 60_000, "strings": 60_000, "numpy_call": 400_000}


def native_seconds(fn, n: int) -> float:
    fn(n)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return best


def timed(source: str, name: str, n: int, cfg: Config):
    t = time.perf_counter()
    m = measure(Program(source, name, "workloads"), [[n]], cfg)
    return m, time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--backends", default="perf,qemu,valgrind,time")
    args = ap.parse_args(argv)
    k = max(2, args.repeat)
    rows, per_call = [], {}
    for name, n in SIZES.items():
        fn = getattr(workloads, name)
        # the candidate is the function alone (numpy imported by its module body, counted as setup)
        source = ("import numpy as np\n\n" if name == "numpy_call" else "") + inspect.getsource(fn)
        native = native_seconds(fn, n)
        for backend in args.backends.split(","):
            try:
                _, one = timed(source, name, n, Config(backend=backend, repeat=1, timeout=600))
                m, many = timed(source, name, n, Config(backend=backend, repeat=k, timeout=600))
            except BackendUnavailable as exc:
                print(f"# {backend}: unavailable here ({type(exc).__name__})", file=sys.stderr)
                continue
            r = m.inputs[0]
            if r.status is not Status.OK:
                rows.append((name, f"{native * 1e3:.1f} ms", backend, r.status.value, "", "", ""))
                continue
            call = max(0.0, (many - one) / (k - 1))
            per_call[(name, backend)] = call
            metric, unit = ("instructions", "instr") if backend != "time" else ("task_clock_ns", "ns")
            s = r.summary(metric)
            start_up = one - call if name == "empty" else None
            rows.append((name, f"{native * 1e3:.2f} ms", backend, f"{s.median:,.0f} {unit}",
                         f"{s.relative_spread * 100:.3f} %",
                         f"{call * 1e3:.1f} ms" if name == "empty" else f"{call / native:.1f}x",
                         f"{start_up:.2f} s" if start_up is not None else ""))
            print(f"# {name} {backend} done in {one + many:.1f} s", file=sys.stderr, flush=True)
    head = ("workload", "native", "backend", "median", "spread (max-min)/median", "cost/call", "start-up")
    print(f"k={k} counted calls per backend and workload; CPython {sys.version.split()[0]}")
    print("\n".join(table([head] + rows, right={1, 3, 4, 5, 6})))
    pairs = [(w, per_call[(w, "valgrind")] / per_call[(w, "qemu")]) for w in SIZES
             if w != "empty" and (w, "qemu") in per_call and (w, "valgrind") in per_call and per_call[(w, "qemu")] > 0]
    if pairs:
        print("valgrind / qemu cost per call: " + ", ".join(f"{w} {x:.1f}x" for w, x in pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
