"""Files the worker needs, found in the installed package (wheel or editable)."""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
from functools import lru_cache

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


def workerlib_path() -> str:
    """The worker's Python-free shared object (built as measure._workerlib)."""
    found = sorted(glob.glob(os.path.join(PACKAGE, "_workerlib*.so")))
    if not found:
        from ..errors import MeasureError
        raise MeasureError(f"measure/_workerlib*.so is missing from {PACKAGE}: the package was not built. "
                           "Reinstall with `pip install .`.")
    return found[0]


def install_worker(workdir: str) -> None:
    """Copy worker.py, wire.py and workerlib.so into the private working directory, so that the
    worker's argv and paths are the same wherever measure is installed."""
    for name in ("worker.py", "wire.py"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(workdir, name))
    shutil.copyfile(workerlib_path(), os.path.join(workdir, "workerlib.so"))
    os.mkdir(os.path.join(workdir, "trash"))


@lru_cache(maxsize=None)
def worker_hash() -> str:
    """A digest of the code that runs in the measured process: counts depend on it, so caches of
    counts key on it (the engine version alone misses changes between releases)."""
    h = hashlib.sha256()
    for path in (os.path.join(HERE, "worker.py"), os.path.join(HERE, "wire.py"), workerlib_path()):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]
