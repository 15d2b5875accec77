"""How many instructions per second CPython executes, natively and under callgrind.

Two constants of measure rest on this figure:
- ENAMEL's alarm fires 10 ms after its time limit T; measure censors by count instead, so it needs
  those 10 ms in instructions (``measure.harness.enamel.SLACK_INSTRUCTIONS``, at the native rate);
- an instruction budget keeps a wall-clock backstop that must never cut a call within its budget
  (``ValgrindBackend.min_rate``, well below the rate under callgrind on a loaded machine).

For every program of the calibration suite: its count on the valgrind backend, its native time (best
of 7 runs of the same call in this process) and the count divided by each. ``--busy N`` runs N
busy loops beside it, as a loaded machine.

    python benchmarks/instruction_rate.py [--busy 2] [--programs a,b]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

from measure import Config, measure
from measure.calibration.programs import as_program, select, suite


def _spin() -> None:
    while True:
        pass


def native_seconds(source: str, entry: str, args, runs: int = 7) -> float:
    ns: dict = {}
    exec(compile(source, "<program>", "exec"), ns)
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        ns[entry](*args)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", type=int, default=0, help="busy loops to run beside the measurement")
    ap.add_argument("--programs", help="comma-separated suite programs (default: all)")
    a = ap.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(a.busy)]
    for p in spinners:
        p.start()
    try:
        native, vg = [], []
        print(f"{'program':<20} {'instructions':>14} {'native':>10} {'valgrind':>10}")
        for cp in select(suite(), a.programs.split(",") if a.programs else None):
            program, inp = as_program(cp)
            m = measure(program, [inp], Config(backend="valgrind", repeat=1, timeout=600))
            s = m.inputs[0].samples[0]
            t = native_seconds(program.source, program.entry, inp.args)
            native.append(s.instructions / t)
            vg.append(s.instructions / (s.wall_ns / 1e9))
            print(f"{cp.name:<20} {s.instructions:>14,} {native[-1]:>8.2e}/s {vg[-1]:>8.2e}/s")
        print(f"\n{len(native)} programs, {a.busy} busy loops beside them")
        print(f"native   : median {statistics.median(native):.2e}/s, range {min(native):.2e} .. {max(native):.2e}")
        print(f"valgrind : median {statistics.median(vg):.2e}/s, range {min(vg):.2e} .. {max(vg):.2e}")
    finally:
        for p in spinners:
            p.terminate()


if __name__ == "__main__":
    main()
