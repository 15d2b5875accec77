"""Reading callgrind's output: the region total and the instructions per C function."""
from __future__ import annotations

import sys

import pytest

from measure import Config, Measurement, Program, measure
from measure.backends.callgrind import function_key, parse
from measure.backends.timer import TimeBackend
from measure.errors import ConfigError

# A dump in callgrind's format, written for these tests: compressed names, a call whose inclusive
# cost line must not count as the caller's own, a sub-position line, and code without a symbol.
DUMP = b"""version: 1
creator: callgrind-3.19.0
cmd:  python3 -S worker.py
part: 2
desc: Trigger: Client Request: measure-call
events: Ir
ob=(1) /usr/lib/libpython3.11.so.1.0
fl=(1) Objects/listobject.c
fn=(1) list_contains
0 400
cfn=(2) PyObject_RichCompareBool
calls=500 0
0 1500
+3 100
fn=(2)
0 1500
ob=(2) /usr/lib/python3.11/lib-dynload/_json.so
fn=(3) 0x0000000000004a10
0 70
fn=(4) 0x0000000000004b20
0 30
ob=(1)
fn=(5) list_contains'2
0 7
summary: 2107
totals: 2107
"""


def test_self_cost_excludes_the_inclusive_cost_of_calls_and_pools_recursion_levels():
    d = parse(DUMP)
    assert d.functions["list_contains [libpython3.11.so.1.0]"] == 507
    assert d.functions["PyObject_RichCompareBool [libpython3.11.so.1.0]"] == 1500


def test_trigger_and_total_come_from_the_header_and_summary():
    d = parse(DUMP, functions=False)
    assert (d.trigger, d.total, d.functions) == ("measure-call", 2107, {})


def test_self_costs_add_up_to_the_total():
    assert sum(parse(DUMP).functions.values()) == 2107


def test_unnamed_code_in_a_shared_object_is_pooled_because_its_address_moves():
    assert parse(DUMP).functions["? [_json.so]"] == 100


def test_unnamed_code_in_a_fixed_address_executable_keeps_its_address(tmp_path):
    exe = tmp_path / "python3.11"
    exe.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (2).to_bytes(2, "little") + b"\0" * 46)
    pie = tmp_path / "pie"
    pie.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (3).to_bytes(2, "little") + b"\0" * 46)
    assert function_key("0x0000000000568bf0", str(exe)) == "0x0000000000568bf0 [python3.11]"
    assert function_key("0x0000000000568bf0", str(pie)) == "? [pie]"
    assert function_key("list_contains", str(pie)) == "list_contains [pie]"


SCAN = Program("def f(n):\n    items = list(range(1000, 1500))\n    return sum(1 for q in range(n) if q in items)\n", "f")


def test_functions_are_recorded_per_call_and_repeat_exactly(valgrind):
    m = measure(SCAN, [[40]], Config(backend="valgrind", repeat=2, functions=True))
    a, b = m.inputs[0].samples
    assert a.functions == b.functions and a.instructions == b.instructions
    assert abs(sum(a.functions.values()) - a.instructions) <= 1e-5 * a.instructions


def test_functions_are_absent_unless_asked_for(valgrind):
    m = measure(SCAN, [[4]], Config(backend="valgrind", repeat=1))
    assert m.inputs[0].samples[0].functions is None
    assert "functions" not in m.inputs[0].samples[0].to_dict()


def test_functions_need_the_valgrind_backend():
    with pytest.raises(ConfigError, match="valgrind"):
        Config(backend="time", functions=True)
    with pytest.raises(ConfigError, match="valgrind"):
        measure(SCAN, [[4]], Config(backend="auto", functions=True, python=sys.executable), backend=TimeBackend())


def test_recorded_functions_survive_a_results_file(valgrind, tmp_path):
    m = measure(SCAN, [[4]], Config(backend="valgrind", repeat=1, functions=True))
    m.save(tmp_path / "r.json")
    back = Measurement.load(tmp_path / "r.json")
    assert back.inputs[0].samples[0].functions == m.inputs[0].samples[0].functions
    assert back.config["functions"] is True
