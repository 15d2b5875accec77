"""The measured interpreter and the platform key of a measurement."""
from __future__ import annotations

import hashlib
import json
import os
import platform as _platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional, Tuple

from ._version import __version__
from .errors import InterpreterError
from .model import PlatformKey

_PROBE = ("import json, sys, platform; print(json.dumps({'executable': sys.executable, "
          "'implementation': sys.implementation.name, 'version': platform.python_version(), "
          "'hexversion': sys.hexversion, 'prefix': sys.prefix, 'paths': [sys.prefix, sys.base_prefix, "
          "sys.exec_prefix, sys.base_exec_prefix] + sys.path}))")


@dataclass(frozen=True)
class Interpreter:
    """A CPython found by running it once: its real executable (pyenv shims resolved)."""

    executable: str
    implementation: str
    version: str
    build: str  # sha256 prefix of the binary
    paths: Tuple[str, ...] = ()  # directories it reads: its prefixes and sys.path, links resolved
    venv: Optional[str] = None   # the virtual environment it runs in (sys.prefix), if any

    @property
    def version_tuple(self):
        return tuple(int(x) for x in self.version.split(".")[:2])


def base_environment() -> Dict[str, str]:
    """The fixed environment of every measured run (pyperf-style whitelist, plus determinism knobs).

    Only OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pass through from the caller's environment: on some
    processors older OpenBLAS builds compute wrong results without them.
    """
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


@lru_cache(maxsize=None)
def resolve_interpreter(python: Optional[str] = None) -> Interpreter:
    """Find and check the measured interpreter (None: the one running measure).

    Raises InterpreterError when it is missing, is not CPython, or is older than 3.9.
    """
    path = python or sys.executable
    found = shutil.which(path) if os.sep not in path else path
    if not found or not os.path.exists(found):
        raise InterpreterError(f"interpreter {path!r} not found: pass an existing path with --python")
    env = dict(base_environment(), PATH=os.environ.get("PATH", "/usr/bin:/bin"))  # shims need PATH
    for k in ("PYENV_ROOT", "PYENV_VERSION", "HOME"):
        if k in os.environ:
            env[k] = os.environ[k]
    try:
        out = subprocess.run([found, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"cannot run {found!r}: {exc}. Pass a working CPython with --python.") from None
    if out.returncode != 0:
        raise InterpreterError(f"{found!r} failed to start (exit {out.returncode}): "
                               f"{out.stderr.strip()[-500:]}. Pass a working CPython with --python.")
    try:
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise InterpreterError(f"{found!r} did not answer the probe: is it a Python interpreter?") from None
    if info["implementation"] != "cpython" or info["hexversion"] < 0x03090000:
        raise InterpreterError(f"{found!r} is {info['implementation']} {info['version']}: measure needs CPython >= 3.9")
    exe = info["executable"]
    dirs = [os.path.dirname(exe), os.path.dirname(os.path.realpath(exe))] + list(info.get("paths", []))
    paths = tuple(sorted({os.path.realpath(d) for d in dirs if d and os.path.isdir(d)}))
    # a virtual environment whose own bin/ holds the interpreter (sys.prefix != sys.base_prefix)
    venv = info["prefix"] if info["paths"][1] != info["prefix"] == os.path.dirname(os.path.dirname(exe)) else None
    return Interpreter(exe, info["implementation"], info["version"], _file_hash(os.path.realpath(exe)), paths, venv)


def _file_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def default_cache_dir() -> str:
    """measure's per-user cache: ``$XDG_CACHE_HOME/measure``, else ``~/.cache/measure``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "measure")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.split(":")[0].strip() in ("model name", "Model", "CPU part"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return _platform.processor() or "unknown"


def platform_key(backend: str, interp: Interpreter, dispatch: str = "") -> PlatformKey:
    """The key of counts made here on ``backend`` with ``interp``; ``dispatch``: the CPU the measured
    process sees (:meth:`measure.backends.base.Backend.dispatch`)."""
    return PlatformKey(backend=backend, isa=_platform.machine(), cpu_model=cpu_model(),
                       implementation=interp.implementation, python_version=interp.version,
                       python_build=interp.build, kernel=_platform.release(), engine_version=__version__,
                       dispatch=dispatch)
