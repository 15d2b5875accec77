"""The history of runs, in one SQLite file (standard library ``sqlite3``).

Each run is keyed by commit, branch, PlatformKey and time, with one row per benchmark (the
value the gate compares: median count, or mean of per-process median times, its range and the
per-process values). Writes are single transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``) in
SQLite's rollback-journal mode with ``synchronous=FULL``: a writer killed at any point (SIGKILL
included) leaves a journal that the next connection rolls back, so the file always opens and
holds every run committed before; the killed writer loses at most its own run. Concurrent
writers wait for each other (busy timeout) instead of failing. The file stays one file (no WAL
side files) so it can be cached between CI runs as is.

Path: ``--db`` on the command line, else ``$MEASURE_HISTORY``, else ``.measure-history.sqlite``
in the current directory.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union


from ..errors import HistoryError, InputFileError
from .resultset import ResultSet, now_utc

SCHEMA_VERSION = 1
DEFAULT_PATH = ".measure-history.sqlite"
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    commit_id TEXT NOT NULL,
    branch TEXT NOT NULL,
    time TEXT NOT NULL,
    platform TEXT NOT NULL,
    platform_label TEXT NOT NULL,
    backend TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    recorded TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    benchmark TEXT NOT NULL,
    metric TEXT NOT NULL,
    status TEXT NOT NULL,
    value REAL,
    low REAL,
    high REAL,
    n INTEGER NOT NULL,
    processes TEXT NOT NULL,
    PRIMARY KEY (run_id, benchmark)
);
CREATE INDEX IF NOT EXISTS results_by_benchmark ON results (benchmark, run_id);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (branch, time, id);
"""



def default_path() -> str:
    return os.environ.get("MEASURE_HISTORY") or DEFAULT_PATH


@dataclass(frozen=True)
class Point:
    """One run's value of one benchmark."""

    run_id: int
    commit: str
    branch: str
    time: str
    platform: str
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    status: str
    metric: str


class History:
    """A history database; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Union[str, Path, None] = None):
        self.path = str(path or default_path())
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path!r} is not a usable SQLite database ({exc}). Give another path with "
                               "--db, or move the file away to start a new history.") from None
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path!r} has history schema version {version}, newer than this engine's "
                               f"{SCHEMA_VERSION}: upgrade measure to read it.")
        if tables - {"sqlite_sequence"} and not {"runs", "results"} <= tables:
            raise HistoryError(f"{self.path!r} is an SQLite database but not a measure history (tables: "
                               f"{', '.join(sorted(tables))}). Give another path with --db.")
        if version < SCHEMA_VERSION:
            def create(c: sqlite3.Connection) -> None:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._write(create)

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _write(self, fn) -> Any:
        """Run ``fn(connection)`` in one immediate transaction: all of it is committed, or none."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"cannot write to the history {self.path!r}: {exc} (another writer held it for "
                               f"{BUSY_TIMEOUT_S:.0f} s, or the file is read-only)") from None
        try:
            out = fn(self.db)
            self.db.execute("COMMIT")
            return out
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def add_run(self, rs: ResultSet, commit: str, branch: str, time: Optional[str] = None,
                deterministic: Optional[bool] = None) -> int:
        """Record one run (every benchmark of ``rs``) in one transaction; returns its id."""
        if not commit:
            raise InputFileError("a history run needs a commit id (--commit, or $GITHUB_SHA)")
        det = rs.deterministic if deterministic is None else deterministic
        when = time or rs.meta.get("time") or now_utc()

        def write(c: sqlite3.Connection) -> int:
            cur = c.execute("INSERT INTO runs (commit_id, branch, time, platform, platform_label, backend, meta, "
                            "recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (commit, branch or "", when, json.dumps(asdict(rs.platform), sort_keys=True),
                             rs.platform.label(), rs.backend, json.dumps(rs.meta, sort_keys=True), now_utc()))
            run_id = cur.lastrowid
            rows = []
            for name, b in sorted(rs.benchmarks.items()):
                vals = b.values
                value = b.center(det)
                low, high = (float(min(vals)), float(max(vals))) if vals else (None, None)
                rows.append((run_id, name, b.metric, b.status, value, low, high, len(vals),
                             json.dumps([list(p) for p in b.processes])))
            c.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return run_id
        return self._write(write)

    def benchmarks(self) -> List[Dict[str, Any]]:
        """Each benchmark with its number of runs and its last commit."""
        q = ("SELECT r.benchmark, COUNT(*), MAX(u.time) FROM results r JOIN runs u ON u.id = r.run_id "
             "GROUP BY r.benchmark ORDER BY r.benchmark")
        return [{"benchmark": b, "runs": n, "last": t} for b, n, t in self.db.execute(q)]

    def runs(self) -> List[Dict[str, Any]]:
        q = "SELECT id, commit_id, branch, time, platform_label FROM runs ORDER BY time, id"
        return [dict(zip(("id", "commit", "branch", "time", "platform"), r)) for r in self.db.execute(q)]

    def platforms(self, benchmark: str, branch: Optional[str] = None) -> List[str]:
        q = ("SELECT u.platform_label, MAX(u.time) AS t FROM results r JOIN runs u ON u.id = r.run_id "
             "WHERE r.benchmark = ? AND (? IS NULL OR u.branch = ?) GROUP BY u.platform_label ORDER BY t DESC")
        return [r[0] for r in self.db.execute(q, (benchmark, branch, branch))]

    def series(self, benchmark: str, branch: Optional[str] = None, platform: Optional[str] = None) -> List[Point]:
        """The benchmark's values in time order (then insertion order), on one platform: ``platform``
        (a label) or, by default, the platform of its latest run. Values of other platforms are
        never mixed into one series."""
        if platform is None:
            plats = self.platforms(benchmark, branch)
            if not plats:
                return []
            platform = plats[0]
        q = ("SELECT u.id, u.commit_id, u.branch, u.time, u.platform_label, r.value, r.low, r.high, r.status, "
             "r.metric FROM results r JOIN runs u ON u.id = r.run_id WHERE r.benchmark = ? "
             "AND (? IS NULL OR u.branch = ?) AND u.platform_label = ? ORDER BY u.time, u.id")
        return [Point(*row) for row in self.db.execute(q, (benchmark, branch, branch, platform))]

    def check(self) -> str:
        """SQLite's integrity check ('ok' when the file is sound)."""
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]


def record(path: Union[str, Path, None], rs: ResultSet, commit: str, branch: str, time: Optional[str] = None) -> int:
    with History(path) as h:
        return h.add_run(rs, commit, branch, time)


def values_of(points: Sequence[Point]) -> List[float]:
    return [p.value for p in points if p.value is not None]
