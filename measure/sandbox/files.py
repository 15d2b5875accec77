"""Files the worker needs, found in the installed package (wheel or editable)."""
from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import tempfile
from functools import lru_cache

from .. import wire
from ..native import QEMU_PLUGIN, qemu_plugin_path, workerlib_path
from .cgroup import clean_stale_cgroups

HERE = os.path.dirname(os.path.abspath(__file__))
# what runs in the measured process, besides the candidate: copied into its private directory
WORKER_SOURCES = (os.path.join(HERE, "worker.py"), wire.__file__)


LOCK = ".lock"


def install_worker(workdir: str) -> int:
    """Copy worker.py, wire.py and workerlib.so into the private working directory, so that the
    worker's argv and paths are the same wherever measure is installed, and make ``run/``, the
    only place the candidate may write. The directory and its files belong to this process's user
    and are read-only to the worker's unprivileged user. Returns the descriptor of the directory's
    lock, held for its lifetime: :func:`clean_stale` removes only directories nobody holds."""
    lock = os.open(os.path.join(workdir, LOCK), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.chmod(workdir, 0o755)
    for path in WORKER_SOURCES:
        shutil.copyfile(path, os.path.join(workdir, os.path.basename(path)))
    shutil.copyfile(workerlib_path(), os.path.join(workdir, "workerlib.so"))
    names = [os.path.basename(p) for p in WORKER_SOURCES] + ["workerlib.so"]
    plugin = qemu_plugin_path()
    if plugin:  # the qemu backend's counter, loaded by the emulator from the worker's directory
        shutil.copyfile(plugin, os.path.join(workdir, QEMU_PLUGIN))
        names.append(QEMU_PLUGIN)
    for name in names:
        os.chmod(os.path.join(workdir, name), 0o644)
    os.mkdir(os.path.join(workdir, "run"), 0o700)
    return lock


@lru_cache(maxsize=None)
def clean_stale() -> int:
    """Remove the working directories of measure runs that were killed (SIGKILL leaves them): a
    ``measure-*`` directory of the temporary directory whose lock nobody holds. Once per process;
    returns how many were removed. Directories of live runs, of any process, are locked and kept."""
    removed = 0
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "measure-*-*")):
        path = os.path.join(d, LOCK)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # not ours, or still being set up (the lock file comes first)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed + clean_stale_cgroups()


@lru_cache(maxsize=None)
def worker_hash() -> str:
    """A digest of the code that runs in the measured process: counts depend on it, so caches of
    counts key on it (the engine version alone misses changes between releases)."""
    h = hashlib.sha256()
    for path in (*WORKER_SOURCES, workerlib_path(), *filter(None, [qemu_plugin_path()])):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]
