"""A pids cgroup per worker: the only process-count limit that binds root (RLIMIT_NPROC does not).

cgroup v2 (a ``cgroup2`` mount offering the pids controller) or v1 (a ``cgroup`` mount with the
``pids`` option). Where neither can be used (no permission, no controller) the worker runs
without one and the fork-bomb defence is the PID namespace plus the wall-clock timeout.
"""
from __future__ import annotations

import itertools
import os
from functools import lru_cache
from typing import Optional

_counter = itertools.count()


def _mounts():
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, rfields = left.split(), right.split()
                if len(fields) >= 5 and len(rfields) >= 3:
                    yield fields[4], rfields[0], rfields[2]
    except OSError:
        return


@lru_cache(maxsize=None)
def pids_root() -> Optional[str]:
    """A directory under which this process may create cgroups with a pids.max, or None."""
    for point, fstype, opts in _mounts():
        if fstype == "cgroup" and "pids" in opts.split(","):
            if _usable(point):
                return point
        if fstype == "cgroup2":
            try:
                with open(os.path.join(point, "cgroup.controllers")) as f:
                    if "pids" not in f.read().split():
                        continue
                with open(os.path.join(point, "cgroup.subtree_control"), "w") as f:
                    f.write("+pids")
            except OSError:
                continue
            if _usable(point):
                return point
    return None


def _usable(root: str) -> bool:
    probe = os.path.join(root, f"measure-probe-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    try:
        return os.path.exists(os.path.join(probe, "pids.max"))
    finally:
        os.rmdir(probe)


class PidsCgroup:
    """A cgroup limiting a worker and everything it forks to ``limit`` processes (threads included)."""

    def __init__(self, root: str, limit: int):
        self.path = os.path.join(root, f"measure-{os.getpid()}-{next(_counter)}")
        os.mkdir(self.path)
        try:
            with open(os.path.join(self.path, "pids.max"), "w") as f:
                f.write(str(limit))
        except OSError:
            os.rmdir(self.path)
            raise

    @property
    def procs(self) -> str:
        return os.path.join(self.path, "cgroup.procs")

    def close(self) -> None:
        """Remove the cgroup (its processes have been reaped by then)."""
        try:
            os.rmdir(self.path)
        except OSError:
            pass

    @classmethod
    def create(cls, limit: int) -> Optional["PidsCgroup"]:
        root = pids_root()
        if root is None:
            return None
        try:
            return cls(root, limit)
        except OSError:
            return None


def clean_stale_cgroups() -> int:
    """Remove the empty pids cgroups of measure processes that no longer exist (a killed run
    leaves its own); a cgroup that still holds a process cannot be removed and is kept."""
    root = pids_root()
    if root is None:
        return 0
    removed = 0
    for name in os.listdir(root):
        parts = name.split("-")
        if len(parts) != 3 or parts[0] != "measure" or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or os.path.exists(f"/proc/{pid}"):
            continue
        try:
            os.rmdir(os.path.join(root, name))
            removed += 1
        except OSError:
            pass
    return removed
