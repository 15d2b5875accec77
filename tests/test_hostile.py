"""Bad input and hostile candidates: each ends in a clear status within timeout + 2 s, with a
message, and leaves no process behind. Statuses do not depend on the backend, so the fast
``time`` backend is used; counting-specific cases run on the deterministic backend elsewhere."""
from __future__ import annotations

import os
import time

import pytest

from measure import Config, ConfigError, Input, Program, Status, measure

TIMEOUT = 2.0
CFG = Config(backend="time", repeat=2, timeout=TIMEOUT, memory=512 * 1024**2, output_limit=1024**2)


def leftover_workers():
    """Processes descended from this test process (a measurement must leave none behind)."""
    parent = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    me, found = os.getpid(), []
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p > 1 and seen < 64:
            p, seen = parent[p], seen + 1
            if p == me:
                found.append(pid)
                break
    return found


def outcome(source: str, entry: str = "f", inputs=([],), cfg: Config = CFG):
    before = set(leftover_workers())
    t0 = time.monotonic()
    m = measure(Program(source, entry), list(inputs), cfg)
    elapsed = time.monotonic() - t0
    time.sleep(0.1)
    assert set(leftover_workers()) - before == set(), "a worker process outlived its measurement"
    return m, elapsed


def status_of(m):
    return m.setup.status if m.setup.status is not Status.OK else m.inputs[0].status


def message_of(m):
    return m.setup.message if m.setup.status is not Status.OK else m.inputs[0].message


@pytest.mark.parametrize("name, source, status, words", [
    ("syntax error", "def f(:\n    pass", Status.ERROR, "SyntaxError"),
    ("missing entry point", "def g():\n    pass", Status.ERROR, "no function named 'f' (names defined: g)"),
    ("exception", "def f():\n    raise ValueError('boom')", Status.ERROR, "ValueError: boom"),
    ("sys.exit", "import sys\ndef f():\n    sys.exit(3)", Status.ERROR, "sys.exit(3)"),
    ("os._exit", "import os\ndef f():\n    os._exit(0)", Status.ERROR, "ended its process"),
    ("segfault", "import ctypes\ndef f():\n    ctypes.string_at(0)", Status.CRASHED, "SIGSEGV"),
    ("unserialisable output", "def f():\n    return object()", Status.ERROR, "not plain data"),
    ("output frame above the channel limit", "def f():\n    return 'x' * (65 * 2**20)", Status.ERROR,
     "could not be reported"),
    ("memory bomb", "def f():\n    x = []\n    while True:\n        x.append(' ' * 10**7)", Status.MEMORY, "MemoryError"),
    ("output flooding", "def f():\n    while True:\n        print('x' * 10000)", Status.SANDBOX_VIOLATION, "output limit"),
    ("write outside the working directory", "def f():\n    open('/etc/measure-evil', 'w').write('x')",
     Status.SANDBOX_VIOLATION, "Read-only file system"),
    ("network connection", "import socket\ndef f():\n    socket.create_connection(('1.1.1.1', 80), 1)",
     Status.SANDBOX_VIOLATION, "unreachable"),
    ("writes to the measurement channel", "import os\ndef f():\n    os.write(3, b'\\0\\0\\0\\5hello')\n    return 1",
     Status.SANDBOX_VIOLATION, "channel was corrupted"),
])
def test_hostile_candidate_ends_in_its_status_with_a_message(name, source, status, words):
    m, elapsed = outcome(source)
    assert status_of(m) is status
    assert words in message_of(m)
    assert elapsed < TIMEOUT + 2
    assert all(s.instructions is None for r in m.inputs for s in r.samples)


@pytest.mark.parametrize("name, source", [
    ("infinite loop", "def f():\n    while True:\n        pass"),
    ("infinite loop at import", "while True:\n    pass\ndef f():\n    pass"),
    ("fork bomb", "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass"),
    ("sleeping setsid grandchild", "import os, time\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n"
                                   "        time.sleep(1000)\n    time.sleep(1000)"),
])
def test_runaway_candidate_times_out_within_the_limit_and_leaves_nothing_behind(name, source):
    m, elapsed = outcome(source)
    assert status_of(m) is Status.TIMEOUT
    assert "time limit" in message_of(m) and "right-censored" in message_of(m)
    assert elapsed < TIMEOUT + 2
    if m.setup.status is Status.OK:
        assert len(m.inputs[0].samples) == 1  # a timed-out input is not repeated


def test_a_detached_grandchild_does_not_survive_its_call():
    marker = f"measure-orphan-{os.getpid()}-{time.monotonic_ns()}"
    src = (f"import os\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n"
           f"        os.execv('/bin/sleep', ['sleep', '1000', '{marker}'])\n    return 1")
    m, _ = outcome(src)
    assert m.inputs[0].status is Status.OK
    time.sleep(0.2)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                assert marker.encode() not in open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                pass


def test_a_timeout_on_one_input_does_not_stop_the_others():
    src = "def f(n):\n    while n < 0:\n        pass\n    return n * 2"
    m, _ = outcome(src, inputs=([1], [-1], [3]))
    assert [r.status for r in m.inputs] == [Status.OK, Status.TIMEOUT, Status.OK]
    assert [r.output for r in m.inputs] == [2, None, 6]
    assert [len(r.samples) for r in m.inputs] == [2, 1, 2]


def test_wrong_answer_is_checked_in_the_parent_and_keeps_the_count():
    m, _ = outcome("def f(x):\n    return x + 1", inputs=[Input((1,), 3)])
    assert m.inputs[0].status is Status.WRONG_ANSWER
    assert "expected 3, got 2" in m.inputs[0].message


def test_a_custom_checker_decides_correctness():
    cfg = Config(**{**CFG.__dict__, "checker": lambda out, exp: abs(out - exp) < 1e-6})
    m, _ = outcome("def f(x):\n    return x / 3 * 3", inputs=[Input((1.0,), 1.0)], cfg=cfg)
    assert m.inputs[0].status is Status.OK


def test_unserialisable_inputs_are_a_config_error_naming_the_input():
    with pytest.raises(ConfigError, match="input #1 cannot be sent"):
        measure(Program("def f(x):\n    return x", "f"), [[1], [lambda: 0]], CFG)


def test_picklable_inputs_reach_the_candidate():
    import fractions
    m, _ = outcome("def f(x):\n    return float(x * 2)", inputs=[[fractions.Fraction(1, 3)]])
    assert m.inputs[0].output == pytest.approx(2 / 3)


def test_a_bad_config_is_refused_with_the_remedy():
    with pytest.raises(ConfigError, match="repeat must be an integer >= 1"):
        Config(repeat=0)
    with pytest.raises(ConfigError, match="unknown backend 'fast'"):
        Config(backend="fast")


def test_stop_on_failure_leaves_later_inputs_unmeasured():
    cfg = Config(**{**CFG.__dict__, "stop_on_failure": True})
    m, _ = outcome("def f(n):\n    while n < 0:\n        pass\n    return n", inputs=([1], [-1], [3]), cfg=cfg)
    assert [(r.index, r.status) for r in m.inputs] == [(0, Status.OK), (1, Status.TIMEOUT)]


def test_a_huge_integer_output_comes_back_exactly():
    m, _ = outcome("def f():\n    return 3 ** 100000")
    assert m.inputs[0].status is Status.OK and m.inputs[0].output == 3 ** 100000
