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
def software_events() -> None:
    if not software_events_available():
        pytest.skip("software perf events are not permitted here (seccomp or perf_event_paranoid)")


@pytest.fixture
def python() -> str:
    return sys.executable
