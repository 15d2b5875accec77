"""Isolation of the worker: which namespaces this machine grants, read-only mounts, rlimits."""
from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Tuple

from ..errors import SandboxError
from ..native import NAMESPACES, probe_namespaces

# Where the private working directory appears inside the mount namespace: one fixed path, so that
# the worker's cwd (which leaks into counts) is the same in every run. The directory on the host is
# only a mount point and stays empty; concurrent runs each bind their own directory onto it in
# their own namespace.
INNER_DIR = "/tmp/.measure-sandbox"
WANTED = ("pid", "net", "mount", "ipc", "uts")
_MS = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21}
_SKIP_PREFIXES = ("/proc", "/dev")  # fresh /proc; a fresh /dev (or the host's, without a mount namespace)
NOBODY = 65534  # the worker's user when measure runs as root: no capabilities, owns nothing of the host


@dataclass(frozen=True)
class Isolation:
    """The namespaces a worker gets here, and what could not be had."""

    namespaces: int
    granted: Tuple[str, ...]
    missing: Tuple[str, ...]
    ro_mounts: Tuple[Tuple[str, int], ...]

    def has(self, name: str) -> bool:
        return name in self.granted

    def warnings(self) -> List[str]:
        if not self.missing:
            return []
        consequences = {
            "pid": "a descendant that calls setsid() can outlive its call; the count may miss orphans",
            "net": "the candidate can open network connections",
            "mount": "the candidate can write outside its working directory (where permissions allow), "
                     "and the working directory's path varies between runs",
            "ipc": "System V IPC is shared with the host",
            "uts": "the candidate can see the host name",
            "user": "namespaces need root or unprivileged user namespaces",
        }
        return [f"no {n} namespace here: {consequences[n]}" for n in self.missing]


def _unescape(path: str) -> str:
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def read_only_mounts() -> Tuple[Tuple[str, int], ...]:
    """Every mount point but /proc and device nodes, with the flags a read-only bind remount must keep."""
    seen, out = set(), []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return (("/", 0),)
    for line in lines:
        fields = line.split()
        if len(fields) < 6:
            continue
        point = _unescape(fields[4])
        if point in seen or point.startswith(_SKIP_PREFIXES):
            continue
        seen.add(point)
        flags = sum(_MS.get(o, 0) for o in fields[5].split(","))
        out.append((point, flags))
    out.sort(key=lambda pf: pf[0].count("/"))
    return tuple(out)


@lru_cache(maxsize=None)
def _probe(strict: bool) -> Isolation:
    user = os.getuid() != 0
    base = NAMESPACES["user"] if user else 0
    wanted = [NAMESPACES[n] for n in WANTED]
    if probe_namespaces(base | sum(wanted)) == 0:
        granted = list(WANTED)
    else:
        granted = [n for n in WANTED if probe_namespaces(base | NAMESPACES[n]) == 0]
        if user and not granted:
            base = 0
    missing = [n for n in WANTED if n not in granted]
    if user and base == 0:
        missing.append("user")
    flags = base | sum(NAMESPACES[n] for n in granted)
    if base:
        granted.insert(0, "user")
    if "mount" in granted and not _mount_point():
        granted.remove("mount")
        missing.append("mount")
        flags &= ~NAMESPACES["mount"]
    iso = Isolation(flags, tuple(granted), tuple(missing),
                    read_only_mounts() if "mount" in granted else ())
    if strict and missing:
        raise SandboxError("strict isolation was asked for, but this machine does not grant: "
                           + "; ".join(iso.warnings())
                           + ". Remedy: run as root, enable unprivileged user namespaces "
                             "(`sysctl kernel.unprivileged_userns_clone=1`), or use isolation='best-effort'.")
    return iso


def _mount_point() -> bool:
    try:
        os.makedirs(INNER_DIR, mode=0o755, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(INNER_DIR)


def plan_isolation(strict: bool = False) -> Isolation:
    """Probe (once per process) which namespaces a child can get; strict: raise if any is missing."""
    return _probe(strict)


def rlimits(memory: int | None, output_limit: int, cpu_seconds: float, under_valgrind: bool) -> List[Tuple[int, int]]:
    """Limits applied before exec. Under valgrind the address-space limit is not applied:
    valgrind reserves large address ranges for itself; the data limit is used instead. A value
    above this process's hard limit is lowered to it (only root may raise a hard limit)."""
    out = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, output_limit),
        (resource.RLIMIT_NOFILE, 1024),
        (resource.RLIMIT_CPU, int(math.ceil(cpu_seconds))),
    ]
    if memory is not None:
        out.append((resource.RLIMIT_DATA if under_valgrind else resource.RLIMIT_AS, memory))
    if os.getuid() != 0:  # ignored for root; counts every process of the user
        out.append((resource.RLIMIT_NPROC, _user_processes() + 256))
    hard = {r: resource.getrlimit(r)[1] for r, _ in out}
    return [(r, v if hard[r] == resource.RLIM_INFINITY else min(v, hard[r])) for r, v in out]


def _user_processes() -> int:
    uid, n = os.getuid(), 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                n += os.stat(f"/proc/{d}").st_uid == uid
            except OSError:
                pass
    return n


def run_ids(iso: "Isolation") -> Tuple[int, int]:
    """(uid, gid) the worker drops to before exec: nobody when measure runs as root with a mount
    namespace (which exposes the interpreter to it, :func:`exposures`), else (-1, -1): an
    unprivileged user already (inside a user namespace its own files stay writable to it), or
    root without a mount namespace (say so: :meth:`Isolation.warnings`)."""
    return (NOBODY, NOBODY) if os.getuid() == 0 and iso.has("mount") else (-1, -1)


def _traversable(path: str, uid: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return True  # not there: nothing to expose
    if st.st_uid == uid:
        return bool(st.st_mode & 0o100)
    return bool(st.st_mode & 0o001)


def exposures(paths, uid: int) -> List[Tuple[str, str]]:
    """(cover, path) pairs for the launcher: each directory in ``paths`` that ``uid`` cannot reach
    because an ancestor denies it traversal (the interpreter under /root) is bound back below an
    empty tmpfs over that ancestor. Paths below an exposed one need nothing more."""
    out: List[Tuple[str, str]] = []
    for path in sorted(set(paths)):
        if any(path == p or path.startswith(p.rstrip("/") + "/") for _, p in out):
            continue
        parts = path.strip("/").split("/")
        ancestors = ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]
        blocked = [a for a in ancestors if not _traversable(a, uid)]
        if blocked:
            out.append((blocked[0], path))
    return out


def facts(iso: Isolation, mode: str, disk: int) -> Dict[str, str]:
    """What a candidate measured under ``iso`` could reach, and how its count is protected, in
    words (recorded in every Measurement and printed by ``measure doctor``). ``mode``: the
    backend's region mode (valgrind, perf, time); ``disk``: the per-call quota in bytes."""
    uid, _ = run_ids(iso)
    mounted = iso.has("mount")
    if uid >= 0:
        user = f"nobody ({uid}): no capabilities, reads what any user may, writes only its call's directory"
    elif os.getuid() != 0:
        user = f"this user ({os.getuid()}), in a user namespace: it can write what this user can where mounts allow"
    else:
        user = "root with every capability (no mount namespace here to run it as nobody)"
    if mode == "valgrind":
        count = ("callgrind; every client request and each process's collected total checked in valgrind's log"
                 + (", sealed (root's) before the candidate runs" if uid >= 0 else
                    ", which the candidate's user could rewrite: not tamper-evident") + "; canary call per worker")
    elif mode == "qemu":
        count = ("QEMU user mode on a fixed emulated CPU, counted by measure's plugin; every region marker and "
                 "each region's count in the plugin's log" + (", sealed (root's) before the candidate runs" if uid >= 0
                 else ", which the candidate's user could reopen: not tamper-evident") + "; a call that uses the "
                 "log's descriptor or execs is killed; not a boundary against code that writes the emulator's memory")
    elif mode == "perf":
        count = ("counters owned by the parent, enabled at the call's start and until its process has exited; "
                 "a call that reports for itself can skip at most an empty call's count")
    else:
        count = "the worker's own clocks: self-reported, not tamper-evident"
    return {
        "user": user,
        "dev": "private, read-only: null zero full, and random urandom reading zeros" if mounted else "the host's /dev",
        "network": ("an empty network namespace; socket(): AF_INET/AF_INET6 only" if iso.has("net")
                    else "the host's network: socket() refused"),
        "disk": (f"a {disk // 1024**2} MiB tmpfs per call, emptied before the next" if mounted
                 else "a host directory emptied before each call, no quota"),
        "processes": "a call may not start processes or threads (seccomp)",
        "randomness": ("fixed: getrandom() answers ENOSYS and /dev/(u)random read zeros, so os.urandom, "
                       "random.Random(), secrets, uuid4 and numpy draw the same numbers in every run; the global "
                       "random is seeded 0 before the module body and each call"
                       if mounted else "Python's global random is seeded 0 before the module body and each call; "
                       "os.urandom and the generators seeded from it draw from the host (no private /dev here)"),
        "count": count,
    }
