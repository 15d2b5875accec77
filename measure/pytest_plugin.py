"""pytest plugin: benchmarks as tests, measured in measure's sandboxed worker, saved and gated.

Registered through the ``pytest11`` entry point, so installing measure is enough::

    def parse(text):
        return text.split(",")

    def test_parse(measure_bench):
        assert measure_bench(parse, "a,b,c") == ["a", "b", "c"]

``measure_bench(fn, *args, **kwargs)`` measures ``fn(*args, **kwargs)`` with the chosen backend (``--measure-backend``,
default ``auto``: instruction counts where a counter works, else timings) and returns its result.
``fn`` must be a top-level function of a module (the worker imports it again; that import is the
uncounted setup); ``args`` are deep-copied for every counted call, so building them in the test
is never counted. Each test is one benchmark named by its node id (so parametrised tests are
separate benchmarks); a test that calls ``measure_bench`` more than once gets ``#2``, ``#3`` ...
suffixes. ``@pytest.mark.measure(tolerance=0.02)`` sets a test's own tolerance.

Under pytest-xdist (``-n``) each worker measures its tests and hands its results to the
controller, which saves and gates them all; a worker that dies is an error, never a silent pass.

Options: ``--measure-save FILE`` records the run's results; ``--measure-autosave`` records them as
the next numbered run in ``.measure/`` (``0001_<commit>.json``, ...); ``--measure-compare FILE``
gates the run against saved results, and ``--measure-compare`` alone against the latest numbered
run: a regression fails the session (exit status 1) and the gate's table is printed in the terminal
summary. Saved results carry the commit and branch (GitHub Actions' variables, else git's).
``--measure-only`` runs only the tests that use ``measure_bench``; ``--measure-skip`` all but them. ``--measure-markdown FILE`` / ``$GITHUB_STEP_SUMMARY`` and
``--measure-junit FILE`` write the CI reports. A test session without ``measure_bench`` is not
affected (the plugin imports nothing heavy until the fixture is used).
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List, Optional

import pytest

from .model import BACKEND_CHOICES

_STATE = pytest.StashKey() if hasattr(pytest, "StashKey") else None
STORE = ".measure"  # numbered runs, relative to pytest's root directory
LATEST = "<latest>"


def numbered_runs(store: str) -> List[str]:
    """The numbered result files in ``store`` (``NNNN_*.json``), oldest first."""
    try:
        names = os.listdir(store)
    except OSError:
        return []
    return [os.path.join(store, n) for n in sorted(names)
            if len(n) > 5 and n[:4].isdigit() and n[4] == "_" and n.endswith(".json")]


def next_run_path(store: str, commit: Optional[str]) -> str:
    """``store/NNNN_<commit>.json``, one past the newest (``NNNN_run`` without a commit)."""
    runs = numbered_runs(store)
    n = int(os.path.basename(runs[-1])[:4]) + 1 if runs else 1
    return os.path.join(store, f"{n:04d}_{(commit or 'run')[:12]}.json")


def vcs_meta(root: str) -> Dict[str, str]:
    """commit and branch of the checkout at ``root`` (as ``measure gate`` finds them), where known."""
    from .gate.vcs import current_branch, current_commit
    meta = {"commit": current_commit(root) or "", "branch": current_branch(root)}
    return {k: v for k, v in meta.items() if v}


def pytest_addoption(parser) -> None:
    from .gate.bench import RunOptions
    d = RunOptions()   # the defaults of every front end: this plugin, `measure gate`, suite files
    g = parser.getgroup("measure", "measure benchmarks (the measure_bench fixture)")
    g.addoption("--measure-save", metavar="FILE", help="save the benchmarks' results to FILE (JSON)")
    g.addoption("--measure-autosave", action="store_true", help=f"save the results as the next numbered run in "
                                                                f"{STORE}/")
    g.addoption("--measure-compare", metavar="FILE", nargs="?", const=LATEST,
                help=f"gate the run against results saved in FILE (alone: the latest run in {STORE}/): a "
                     "regression fails the session")
    g.addoption("--measure-only", action="store_true", help="run only the tests that use measure_bench")
    g.addoption("--measure-skip", action="store_true", help="run every test but those that use measure_bench")
    g.addoption("--measure-backend", default=d.backend, choices=BACKEND_CHOICES,
                help="backend of measure_bench (default auto)")
    g.addoption("--measure-repeat", type=int, metavar="K", help="counted calls per process (default 3; time 5)")
    g.addoption("--measure-processes", type=int, metavar="P", help="worker processes per benchmark (default 1; "
                                                                   "time 20)")
    g.addoption("--measure-python", metavar="PATH", help="measured interpreter (default: this one)")
    g.addoption("--measure-timeout", type=float, default=d.timeout, metavar="SECONDS",
                help=f"limit per counted call (default {d.timeout:g})")
    g.addoption("--measure-tolerance", default="1%", metavar="PCT", help="gate tolerance, counts (default 1%%)")
    g.addoption("--measure-alpha", type=float, default=0.01, help="gate level, time backend (default 0.01)")
    g.addoption("--measure-min-effect", default="5%", metavar="PCT", help="smallest slowdown that fails, time "
                                                                          "backend (default 5%%)")
    g.addoption("--measure-fail-on-improvement", action="store_true", help="an improvement beyond the tolerance "
                                                                           "fails too")
    g.addoption("--measure-markdown", metavar="FILE", help="append the gate's Markdown summary to FILE "
                                                          "(default: $GITHUB_STEP_SUMMARY when set)")
    g.addoption("--measure-junit", metavar="FILE", help="write the gate's verdicts as JUnit XML")


class _State:
    """What one pytest session measured, and its gate."""

    def __init__(self, config):
        self.config = config
        self.parts: List[Any] = []
        self.calls: Dict[str, int] = {}
        self.baseline = None
        self.policy = None
        self.report = None
        self.saved: Optional[str] = None
        self.error: Optional[str] = None
        self.lost: List[str] = []  # xdist workers whose results never arrived

    def option(self, name: str):
        return self.config.getoption(name)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "measure(tolerance=None): options of this test's measure_bench benchmark")
    state = _State(config)
    if _STATE is not None:
        config.stash[_STATE] = state
    else:  # pytest < 7
        config._measure_state = state
    if config.getoption("measure_only") and config.getoption("measure_skip"):
        raise pytest.UsageError("--measure-only and --measure-skip exclude each other: give one")
    path = config.getoption("measure_compare")
    if path == LATEST:
        runs = numbered_runs(os.path.join(str(config.rootpath), STORE))
        if not runs:
            raise pytest.UsageError(f"--measure-compare without a file compares with the latest run in {STORE}/, "
                                    f"and there is none: record one first with --measure-autosave")
        path = runs[-1]
    if path:
        from .errors import MeasureError
        from .fmt import parse_fraction
        from .gate.compare import GatePolicy
        from .gate.resultset import load_results
        try:
            state.policy = GatePolicy(tolerance=parse_fraction(config.getoption("measure_tolerance")),
                                      alpha=config.getoption("measure_alpha"),
                                      min_effect=parse_fraction(config.getoption("measure_min_effect")),
                                      fail_on_improvement=config.getoption("measure_fail_on_improvement"))
            state.baseline = load_results(path, "baseline")
        except (MeasureError, ValueError, argparse.ArgumentTypeError) as exc:  # a bad file or option value
            raise pytest.UsageError(f"--measure-compare: {exc}") from None


def pytest_collection_modifyitems(config, items) -> None:
    only, skip = config.getoption("measure_only"), config.getoption("measure_skip")
    if not (only or skip):
        return
    keep, drop = [], []
    for item in items:
        (keep if ("measure_bench" in getattr(item, "fixturenames", ())) == bool(only) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _state(config) -> _State:
    return config.stash[_STATE] if _STATE is not None else config._measure_state


@pytest.fixture
def measure_bench(request):
    """``measure_bench(fn, *args, **kwargs)``: measure ``fn(*args, **kwargs)`` as this test's benchmark; returns
    its result. Keyword arguments go through a small wrapper in the worker, whose call is counted."""
    state = _state(request.config)
    marker = request.node.get_closest_marker("measure")
    tolerance = marker.kwargs.get("tolerance") if marker else None

    def bench(fn, *args, **kwargs):
        import dataclasses
        from .gate.bench import BenchSpec, RunOptions, program_for, run_benchmarks
        base = request.node.nodeid
        n = state.calls.get(base, 0) + 1
        state.calls[base] = n
        name = base if n == 1 else f"{base}#{n}"
        opts = RunOptions(backend=state.option("measure_backend"), repeat=state.option("measure_repeat"),
                          processes=state.option("measure_processes"), python=state.option("measure_python"),
                          timeout=state.option("measure_timeout"))
        outputs: Dict[str, Any] = {}
        program = program_for(fn, light_pytest=getattr(fn, "__module__", None) == request.module.__name__)
        if kwargs:  # through a wrapper in the worker: its call is counted, the same in every run
            program = dataclasses.replace(program, entry="bench_call", source=program.source +
                                          "def bench_call(args, kwargs):\n    return bench_entry(*args, **kwargs)\n")
            args = (list(args), dict(kwargs))
        rs = run_benchmarks([BenchSpec(name, program, tuple(args), tolerance)], opts, outputs=outputs)
        state.parts.append(rs)
        b = rs.benchmarks[name]
        if not b.ok:
            pytest.fail(f"benchmark {name}: {b.status}: {b.message.strip()[-1500:]}", pytrace=False)
        return outputs.get(name)

    return bench


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist, in the controller: a worker's results join the session's (see the docstring)."""
    state = _state(node.config)
    out = getattr(node, "workeroutput", None) or {}
    if error or "measure" not in out:  # it died before handing over
        name = getattr(getattr(node, "gateway", None), "id", "a worker")
        state.lost.append(f"{name} ({str(error).strip().splitlines()[-1][:200]})" if error else name)
        return
    from .gate.resultset import from_document
    state.parts += [from_document(d, "an xdist worker's results") for d in out["measure"]]


def _hand_over(session, state) -> bool:
    """In an xdist worker: give the controller this worker's results; True if this is one."""
    out = getattr(session.config, "workeroutput", None)
    if out is None:
        return False
    out["measure"] = [rs.to_dict() for rs in state.parts]
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    state = _state(session.config)
    if _hand_over(session, state):
        return
    if state.lost and (state.option("measure_save") or state.baseline is not None):
        state.error = ("pytest-xdist lost the results of " + ", ".join(state.lost) + ": the benchmarks they "
                       "ran are neither saved nor gated. Rerun (without -n if workers keep dying).")
        if session.exitstatus == 0:
            session.exitstatus = 1
    if not state.parts:
        return
    from .errors import MeasureError
    from .gate.compare import check_platforms, compare_sets
    from .gate.report import render_junit, write_markdown, write_text
    from .gate.resultset import merge, save_results
    try:
        rs = merge(state.parts, "measured")
        root = str(session.config.rootpath)
        rs.meta.update({k: v for k, v in vcs_meta(root).items() if k not in rs.meta})
        saves = [state.option("measure_save")] if state.option("measure_save") else []
        if state.option("measure_autosave"):
            os.makedirs(os.path.join(root, STORE), exist_ok=True)
            saves.append(next_run_path(os.path.join(root, STORE), rs.meta.get("commit")))
        for save in saves:
            save_results(rs, save)
        state.saved = ", ".join(saves) or None
        if state.baseline is not None:
            check_platforms(state.baseline, rs)
            state.report = compare_sets(state.baseline, rs, state.policy)
            write_markdown(state.report, state.option("measure_markdown"))
            if state.option("measure_junit"):
                write_text(state.option("measure_junit"), render_junit(state.report))
            if state.report.exit_code and session.exitstatus == 0:
                session.exitstatus = 1
    except MeasureError as exc:
        state.error = str(exc)
        if session.exitstatus == 0:
            session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    state = _state(terminalreporter.config)
    if not state.parts:
        if state.error:
            terminalreporter.section("measure")
            terminalreporter.write_line(f"measure: error: {state.error}", red=True)
        return
    from .fmt import value as fmt_value
    from .gate.report import render_text
    from .gate.resultset import merge
    tr = terminalreporter
    tr.section("measure")
    if state.error:
        tr.write_line(f"measure: error: {state.error}", red=True)
    if state.report is not None:
        for line in render_text(state.report).splitlines():
            tr.write_line(line, red=bool(state.report.exit_code) and line.startswith("gate FAILED"))
    else:
        rs = merge(state.parts, "measured")
        rows = [("benchmark", "median" if rs.deterministic else "mean", "range", "n")]
        for name, b in sorted(rs.benchmarks.items()):
            unit = "instr" if rs.deterministic else "ns"
            vals = b.values
            if not vals:
                rows.append((name, b.status, "", "0"))
                continue
            import statistics
            mid = statistics.median(vals) if rs.deterministic else statistics.mean(vals)
            rows.append((name, fmt_value(mid, unit), f"[{fmt_value(min(vals), unit)} - {fmt_value(max(vals), unit)}]",
                         str(len(vals))))
        tr.write_line(f"backend {rs.backend}  {rs.platform.label()}")
        from .fmt import table
        for line in table(rows, right={1, 3}):
            tr.write_line(line)
    if state.saved:
        tr.write_line(f"results saved to {state.saved}")
