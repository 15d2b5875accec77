"""Spread of repeated measurements per backend, and what one measurement costs next to running
the code natively. Not a test: it prints a table (docs/backends.md records one).

    python benchmarks/bench_core.py [--repeat 10] [--rounds 3] [--backends perf,qemu,valgrind,time]

Native time is the best of 5 in-process calls of the same function. Each (workload, backend) is
measured twice, with 1 and with k counted calls:
- "cost/call" is the difference of their wall times over k - 1 (one more counted call: a fork,
  the call under the backend, its report), over the native time of the same round;
- "region" is the median counted call's own wall time (the region only, as the worker timed it:
  no fork, no report) over the same native time: the part of cost/call that start-up noise does
  not blur;
- "start-up" is what a measure() costs besides its calls: the worker's start under the backend,
  loading the candidate, the setup region (the empty function's row).
With qemu, each workload is also timed under plain QEMU in one warm process (the backend's
emulator and CPU model, without measure's plugin or fork): the emulator's own share of the cost,
which measure cannot lower. Every figure is measured in each of --rounds rounds, the backends
interleaved, and given as its median over the rounds with their range [min-max]: on a shared VM
one round's ratio moves by up to 2x.
"""
from __future__ import annotations

import argparse
import inspect
import os
import statistics
import subprocess
import sys
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402

from measure import Config, Program, Status, measure  # noqa: E402
from measure.backends.qemu import QemuBackend, cpu_model  # noqa: E402
from measure.errors import BackendUnavailable  # noqa: E402
from measure.fmt import table  # noqa: E402
from measure.platform import base_environment  # noqa: E402

SIZES = {"empty": 0, "loop": 200_000, "sort": 100_000, "dict_ops": 60_000, "strings": 60_000, "numpy_call": 400_000}


def native_seconds(fn, n: int) -> float:
    fn(n)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return best


FLOOR = """
import sys
sys.path.insert(0, {here!r})
import workloads
from bench_core import native_seconds
print(native_seconds(workloads.{name}, {n}))
"""


def emulator_seconds(name: str, n: int) -> Optional[float]:
    """The best of 5 in-process calls of the workload under plain QEMU (the backend's emulator and
    CPU model, no plugin, no fork, translations warm): the part of a call's cost that is the
    emulator's own, which measure cannot lower. None where the qemu backend is unavailable."""
    backend = QemuBackend()
    try:
        backend.check()
    except BackendUnavailable:
        return None
    out = subprocess.run([backend.path, "-cpu", cpu_model(), sys.executable, "-c",
                          FLOOR.format(here=HERE, name=name, n=n)],
                         capture_output=True, text=True, timeout=600, env=base_environment())
    return float(out.stdout) if out.returncode == 0 else None


def timed(source: str, name: str, n: int, cfg: Config):
    t = time.perf_counter()
    m = measure(Program(source, name, "workloads"), [[n]], cfg)
    return m, time.perf_counter() - t


def _spread(xs, fmt) -> str:
    """median [min - max] of one figure over the rounds."""
    xs = sorted(xs)
    med = statistics.median(xs)
    return fmt(med) if len(xs) == 1 else f"{fmt(med)} [{fmt(xs[0])}-{fmt(xs[-1])}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every (workload, backend) this many times, interleaved (default 3)")
    ap.add_argument("--backends", default="perf,qemu,valgrind,time")
    args = ap.parse_args(argv)
    k, rounds = max(2, args.repeat), max(1, args.rounds)
    backends = args.backends.split(",")
    natives: dict = {}      # workload -> native seconds, per round
    costs: dict = {}        # (workload, backend) -> cost of one more call in seconds, per round
    start_ups: dict = {}    # backend -> the empty function's start-up in seconds, per round
    samples: dict = {}      # (workload, backend) -> the counts of every counted call, all rounds
    floors: dict = {}       # workload -> plain QEMU's in-process time over native, per round
    regions: dict = {}      # (workload, backend) -> the median call's region wall over native, per round
    failed: dict = {}
    for rnd in range(rounds):
        for name, n in SIZES.items():
            fn = getattr(workloads, name)
            # the candidate is the function alone (numpy imported by its module body, counted as setup)
            source = ("import numpy as np\n\n" if name == "numpy_call" else "") + inspect.getsource(fn)
            natives.setdefault(name, []).append(native_seconds(fn, n))
            if "qemu" in backends and name != "empty":
                emulated = emulator_seconds(name, n)
                if emulated is not None:
                    floors.setdefault(name, []).append(emulated / natives[name][-1])
            for backend in backends:
                if backend in failed:
                    continue
                try:
                    _, one = timed(source, name, n, Config(backend=backend, repeat=1, timeout=600))
                    m, many = timed(source, name, n, Config(backend=backend, repeat=k, timeout=600))
                except BackendUnavailable as exc:
                    print(f"# {backend}: unavailable here ({type(exc).__name__})", file=sys.stderr)
                    failed[backend] = "unavailable"
                    continue
                r = m.inputs[0]
                if r.status is not Status.OK:
                    failed[backend] = f"{name}: {r.status.value}"
                    continue
                metric = "instructions" if backend != "time" else "task_clock_ns"
                samples.setdefault((name, backend), []).extend(getattr(s, metric) for s in r.samples)
                call = max(0.0, (many - one) / (k - 1))
                walls = [x.wall_ns for x in r.samples if x.wall_ns is not None]
                if walls and name != "empty":
                    regions.setdefault((name, backend), []).append(statistics.median(walls) / 1e9 / natives[name][-1])
                costs.setdefault((name, backend), []).append(call)
                if name == "empty":
                    start_ups.setdefault(backend, []).append(one - call)
                print(f"# round {rnd + 1}: {name} {backend} done in {one + many:.1f} s", file=sys.stderr, flush=True)
    rows = []
    for name in SIZES:
        native = natives[name]
        for backend in backends:
            if (name, backend) not in costs:
                continue
            xs = samples[(name, backend)]
            med = statistics.median(xs)
            unit = "instr" if backend != "time" else "ns"
            region = ""
            if name == "empty":
                cost = _spread([c * 1e3 for c in costs[(name, backend)]], lambda v: f"{v:.1f}") + " ms"
                start = _spread(start_ups[backend], lambda v: f"{v:.2f}") + " s"
            else:
                ratios = [c / nat for c, nat in zip(costs[(name, backend)], native)]
                cost, start = _spread(ratios, lambda v: f"{v:.1f}") + "x", ""
                if (name, backend) in regions:
                    region = _spread(regions[(name, backend)], lambda v: f"{v:.1f}") + "x"
            rows.append((name, _spread([x * 1e3 for x in native], lambda v: f"{v:.1f}") + " ms", backend,
                         f"{med:,.0f} {unit}", f"{(max(xs) - min(xs)) / med * 100:.3f} %" if med else "-",
                         region, cost, start))
    head = ("workload", "native", "backend", "median", "spread (max-min)/median", "region", "cost/call", "start-up")
    print(f"k={k} counted calls per backend and workload, in each of {rounds} rounds; CPython "
          f"{sys.version.split()[0]}; median [min-max] over the rounds")
    print("\n".join(table([head] + rows, right={1, 3, 4, 5, 6, 7})))
    pairs = [(w, [v / q for v, q in zip(costs[(w, "valgrind")], costs[(w, "qemu")]) if q > 0]) for w in SIZES
             if w != "empty" and (w, "qemu") in costs and (w, "valgrind") in costs]
    if pairs:
        print("valgrind / qemu cost per call: " + ", ".join(f"{w} {_spread(x, lambda v: f'{v:.1f}')}x"
                                                           for w, x in pairs if x))
    if floors:
        print("plain QEMU, in-process (no plugin, no fork) over native: "
              + ", ".join(f"{w} {_spread(x, lambda v: f'{v:.1f}')}x" for w, x in floors.items()))
    for backend, why in failed.items():
        print(f"{backend}: not measured ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
