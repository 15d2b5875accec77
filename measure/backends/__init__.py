"""Backends and the ``auto`` choice: perf, then valgrind, then time (with a warning).

``auto`` trusts a counter only after a self-test: a loop of exactly two instructions per
iteration (``mp_spin`` in native/workerlib.c) is counted for n and 2n iterations, and the
difference must be 2n (exactly under valgrind, within 1 % on a PMU).
"""
from __future__ import annotations

import ctypes
import glob
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple

from ..errors import BackendUnavailable, MeasureError
from ..model import BACKEND_CHOICES, BACKENDS, is_deterministic
from ..platform import base_environment
from .base import Backend, Counts
from .callgrind import parse
from .perf import PerfBackend
from .qemu import QemuBackend
from .timer import TimeBackend
from .valgrind import ValgrindBackend

__all__ = ["Backend", "Counts", "PerfBackend", "QemuBackend", "ValgrindBackend", "TimeBackend", "get_backend",
           "select_backend", "SelfTest", "self_test"]

SPIN_N = 1_000_000
AUTO_ORDER = tuple(b for b in BACKENDS if is_deterministic(b))  # time is the fallback


@dataclass(frozen=True)
class SelfTest:
    """Result of counting the known loop: ``measured`` = count(2n) - count(n), ``expected`` = 2n."""

    backend: str
    passed: bool
    expected: int
    measured: Optional[int]
    detail: str = ""


def _spin_lib():
    from ..native import workerlib_path
    lib = ctypes.CDLL(workerlib_path())
    lib.mp_spin.argtypes = [ctypes.c_ulong]
    lib.mp_spin.restype = None
    return lib


def _perf_self_test() -> SelfTest:
    from ..native import PerfGroup
    lib = _spin_lib()
    per = lib.mp_spin_instructions_per_iteration()
    counts = []
    lib.mp_spin(1)  # the first ctypes call costs more
    with PerfGroup.open(["instructions"]) as g:
        for n in (SPIN_N, 2 * SPIN_N):
            g.reset()
            g.enable()
            lib.mp_spin(n)
            g.disable()
            r = g.read()
            if r.scaled:
                return SelfTest("perf", False, per * SPIN_N, None, "the counter was multiplexed")
            counts.append(r.values["instructions"])
    measured = counts[1] - counts[0]
    expected = per * SPIN_N
    ok = per > 0 and abs(measured - expected) <= 0.01 * expected
    return SelfTest("perf", ok, expected, measured,
                    "" if ok else "the PMU miscounts a known loop (broken virtual PMU or hybrid CPU?)")


_VG_SCRIPT = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.mp_spin.argtypes = [ctypes.c_ulong]; n = int(sys.argv[2])
for tag, m in ((b"warm", 1), (b"a", n), (b"b", 2 * n)):  # the first ctypes call costs more
    lib.mp_vg_start(); lib.mp_vg_zero(); lib.mp_spin(m); lib.mp_region_end(tag)
"""


def _valgrind_self_test(backend: ValgrindBackend, python: str) -> SelfTest:
    from ..native import workerlib_path
    lib = _spin_lib()
    expected = lib.mp_spin_instructions_per_iteration() * SPIN_N
    with tempfile.TemporaryDirectory(prefix="measure-selftest-") as d:
        cmd = [backend.path, "--tool=callgrind", "--instr-atstart=no", "--vgdb=no", "-q",
               f"--callgrind-out-file={d}/st.%p", python, "-S", "-c", _VG_SCRIPT, workerlib_path(), str(SPIN_N)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=base_environment(), cwd=d)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SelfTest("valgrind", False, expected, None, f"valgrind did not run: {exc}")
        counts = {}
        for path in glob.glob(os.path.join(d, "st.*")):
            with open(path, "rb") as f:
                dump = parse(f.read(), functions=False)
            if dump.trigger and dump.total is not None:
                counts[dump.trigger] = dump.total
        if "a" not in counts or "b" not in counts:
            return SelfTest("valgrind", False, expected, None,
                            f"callgrind wrote no region dumps (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    measured = counts["b"] - counts["a"]
    ok = measured == expected
    return SelfTest("valgrind", ok, expected, measured, "" if ok else "callgrind miscounts a known loop")


_QEMU_SCRIPT = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.mp_spin.argtypes = [ctypes.c_ulong]; n = int(sys.argv[2])
for m in (1, n, 2 * n):  # the first ctypes call costs more
    lib.mp_qemu_start(); lib.mp_spin(m); lib.mp_qemu_stop()
"""


def _qemu_self_test(backend: QemuBackend, python: str) -> SelfTest:
    from ..native import workerlib_path
    from .qemu import LOG, _run_plugin
    expected = _spin_lib().mp_spin_instructions_per_iteration() * SPIN_N
    with tempfile.TemporaryDirectory(prefix="measure-selftest-") as d:
        log = os.path.join(d, LOG)
        open(log, "w").close()
        try:
            proc = _run_plugin(backend.path, log, [python, "-S", "-c", _QEMU_SCRIPT, workerlib_path(), str(SPIN_N)])
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SelfTest("qemu", False, expected, None, f"QEMU did not run: {exc}")
        with open(log, "rb") as f:
            counts = [int(x) for x in re.findall(rb"^region \d+ (\d+)$", f.read(), re.M)]
    if len(counts) != 3:
        return SelfTest("qemu", False, expected, None,
                        f"the plugin logged {len(counts)} of 3 regions (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    measured = counts[2] - counts[1]
    ok = measured == expected
    return SelfTest("qemu", ok, expected, measured, "" if ok else "the qemu plugin miscounts a known loop")


@lru_cache(maxsize=None)
def self_test(name: str, python: str) -> SelfTest:
    """Check (once per process and interpreter) that backend ``name`` counts the known loop right."""
    backend = get_backend(name)
    if isinstance(backend, PerfBackend):
        return _perf_self_test()
    if isinstance(backend, ValgrindBackend):
        return _valgrind_self_test(backend, python)
    if isinstance(backend, QemuBackend):
        return _qemu_self_test(backend, python)
    return SelfTest(name, True, 0, None, "time counts nothing; nothing to check")


def get_backend(name: str) -> Backend:
    """A backend by name (:data:`measure.model.BACKENDS`); its availability is checked separately."""
    if name == "perf":
        return PerfBackend()
    if name == "qemu":
        return QemuBackend()
    if name == "valgrind":
        return ValgrindBackend()
    if name == "time":
        return TimeBackend()
    raise MeasureError(f"unknown backend {name!r}: choose {', '.join(BACKEND_CHOICES)}")


def select_backend(name: str, python: str) -> Tuple[Backend, List[str]]:
    """The backend to use and warnings. ``auto``: the first counting backend of
    :data:`~measure.model.BACKENDS` (perf, qemu, valgrind) that is available and passes its
    self-test, else ``time`` with a warning. A named backend must be available."""
    if name != "auto":
        backend = get_backend(name)
        backend.check()
        return backend, []
    reasons = []
    for candidate in AUTO_ORDER:
        backend = get_backend(candidate)
        try:
            backend.check()
        except BackendUnavailable as exc:
            reasons.append(f"{candidate}: {exc}")
            continue
        test = self_test(candidate, python)
        if test.passed:
            return backend, []
        reasons.append(f"{candidate}: self-test failed: expected {test.expected}, measured {test.measured} "
                       f"({test.detail})")
    backend = TimeBackend()
    backend.check()
    return backend, ["no instruction counter works here, so timings are used (noisy: compare them "
                           "only with statistics). " + " | ".join(reasons)]
