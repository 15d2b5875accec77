"""The one public call: program + inputs + config -> Measurement."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import threading
import time
from typing import Any, Iterable, List, Optional, Sequence, Union

from .backends import Backend, select_backend
from .errors import ConfigError
from .model import Config, Input, InputResult, Measurement, Program, Sample, Status, budget_needs_counts
from .platform import platform_key, resolve_interpreter
from . import wire
from .sandbox.policy import facts, plan_isolation
from .sandbox.session import Job, Record, WorkerPool, run_job, use_pool
from .sandbox.files import worker_hash  # noqa: F401  (core API: what caches of counts key on)

InputLike = Union[Input, Sequence[Any]]


class WorkerReuse:
    """Worker reuse for the threads of a pool: a thread that called :meth:`enter_thread` (give it
    as a ThreadPoolExecutor's ``initializer``) keeps its emulator's worker between measurements
    of the same platform and limits, instead of starting one per measure() (valgrind: 1.7 s,
    qemu: 1 s). A count does not change: every job starts in a process forked from the worker's
    same state. :meth:`close` ends every kept worker (after the executor's shutdown)."""

    def __init__(self):
        self._pools: List[WorkerPool] = []
        self._lock = threading.Lock()

    def enter_thread(self) -> None:
        pool = WorkerPool()
        with self._lock:
            self._pools.append(pool)
        use_pool(pool)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for p in pools:
            p.close()


def _as_input(x: InputLike, i: int) -> Input:
    if isinstance(x, Input):
        return x
    if isinstance(x, (list, tuple)):
        return Input(tuple(x))
    raise ConfigError(f"input #{i} is a {type(x).__name__}: give an Input or a list of positional arguments")


def _sample(rec: Record) -> Sample:
    c = rec.counts
    return Sample(status=rec.status, instructions=c.instructions, cycles=c.cycles, branches=c.branches,
                  branch_misses=c.branch_misses,
                  task_clock_ns=c.task_clock_ns if c.task_clock_ns is not None else rec.cpu_ns,
                  wall_ns=rec.wall_ns, peak_rss_bytes=rec.rss_bytes, scaled=c.scaled, message=rec.message,
                  functions=c.functions)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _check(sample: Sample, rec: Record, inp: Input, config: Config) -> Sample:
    """Checks an ok output against the expected one, in the parent; a mismatch is wrong_answer."""
    if sample.status is not Status.OK or not inp.has_expected:
        return sample
    checker = config.checker or _equal
    try:
        good = checker(rec.output, inp.expected)
    except Exception as exc:  # a broken checker is the caller's bug: say so on the sample
        return dataclasses.replace(sample, status=Status.ERROR,
                                   message=f"the checker raised {type(exc).__name__}: {exc}")
    if good:
        return sample
    return dataclasses.replace(sample, status=Status.WRONG_ANSWER,
                               message=f"expected {inp.expected!r:.200}, got {rec.output!r:.200}")


def measure(program: Program, inputs: Iterable[InputLike], config: Optional[Config] = None,
            *, backend: Optional[Backend] = None) -> Measurement:
    """Count ``program.entry`` on every input, ``config.repeat`` times each.

    Every counted call runs in a fresh fork of the loaded worker (so memo tables, caches and
    files of one call never reach another); the module body is counted once, as ``setup``.
    Candidates' failures become statuses; problems of the machine or the configuration raise
    :class:`~measure.errors.MeasureError` subclasses. ``backend`` overrides ``config.backend``
    with a configured instance (e.g. ``PerfBackend(events=[...])``).

    Edge cases: an empty input list measures only the setup; a timed-out input is not repeated
    and has no count (right-censored).
    """
    config = config or Config()
    items = [_as_input(x, i) for i, x in enumerate(inputs)]
    encoded = []
    for i, inp in enumerate(items):
        try:
            encoded.append(wire.encode_value(list(inp.args), allow_pickle=True))
        except Exception as exc:
            raise ConfigError(f"input #{i} cannot be sent to the worker: {exc}. Inputs must be plain data "
                              "or picklable.") from None
    interp = resolve_interpreter(config.python)
    warnings: List[str] = []
    if backend is None:
        # instructions per C function: only callgrind attributes them, so auto means valgrind then
        wanted = "valgrind" if config.functions and config.backend == "auto" else config.backend
        backend, warnings = select_backend(wanted, interp.executable)
    else:
        backend.check()
    if config.budget is not None and backend.min_rate is None:
        raise ConfigError(budget_needs_counts(backend.name))
    if config.functions and backend.name != "valgrind":
        raise ConfigError(f"functions=True needs the valgrind backend, and {backend.name!r} was chosen: "
                          "pass backend='valgrind' (--backend valgrind)")
    isolation = plan_isolation(strict=config.isolation == "strict")
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.monotonic()
    outcome = run_job(Job(program.source, program.entry, encoded, config, backend, interp, isolation,
                           program.paths))
    setup_rec = outcome.setup or Record(Status.ERROR, "the worker ended before measuring the setup")
    setup = _sample(setup_rec)
    results = []
    for i, inp in enumerate(items):
        if setup.status is not Status.OK:
            results.append(InputResult(i, inp.name, setup.status, (), None, f"setup failed: {setup.message}"))
            continue
        recs = [outcome.calls[(i, r)] for r in range(config.repeat) if (i, r) in outcome.calls]
        if not recs and config.stop_on_failure:
            continue  # not reached: an earlier input failed
        samples = tuple(_check(_sample(rec), rec, inp, config) for rec in recs)
        bad = next((s for s in samples if s.status is not Status.OK), None)
        first_ok = next((rec for rec in recs if rec.has_output), None)
        results.append(InputResult(i, inp.name, bad.status if bad else Status.OK, samples,
                                   first_ok.output if first_ok else None, bad.message if bad else ""))
    return Measurement(program=program.name, entry=program.entry, platform=platform_key(backend.name, interp, backend.dispatch()),
                       config=config.describe(), setup=setup, inputs=tuple(results),
                       warnings=tuple(warnings + outcome.warnings), started=started,
                       elapsed_s=round(time.monotonic() - t0, 3),
                       isolation=facts(isolation, backend.mode, config.disk))
