"""The CPU the measured process sees: under valgrind, valgrind's own, whatever the host."""
from __future__ import annotations

import platform

import pytest

from measure import Config, Program, measure
from measure.backends.base import host_dispatch
from measure.backends.valgrind import ValgrindBackend
from measure.dispatch import describe

x86 = pytest.mark.skipif(platform.machine() != "x86_64", reason="CPUID is an x86 instruction")


def table(**leaves):
    """A CPUID of leaves given as (eax, ebx, ecx, edx); every other leaf answers zeros."""
    def cpuid(leaf, sub):
        return leaves.get(f"l{leaf:x}_{sub}", leaves.get(f"l{leaf:x}", (0, 0, 0, 0)))
    return cpuid


VENDOR = (0xD, 0x756E6547, 0x6C65746E, 0x49656E69)  # max leaf 13, "GenuineIntel"


def test_the_level_is_the_highest_whose_every_feature_is_present():
    v2 = dict(l0=VENDOR, l1=(0, 0, (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 23), 0),
              l80000000=(0x80000001, 0, 0, 0), l80000001=(0, 0, 1, 0))
    assert describe(table(**v2)).startswith("x86-64-v2 GenuineIntel  #")
    # without popcnt (leaf 1 ecx bit 23) it is no longer v2
    v1 = dict(v2, l1=(0, 0, (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20), 0))
    assert describe(table(**v1)).startswith("x86-64-v1 ")


def test_cpus_that_differ_in_a_cache_size_are_told_apart():
    base = dict(l0=VENDOR, l4_0=(0x121, 0x01C0003F, 63, 0))
    other = dict(base, l4_0=(0x121, 0x01C0003F, 127, 0))  # twice the sets
    assert describe(table(**base)) != describe(table(**other))


def test_the_apic_id_of_the_core_does_not_enter_the_description():
    a = dict(l0=VENDOR, l1=(0x306C3, 0x00000800, 0, 0))
    b = dict(l0=VENDOR, l1=(0x306C3, 0x07000800, 0, 0))  # leaf 1 ebx[31:24]: the core's APIC id
    assert describe(table(**a)) == describe(table(**b))


@x86
def test_under_valgrind_the_process_sees_valgrinds_cpu_not_the_hosts(valgrind):
    seen = ValgrindBackend(valgrind).dispatch()
    assert seen != host_dispatch()
    if host_dispatch() >= "x86-64-v3":  # VEX's AVX2 table, whatever the host's vendor and caches
        assert seen.startswith("x86-64-v3 GenuineIntel Intel(R) Core(TM) i7-4910MQ CPU @ 2.90GHz #")


def test_a_measurement_records_the_cpu_its_process_saw(counting_backend):
    m = measure(Program("def f():\n    return 1\n", "f"), [[]], Config(backend=counting_backend, repeat=1))
    expected = ValgrindBackend().dispatch() if counting_backend == "valgrind" else host_dispatch()
    assert m.platform.dispatch == expected
