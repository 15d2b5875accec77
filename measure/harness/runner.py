"""What every adapter shares: a measuring session (backend, platform, cache, cost summary), the
resumable parallel loop over problems, and the run's identity (file hashes).

An adapter supplies, per problem, a function that measures its references and scores its pending
samples; the loop runs problems in parallel (up to the core count: deterministic backends allow it),
appends each sample's record to the JSONL store as it completes and drives the progress bar.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..backends import Backend
from ..entry import SCRIPT_ENTRY
from ..errors import InputFileError
from ..model import Config, Measurement, Program, Status, metric_of
from ..platform import platform_key, resolve_interpreter
from ..run import WorkerReuse, measure
from .. import wire
from ..stats import hodges_lehmann
from .cache import MeasurementCache, job_key
from .inputs import InputCode, arguments
from .store import ResultStore

Aggregate = Callable[[Sequence[float]], float]


@dataclass
class Session:
    """Everything shared by the problems of one run.

    ``aggregate`` turns one input's k counted calls into its cost (ENAMEL: Hodges-Lehmann over its
    6 repetitions; COFFE: the mean of 12 runs without min and max; EvalPerf: the mean of 1 round).
    On a deterministic backend k = 1 and every aggregate is the count itself."""

    backend: Backend
    python: Optional[str]
    cache: Optional[MeasurementCache]
    repeat: int = 1
    aggregate: Aggregate = hodges_lehmann
    measured: int = field(default=0, init=False)  # jobs measured in this session
    cached: int = field(default=0, init=False)    # jobs answered from the cache

    def __post_init__(self):
        self.interpreter = resolve_interpreter(self.python)
        self.platform = platform_key(self.backend.name, self.interpreter, self.backend.dispatch())

    @property
    def metric(self) -> str:
        """The Sample field that is the cost: instructions, or task-clock ns on the time backend."""
        return metric_of(self.backend.name)

    def measure(self, program: Program, cases: Sequence[Any], timeout: float, stop_on_failure: bool = False,
                budget: Optional[int] = None, where: str = "") -> Measurement:
        """Measure ``program`` on ``cases`` (each a wire-encoded argument list or an
        :class:`~measure.harness.inputs.InputCode`, evaluated here only when measured);
        deterministic backends go through the cache (a hit is reused only if every call was ok
        within ``timeout`` and ``budget``, :attr:`Config.budget`). ``where`` names the cases in errors."""
        cfg = Config(backend=self.backend.name, python=self.python, repeat=self.repeat, timeout=timeout,
                     stop_on_failure=stop_on_failure, budget=budget)
        key = job_key(program, [c.key() if isinstance(c, InputCode) else c for c in cases], cfg, self.platform)
        cacheable = self.cache is not None and self.backend.deterministic
        if cacheable:
            hit = self.cache.get(key, timeout, budget)
            if hit is not None:
                self.cached += 1
                return hit
        script = program.entry == SCRIPT_ENTRY
        inputs = [arguments(c, script, f"{where} input {i}") if isinstance(c, InputCode)
                  else list(wire.decode_value(c, trusted=True)) for i, c in enumerate(cases)]
        m = measure(program, inputs, cfg, backend=self.backend)
        self.measured += 1
        if cacheable:
            self.cache.put(key, m)
        return m

    def cost(self, samples) -> Optional[float]:
        """The input's cost from its ok samples (None when none is ok)."""
        vals = [getattr(s, self.metric) for s in samples if s.status is Status.OK and getattr(s, self.metric) is not None]
        return self.aggregate(vals) if vals else None


def run_pending(store: ResultStore, pending: Dict[Any, List[int]],
                score_problem: Callable[[Any, List[int]], Iterable[Dict[str, Any]]],
                jobs: Optional[int], progress: bool) -> None:
    """Score every pending sample, problems in parallel: ``score_problem(problem, samples)`` yields one
    record per sample (with its ``key``), each appended to the store the moment it exists, so a killed
    run loses at most the samples in flight."""
    bar = progress_bar(sum(len(v) for v in pending.values()), progress)

    def run(problem) -> None:
        for rec in score_problem(problem, pending[problem]):
            store.append(rec)
            bar.update(1)

    reuse = WorkerReuse()   # each thread keeps its worker from problem to problem, sample to sample
    try:
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, initializer=reuse.enter_thread) as pool:
            for fut in [pool.submit(run, p) for p in pending]:
                fut.result()
    finally:
        reuse.close()
        bar.close()


def pending_samples(store: ResultStore, wanted: Iterable[Tuple[Any, int]]) -> Dict[Any, List[int]]:
    """Samples not yet in the store, grouped by problem in order."""
    done = store.keys()
    out: Dict[Any, List[int]] = {}
    for p, s in wanted:
        if f"{p}/{s}" not in done:
            out.setdefault(p, []).append(s)
    return out


def file_sha256(path: str) -> str:
    """The SHA-256 of a file; of a folder (a benchmark's dataset folder), of its files' relative
    paths and digests in sorted order."""
    if os.path.isdir(path):
        h = hashlib.sha256()
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode() + b"\0" + bytes.fromhex(file_sha256(full)))
        return h.hexdigest()
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            h.update(f.read())
    except OSError as exc:
        raise InputFileError(f"cannot read {path!r}: {exc.strerror}") from None
    return h.hexdigest()


def progress_bar(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="samples", unit="sample", disable=not enabled, smoothing=0.05)
