"""Files the worker needs, found in the installed package (wheel or editable)."""
from __future__ import annotations

import glob
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


def vgreq_path() -> str:
    """The Python-free shared object of valgrind client requests (built as measure._vgreq)."""
    found = sorted(glob.glob(os.path.join(PACKAGE, "_vgreq*.so")))
    if not found:
        from ..errors import MeasureError
        raise MeasureError(f"measure/_vgreq*.so is missing from {PACKAGE}: the package was not built. "
                           "Reinstall with `pip install .`.")
    return found[0]


def install_worker(workdir: str, with_shim: bool) -> None:
    """Copy worker.py and wire.py (and the client-request shim) into the private working directory,
    so that the worker's argv and paths are the same wherever measure is installed."""
    for name in ("worker.py", "wire.py"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(workdir, name))
    if with_shim:
        shutil.copyfile(vgreq_path(), os.path.join(workdir, "vgreq.so"))
