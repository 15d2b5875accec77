"""The counted region on the deterministic backend of this machine (perf on a PMU, else valgrind):
exact repeats, start-up excluded, linear in the work, and every call from the same state."""
from __future__ import annotations

import numpy as np
import pytest

from measure import Config, Program, Status, measure

LOOP = """
def loop(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s

def empty():
    return None
"""


@pytest.fixture(scope="module")
def cfg(counting_backend):
    return Config(backend=counting_backend, repeat=3, timeout=60)


def counts(result):
    return [s.instructions for s in result.samples]


def test_repeats_of_a_deterministic_call_count_exactly_the_same(cfg):
    m = measure(Program(LOOP, "loop"), [[5000]], cfg)
    assert m.inputs[0].status is Status.OK and m.inputs[0].output == sum(i * i % 7 for i in range(5000))
    c = counts(m.inputs[0])
    if cfg.backend == "valgrind":
        assert len(set(c)) == 1
    else:
        assert max(c) - min(c) <= 0.001 * min(c)


def test_an_empty_function_counts_under_20000_instructions(cfg):
    m = measure(Program(LOOP, "empty"), [[]], cfg)
    assert 0 < m.inputs[0].instructions.median < 20_000


def test_the_count_is_linear_in_the_number_of_iterations(cfg):
    sizes = [1000, 3000, 10_000, 30_000, 100_000]
    m = measure(Program(LOOP, "loop"), [[n] for n in sizes], cfg.__class__(**{**cfg.__dict__, "repeat": 1}))
    y = np.array([r.instructions.median for r in m.inputs])
    slope, intercept = np.polyfit(sizes, y, 1)
    r2 = 1 - ((y - (slope * np.array(sizes) + intercept)) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 > 0.999
    assert slope > 0


CACHED = """
import functools
@functools.cache
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
"""

MEMO = """
_memo = {}
def fib(n):
    if n in _memo:
        return _memo[n]
    r = n if n < 2 else fib(n - 1) + fib(n - 2)
    _memo[n] = r
    return r
"""

FILE_CACHE = """
import os, json
def fib(n):
    if os.path.exists("cache.json"):
        return json.load(open("cache.json"))
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    json.dump(a, open("cache.json", "w"))
    return a
"""

THREAD = """
import threading
state = {"work": 0}
def _bg():
    while True:
        state["work"] += 1
threading.Thread(target=_bg, daemon=True).start()  # started by the module body, runs forever
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
"""


@pytest.mark.parametrize("source", [CACHED, MEMO, FILE_CACHE], ids=["functools.cache", "module memo dict",
                                                                    "file in the working directory"])
def test_nothing_a_call_leaves_behind_makes_a_later_call_cheaper(cfg, source):
    repeated = measure(Program(source, "fib"), [[300]], cfg)
    fresh = measure(Program(source, "fib"), [[300]], cfg.__class__(**{**cfg.__dict__, "repeat": 1}))
    c = counts(repeated.inputs[0])
    assert repeated.inputs[0].status is Status.OK
    if cfg.backend == "valgrind":
        assert c == [c[0]] * 3
        assert fresh.inputs[0].samples[0].instructions == c[0]  # equal to a fresh process's count
    else:
        assert max(c) - min(c) <= 0.001 * min(c)


def test_a_background_thread_of_the_module_does_not_run_beside_the_calls(cfg):
    m = measure(Program(THREAD, "fib"), [[200]], cfg)
    c = counts(m.inputs[0])
    assert m.inputs[0].status is Status.OK
    if cfg.backend == "valgrind":
        assert c == [c[0]] * 3
    else:
        assert max(c) - min(c) <= 0.001 * min(c)


def test_module_execution_is_counted_apart_as_setup(cfg):
    heavy_import = "table = [i * i for i in range(200_000)]\n" + LOOP
    light = measure(Program(LOOP, "loop"), [[100]], cfg)
    heavy = measure(Program(heavy_import, "loop"), [[100]], cfg)
    assert heavy.setup.instructions > light.setup.instructions + 1_000_000
    assert heavy.inputs[0].instructions.median == pytest.approx(light.inputs[0].instructions.median, rel=0.01)


def test_warmup_calls_happen_before_the_counted_call_in_the_same_fork(cfg):
    cold = measure(Program(CACHED, "fib"), [[300]], cfg)
    warm = measure(Program(CACHED, "fib"), [[300]], cfg.__class__(**{**cfg.__dict__, "warmup": 1}))
    # after a warm-up the cache is full: the counted call is a lookup
    assert warm.inputs[0].instructions.median < cold.inputs[0].instructions.median / 10


def test_arguments_are_deep_copied_for_every_call(cfg):
    src = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    m = measure(Program(src, "f"), [[[1, 2, 3]]], cfg)
    assert [m.inputs[0].output] == [4]
    assert all(s.status is Status.OK for s in m.inputs[0].samples)


def test_a_call_over_its_instruction_budget_is_a_timeout_without_a_count(cfg):
    exact = measure(Program(LOOP, "loop"), [[5000]], cfg).inputs[0].samples[0].instructions
    within = measure(Program(LOOP, "loop"), [[5000]], Config(backend=cfg.backend, repeat=1, budget=exact + exact // 100))
    over = measure(Program(LOOP, "loop"), [[5000]], Config(backend=cfg.backend, repeat=1, budget=exact // 2))
    assert within.inputs[0].status is Status.OK
    s = over.inputs[0].samples[0]
    assert (s.status, s.instructions) == (Status.TIMEOUT, None)
    assert f"over the budget of {exact // 2:,}" in s.message


def test_a_budget_stops_the_batch_like_any_failure_when_asked(cfg):
    # the second input is over the budget; with stop_on_failure the third is never run
    m = measure(Program(LOOP, "loop"), [[10], [200_000], [10]],
                Config(backend=cfg.backend, repeat=1, budget=2_000_000, stop_on_failure=True))
    assert [r.status for r in m.inputs] == [Status.OK, Status.TIMEOUT]
