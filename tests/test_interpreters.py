"""Any CPython >= 3.9 on the machine can be the measured interpreter, whichever one runs measure."""
from __future__ import annotations

import glob
import os

import pytest

from measure import Config, InterpreterError, Program, Status, measure
from measure.backends import PerfBackend

SRC = "import functools\n@functools.lru_cache(None)\ndef f(n):\n    return sum(i * i for i in range(n))\n"


def interpreters():
    found = {}
    for pattern in ("/root/.pyenv/versions/3.*/bin/python3", os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"),
                    "/usr/bin/python3.*"):
        for path in sorted(glob.glob(pattern)):
            name = path.split("/versions/")[1].split("/")[0] if "/versions/" in path else os.path.basename(path)
            if os.access(path, os.X_OK) and not path.endswith("-config") and name[:4] not in ("3.6.", "3.7.", "3.8."):
                found.setdefault(name, path)
    return sorted(found.items())


@pytest.mark.parametrize("name, path", interpreters() or [pytest.param("none", "", marks=pytest.mark.skip)])
def test_each_installed_cpython_runs_the_worker(name, path):
    m = measure(Program(SRC, "f"), [[1000]], Config(python=path, backend="time", repeat=2))
    assert m.inputs[0].status is Status.OK, m.inputs[0].message or m.setup.message
    assert m.inputs[0].output == sum(i * i for i in range(1000))
    assert m.platform.python_version.startswith(name.split("python")[-1][:4].rstrip("."))


@pytest.mark.parametrize("name, path", [p for p in interpreters() if p[0].startswith(("3.10", "3.13", "python3.11"))]
                         or [pytest.param("none", "", marks=pytest.mark.skip)])
def test_valgrind_counts_are_exact_under_other_interpreters(name, path, valgrind):
    m = measure(Program(SRC, "f"), [[1000]], Config(python=path, backend="valgrind", repeat=3, timeout=60))
    c = [s.instructions for s in m.inputs[0].samples]
    assert m.inputs[0].status is Status.OK and c == [c[0]] * 3


def test_an_interpreter_older_than_3_9_is_refused():
    old = sorted(glob.glob("/root/.pyenv/versions/3.8*/bin/python3"))
    if not old:
        pytest.skip("no CPython < 3.9 installed")
    with pytest.raises(InterpreterError, match="needs CPython >= 3.9"):
        measure(Program(SRC, "f"), [[1]], Config(python=old[0], backend="time"))


def test_a_missing_interpreter_is_refused_with_the_remedy():
    with pytest.raises(InterpreterError, match="not found: pass an existing path with --python"):
        measure(Program(SRC, "f"), [[1]], Config(python="/nonexistent/python3", backend="time"))


def test_the_perf_region_protocol_runs_end_to_end_on_software_events(software_events):
    """Parent-owned counters on the worker's pid, enabled and disabled on the worker's signal,
    folded in from each forked call: the same code path hardware events take."""
    loop = "def f(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
    m = measure(Program(loop, "f"), [[10_000], [1_000_000]], Config(repeat=3),
                backend=PerfBackend(events=["task-clock", "page-faults"]))
    small, big = (r.summary("task_clock_ns") for r in m.inputs)
    assert all(r.status is Status.OK for r in m.inputs)
    assert small.min > 0 and big.median > 10 * small.median  # 100x the work: a ratio, not a time
    # each call is counted alone: a reset does not clear what exited calls folded into the group,
    # so a count that accumulated over calls would grow about 3x from the first to the third
    first, _, third = big.values
    assert third < 2 * first
