"""Measure named benchmarks into a result set, through measure() (sandboxed worker, chosen backend).

A benchmark is a program's entry point called with one argument list. Benchmarks of the same
program share a worker (one ``measure()`` call with several inputs); every counted call still runs
in a fresh fork, and the module body is counted apart as setup, never in a benchmark's count.

Processes x calls: deterministic backends (valgrind, perf) run one process of ``repeat`` calls
(default 3: the counts repeat exactly, the repeats only show that they do); the time backend runs
``processes`` worker processes (default 20, as pyperf) of ``repeat`` calls each (default 5), interleaving the
programs process by process, so that a drift of the machine spreads over all benchmarks alike.
"""
from __future__ import annotations

import inspect
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigError
from ..model import Config, Input, Measurement, Program
from .resultset import BenchResult, ResultSet, from_measurement, merge, now_utc

DEFAULT_REPEAT = {"time": 5}
DEFAULT_PROCESSES = {"time": 20}


@dataclass(frozen=True)
class BenchSpec:
    """One benchmark: ``program.entry(*args)``, named ``name``; ``tolerance`` overrides the gate's default."""

    name: str
    program: Program
    args: Tuple[Any, ...]
    tolerance: Optional[float] = None


@dataclass(frozen=True)
class RunOptions:
    """backend: auto, perf, valgrind or time; repeat: calls per process (None: 3, or 10 for time);
    processes: worker processes per benchmark (None: 1, or 10 for time); python: the measured
    interpreter; timeout: seconds per call under the backend; jobs: programs measured at once
    (deterministic backends only: parallel timings would disturb each other)."""

    backend: str = "auto"
    repeat: Optional[int] = None
    processes: Optional[int] = None
    python: Optional[str] = None
    timeout: float = 60.0
    jobs: int = 1
    meta: Dict[str, str] = field(default_factory=dict)


def resolve_backend(name: str, python: Optional[str]) -> Tuple[str, List[str]]:
    """The concrete backend ``auto`` picks here (after its self-test), and its warnings."""
    from ..backends import select_backend
    from ..platform import resolve_interpreter
    backend, warnings = select_backend(name, resolve_interpreter(python).executable)
    return backend.name, list(warnings)


def run_benchmarks(specs: Sequence[BenchSpec], options: RunOptions = RunOptions(),
                   progress: Optional[Callable[[str], None]] = None,
                   outputs: Optional[Dict[str, Any]] = None) -> ResultSet:
    """Measure every benchmark; a candidate's failure becomes the benchmark's status, never an exception.
    ``outputs``, if given, receives each benchmark's return value (of its first ok call) by name."""
    if not specs:
        raise ConfigError("no benchmarks to measure")
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"benchmark names must be unique; repeated: {', '.join(dup)}")
    backend, warnings = resolve_backend(options.backend, options.python)
    repeat = options.repeat or DEFAULT_REPEAT.get(backend, 3)
    processes = options.processes or DEFAULT_PROCESSES.get(backend, 1)
    if repeat < 1 or processes < 1:
        raise ConfigError("repeat and processes must be >= 1")
    config = Config(backend=backend, python=options.python, repeat=repeat, timeout=options.timeout)
    groups: Dict[Tuple[str, str, str], List[BenchSpec]] = {}
    for s in specs:
        groups.setdefault((s.program.source, s.program.entry, s.program.name), []).append(s)
    from ..run import measure

    def one(group: List[BenchSpec]) -> ResultSet:
        m: Measurement = measure(group[0].program, [Input(tuple(s.args), name=s.name) for s in group], config)
        benches = from_measurement(m, names={i: s.name for i, s in enumerate(group)})
        if outputs is not None:
            for r in m.inputs:
                outputs.setdefault(group[r.index].name, r.output)
        for i, s in enumerate(group):
            if s.tolerance is not None:
                b = benches[s.name]
                benches[s.name] = BenchResult(b.name, b.metric, b.processes, b.status, b.message, s.tolerance)
        if progress:
            progress(", ".join(s.name for s in group))
        return ResultSet(m.platform, benches, {"warnings": "; ".join(m.warnings)} if m.warnings else {})

    parts: List[ResultSet] = []
    jobs = 1 if backend == "time" else max(1, options.jobs)
    for _ in range(processes):
        if jobs == 1:
            parts += [one(g) for g in groups.values()]
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                parts += list(pool.map(one, groups.values()))
    merged = merge(_by_platform(parts), "measured")
    meta = {"time": now_utc(), "repeat": str(repeat), "processes": str(processes)}
    meta.update(options.meta)
    if warnings:
        meta["warnings"] = "; ".join(warnings)
    return ResultSet(merged.platform, merged.benchmarks, meta)


def _by_platform(parts: List[ResultSet]) -> List[ResultSet]:
    """Result sets of one run share a platform; a group with several benchmarks merges cleanly."""
    out: List[ResultSet] = []
    for p in parts:
        for i, q in enumerate(out):
            if q.platform == p.platform and not set(q.benchmarks) & set(p.benchmarks):
                out[i] = ResultSet(q.platform, {**q.benchmarks, **p.benchmarks}, q.meta)
                break
        else:
            out.append(p)
    return out


# --- programs from Python callables (the pytest plugin) -----------------------------------------

# Loading a test module in the worker must not import pytest itself: under valgrind that import
# alone takes about 20 s (measured here). Until the module asks for anything but its decorators,
# ``pytest`` is a stand-in whose ``mark.*``, ``fixture`` and ``param`` leave functions unchanged;
# any other attribute imports the real pytest. Only the uncounted setup is affected.
_LIGHT_PYTEST = """
class _Inert:
    def __getattr__(self, name):
        return _Inert()
    def __call__(self, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return _Inert()
class _LightPytest(type(sys)):
    def __getattr__(self, name):
        if name in ("mark", "fixture", "param", "yield_fixture"):
            return _Inert()
        import importlib
        del sys.modules["pytest"]
        real = importlib.import_module("pytest")
        return getattr(real, name)
sys.modules.setdefault("pytest", _LightPytest("pytest"))
"""


def _readable_by_others(path: str) -> bool:
    return bool(os.stat(path).st_mode & 0o005 == 0o005)


def program_for(fn: Callable[..., Any], search_path: Optional[Sequence[str]] = None,
                light_pytest: bool = False) -> Program:
    """A Program whose entry point is ``fn``, found again in the worker by import.

    The worker imports ``fn``'s module by name (with the caller's sys.path) or, failing that, loads
    its file, then looks the function up by qualified name: so ``fn`` must be defined at the top
    level of a module or class (not a lambda or a nested function), and the module's import is the
    uncounted setup. Raises ConfigError otherwise, naming the remedy. ``light_pytest``: the module
    is a test module; its ``import pytest`` gets a stand-in until more than decorators is used.
    """
    fn = inspect.unwrap(fn)
    qual = getattr(fn, "__qualname__", None)
    modname = getattr(fn, "__module__", None)
    if not callable(fn) or not qual or not modname:
        raise ConfigError(f"measure_bench needs a function defined in a module, got {fn!r}")
    if "<" in qual:
        raise ConfigError(f"measure_bench cannot measure {qual!r}: a lambda or nested function cannot be found "
                          "again in the sandboxed worker. Define it at the top level of a module.")
    module = sys.modules.get(modname)
    path = getattr(module, "__file__", None)
    if modname == "__main__" and not path:
        raise ConfigError("measure_bench cannot measure a function of an interactive __main__: put it in a file")
    paths = [p for p in (search_path if search_path is not None else sys.path) if p]
    source = "\n".join([
        "# generated by measure.gate: import the benchmarked function (this module body is the setup)",
        "import sys",
        f"sys.path[:0] = [p for p in {paths!r} if p not in sys.path]",
        _LIGHT_PYTEST if light_pytest else "",
        "def _load():",
        "    import importlib, importlib.util",
        "    try:",
        f"        if {modname!r} == '__main__':",
        "            raise ImportError",
        f"        return importlib.import_module({modname!r})",
        "    except ImportError:",
        f"        if {path!r} is None:",
        "            raise",
        f"        spec = importlib.util.spec_from_file_location({modname!r}.replace('.', '_'), {path!r})",
        "        mod = importlib.util.module_from_spec(spec)",
        "        spec.loader.exec_module(mod)",
        "        return mod",
        "bench_entry = _load()",
        f"for _part in {qual.split('.')!r}:",
        "    bench_entry = getattr(bench_entry, _part)",
        "",
    ])
    home = os.path.dirname(os.path.abspath(path)) if path else None
    if home and os.getuid() == 0 and not _readable_by_others(home):
        raise ConfigError(f"the sandboxed worker runs as the unprivileged user nobody and cannot read {home!r} "
                          f"(mode {os.stat(home).st_mode & 0o777:o}), where {modname!r} lives: make it readable "
                          f"(`chmod o+rx {home}`, and o+r on its files) or run measure as a non-root user")
    reads = paths + ([home] if home else [])
    return Program(source, "bench_entry", name=f"{modname}.{qual}",
                   paths=tuple(os.path.realpath(p) for p in reads if os.path.isdir(p)))
