"""The native perf_event code, exercised through software events (the same open/group/read/ioctl/
inherit/enable_on_exec code paths as hardware events) and, where a PMU exists, hardware ones."""
from __future__ import annotations

import os
import struct
import sys
import tempfile

import pytest

from measure.errors import PerfMultiplexed, PMUUnavailable
from measure.native import PerfGroup, SpawnSpec, parse_group_buffer, run_counted

pytestmark = pytest.mark.usefixtures("software_events")


def burn(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def test_group_read_reports_every_member_with_enabled_and_running_times():
    with PerfGroup.open(["task-clock", "page-faults", "context-switches"], enabled=True) as g:
        burn(200_000)
        r = g.read()
    assert set(r.values) == {"task-clock", "page-faults", "context-switches"}
    assert r.values["task-clock"] > 0
    assert r.time_enabled_ns > 0
    assert r.time_running_ns == r.time_enabled_ns  # software events are never multiplexed
    assert r.scaled is False


def test_disabled_group_counts_nothing_until_enabled_and_reset_zeroes_it():
    with PerfGroup.open(["task-clock"]) as g:
        burn(100_000)
        assert g.read().values["task-clock"] == 0
        g.enable()
        burn(100_000)
        g.disable()
        counted = g.read().values["task-clock"]
        burn(100_000)
        assert g.read().values["task-clock"] == counted  # disabled: frozen
        g.reset()
        assert g.read().values["task-clock"] == 0


def test_more_work_counts_more_task_clock_in_proportion():
    with PerfGroup.open(["task-clock"]) as g:
        readings = []
        for n in (100_000, 1_000_000):
            g.reset(); g.enable(); burn(n); g.disable()
            readings.append(g.read().values["task-clock"])
    assert readings[1] > 4 * readings[0]  # 10x the work; a ratio, not an absolute time


def test_scaled_flag_and_estimate_when_running_time_is_below_enabled_time():
    # nr=2, enabled=1000 ns, running=250 ns, {value, id} x 2: the kernel's layout for a multiplexed group
    buf = struct.pack("<7Q", 2, 1000, 250, 50, 11, 7, 12)
    r = parse_group_buffer(buf, ["instructions", "cycles"])
    assert r.scaled is True
    assert r.values == {"instructions": 50, "cycles": 7}
    assert r.estimates == {"instructions": 200.0, "cycles": 28.0}


def test_unscaled_buffer_keeps_raw_values_as_estimates():
    r = parse_group_buffer(struct.pack("<5Q", 1, 500, 500, 123, 9), ["instructions"])
    assert (r.scaled, r.estimates) == (False, {"instructions": 123.0})


def test_empty_read_of_a_pinned_group_is_the_multiplexing_error():
    with pytest.raises(PerfMultiplexed, match="could not be scheduled"):
        parse_group_buffer(b"", ["instructions"])


def test_hardware_instructions_raise_enoent_typed_error_without_pmu_or_count_the_known_loop(has_pmu):
    if not has_pmu:
        with pytest.raises(PMUUnavailable) as info:
            PerfGroup.open(["instructions"])
        assert info.value.errno == 2
        assert "no hardware PMU" in str(info.value) and "--backend valgrind" in str(info.value)
        return
    import ctypes
    from measure.sandbox.files import workerlib_path
    lib = ctypes.CDLL(workerlib_path())
    lib.mp_spin.argtypes = [ctypes.c_ulong]
    lib.mp_spin(1)
    with PerfGroup.open(["instructions"]) as g:
        counts = []
        for n in (1_000_000, 2_000_000):
            g.reset(); g.enable(); lib.mp_spin(n); g.disable()
            counts.append(g.read().values["instructions"])
    assert abs((counts[1] - counts[0]) - 2_000_000) < 20_000


def test_unknown_event_name_is_refused_with_the_known_names():
    with pytest.raises(Exception, match="known events: instructions"):
        PerfGroup.open(["bogus"])


def test_descriptors_are_close_on_exec():
    import fcntl
    with PerfGroup.open(["task-clock", "page-faults"]) as g:
        assert all(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC for fd in g.fds)


GRANDCHILD = """
import os, time
def burn(n):
    s = 0
    for i in range(n):
        s += i * i % 7
pid = os.fork()
if pid == 0:
    t = time.thread_time_ns(); burn(3_000_000); os.write(1, str(time.thread_time_ns() - t).encode()); os._exit(0)
os.waitpid(pid, 0)
"""


def _run_counted(inherit: bool, enable_on_exec: bool = True):
    d = tempfile.mkdtemp()
    out = os.path.join(d, "out")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o600)
    spec = SpawnSpec(argv=[sys.executable, "-c", GRANDCHILD], env={"PATH": "/usr/bin:/bin"}, workdir=d,
                     events=["task-clock", "page-faults"], inherit=inherit, enable_on_exec=enable_on_exec,
                     stdout_fd=fd, seccomp=False)
    try:
        w, reading = run_counted(spec, 60)
    finally:
        os.close(fd)
    grandchild_ns = int(open(out).read())
    return w, reading, grandchild_ns


def test_child_counted_from_exec_includes_a_grandchild_through_inherit():
    w, reading, grandchild_ns = _run_counted(inherit=True)
    assert w.exit_code == 0
    assert reading.values["task-clock"] >= grandchild_ns  # the grandchild's work is in the child's count
    assert reading.values["page-faults"] > 0


def test_without_inherit_the_grandchild_is_not_counted():
    _, with_inherit, gc_ns = _run_counted(inherit=True)
    _, without, _ = _run_counted(inherit=False)
    assert without.values["task-clock"] < with_inherit.values["task-clock"] - gc_ns / 2


def test_it_is_the_exec_that_enables_the_counters():
    _, reading, _ = _run_counted(inherit=True, enable_on_exec=False)
    assert reading.values == {"task-clock": 0, "page-faults": 0}  # opened disabled, never enabled
