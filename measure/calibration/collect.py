"""Measuring a program set on one platform: the counts a profile is made of.

``collect`` measures every program of a suite (or held-out set), each on its own. Under a
deterministic backend (valgrind, perf) it takes one counted call per program; under ``time`` it
uses the two-level design: ``processes`` workers (each a separate ``measure()`` call, i.e. a fresh
interpreter) times ``repeat`` counted calls, and keeps every value per process. Under valgrind it
also keeps each program's instructions per C function (for the function model), trimmed by
:func:`trim_functions`.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from ..model import BACKENDS, Config, Measurement, PlatformKey, Status, is_deterministic, metric_of
from ..platform import base_environment, resolve_interpreter
from ..run import measure
from ..errors import CalibrationError
from .model import trim_functions
from .programs import CalibrationProgram, as_program



@dataclass(frozen=True)
class ProgramCounts:
    """The counts of one program on one platform.

    values: one list per process of the metric's values (instructions or task-clock ns);
    status: ``ok`` or ``skipped`` (a required module is not importable on this interpreter);
    output: repr of the program's result (the same on every platform for a correct suite).
    bytecodes: bytecodes the call executes on this interpreter (see :mod:`.bytecodes`), or None.
    functions: instructions per C function on this platform (valgrind; see :func:`trim_functions`), or None.
    """

    name: str
    kind: str
    digest: str
    status: str
    values: List[List[int]] = field(default_factory=list)
    output: str = ""
    reason: str = ""
    bytecodes: Optional[int] = None
    functions: Optional[Dict[str, int]] = None

    @property
    def per_process(self) -> List[float]:
        """The median of each process's values."""
        out = []
        for vs in self.values:
            s = sorted(vs)
            k = len(s)
            out.append(float(s[k // 2]) if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2.0)
        return out

    @property
    def count(self) -> Optional[float]:
        """The median of the per-process medians (the exact count under a deterministic backend)."""
        pp = sorted(self.per_process)
        if not pp:
            return None
        k = len(pp)
        return pp[k // 2] if k % 2 else (pp[k // 2 - 1] + pp[k // 2]) / 2.0


@dataclass(frozen=True)
class Collection:
    platform: PlatformKey
    metric: str
    programs: Dict[str, ProgramCounts]
    config: Dict


def importable(python: Optional[str], module: str) -> bool:
    """Whether ``module`` imports in the measured interpreter, run as the worker runs (``-s``)."""
    interp = resolve_interpreter(python)
    try:
        out = subprocess.run([interp.executable, "-s", "-c", f"import {module}"], env=base_environment(),
                             capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def collect(programs: Sequence[CalibrationProgram], *, backend: str = "valgrind", python: Optional[str] = None,
            repeat: Optional[int] = None, processes: Optional[int] = None, timeout: float = 600.0,
            count_bytecodes: bool = True, progress: Optional[Callable[[str], None]] = None,
            tick: Optional[Callable[[], object]] = None) -> Collection:
    """Measure ``programs`` on the platform (backend x interpreter); ``progress`` hears each phase,
    ``tick`` is called after each program's measurement (``processes`` x programs of them, fewer
    for programs skipped for a missing module). Raises CalibrationError when a
    program fails (any status but ok) or the module body of the bundle fails; a program whose
    ``REQUIRES`` modules do not import is recorded as ``skipped`` with the reason."""
    if backend not in BACKENDS:
        raise CalibrationError(f"backend {backend!r} cannot calibrate: choose one of " + ", ".join(BACKENDS) + " "
                               "(auto would pick one silently; name it)")
    metric = metric_of(backend)
    deterministic = is_deterministic(backend)
    repeat = repeat or (1 if deterministic else 5)
    processes = processes or (1 if deterministic else 5)
    missing: Dict[str, str] = {}
    cache: Dict[str, bool] = {}
    for p in programs:
        for mod in p.requires:
            if mod not in cache:
                cache[mod] = importable(python, mod)
            if not cache[mod]:
                missing[p.name] = f"module {mod!r} is not importable by this interpreter"
    run_these = [p for p in programs if p.name not in missing]
    if not run_these:
        raise CalibrationError("no calibration program can run on this interpreter: " + "; ".join(missing.values()))
    config = Config(backend=backend, python=python, repeat=repeat, timeout=timeout, functions=backend == "valgrind")
    runs: Dict[str, List[Measurement]] = {p.name: [] for p in run_these}
    for i in range(processes):
        if progress:
            progress(f"process {i + 1}/{processes}: {len(run_these)} programs under {backend}")
        bad = []
        for p in run_these:
            prog, inp = as_program(p)
            m = measure(prog, [inp], config)
            if tick:
                tick()
            r = m.inputs[0] if m.setup.status is Status.OK else None
            if r is None or r.status is not Status.OK:
                status, message = (r.status, r.message) if r is not None else (m.setup.status, m.setup.message)
                bad.append(f"{p.name}: {status.value} {message.strip().splitlines()[-1][:160] if message else ''}")
            runs[p.name].append(m)
        if bad:
            raise CalibrationError(f"{len(bad)} calibration program(s) failed, so no factor is fitted: {'; '.join(bad)}. "
                                   "Raise --timeout for a slow backend, or fix the interpreter.")
    ops: Dict[str, int] = {}
    bytecode_note = "not counted"
    if count_bytecodes:
        if progress:
            progress(f"bytecodes: {len(run_these)} programs under the tracing hooks")
        from .bytecodes import count_suite
        try:
            ops = count_suite(run_these, python, timeout)
            bytecode_note = "counted"
        except CalibrationError as exc:      # the IPB model is then not fitted; the platform factor still is
            bytecode_note = f"unavailable: {exc}"
    out: Dict[str, ProgramCounts] = {}
    for p in programs:
        if p.name in missing:
            out[p.name] = ProgramCounts(p.name, p.kind, p.digest, "skipped", reason=missing[p.name])
            continue
        results = [m.inputs[0] for m in runs[p.name]]
        vals = [[int(getattr(s, metric)) for s in r.samples if getattr(s, metric) is not None] for r in results]
        out[p.name] = ProgramCounts(p.name, p.kind, p.digest, "ok", vals, repr(results[-1].output)[:200],
                                    bytecodes=ops.get(p.name), functions=trim_functions(results[0].samples[0].functions))
    first = runs[run_these[0].name][0]
    desc = dict(first.config)
    desc["processes"] = processes
    desc["bytecodes"] = bytecode_note
    return Collection(first.platform, metric, out, desc)


def functions_of(program, inputs: Sequence, python: Optional[str] = None, timeout: float = 600.0
                 ) -> List[Optional[Dict[str, int]]]:
    """Per input, the instructions per C function of one call of ``program.entry`` under valgrind
    (None for an input whose call did not succeed): the function model's profile of a candidate
    whose results were measured without ``functions=True``."""
    m = measure(program, inputs, Config(backend="valgrind", python=python, repeat=1, timeout=timeout, functions=True))
    if m.setup.status is not Status.OK:
        raise CalibrationError(f"profiling the program's C functions failed to load it ({m.setup.status.value}): "
                               f"{m.setup.message.strip()[-300:]}")
    return [next((s.functions for s in r.samples if s.status is Status.OK), None) for r in m.inputs]
