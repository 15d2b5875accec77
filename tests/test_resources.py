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
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "measure-*")))
    measure(Program("def f():\n    open('junk', 'w').write('x' * 1000)", "f"), [[]], Config(backend="time", repeat=2))
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "measure-*"))) - before == set()
