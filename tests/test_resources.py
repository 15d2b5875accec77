"""Measuring many times in one process leaks nothing: file descriptors, processes, directories."""
from __future__ import annotations

import glob
import os
import tempfile

from measure import Config, Program, Status, measure


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_measurements_leave_the_open_descriptor_count_unchanged():
    program = Program("def f(x):\n    return x * 2", "f")
    cfg = Config(backend="time", repeat=1, timeout=5)
    measure(program, [[1]], cfg)  # first use: imports, probes and caches
    before = open_fds()
    statuses = set()
    for i in range(1000):
        statuses.add(measure(program, [[i]], cfg).inputs[0].status)
    assert statuses == {Status.OK}
    assert open_fds() == before


def test_working_directories_are_removed():
    # only this process's: other runs of measure on the machine make and remove their own meanwhile
    mine = os.path.join(tempfile.gettempdir(), f"measure-{os.getpid()}-*")
    before = set(glob.glob(mine))
    measure(Program("def f():\n    open('junk', 'w').write('x' * 1000)", "f"), [[]], Config(backend="time", repeat=2))
    assert set(glob.glob(mine)) - before == set()


def test_a_source_tree_without_its_build_says_so_and_how_to_build_it(tmp_path):
    import shutil
    import subprocess
    import sys
    src = os.path.join(os.path.dirname(__file__), "..", "measure")
    shutil.copytree(src, tmp_path / "measure", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    out = subprocess.run([sys.executable, "-S", "-c", "import measure"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert "C extension (measure/_native) is not built" in out.stderr and "pip install -e ." in out.stderr
