"""The qemu backend: QEMU user mode with measure's TCG plugin counts each call exactly, shows every
host the same emulated CPU, and keeps the candidate away from its count."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from measure import Config, Input, Program, Status, measure
from measure.backends import QemuBackend, get_backend, self_test
from measure.backends.base import host_dispatch

LOOP = Program(textwrap.dedent("""
    import functools
    MEMO = {}

    def loop(n):
        t = 0
        for i in range(n):
            t += i * i
        return t

    @functools.cache
    def cached(n):
        return loop(n)

    def memo(n):
        if n not in MEMO:
            MEMO[n] = loop(n)
        return MEMO[n]
"""), entry="loop", name="loop")


def counts(program: Program, n: int = 20000, repeat: int = 3, entry: str = None, **config):
    if entry:
        program = Program(program.source, entry=entry, name=program.name)
    m = measure(program, [[n]], Config(backend="qemu", repeat=repeat, **config))
    r = m.inputs[0]
    assert r.status is Status.OK, r.message
    return [s.instructions for s in r.samples]


def test_the_self_test_counts_the_known_loop_exactly(qemu, python):
    t = self_test("qemu", python)
    assert t.passed and t.measured == t.expected == 2_000_000


def test_repeats_of_a_call_count_the_same_to_the_instruction(qemu):
    c = counts(LOOP)
    assert len(set(c)) == 1 and c[0] > 20000 * 20


def test_five_fresh_invocations_count_the_same(qemu, tmp_path):
    code = ("from measure import *; import sys, textwrap\n"
            "src = 'def f(n):\\n    return sorted(str(i) for i in range(n))\\n'\n"
            "m = measure(Program(src, 'f'), [[3000]], Config(backend='qemu', repeat=2))\n"
            "print([s.instructions for s in m.inputs[0].samples])")
    # from another directory: in the repository's root, `import measure` would find the source tree
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=tmp_path).stdout for _ in range(5)}
    assert len(outs) == 1, outs


def test_a_cached_or_memoised_function_counts_as_much_fresh_as_repeated(qemu):
    # each call runs in a fresh fork of the loaded program: a cache filled by one call is gone in the next
    plain = counts(LOOP)[0]
    cached, memo = counts(LOOP, entry="cached"), counts(LOOP, entry="memo")
    assert len(set(cached)) == 1 and len(set(memo)) == 1
    assert cached[0] > plain and memo[0] > plain  # the work plus the cache's own bookkeeping, every time


def test_the_guest_sees_the_fixed_emulated_cpu_not_this_host(qemu):
    seen = get_backend("qemu").dispatch()
    assert seen.startswith("x86-64-v3 GenuineIntel Intel Core Processor (Haswell")
    assert seen.endswith(")") and "(qemu 7." in seen
    assert seen.split(" (qemu")[0] != host_dispatch()


def test_the_platform_key_names_the_emulated_cpu_and_ignores_the_host(qemu):
    m = measure(LOOP, [[10]], Config(backend="qemu", repeat=1))
    assert m.platform.backend == "qemu"
    assert "Haswell" in m.platform.dispatch
    assert "cpu_model" not in m.platform.count_fields() and "kernel" not in m.platform.count_fields()


HOSTILE = Program(textwrap.dedent("""
    import ctypes, os, threading
    libc = ctypes.CDLL(None, use_errno=True)

    def restart(n):
        libc.syscall(0x4d45, 1)
        return n

    def stop_early(n):
        libc.syscall(0x4d45, 2)
        return sum(range(n))

    def forge_log(n):
        os.write(1021, b"region 2 5\\n")
        return n

    def reopen_log(n):
        with open("/proc/self/fd/1021", "a") as f:
            f.write("region 2 5\\n")
        return n

    def fork(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return n

    def thread(n):
        t = threading.Thread(target=sum, args=(range(n),))
        t.start()
        t.join()
        return n

    def exec_native(n):
        os.execv("/bin/true", ["true"])
"""), entry="restart", name="hostile")


@pytest.mark.parametrize("entry, why", [
    ("restart", "region markers of its own"),
    ("stop_early", "region markers of its own"),
    ("forge_log", "descriptor of the count's log"),
    ("reopen_log", "denied an operation"),
    ("fork", "denied an operation"),
    ("thread", "start a thread"),
    ("exec_native", "run another program"),
])
def test_a_candidate_that_reaches_for_its_count_is_a_sandbox_violation(qemu, entry, why):
    m = measure(Program(HOSTILE.source, entry=entry, name="hostile"), [[100]], Config(backend="qemu", repeat=1))
    r = m.inputs[0]
    assert r.status is Status.SANDBOX_VIOLATION, (r.status, r.message)
    assert why in r.message
    assert all(s.instructions is None for s in r.samples)


def test_a_process_numbered_like_the_logs_descriptor_is_no_touch_of_the_log(qemu):
    # a worker that served many jobs reaches pid 1021 (the log's descriptor): waiting for that
    # process, or signalling it, names a pid, not the descriptor
    pids = Program("import os\ndef f(n):\n    for call in (lambda: os.kill(1021, 0), lambda: os.waitpid(1021, os.WNOHANG),"
                   " lambda: os.getpgid(1021)):\n        try:\n            call()\n        except OSError:\n"
                   "            pass\n    return n\n", entry="f", name="pids")
    m = measure(pids, [[1]], Config(backend="qemu", repeat=1))
    assert m.inputs[0].status is Status.OK, m.inputs[0].message


def test_a_call_over_its_instruction_budget_is_a_censored_timeout(qemu):
    exact = counts(LOOP, n=20000, repeat=1)[0]
    m = measure(LOOP, [Input((20000,)), Input((10,))], Config(backend="qemu", repeat=1, budget=exact - 1))
    assert m.inputs[0].status is Status.TIMEOUT and m.inputs[0].samples[0].instructions is None
    assert m.inputs[1].status is Status.OK


def test_a_missing_qemu_names_the_package_that_installs_it(monkeypatch):
    from measure.backends import qemu as q
    from measure.errors import BackendUnavailable
    monkeypatch.setattr(q, "find_qemu", lambda: None)
    with pytest.raises(BackendUnavailable, match="apt-get install qemu-user"):
        QemuBackend().check()


def test_the_emulator_stops_a_runaway_call_at_its_budget_whatever_the_wall_clock(qemu):
    spin = Program("def spin(n):\n    while True:\n        n += 1\n", entry="spin", name="spin")
    m = measure(spin, [[0]], Config(backend="qemu", repeat=1, budget=50_000_000, timeout=600))
    r = m.inputs[0]
    assert r.status is Status.TIMEOUT and "stopped by the emulator" in r.message, r.message
    assert r.samples[0].wall_ns is None or r.samples[0].wall_ns < 60e9
    assert m.elapsed_s < 60  # the wall-clock backstop (600 s, and 1 s + budget / 1e8) never came into it


def test_a_qemu_measurement_round_trips_through_its_json_document(qemu, tmp_path):
    from measure import Measurement
    m = measure(LOOP, [[100]], Config(backend="qemu", repeat=1))
    m.save(tmp_path / "m.json")
    back = Measurement.load(tmp_path / "m.json")
    assert back.platform == m.platform and back.inputs[0].samples[0].instructions == m.inputs[0].samples[0].instructions


def test_the_shipped_qemu_profile_normalises_qemu_counts_without_being_given(qemu):
    from measure.calibration.normalize import normalize_all
    from measure.calibration.profile import shipped_profiles
    m = measure(LOOP, [[1000]], Config(backend="qemu", repeat=1))
    match = [p for p in shipped_profiles() if p.matches(m.platform)]
    if not match:
        pytest.skip(f"no shipped profile for {m.platform.label()} (the shipped one is for the reference interpreter)")
    assert abs(match[0].fit.factor - 1) < 0.01  # qemu and callgrind count the same work within 1 %
    assert normalize_all([m], [])[0] is not None
