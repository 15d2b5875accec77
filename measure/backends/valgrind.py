"""The ``valgrind`` backend: callgrind counts the region between client requests, bit-exactly.

The worker runs under ``valgrind --tool=callgrind --instr-atstart=no``; each region ends with a
named dump (``measure-setup``, ``measure-call``) that callgrind writes to ``.cg.<pid>.<n>`` in the
call's directory, and the parent reads its ``summary:`` line (instructions, "Ir") and, when
asked, the instructions per C function (:mod:`.callgrind`).

Client requests are ordinary instructions: a candidate can issue them too (zero the counts,
pause collection, dump early), and it can write files where callgrind writes its dumps. So
nothing of a count is taken on trust. valgrind runs at verbosity 3, where its core logs every
client request any code issues, and at each process's exit callgrind logs the instructions it
collected. The log file is opened by valgrind before any code of the candidate runs; the parent
then makes it root's (the worker runs as an unprivileged user), and valgrind keeps its
descriptor where the guest cannot use it. :class:`RequestAudit` then checks each region: exactly
the harness's own requests (start, zero, dump, stop), and for a call, a dump whose total is what
valgrind collected less what the call's process inherited at the fork (the setup's dump) and
what callgrind collects after the dumps of a setup and a call (a number of this build, measured
by the self-test the same way). Anything else is
``sandbox_violation``.
"""
from __future__ import annotations

import ctypes
import glob
import os
import re
import shutil
import stat
import subprocess
from functools import lru_cache
from typing import Dict, List, Optional

from ..errors import ValgrindUnavailable, WorkerProtocolError
from ..native import Child, workerlib_path
from ..platform import Interpreter
from .base import Backend, Counts, LogAudit, emulated_dispatch, host_dispatch
from .callgrind import parse


@lru_cache(maxsize=None)
def find_valgrind() -> Optional[str]:
    return shutil.which("valgrind", path=os.environ.get("PATH", "") + ":/usr/bin:/usr/local/bin")


@lru_cache(maxsize=None)
def valgrind_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


@lru_cache(maxsize=None)
def valgrind_dispatch(valgrind: str) -> str:
    """The CPU that ``valgrind`` shows the processes it runs on this host: VEX answers CPUID from a
    fixed table chosen by the host's feature level, so this is a function of (valgrind, host CPU)."""
    real = os.path.realpath(valgrind)
    return emulated_dispatch([real, "-q", "--tool=none"], (real, valgrind_version(real), host_dispatch()),
                             ValgrindUnavailable, "Check `valgrind python3 -c pass`, or choose --backend perf/time.")


class ValgrindBackend(Backend):
    name = "valgrind"
    mode = "valgrind"
    deterministic = True
    # callgrind runs CPython at 1.7e8 instructions/s on this project's 2-core VM, quiet, and about
    # half that beside two busy loops (benchmarks/instruction_rate.py); 1e7 leaves a margin of 8x
    min_rate = 1e7
    call_overhead_s = 2.0  # fork plus callgrind re-instrumenting the code: 0.15-0.2 s quiet

    def __init__(self, valgrind: Optional[str] = None):
        self._path = valgrind

    @property
    def path(self) -> str:
        p = self._path or find_valgrind()
        if not p:
            raise ValgrindUnavailable(
                "valgrind is not installed (not found on PATH). Remedy: `apt-get install valgrind` "
                "(Debian/Ubuntu) or `dnf install valgrind`, or choose --backend perf/time.")
        return p

    def dispatch(self) -> str:
        return valgrind_dispatch(self.path)

    def check(self) -> None:
        version = valgrind_version(self.path)
        if not version.startswith("valgrind-3."):
            raise ValgrindUnavailable(f"{self.path} --version printed {version!r}: it does not run. "
                                      "Reinstall valgrind (>= 3.15).")
        if not ctypes.CDLL(workerlib_path()).mp_vg_available():
            raise ValgrindUnavailable(
                "measure was built without valgrind's headers, so the worker cannot issue client requests. "
                "Remedy: install valgrind (its package ships <valgrind/callgrind.h>) and reinstall measure.")

    def command(self, interp: Interpreter, worker_argv: List[str], workdir_inside: str,
                budget: Optional[int] = None) -> List[str]:
        return [self.path, "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no", "--dump-line=no",
                "--vgdb=no", "-v", "-v", f"--log-file={workdir_inside}/{LOG}",
                f"--callgrind-out-file={workdir_inside}/run/.cg.%p", interp.executable, *worker_argv]

    def audit(self, workdir: str) -> "RequestAudit":
        return RequestAudit(os.path.join(workdir, LOG))

    def read(self, child: Child, workdir: str, pid: int, region: str, *, functions: bool = False) -> Counts:
        tag = f"measure-{region}"
        found = None
        for path in glob.glob(os.path.join(workdir, f".cg.{pid}.*")):
            data = _read_regular(path)
            if found is None and data is not None:
                dump = parse(data, functions=functions)
                if dump.trigger == tag and dump.total is not None:
                    found = dump
        if found is None:
            raise WorkerProtocolError(f"callgrind wrote no '{tag}' dump for pid {pid}")
        return Counts(instructions=found.total, functions=found.functions if functions else None)


LOG = "vg.log"
MAX_DUMP = 256 * 1024**2
START, ZERO, DUMP_AT, STOP, TOGGLE, DUMP = 0x43540004, 0x43540001, 0x43540003, 0x43540005, 0x43540002, 0x43540000
REGION = [START, ZERO, DUMP_AT, STOP]
HARMLESS = {0x1001}  # RUNNING_ON_VALGRIND: a question, changes nothing
NAMES = {START: "start instrumentation", ZERO: "zero stats", DUMP_AT: "dump stats", STOP: "stop instrumentation",
         TOGGLE: "toggle collection", DUMP: "dump stats"}
_REQUEST = re.compile(rb"^client request: code ([0-9a-fA-F]+),", re.M)
_COLLECTED = re.compile(rb"^==(\d+)== Collected : (\d+)\s*$", re.M)


def _read_regular(path: str) -> Optional[bytes]:
    """A dump's bytes, if ``path`` is a regular file of sane size (never follows a link the
    candidate planted, never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_DUMP:
            return None
        return f.read(MAX_DUMP)


class RequestAudit(LogAudit):
    """Checks every region against valgrind's own log (see the module docstring)."""

    canary = True  # the worker forks the harness's own empty call first: the reference of every call

    def __init__(self, path: str):
        super().__init__(path)
        self.overhead: Optional[int] = None  # collected - dumped, in the canary's process

    def seal(self) -> None:
        """Make the log root's and skip what valgrind wrote at start-up: called before any code of
        the candidate runs."""
        self.seal_log()

    def skip(self) -> None:
        """Pass over a region that never ran (a call killed or failed before its region)."""
        self.advance()

    def check(self, region: str, pid: int, total: Optional[int], needed: bool = True) -> Optional[str]:
        """None if the region since the last check is exactly the harness's own; else why not.
        ``needed``: the region's count is kept (an ok call), so a missing dump is a problem too."""
        text = self.advance()
        codes = [int(c, 16) for c in _REQUEST.findall(text)]
        codes = [c for c in codes if c not in HARMLESS]
        if codes != REGION:
            extra = [NAMES.get(c, hex(c)) for c in codes]
            return (f"the {region} issued valgrind client requests of its own (seen: {', '.join(extra) or 'none'}; "
                    "the harness issues exactly start, zero, dump, stop): its count could be forged, so none is kept")
        if total is None:
            return f"callgrind wrote no dump for the {region}" if needed else None
        if region == "setup":
            return None
        collected: Dict[int, int] = {int(p): int(n) for p, n in _COLLECTED.findall(text)}
        if pid not in collected:
            return f"valgrind logged no total for the {region}'s process: its count cannot be verified"
        if region == "canary":
            self.overhead = collected[pid] - total
            return None
        expected = collected[pid] - (self.overhead or 0)
        if self.overhead is None or total != expected:
            return (f"the call's dump says {total} instructions but valgrind collected {expected} in its "
                    "region: the dump was rewritten")
        return None
