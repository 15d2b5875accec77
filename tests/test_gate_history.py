"""The history database (SQLite) and change points: series, the commit where a step began, crash
safety under SIGKILL, concurrent writers, and files that are not a history."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from measure.cli import main
from measure.gate.changepoint import change_points
from measure.errors import HistoryError
from measure.gate.history import History
from measure.gate.resultset import BenchResult, ResultSet, save_results
from measure.model import PlatformKey

VG = PlatformKey("valgrind", "x86_64", "Test CPU", "cpython", "3.11.7", "0123456789abcdef", "6.1.0", "0.1.0")


def run_of(**values) -> ResultSet:
    return ResultSet(VG, {n: BenchResult(n, "instructions", ((v, v, v),)) for n, v in values.items()})


def step_series(n=30, step_at=17, low=1_000_000, high=1_020_000):
    return [low if i < step_at else high for i in range(n)]


def fill(path, values, bench="parse", branch="main"):
    with History(path) as h:
        for i, v in enumerate(values):
            h.add_run(run_of(**{bench: v}), f"c{i:03d}", branch, f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00")


def test_a_run_is_recorded_with_its_commit_branch_platform_and_time(tmp_path):
    db = tmp_path / "h.sqlite"
    fill(db, [100, 200])
    with History(db) as h:
        pts = h.series("parse")
    assert [(p.commit, p.branch, p.value, p.platform) for p in pts] == [
        ("c000", "main", 100, VG.label()), ("c001", "main", 200, VG.label())]


def test_series_of_another_platform_are_kept_apart(tmp_path):
    db = tmp_path / "h.sqlite"
    fill(db, [100, 100])
    other = ResultSet(PlatformKey("valgrind", "aarch64", "Other", "cpython", "3.11.7", "f" * 16, "6.1.0", "0.1.0"),
                      run_of(parse=999).benchmarks)
    with History(db) as h:
        h.add_run(other, "c999", "main", "2026-12-01T00:00:00+00:00")
        assert [p.value for p in h.series("parse")] == [999]  # the latest run's platform
        assert [p.value for p in h.series("parse", platform=VG.label())] == [100, 100]


def test_a_step_in_a_noise_free_series_is_found_at_its_first_point():
    cps = change_points(step_series())
    assert [(c.index, round(c.change, 4)) for c in cps] == [(17, 0.02)]


def test_a_flat_series_and_steps_below_the_minimum_have_no_change_point():
    assert change_points([1_000_000] * 30) == []
    assert change_points(step_series(high=1_005_000), min_change=0.01) == []


def test_a_step_in_a_noisy_series_is_found_at_its_first_point():
    rng = np.random.default_rng(0)
    values = [v * rng.normal(1, 0.01) for v in step_series(n=40, step_at=25, high=1_100_000)]
    assert [c.index for c in change_points(values)] == [25]


def test_history_show_reports_the_commit_where_the_step_began(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    fill(db, step_series())
    assert main(["history", "--db", str(db), "show", "parse"]) == 0
    out = capsys.readouterr().out
    assert "1 change point(s)" in out
    assert out.splitlines()[-1].split()[0] == "c017" and "+2.00 %" in out.splitlines()[-1]


def test_history_add_and_list_from_the_command_line(tmp_path, capsys):
    db, results = str(tmp_path / "h.sqlite"), str(tmp_path / "r.json")
    save_results(run_of(a=10, b=20), results)
    assert main(["history", "--db", db, "add", results, "--commit", "abc123", "--branch", "main"]) == 0
    assert main(["history", "--db", db, "list"]) == 0
    out = capsys.readouterr().out
    assert "recorded run 1: 2 benchmarks at abc123" in out and "a" in out.split("last run")[1]


def test_history_show_of_an_unknown_benchmark_is_a_usage_error(tmp_path, capsys):
    fill(tmp_path / "h.sqlite", [1, 2])
    assert main(["history", "--db", str(tmp_path / "h.sqlite"), "show", "nope"]) == 2
    assert "no runs of 'nope'" in capsys.readouterr().err


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError, match="not a usable SQLite database"):
        History(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_another_sqlite_database_is_not_taken_for_a_history(tmp_path):
    con = sqlite3.connect(tmp_path / "other.db")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(HistoryError, match="not a measure history"):
        History(tmp_path / "other.db")


def test_a_history_of_a_newer_schema_is_refused(tmp_path):
    fill(tmp_path / "h.sqlite", [1])
    con = sqlite3.connect(tmp_path / "h.sqlite")
    con.execute("PRAGMA user_version=99")
    con.commit()
    con.close()
    with pytest.raises(HistoryError, match="version 99"):
        History(tmp_path / "h.sqlite")


_WRITER = textwrap.dedent("""
    import sys, time
    from measure.gate.history import History
    from measure.gate.resultset import BenchResult, ResultSet
    from measure.model import PlatformKey
    VG = PlatformKey("valgrind", "x86_64", "Test CPU", "cpython", "3.11.7", "0123456789abcdef", "6.1.0", "0.1.0")

    class Slow(dict):
        # benchmarks that take a while to enumerate: the kill lands inside the run's transaction
        def items(self):
            for i, kv in enumerate(sorted(dict.items(self))):
                if i == len(self) // 2:
                    print("inside", flush=True)
                    time.sleep(60)
                yield kv

    db, name, count, slow = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "slow"
    with History(db) as h:
        for k in range(count):
            benches = {f"b{i}": BenchResult(f"b{i}", "instructions", ((i + k,),)) for i in range(50)}
            h.add_run(ResultSet(VG, Slow(benches) if slow and k == count - 1 else benches),
                      f"{name}-{k}", "main")
            print("committed", k, flush=True)
""")


def _writer(db, name, count, slow=False):
    # cwd away from the checkout: `python -c` puts the cwd first on sys.path, and the source tree's
    # measure/ (without the built extension) must not shadow the installed package
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(db), name, str(count), "slow" if slow else "fast"],
                            stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(db))


def _complete_runs(db):
    with History(db) as h:
        assert h.check() == "ok"
        runs = h.runs()
        for r in runs:
            assert len(h.db.execute("SELECT * FROM results WHERE run_id = ?", (r["id"],)).fetchall()) == 50
        return [r["commit"] for r in runs]


def test_sigkill_inside_a_write_leaves_a_database_with_every_earlier_run(tmp_path):
    db = tmp_path / "h.sqlite"
    p = _writer(db, "w", 4, slow=True)
    lines = []
    for line in p.stdout:
        lines.append(line.strip())
        if line.startswith("inside"):
            break
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert lines == ["committed 0", "committed 1", "committed 2", "inside"]
    assert _complete_runs(db) == ["w-0", "w-1", "w-2"]
    _writer(db, "after", 1).communicate(timeout=120)  # and it takes new runs
    assert _complete_runs(db) == ["w-0", "w-1", "w-2", "after-0"]


def test_sigkill_at_random_moments_never_leaves_a_partial_run(tmp_path):
    db = tmp_path / "h.sqlite"
    rng = np.random.default_rng(0)
    for attempt in range(4):
        p = _writer(db, f"k{attempt}", 1000)
        time.sleep(0.3 + float(rng.uniform(0, 0.4)))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        p.stdout.close()
        _complete_runs(db)  # integrity ok, and every recorded run is whole


def test_concurrent_writers_all_land(tmp_path):
    db = tmp_path / "h.sqlite"
    procs = [_writer(db, name, 10) for name in ("x", "y")]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    commits = _complete_runs(db)
    assert sorted(commits) == sorted([f"{n}-{k}" for n in "xy" for k in range(10)])
