"""Many measurements at once: :class:`Evaluator` runs (program, inputs) jobs in parallel and hands
each result back as soon as it is ready, through futures, an iterator in completion order, or
``asyncio``.

Each job is one :func:`measure.measure` call: its own sandboxed worker, so no candidate ever
sees another's state and a job's counts are exactly what it counts alone (tested). The backend
and interpreter are resolved once for the whole batch (``auto`` picks the same backend for
every job, and its self-test runs once), and at most ``workers`` jobs run at a time, by default
one per core.

A candidate's failure is a status inside its Measurement, never an exception; a problem of the
machine or of the job itself (no backend, an input that cannot be sent) is the typed exception
that :func:`measure.measure` raises, set on that job's future (``JobResult.error`` in
:meth:`Evaluator.map`), and does not stop the other jobs.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

from .backends import select_backend
from .errors import MeasureError
from .model import Config, Measurement, Program
from .platform import resolve_interpreter
from .run import InputLike, WorkerReuse, measure


@dataclass(frozen=True)
class Job:
    """One measurement: ``program`` on ``inputs`` under ``config`` (None: the evaluator's).
    ``key``: anything that identifies the job to the caller (a sample id, a problem name)."""

    program: Program
    inputs: Sequence[InputLike]
    config: Optional[Config] = None
    key: Any = None


@dataclass(frozen=True)
class JobResult:
    """What :meth:`Evaluator.map` yields: the job, its position in the submitted order, and
    either its Measurement or the infrastructure error that prevented it."""

    job: Job
    index: int
    measurement: Optional[Measurement] = None
    error: Optional[BaseException] = None

    @property
    def ok(self) -> bool:
        return self.measurement is not None and self.measurement.ok


class Evaluator:
    """A pool of parallel measurements (see the module docstring).

    ``config``: the default Config of every job; its ``backend`` is resolved once (``auto`` to a
    concrete backend). ``workers``: jobs at once (default: the core count; under ``time`` a job's
    timings are disturbed by the others, so give 1 there when the numbers matter).
    ``progress``: a progress bar with ETA on stderr for :meth:`map`. ``ray``: the address of a Ray
    cluster ("auto": the one this machine belongs to) whose nodes run the jobs, one task each
    (:mod:`measure.scaleout`; a job whose node dies runs again elsewhere); ``workers`` then
    bounds how many are queued at once by :meth:`map`. Each Measurement names the platform of the
    node that counted it: compare counts only within one platform.

    Use it as a context manager, or call :meth:`close`."""

    def __init__(self, config: Optional[Config] = None, *, workers: Optional[int] = None, progress: bool = False,
                 ray: Optional[str] = None):
        config = config or Config()
        interp = resolve_interpreter(config.python)
        backend, self.warnings = select_backend(config.backend, interp.executable)
        self.config = dataclasses.replace(config, backend=backend.name, python=interp.executable)
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.progress = progress
        self._reuse = WorkerReuse()   # each thread keeps its worker between jobs
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="measure-evaluator",
                                        initializer=self._reuse.enter_thread)
        self._task = None
        if ray is not None:
            from .scaleout import remote
            self._task = remote(measure, ray)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def backend(self) -> str:
        """The backend every job uses (``auto`` resolved)."""
        return self.config.backend

    def _config(self, config: Optional[Config]) -> Config:
        if config is None:
            return self.config
        if config.backend not in ("auto", self.config.backend):
            return config  # the caller asked for another backend for this job: honoured as given
        return dataclasses.replace(config, backend=self.config.backend,
                                   python=config.python or self.config.python)

    def submit(self, program: Program, inputs: Sequence[InputLike], config: Optional[Config] = None) -> "Future[Measurement]":
        """Start measuring ``program`` on ``inputs``; the future's result is its Measurement."""
        with self._lock:
            if self._closed:
                raise MeasureError("this Evaluator is closed: make a new one (or use it inside its `with` block)")
            if self._task is not None:
                return self._task.remote(program, list(inputs), self._config(config)).future()
            return self._pool.submit(measure, program, list(inputs), self._config(config))

    def map(self, jobs: Iterable[Union[Job, Sequence[Any]]]) -> Iterator[JobResult]:
        """Measure every job, yielding each result as soon as it is ready (completion order; use
        ``JobResult.index`` for the submitted order). A job is a :class:`Job` or a
        (program, inputs[, config[, key]]) tuple. At most ``2 x workers`` jobs are queued at a
        time, so a generator of jobs is consumed as the work advances."""
        bar = None
        items = iter(jobs)
        pending = {}
        index = 0
        if self.progress:
            from tqdm import tqdm
            total = len(jobs) if hasattr(jobs, "__len__") else None  # type: ignore[arg-type]
            bar = tqdm(total=total, desc="jobs", unit="job", file=sys.stderr, dynamic_ncols=True)
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < 2 * self.workers:
                    try:
                        raw = next(items)
                    except StopIteration:
                        exhausted = True
                        break
                    job = raw if isinstance(raw, Job) else Job(*raw)
                    pending[self.submit(job.program, job.inputs, job.config)] = (job, index)
                    index += 1
                if not pending:
                    return
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    job, i = pending.pop(fut)
                    exc = fut.exception()
                    if bar is not None:
                        bar.update()
                    yield JobResult(job, i, None if exc else fut.result(), exc)
        finally:
            for fut in pending:
                fut.cancel()
            if bar is not None:
                bar.close()

    def measure_all(self, jobs: Iterable[Union[Job, Sequence[Any]]]) -> List[JobResult]:
        """:meth:`map`, collected in the submitted order."""
        return sorted(self.map(jobs), key=lambda r: r.index)

    async def ameasure(self, program: Program, inputs: Sequence[InputLike],
                       config: Optional[Config] = None) -> Measurement:
        """The ``asyncio`` face of :meth:`submit`: await the Measurement (the event loop stays free)."""
        return await asyncio.wrap_future(self.submit(program, inputs, config))

    def close(self, wait_for_jobs: bool = True) -> None:
        """Stop accepting jobs; with ``wait_for_jobs`` false, queued jobs that have not started are
        cancelled (running ones finish: a measurement is never cut in half)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait_for_jobs, cancel_futures=not wait_for_jobs)
        self._reuse.close()

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc) -> None:
        self.close(wait_for_jobs=exc[0] is None)
