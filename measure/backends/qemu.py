"""The ``qemu`` backend: the worker runs under QEMU user mode with measure's TCG plugin, which counts
the guest instructions between the worker's region markers exactly (native/qemu_icount.c).

Why: where there is no PMU the other deterministic counter is callgrind, at 40-105x native per
call. QEMU translates each block once per process and the plugin adds its instruction count
inline, and a forked call keeps the translations: 8-14x native on interpreter-bound code (benchmarks/bench_core.py).

What the process sees: a fixed emulated CPU (:data:`CPU_MODELS`), not the host's, so the C
library's and numpy's CPU dispatch, and with them the counts, are the same on every host of the
ISA (the PlatformKey's ``dispatch`` names the model and the QEMU version).

What is checked: the plugin logs every marker, whoever issues it, and each region's count, to a
file it opens before the guest runs and that the parent then makes root's; :class:`QemuAudit`
finds in it exactly the harness's own markers for each region, or the region is
``sandbox_violation``. A guest syscall on the log's descriptor, or an exec (the new program would
run natively), kills the process first. Each call's process gets a seccomp filter on the emulator
itself (the guest's own is refused by QEMU), so a call starts no process or thread. User mode is
no security boundary: guest code that writes the plugin's memory could change its counter; see
docs/security-model.md.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from typing import List, Optional, Tuple

from ..errors import BackendUnavailable, WorkerProtocolError
from ..model import Status
from ..native import QEMU_PLUGIN, Child, qemu_plugin_path
from ..platform import Interpreter, base_environment
from .base import Backend, Counts, LogAudit, emulated_dispatch, host_dispatch

# The emulated CPU per ISA: a fixed, versioned model (``max`` follows the QEMU release). x86_64:
# Haswell, x86-64-v3 like most hosts' dispatch level (numpy 2 needs more than qemu64's v1); the
# features TCG cannot emulate are turned off so that QEMU warns about none.
CPU_MODELS = {
    "x86_64": "Haswell-v4,-pcid,-x2apic,-tsc-deadline,-invpcid,-spec-ctrl",
    "aarch64": "neoverse-n1",
}
LOG = "qemu.log"
INSTALLED = b"install "  # the log's first line, written by the plugin when QEMU has loaded it
MARK_LINE = re.compile(rb"^mark (\d+) (\d+)$", re.M)
START, STOP, DENY = 1, 2, 3
_REGION = {"setup": [START, STOP], "call": [DENY, START, STOP]}


class QemuUnavailable(BackendUnavailable):
    """QEMU user mode, or measure's plugin for it, is missing or refuses to run."""


def qemu_name() -> str:
    return f"qemu-{platform.machine()}"


@lru_cache(maxsize=None)
def find_qemu() -> Optional[str]:
    return shutil.which(qemu_name(), path=os.environ.get("PATH", "") + ":/usr/bin:/usr/local/bin")


@lru_cache(maxsize=None)
def qemu_version(path: str) -> str:
    """``7.2.22`` from ``qemu-x86_64 version 7.2.22 (Debian ...)``; "" when it does not run."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(r"version (\d+\.\d+(?:\.\d+)?)", out)
    return m.group(1) if m else ""


def cpu_model() -> str:
    model = CPU_MODELS.get(platform.machine())
    if model is None:
        raise QemuUnavailable(f"the qemu backend has no CPU model for {platform.machine()}: it runs on x86_64 "
                              "and aarch64 hosts. Choose --backend valgrind or perf.")
    return model


def _run_plugin(qemu: str, log: str, argv: List[str], timeout: float = 300) -> subprocess.CompletedProcess:
    plugin = qemu_plugin_path()
    return subprocess.run([qemu, "-cpu", cpu_model(), "-plugin", f"{plugin},log={log}", *argv],
                          capture_output=True, text=True, timeout=timeout, env=base_environment())


@lru_cache(maxsize=None)
def _probe(qemu: str) -> str:
    """"" when QEMU loads the plugin and runs a program under it; else why not."""
    true = shutil.which("true") or "/bin/true"
    with tempfile.TemporaryDirectory(prefix="measure-qemu-") as d:
        log = os.path.join(d, LOG)
        open(log, "w").close()
        try:
            proc = _run_plugin(qemu, log, [true], timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{qemu} did not run: {exc}"
        with open(log, "rb") as f:
            head = f.readline()
    if proc.returncode != 0 or not head.startswith(INSTALLED):
        return (f"{qemu} (QEMU {qemu_version(qemu) or '?'}) did not load measure's plugin (plugin API version 1): "
                f"{proc.stderr.strip()[-400:] or f'exit {proc.returncode}'}")
    return ""


@lru_cache(maxsize=None)
def qemu_dispatch(qemu: str) -> str:
    """The CPU that the processes QEMU runs see (:func:`measure.dispatch.describe`) and the QEMU
    release. The host is part of the cache key, so that a host whose guests saw another CPU would show."""
    real = os.path.realpath(qemu)
    version = qemu_version(real)
    seen = emulated_dispatch([real, "-cpu", cpu_model()], ("qemu", real, version, cpu_model(), host_dispatch()),
                             QemuUnavailable, f"Check `{real} {sys.executable} -c pass`.")
    return f"{seen} (qemu {version})"


class QemuBackend(Backend):
    name = "qemu"
    mode = "qemu"
    deterministic = True
    # QEMU runs CPython at about 2e9 guest instructions/s on this project's 2-core VM, quiet
    # (benchmarks/bench_core.py); 1e8 leaves a margin of 10x for a loaded machine
    min_rate = 1e8
    call_overhead_s = 1.0  # a fork of the emulator and its report: about 7 ms quiet

    def __init__(self, qemu: Optional[str] = None):
        self._path = qemu

    @property
    def path(self) -> str:
        p = self._path or find_qemu()
        if not p:
            raise QemuUnavailable(
                f"QEMU user mode is not installed ({qemu_name()} not found on PATH). Remedy: `apt-get install "
                "qemu-user` (Debian/Ubuntu; the README's set-up command does it), or choose --backend valgrind/perf.")
        return p

    def check(self) -> None:
        if qemu_plugin_path() is None:
            raise QemuUnavailable("measure was built without its QEMU plugin (x86_64 and aarch64 Linux only). "
                                  "Remedy: reinstall measure on such a host, or choose --backend valgrind.")
        cpu_model()
        why = _probe(self.path)
        if why:
            raise QemuUnavailable(why + ". Remedy: install Debian 12's qemu-user 7.2 (plugin API 1), or choose "
                                  "--backend valgrind.")

    def dispatch(self) -> str:
        return qemu_dispatch(self.path)

    def command(self, interp: Interpreter, worker_argv: List[str], workdir_inside: str,
                budget: Optional[int] = None) -> List[str]:
        plugin = f"{workdir_inside}/{QEMU_PLUGIN},log={workdir_inside}/{LOG}" + (f",budget={budget}" if budget else "")
        return [self.path, "-cpu", cpu_model(), "-plugin", plugin, interp.executable, *worker_argv]

    def audit(self, workdir: str) -> "QemuAudit":
        return QemuAudit(os.path.join(workdir, LOG))

    def read(self, child: Child, workdir: str, pid: int, region: str, *, functions: bool = False) -> Counts:
        # workdir: the call's run/ directory; the log is beside it, in the worker's directory
        try:
            count = region_count(os.path.join(os.path.dirname(os.path.normpath(workdir)), LOG), pid)
        except OSError:  # the worker has gone (a failed setup ends it at once), its view of the log with it
            count = None
        if count is None:
            raise WorkerProtocolError(f"the qemu plugin logged no count for the {region} of pid {pid}")
        return Counts(instructions=count)


def _killed(region: str, text: bytes) -> Optional[str]:
    """Why the plugin killed a process of this region's log lines, if it did."""
    for kind, what in ((b"touch", "used the descriptor of the count's log"),
                       (b"exec", "tried to run another program (it would run outside the emulator, uncounted)")):
        if re.search(rb"^%s \d+ " % kind, text, re.M):
            return f"the {region} {what}: the emulator's plugin killed it, and no count is kept"
    return None


def region_count(log: str, pid: int) -> Optional[int]:
    """The last region count the plugin logged for ``pid`` (the log's tail suffices: a process's
    region line is the newest of its own, and each call's process is new)."""
    with open(log, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 65536))
        tail = f.read()
    found = re.findall(rb"^region %d (\d+)$" % pid, tail, re.M)
    return int(found[-1]) if found else None


class QemuAudit(LogAudit):
    """Checks every region against the plugin's log (see the module docstring)."""

    canary = False  # the plugin writes each count itself: there is no dump to cross-check

    def seal(self) -> None:
        """Check that the plugin loaded and seal its log: called before any code of the candidate runs."""
        with open(self.path, "rb") as f:
            head = f.readline()
        if not head.startswith(INSTALLED):
            raise WorkerProtocolError("QEMU ran the worker without measure's plugin: nothing would be counted")
        self.seal_log()

    def skip(self) -> Optional[Tuple[Status, str]]:
        """Pass over a region that never reported; (status, why) when the plugin ended its process:
        a call stopped at its budget is a right-censored ``timeout``, one killed for reaching for its
        count a ``sandbox_violation`` (see :meth:`check`); else None."""
        text = self.advance()
        killed = _killed("call", text)
        if killed:
            return Status.SANDBOX_VIOLATION, killed
        over = re.search(rb"^budget \d+ (\d+)$", text, re.M)
        if over:
            return Status.TIMEOUT, (f"stopped by the emulator after {int(over.group(1)):,} instructions, over the "
                                    "budget (right-censored: no count recorded)")
        return None

    def check(self, region: str, pid: int, total: Optional[int], needed: bool = True) -> Optional[str]:
        text = self.advance()
        killed = _killed(region, text)
        if killed:
            return killed
        if region == "setup" and re.search(rb"^spawn %d " % pid, text, re.M):
            return ("the module body started a thread or process while counted: under qemu such a count is not "
                    "exact, so none is kept (start threads inside the function if it needs them? a counted call "
                    "may not start any either)")
        marks = [int(op) for p, op in MARK_LINE.findall(text) if int(p) == pid]
        others = sorted({int(p) for p, _ in MARK_LINE.findall(text)} - {pid})
        expected = _REGION["setup" if region == "setup" else "call"]
        if marks != expected or others:
            return (f"the {region} issued region markers of its own (seen {marks}, from other processes {others}; "
                    f"the harness issues exactly {expected}): its count could be forged, so none is kept")
        if total is None and needed:
            return f"the qemu plugin logged no count for the {region}"
        return None
