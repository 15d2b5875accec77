"""The batch evaluator: many jobs in parallel, each counted exactly as it would be alone, results
streamed as they finish, infrastructure errors kept to their own job."""
from __future__ import annotations

import asyncio

import pytest

from measure import Config, Evaluator, Input, Job, Program, Status, measure
from measure.errors import ConfigError

FAST = Program("def f(n):\n    return sum(range(n))\n", "f", name="fast")
SLOW = Program("def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n", "f", name="slow")
WRONG = Program("def f(n):\n    return -1\n", "f", name="wrong")
CRASH = Program("import os\ndef f(n):\n    os._exit(3)\n", "f", name="crash")
HANG = Program("def f(n):\n    while True:\n        pass\n", "f", name="hang")
MIX = [FAST, SLOW, WRONG, CRASH, HANG, FAST, SLOW]
INPUTS = [Input((3000,), sum(range(3000)))]


@pytest.fixture(scope="module")
def deterministic(request):
    """qemu where it runs (fast), else the machine's counting backend."""
    for name in ("qemu", "counting_backend"):
        try:
            return request.getfixturevalue(name)
        except pytest.skip.Exception:
            continue
    pytest.skip("no deterministic backend here")


def config(backend):
    return Config(backend=backend, repeat=2, timeout=5, budget=5_000_000)


def statuses_and_counts(m):
    r = m.inputs[0]
    return m.setup.status, r.status, tuple(s.instructions for s in r.samples)


def test_a_job_in_a_batch_counts_exactly_what_it_counts_alone(deterministic):
    alone = [statuses_and_counts(measure(p, INPUTS, config(deterministic))) for p in MIX]
    with Evaluator(config(deterministic), workers=2) as ev:
        batch = [statuses_and_counts(r.measurement) for r in ev.measure_all((p, INPUTS) for p in MIX)]
    assert batch == alone
    assert [s[1] for s in batch] == [Status.OK, Status.OK, Status.WRONG_ANSWER, Status.ERROR, Status.TIMEOUT,
                                     Status.OK, Status.OK]


def test_map_yields_every_job_once_with_its_submitted_index(deterministic):
    with Evaluator(config(deterministic), workers=2) as ev:
        results = list(ev.map(Job(p, INPUTS, key=p.name) for p in MIX))
    assert sorted(r.index for r in results) == list(range(len(MIX)))
    assert all(r.job.key == MIX[r.index].name and r.error is None for r in results)


def test_a_job_that_cannot_run_fails_alone_with_its_typed_error(deterministic):
    bad = Job(FAST, [Input((lambda: 0,))])  # an input that cannot be sent to the worker (not picklable)
    with Evaluator(config(deterministic), workers=2) as ev:
        results = ev.measure_all([Job(FAST, INPUTS), bad, Job(SLOW, INPUTS)])
    assert isinstance(results[1].error, ConfigError) and results[1].measurement is None
    assert results[0].ok and results[2].ok


def test_futures_and_asyncio_give_the_same_measurement(deterministic):
    with Evaluator(config(deterministic), workers=2) as ev:
        fut = ev.submit(SLOW, INPUTS)

        async def both():
            return await asyncio.gather(ev.ameasure(SLOW, INPUTS), ev.ameasure(FAST, INPUTS))
        a_slow, a_fast = asyncio.run(both())
        assert statuses_and_counts(fut.result()) == statuses_and_counts(a_slow)
        assert a_fast.ok


def test_auto_is_resolved_once_for_the_whole_batch(deterministic):
    ev = Evaluator(Config(backend="auto"), workers=1)
    ev.close()
    assert ev.backend in ("perf", "qemu", "valgrind", "time")
    with pytest.raises(Exception, match="closed"):
        ev.submit(FAST, INPUTS)
