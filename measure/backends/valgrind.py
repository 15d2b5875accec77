"""The ``valgrind`` backend: callgrind counts the region between client requests, bit-exactly.

The worker runs under ``valgrind --tool=callgrind --instr-atstart=no``; each region ends with a
named dump (``measure-setup``, ``measure-call``) that callgrind writes to ``cg.<pid>.<n>`` in the
working directory, and the parent reads its ``summary:`` line (instructions, "Ir") and, when
asked, the instructions per C function (:mod:`.callgrind`).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from functools import lru_cache
from typing import List, Optional

from ..errors import ValgrindUnavailable, WorkerProtocolError
from ..native import Child
from ..platform import Interpreter
from .base import Backend, Counts
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


class ValgrindBackend(Backend):
    name = "valgrind"
    mode = "valgrind"
    deterministic = True

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

    def check(self) -> None:
        version = valgrind_version(self.path)
        if not version.startswith("valgrind-3."):
            raise ValgrindUnavailable(f"{self.path} --version printed {version!r}: it does not run. "
                                      "Reinstall valgrind (>= 3.15).")
        from ..sandbox.files import workerlib_path
        import ctypes
        if not ctypes.CDLL(workerlib_path()).mp_vg_available():
            raise ValgrindUnavailable(
                "measure was built without valgrind's headers, so the worker cannot issue client requests. "
                "Remedy: install valgrind (its package ships <valgrind/callgrind.h>) and reinstall measure.")

    def command(self, interp: Interpreter, worker_argv: List[str], workdir_inside: str) -> List[str]:
        return [self.path, "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no", "--dump-line=no",
                "--vgdb=no", "-q", f"--callgrind-out-file={workdir_inside}/cg.%p",
                interp.executable, *worker_argv]

    def read(self, child: Child, workdir: str, pid: int, region: str, *, functions: bool = False) -> Counts:
        tag = f"measure-{region}"
        found = None
        for path in glob.glob(os.path.join(workdir, f"cg.{pid}*")):
            with open(path, "rb") as f:
                data = f.read()
            os.unlink(path)
            if found is None:
                dump = parse(data, functions=functions)
                if dump.trigger == tag and dump.total is not None:
                    found = dump
        if found is None:
            raise WorkerProtocolError(f"callgrind wrote no '{tag}' dump for pid {pid} in {workdir}")
        return Counts(instructions=found.total, functions=found.functions if functions else None)

    def discard(self, child: Child, workdir: str, pid: int) -> None:
        for path in glob.glob(os.path.join(workdir, f"cg.{pid}*")):
            os.unlink(path)
