"""The hardware-counter path against a real (emulated) PMU: run inside the arm64 QEMU guest that
``python tests/pmu/run_guest.py`` boots with ``-icount shift=0``, where the Arm PMU counts retired
instructions exactly. On any other machine every test here is skipped.

Each test prints ``PMU-FACT <name> <json>`` lines that the host collects from the console.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile

import pytest

from measure.errors import PerfMultiplexed
from measure.native import PerfGroup, SpawnSpec, run_counted
from measure.sandbox.files import workerlib_path

pytestmark = [
    pytest.mark.pmu_guest,
    pytest.mark.skipif(os.environ.get("MEASURE_PMU_GUEST") != "1",
                       reason="runs only in the arm64 PMU guest: python tests/pmu/run_guest.py"),
]

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, "pmu", "bin")  # cross-compiled by tests/pmu/run_guest.py
N = 1_000_000
SPIN_PER_ITERATION = 2  # mp_spin on arm64: cbz; 1: subs; b.ne 1b; ret (2n + 2 per call)


def fact(name: str, value) -> None:
    sys.stdout.write(f"\nPMU-FACT {name} {json.dumps(value, sort_keys=True)}\n")
    sys.stdout.flush()


@pytest.fixture(scope="module")
def spin():
    lib = ctypes.CDLL(workerlib_path())
    lib.mp_spin.argtypes = [ctypes.c_ulong]
    lib.mp_spin.restype = None
    assert lib.mp_spin_instructions_per_iteration() == SPIN_PER_ITERATION
    lib.mp_spin(1)  # the first ctypes call costs more
    return lib.mp_spin


def count_spin(group: PerfGroup, spin, n: int):
    """Python edges, as in measure's own self-test."""
    group.reset()
    group.enable()
    spin(n)
    group.disable()
    return group.read()


def test_doctor_reports_the_pmu_and_a_passing_self_test():
    from measure.doctor import diagnose
    report = diagnose()
    perf = report["perf"]
    fact("doctor", {"perf_available": perf["available"], "events": perf["hardware"].get("events"),
                    "self_test": perf.get("self_test"), "auto": report["auto"]["backend"],
                    "paranoid": perf["perf_event_paranoid"], "sandbox": report["sandbox"]})
    assert perf["hardware"]["available"] is True
    assert "instructions" in perf["hardware"]["events"]
    st = perf["self_test"]
    # measure's self-test has Python between its edges: a few hundred instructions of noise, within 1 %
    assert st["passed"] is True and st["expected"] == SPIN_PER_ITERATION * 1_000_000
    assert report["auto"]["backend"] == "perf"


def test_each_hardware_event_opens_or_fails_with_a_typed_error():
    from measure.errors import PerfError
    from measure.native import HARDWARE_EVENTS
    opened = {}
    for event in HARDWARE_EVENTS:
        try:
            PerfGroup.open([event]).close()
            opened[event] = "ok"
        except PerfError as exc:
            opened[event] = f"{type(exc).__name__} errno {exc.errno}"
    fact("hardware_events", opened)
    assert opened["instructions"] == "ok" and opened["cycles"] == "ok"


@pytest.fixture(scope="module")
def edges():
    lib = ctypes.CDLL(os.path.join(BIN, "pmu_edges.so"))
    lib.pmu_count_spin.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong]
    return lib.pmu_count_spin


def test_native_group_counts_the_known_loop_exactly_with_c_edges(spin, edges):
    spin_address = ctypes.cast(spin, ctypes.c_void_p).value
    sizes = (N, 2 * N, 4 * N)
    with PerfGroup.open(["instructions", "cycles"]) as g:
        assert edges(g.fds[0], spin_address, 1) == 0  # warm: page in the code
        readings = {n: [] for n in sizes}
        for _ in range(3):
            for n in sizes:
                assert edges(g.fds[0], spin_address, n) == 0
                readings[n].append(g.read())
    counts = {n: [r.values["instructions"] for r in rs] for n, rs in readings.items()}
    constant = {c - SPIN_PER_ITERATION * n for n, cs in counts.items() for c in cs}
    fact("loop", {"n": list(sizes), "counts": {str(n): cs for n, cs in counts.items()},
                  "constant": sorted(constant), "cycles": [r.values["cycles"] for r in readings[N]],
                  "scaled": any(r.scaled for rs in readings.values() for r in rs)})
    assert not any(r.scaled for rs in readings.values() for r in rs)
    assert len(constant) == 1  # every count is 2n + the same constant: exact
    assert 0 < constant.pop() < 100  # the edges' few instructions (ioctl return, call, ret, next ioctl)


def test_python_edges_add_a_few_thousand_instructions_with_a_little_noise(spin):
    with PerfGroup.open(["instructions"]) as g:
        count_spin(g, spin, N)
        over = [count_spin(g, spin, n).values["instructions"] - SPIN_PER_ITERATION * n
                for n in (N, 2 * N) for _ in range(5)]
    fact("python_edges", {"overhead": over})
    assert all(0 < o < 20_000 for o in over)
    assert (max(over) - min(over)) / (SPIN_PER_ITERATION * N) < 0.001


def run_child(n: int, inherit: bool) -> int:
    d = tempfile.mkdtemp()
    spec = SpawnSpec(argv=[os.path.join(BIN, "pmu_child"), str(n)], env={"PATH": "/usr/bin:/bin"}, workdir=d,
                     events=["instructions"], inherit=inherit, enable_on_exec=True)
    w, reading = run_counted(spec, 120)
    assert w.exit_code == 0
    assert not reading.scaled
    return reading.values["instructions"]


def test_exec_child_is_counted_from_exec_and_its_forked_grandchild_through_inherit():
    with_inherit = {n: [run_child(n, inherit=True) for _ in range(2)] for n in (N, 2 * N)}
    without = {n: run_child(n, inherit=False) for n in (N, 2 * N)}
    fact("exec_child", {"inherit": {str(n): v for n, v in with_inherit.items()},
                        "no_inherit": {str(n): v for n, v in without.items()}})
    for counts in with_inherit.values():
        assert counts[0] == counts[1]  # repeatable to the instruction
    assert with_inherit[2 * N][0] - with_inherit[N][0] == SPIN_PER_ITERATION * N  # the grandchild, exactly
    assert without[2 * N] == without[N] < 100_000  # without inherit the grandchild is not counted
    assert with_inherit[N][0] - without[N] > SPIN_PER_ITERATION * N


def test_a_pinned_group_that_cannot_be_scheduled_reads_as_the_multiplexing_error(spin):
    groups = []
    try:
        with pytest.raises(PerfMultiplexed):
            for _ in range(64):  # far more pinned groups than the PMU has counters
                groups.append(PerfGroup.open(["instructions", "cycles"]))
                for g in groups:
                    g.enable()
                spin(1000)
                for g in groups:
                    g.disable()
                    g.read()
        fact("pinned_groups_that_fit", len(groups) - 1)
        assert len(groups) > 1  # at least one pinned group fits
    finally:
        for g in groups:
            g.close()


def test_multiplexing_sets_the_scaled_flag_and_the_estimate_is_within_one_percent(spin, edges):
    n = 50_000_000
    with PerfGroup.open(["instructions"]) as g:
        assert edges(g.fds[0], ctypes.cast(spin, ctypes.c_void_p).value, n) == 0
        truth = g.read().values["instructions"]
    groups = [PerfGroup.open(["instructions", "cycles"], pinned=False) for _ in range(12)]
    try:
        for g in groups:
            g.enable()
        spin(n)
        for g in groups:
            g.disable()
        readings = [g.read() for g in groups]
    finally:
        for g in groups:
            g.close()
    scaled = [r for r in readings if r.scaled]
    errors = [r.estimates["instructions"] / truth - 1 for r in scaled]
    fact("multiplexing", {"truth": truth, "groups": len(groups), "scaled": len(scaled),
                          "running_over_enabled": [round(r.time_running_ns / r.time_enabled_ns, 4)
                                                   for r in readings],
                          "raw": [r.values["instructions"] for r in readings],
                          "estimates": [round(r.estimates["instructions"]) for r in readings],
                          "max_abs_error_pct": round(100 * max(abs(e) for e in errors), 4) if errors else None})
    assert scaled, "12 groups of 2 events did not multiplex: the PMU has more counters than expected"
    assert all(r.time_running_ns < r.time_enabled_ns for r in scaled)
    assert all(abs(e) < 0.01 for e in errors)


def measure_candidate(isolation: str = "best-effort"):
    from measure import Config, Program, measure
    program = Program.from_file(os.path.join(HERE, "pmu", "candidate.py"), entry="tally")
    with open(os.path.join(HERE, "pmu", "candidate_inputs.json")) as f:
        inputs = json.load(f)
    return measure(program, inputs, Config(backend="perf", repeat=3, timeout=120, isolation=isolation))


def test_region_protocol_gives_identical_counts_on_repeat_and_across_workers():
    first, second = measure_candidate(), measure_candidate()
    fact("region", {"backend": first.backend, "warnings": list(first.warnings),
                    "setup": [first.setup.instructions, second.setup.instructions],
                    "inputs": [{"args": r.index, "first": list(r.instructions.values),
                                "second": list(s.instructions.values)}
                               for r, s in zip(first.inputs, second.inputs)]})
    assert first.backend == "perf" and first.ok and second.ok
    for r, s in zip(first.inputs, second.inputs):
        assert r.instructions.min == r.instructions.max  # repeat within one worker: identical
        assert s.instructions.values == r.instructions.values  # a second worker: identical
    assert first.inputs[1].instructions.median > first.inputs[0].instructions.median


def test_strict_isolation_either_works_or_names_what_this_kernel_lacks():
    from measure.errors import SandboxError
    try:
        m = measure_candidate("strict")
    except SandboxError as exc:
        fact("strict_isolation", {"ok": False, "error": str(exc)})
        pytest.fail(f"strict isolation is not available in the guest: {exc}")
    fact("strict_isolation", {"ok": m.ok, "warnings": list(m.warnings),
                              "counts": [list(r.instructions.values) for r in m.inputs]})
    assert m.ok


FORGE_WORK = "def work():\n    s = 0\n    for i in range(100000):\n        s += i * i\n    return s\n"
FORGE_ANSWER = sum(i * i for i in range(100000))


@pytest.mark.parametrize("name, body", [
    ("an end frame inside the call", "import os\ndef f():\n    os.write(3, b'\\0\\0\\0\\x0b{\"t\":\"end\"}')\n"
                                     "    return work()"),
    ("a result frame, then exit", "import json, os\ndef f():\n    r = work()\n"
                                  "    b = json.dumps({'t': 'result', 'i': 0, 'r': 0, 'status': 'ok', 'output': r}).encode()\n"
                                  "    os.write(3, len(b).to_bytes(4, 'big') + b)\n    os._exit(0)"),
])
def test_a_forged_frame_does_not_shorten_a_perf_count(name, body):
    """Under perf a call is counted from its start to its process's exit, so a forged frame cannot
    stop the count early; a call that writes its own result and exits skips, at most, the
    harness's own reporting: less than what an empty call costs (docs/security-model.md)."""
    from measure import Config, Input, Program, Status, measure
    cfg = Config(backend="perf", repeat=1, timeout=120)
    honest = measure(Program(FORGE_WORK + "def f():\n    return work()", "f"), [Input((), FORGE_ANSWER)], cfg)
    empty = measure(Program("def f():\n    return None", "f"), [[]], cfg)
    m = measure(Program(FORGE_WORK + body, "f"), [Input((), FORGE_ANSWER)], cfg)
    bound = empty.inputs[0].instructions.min
    fact("forged_" + name.split()[1], {"honest": honest.inputs[0].instructions.median, "empty_call": bound,
                                       "status": m.inputs[0].status.value,
                                       "count": [s.instructions for s in m.inputs[0].samples]})
    assert honest.inputs[0].status is Status.OK and empty.inputs[0].status is Status.OK
    r = m.inputs[0]
    assert r.status is not Status.OK or r.instructions.min >= honest.inputs[0].instructions.min - bound
