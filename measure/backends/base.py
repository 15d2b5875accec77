"""What every backend provides to the session driver."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Sequence

from .. import dispatch as _dispatch
from ..jsonfile import write_json_atomic
from ..native import Child, workerlib_path
from ..platform import Interpreter, base_environment, default_cache_dir


@lru_cache(maxsize=None)
def host_dispatch() -> str:
    """The CPU this host shows a process (:func:`measure.dispatch.describe`)."""
    return _dispatch.seen_here(workerlib_path())


def emulated_dispatch(launcher: List[str], key: Sequence[str], unavailable: type, remedy: str) -> str:
    """The CPU that processes run through ``launcher`` (an emulator's argv, up to the program) see:
    :mod:`measure.dispatch` run under it, kept in the user's cache (``dispatch-<hash of key>.txt``)
    after the first probe (a second or two). ``key``: what the answer is a function of (the
    emulator, its version, the host); ``unavailable``: the BackendUnavailable to raise, with
    ``remedy``, when the probe cannot run."""
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
    path = os.path.join(default_cache_dir(), f"dispatch-{digest}.txt")
    try:
        with open(path, encoding="utf-8") as f:
            seen = f.read().strip()
        if seen:
            return seen
    except OSError:
        pass
    cmd = [*launcher, sys.executable, "-S", "-I", _dispatch.__file__, workerlib_path()]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=base_environment())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise unavailable(f"{launcher[0]} could not run the interpreter to read the CPU it shows ({exc}). "
                          + remedy) from None
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise unavailable(f"{launcher[0]} could not run the interpreter to read the CPU it shows (exit "
                          f"{out.returncode}: {out.stderr.strip()[-400:]}). " + remedy)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_json_atomic(path, lines[-1] + "\n")
    except OSError:
        pass  # an unwritable cache costs the probe next time, nothing else
    return lines[-1]


class LogAudit:
    """The part of an emulator's audit that reads its log: the log is made root's before the
    candidate runs (then the guest, an unprivileged user, cannot reopen it), and each region's
    check reads the complete lines written since the last (:meth:`advance`)."""

    def __init__(self, path: str):
        self.path, self.offset = path, 0

    def seal_log(self) -> None:
        """Make the log root's (as root; otherwise it stays the user's, and the Measurement's
        isolation facts say the count is not tamper-evident) and skip what was written so far."""
        if os.getuid() == 0:
            os.chown(self.path, 0, 0)
            os.chmod(self.path, 0o600)
        self.offset = os.path.getsize(self.path)

    def advance(self) -> bytes:
        """The complete lines written since the last call."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return data[:end]


@dataclass(frozen=True)
class Counts:
    """Counter values of one region. None: this backend does not count that quantity.

    functions: instructions per C function (``name [object]`` -> self cost), valgrind only and
    only when asked for (:attr:`measure.Config.functions`)."""

    instructions: Optional[int] = None
    cycles: Optional[int] = None
    branches: Optional[int] = None
    branch_misses: Optional[int] = None
    task_clock_ns: Optional[int] = None
    scaled: bool = False
    functions: Optional[Dict[str, int]] = None


class Backend:
    """A way to count a region of the worker.

    ``mode`` is what the worker does at the region's edges: ``valgrind`` (client requests),
    ``perf`` (ask the parent to enable/disable its counters) or ``time`` (clocks only).
    """

    name = "base"
    mode = "time"
    deterministic = False
    events: Sequence[str] = ()
    # instructions per wall-clock second that a counted call sustains at the least, on a loaded
    # machine (None: this backend counts no instructions, so it cannot enforce a budget)
    min_rate: Optional[float] = None
    call_overhead_s = 0.0  # wall time of a call that counts no instructions (fork, re-instrumentation)

    def backstop_s(self, budget: int) -> float:
        """Wall-clock seconds after which a call with an instruction budget is surely over it: the
        budget at :attr:`min_rate`, plus the call's fixed overhead. A wall-clock limit at least this
        long never cuts a call that stays within its budget, so the budget alone decides."""
        if self.min_rate is None:
            raise ValueError(f"the {self.name} backend counts no instructions: it cannot enforce a budget")
        return self.call_overhead_s + budget / self.min_rate

    def dispatch(self) -> str:
        """The CPU the measured process sees, which decides its machine code (:mod:`measure.dispatch`):
        the host's own, unless the backend shows the process another."""
        return host_dispatch()

    def check(self) -> None:
        """Raise a BackendUnavailable subclass, with the remedy, if this backend cannot run here."""

    def command(self, interp: Interpreter, worker_argv: List[str], workdir_inside: str,
                budget: Optional[int] = None) -> List[str]:
        """The argv the launcher executes. ``budget``: the job's instruction budget per call, for a
        backend that stops a call there itself (qemu); the others leave it to the session."""
        return [interp.executable, *worker_argv]

    def region_start(self, child: Child) -> None:
        """The worker entered its region (perf mode only)."""

    def region_end(self, child: Child) -> None:
        """The worker left its region (perf mode only)."""

    def audit(self, workdir: str):
        """An object whose ``seal()`` is called when the worker is ready (before any code of the
        candidate runs) and whose ``check(region, pid, instructions, needed)`` returns why a
        region's count cannot be trusted (or None); None when the backend has nothing to audit. With
        ``canary`` true the worker first forks an empty call of its own (region "canary"), and whose
        ``skip()`` passes over a region that never reported, returning (status, message) when the
        backend itself ended its process (qemu: tampering is ``sandbox_violation``, a call stopped at
        its budget ``timeout``), None otherwise."""
        return None

    def read(self, child: Child, workdir: str, pid: int, region: str, *, functions: bool = False) -> Counts:
        """The counts of the region ``region`` ("setup" or "call") that process ``pid`` (as the
        worker sees it) just finished; called once that process has been reaped. ``workdir``: the
        call's directory as the parent sees it. ``functions``: also the instructions per C
        function, where the backend can attribute them."""
        return Counts()

    def discard(self, child: Child, workdir: str, pid: int) -> None:
        """Forget whatever a process left behind without a valid region (crash, timeout)."""
