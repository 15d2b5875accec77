"""Shared fixtures. Tests detect what this machine offers and adapt: they never assume the PMU
is absent (some machines of this kind have working counters) nor present."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from measure.errors import PerfError
from measure.native import PerfGroup

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


def opens(events) -> bool:
    try:
        PerfGroup.open(events).close()
        return True
    except PerfError:
        return False


def pmu_available() -> bool:
    return opens(["instructions"])


def software_events_available() -> bool:
    return opens(["task-clock"])


@pytest.fixture(scope="session")
def has_pmu() -> bool:
    return pmu_available()


@pytest.fixture(scope="session")
def counting_backend(has_pmu) -> str:
    """The deterministic backend of this machine: perf on a PMU, else valgrind."""
    if has_pmu:
        return "perf"
    if shutil.which("valgrind") is None:
        pytest.skip("no PMU and no valgrind: no deterministic backend here")
    return "valgrind"


@pytest.fixture(scope="session")
def valgrind() -> str:
    path = shutil.which("valgrind")
    if path is None:
        pytest.skip("valgrind is not installed (`apt-get install valgrind`)")
    return path


@pytest.fixture(scope="session")
def qemu() -> str:
    """The qemu backend, where QEMU user mode runs measure's plugin here; skipped elsewhere."""
    from measure.backends import QemuBackend
    from measure.errors import BackendUnavailable
    try:
        QemuBackend().check()
    except BackendUnavailable as exc:
        pytest.skip(f"the qemu backend is unavailable here: {exc}")
    return "qemu"


@pytest.fixture(scope="session")
def software_events() -> None:
    if not software_events_available():
        pytest.skip("software perf events are not permitted here (seccomp or perf_event_paranoid)")


@pytest.fixture
def python() -> str:
    return sys.executable


# `pytest -m unit`: the pure and in-process tests (mathematics, file formats, the gate, calibration
# fits, the launcher's own checks), about a minute; the default run is the whole suite
UNIT_MODULES = {"test_scores", "test_stats", "test_wire", "test_gate", "test_gate_history", "test_gate_time",
                "test_results", "test_bad_files", "test_calibration", "test_native_perf", "test_sandbox_launcher",
                "test_dispatch", "test_architecture", "test_packaging", "test_rewards", "test_qemu",
                "test_problem_kinds", "test_scores_evalplus_dps", "test_evalplus_adapter", "test_scores_mercury_code",
                "test_mercury_adapter", "test_scores_effibench_counts", "test_effibench_adapter", "test_coffe_files",
                "test_pairs"}
MEASURING_FIXTURES = {"counting_backend", "valgrind", "qemu"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in UNIT_MODULES and not MEASURING_FIXTURES & set(getattr(item, "fixturenames", ())) \
                and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.unit)
