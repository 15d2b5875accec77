"""Scoring many candidates of one problem, as an RL loop does: serially with measure(), and with the
batch Evaluator, per deterministic backend: candidates per second side by side. Not a test.

    python benchmarks/bench_batch.py [--n 200] [--backends qemu,valgrind] [--workers N] [--no-ray]

The candidates are a fixed mix like a policy's samples (by position, so every run measures the
same 200): fast (a closed form), slow (loops of different shapes), wrong, crashing (an exception
or os._exit) and hanging (an endless loop, censored by the instruction budget: 4x the slowest
honest candidate's count, so the verdict does not follow the machine's load). Each candidate runs
5 correctness tests and one performance input, once each. The counts of every candidate are
checked to be identical between the serial and the batch runs. With Ray installed (the ray
extra), the Evaluator also runs its jobs as tasks on a local Ray cluster of ``--workers`` CPUs
started by this script: the same machine, so it shows Ray's overhead, not a second node's gain.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from measure import Config, Evaluator, Input, Program, measure
from measure.errors import BackendUnavailable
from measure.fmt import table

N = 30_000
TESTS = [Input((n,), sum(i * i for i in range(n))) for n in (0, 1, 2, 10, 1000)] + [Input((N,), sum(i * i for i in range(N)))]
KINDS = {
    "fast": "def f(n):\n    return (n - 1) * n * (2 * n - 1) // 6\n",
    "slow_for": "def f(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t\n",
    "slow_sum": "def f(n):\n    return sum(i * i for i in range(n))\n",
    "slow_while": "def f(n):\n    t = i = 0\n    while i < n:\n        t += i * i\n        i += 1\n    return t\n",
    "wrong": "def f(n):\n    return sum(i * i for i in range(n + 1))\n",
    "raises": "def f(n):\n    raise ValueError('no')\n",
    "exits": "import os\ndef f(n):\n    os._exit(1)\n",
    "hangs": "def f(n):\n    while True:\n        n += 1\n",
}
# the mix of 10 positions, repeated: 3 fast, 3 slow, 1 wrong, 2 crashing, 1 hanging
CYCLE = ["fast", "slow_for", "fast", "slow_sum", "wrong", "raises", "fast", "slow_while", "exits", "hangs"]


def candidates(n: int):
    out = []
    for i in range(n):
        kind = CYCLE[i % len(CYCLE)]
        # a comment makes each candidate a distinct program, as a policy's samples are
        out.append((kind, Program(f"# candidate {i}\n" + KINDS[kind], "f", name=f"c{i}")))
    return out


def signature(m):
    return (m.setup.status.value,) + tuple((r.status.value, tuple(s.instructions for s in r.samples)) for r in m.inputs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--backends", default="qemu,valgrind")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-ray", action="store_true", help="leave out the Evaluator on a local Ray cluster")
    args = ap.parse_args(argv)
    ray_address = None
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            print("# ray is not installed (pip install '.[ray]'): no Ray rows", file=sys.stderr)
        else:
            ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
            ray_address = "auto"   # the cluster just started: Evaluator(ray=...) joins it
    cands = candidates(args.n)
    rows = []
    for backend in args.backends.split(","):
        try:
            probe = measure(Program(KINDS["slow_while"], "f"), TESTS[-1:], Config(backend=backend, repeat=1))
        except BackendUnavailable as exc:
            print(f"# {backend}: unavailable here ({exc})", file=sys.stderr)
            continue
        budget = 4 * probe.inputs[0].samples[0].instructions
        # the budget censors; the wall clock (timeout, raised to the backend's backstop for the budget:
        # valgrind 2 s + budget / 1e7 instructions per second) only catches what the budget cannot
        cfg = Config(backend=backend, repeat=1, timeout=1, budget=budget, stop_on_failure=True)
        t = time.perf_counter()
        serial = [signature(measure(p, TESTS, cfg)) for _, p in cands]
        t_serial = time.perf_counter() - t
        print(f"# {backend}: serial {t_serial:.0f} s", file=sys.stderr, flush=True)
        timed = [("measure(), serial", t_serial)]
        same = True
        for label, where in ((f"Evaluator, {args.workers} workers", None),
                             (f"Evaluator on Ray, {args.workers} CPUs", ray_address)):
            if label.startswith("Evaluator on Ray") and where is None:
                continue
            t = time.perf_counter()
            with Evaluator(cfg, workers=args.workers, ray=where) as ev:
                batch = [signature(r.measurement) for r in ev.measure_all((p, TESTS) for _, p in cands)]
            timed.append((label, time.perf_counter() - t))
            same = same and batch == serial
            print(f"# {backend}: {label}: {timed[-1][1]:.0f} s, counts {'identical' if batch == serial else 'DIFFERENT'}",
                  file=sys.stderr, flush=True)
        for label, secs in timed:
            rows.append((backend, label, f"{secs:.1f} s", f"{secs / args.n:.2f} s", f"{args.n / secs:.2f}"))
        rows.append((backend, "counts, serial vs every batch", "identical" if same else "DIFFERENT", "", ""))
        statuses = {}
        for (kind, _), sig in zip(cands, serial):
            statuses.setdefault(kind, set()).add(sig[-1][0] if sig[0] == "ok" else "setup " + sig[0])
        print(f"# {backend}: " + "; ".join(f"{k} -> {'/'.join(sorted(v))}" for k, v in statuses.items()), file=sys.stderr)
    head = ("backend", "how", "wall", "per candidate", "candidates/s")
    print(f"{args.n} candidates of one problem ({len(TESTS)} inputs each, the mix of the module docstring); "
          f"{os.cpu_count()} cores; CPython {sys.version.split()[0]}")
    print("\n".join(table([head] + rows, right={2, 3, 4})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
