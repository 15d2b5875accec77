"""Python face of the C extension ``measure._native``: perf_event groups and the sandboxed launcher.

Everything returns plain dataclasses; every errno becomes a typed exception from
:mod:`measure.errors`.
"""
from __future__ import annotations

import errno as _errno
import glob
import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

try:
    from . import _native
except ImportError as exc:  # a source tree imported without its build (python run from the checkout)
    import os as _os
    raise ImportError(
        f"measure's C extension (measure/_native) is not built in {_os.path.dirname(_os.path.abspath(__file__))}: "
        "this is a source tree. Run `pip install -e .` there to build it in place, or run from another "
        "directory so that the installed measure is imported.") from exc
from .errors import MeasureError, SandboxError, perf_error

ffi, lib = _native.ffi, _native.lib


def workerlib_path() -> str:
    """The worker's Python-free shared object (built as ``measure._workerlib``): the fork server,
    the region markers and the known-count loop, loaded by the worker with ctypes from any CPython."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(package, "_workerlib*.so")))
    if not found:
        raise MeasureError(f"measure/_workerlib*.so is missing from {package}: the package was not built. "
                           "Reinstall with `pip install .`.")
    return found[0]


QEMU_PLUGIN = "qemu_icount.so"  # its name in the worker's directory, where the emulator loads it from


def qemu_plugin_path() -> Optional[str]:
    """The qemu backend's TCG plugin (built as ``measure._qemu_icount`` on x86_64 and aarch64
    Linux), or None where it was not built."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(package, "_qemu_icount*.so")))
    return found[0] if found else None

# (type, config) of the events measure knows, perf(1) names. PERF_TYPE_HARDWARE = 0, _SOFTWARE = 1.
EVENTS: Dict[str, Tuple[int, int]] = {
    "instructions": (0, 1),
    "cycles": (0, 0),
    "branches": (0, 4),
    "branch-misses": (0, 5),
    "cpu-clock": (1, 0),
    "task-clock": (1, 1),
    "page-faults": (1, 2),
    "context-switches": (1, 3),
}
HARDWARE_EVENTS = ("instructions", "cycles", "branches", "branch-misses")
SOFTWARE_EVENTS = ("task-clock", "page-faults", "context-switches")

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = {"user": CLONE_NEWUSER, "mount": CLONE_NEWNS, "pid": CLONE_NEWPID, "net": CLONE_NEWNET,
              "ipc": CLONE_NEWIPC, "uts": CLONE_NEWUTS}

STAGES = {1: "clone", 2: "file descriptors", 3: "user namespace id maps", 4: "private mounts",
          5: "bind mount of the working directory", 6: "read-only remount", 7: "/proc mount",
          8: "chdir", 9: "setsid", 10: "setrlimit", 11: "personality(ADDR_NO_RANDOMIZE)",
          12: "release by the parent", 13: "no_new_privs", 14: "seccomp filter", 15: "execve",
          16: "PR_SET_PDEATHSIG", 17: "joining the pids cgroup", 18: "private /dev",
          19: "the call's scratch tmpfs (disk quota)", 20: "dropping to an unprivileged uid",
          21: "exposing the interpreter's directories to the unprivileged worker"}


@dataclass(frozen=True)
class GroupReading:
    """One read of a counter group.

    ``values`` are raw counts; ``estimates`` are ``raw * time_enabled / time_running`` (equal to the
    raw counts unless ``scaled``). ``scaled`` is True when the kernel multiplexed the group
    (``time_running < time_enabled``): such values are estimates and never enter a score.
    Times are in nanoseconds.
    """

    values: Dict[str, int]
    time_enabled_ns: int
    time_running_ns: int
    scaled: bool

    def since(self, earlier: "GroupReading") -> "GroupReading":
        """The counts between two reads of the same group. Needed because a reset does not clear
        what exited inherited children folded into the group (the kernel's child_count)."""
        te = self.time_enabled_ns - earlier.time_enabled_ns
        tr = self.time_running_ns - earlier.time_running_ns
        return GroupReading({k: v - earlier.values.get(k, 0) for k, v in self.values.items()}, te, tr, tr < te)

    @property
    def estimates(self) -> Dict[str, float]:
        if not self.scaled:
            return {k: float(v) for k, v in self.values.items()}
        if self.time_running_ns == 0:
            return {k: float("nan") for k in self.values}
        f = self.time_enabled_ns / self.time_running_ns
        return {k: v * f for k, v in self.values.items()}


def _check_events(events: Sequence[str]) -> List[Tuple[int, int]]:
    if not events:
        raise MeasureError("a counter group needs at least one event")
    if len(events) > 16:
        raise MeasureError(f"a counter group holds at most 16 events, got {len(events)}")
    try:
        return [EVENTS[e] for e in events]
    except KeyError as exc:
        raise MeasureError(f"unknown event {exc.args[0]!r}; known events: {', '.join(EVENTS)}") from None


def parse_group_buffer(data: bytes, events: Sequence[str]) -> GroupReading:
    """Decode a ``PERF_FORMAT_GROUP|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING|ID`` read (with the C parser)."""
    n = len(events)
    words = ffi.new("uint64_t[]", max(1, (len(data) + 7) // 8))
    ffi.memmove(words, data, len(data))
    return _decode(lambda *out: lib.mp_perf_parse_group(words, len(data), n, *out), events, "read")


def _decode(call, events, what) -> GroupReading:
    n = len(events)
    values, ids = ffi.new("uint64_t[]", n), ffi.new("uint64_t[]", n)
    te, tr, scaled = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("int *")
    rc = call(values, ids, te, tr, scaled)
    if rc < 0:
        raise perf_error(-rc, what)
    return GroupReading({e: int(values[i]) for i, e in enumerate(events)}, int(te[0]), int(tr[0]), bool(scaled[0]))


class PerfGroup:
    """A group of perf events read together; the first event leads.

    Open on the calling thread (``pid=0``), on another process (``pid > 0``), or adopt descriptors
    the launcher opened on a child (:meth:`adopt`). Descriptors are close-on-exec and belong to
    this process. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, events: Sequence[str], fds: Sequence[int]):
        self.events = tuple(events)
        self._fds = list(fds)

    @classmethod
    def open(cls, events: Sequence[str], pid: int = 0, cpu: int = -1, *, inherit: bool = False,
             enable_on_exec: bool = False, pinned: bool = True, enabled: bool = False) -> "PerfGroup":
        """Open ``events`` as one group. Raises a :class:`~measure.errors.PerfError` subclass.

        ``pinned`` makes an unschedulable group read as an error instead of silently multiplexing.
        """
        pairs = _check_events(events)
        n = len(pairs)
        types = ffi.new("uint32_t[]", [t for t, _ in pairs])
        configs = ffi.new("uint64_t[]", [c for _, c in pairs])
        fds, ids, failed = ffi.new("int[]", n), ffi.new("uint64_t[]", n), ffi.new("int *")
        rc = lib.mp_perf_open_group(types, configs, n, pid, cpu, int(inherit), int(enable_on_exec),
                                    int(pinned), int(enabled), fds, ids, failed)
        if rc < 0:
            bad = events[failed[0]] if 0 <= failed[0] < n else "group"
            raise perf_error(-rc, f"perf_event_open({bad})")
        return cls(events, [fds[i] for i in range(n)])

    @property
    def fds(self) -> Tuple[int, ...]:
        return tuple(self._fds)

    @property
    def closed(self) -> bool:
        return not self._fds

    def _leader(self) -> int:
        if not self._fds:
            raise MeasureError("the counter group is closed")
        return self._fds[0]

    def _ioctl(self, op: int, what: str) -> None:
        rc = lib.mp_perf_ioctl(self._leader(), op)
        if rc < 0:
            raise perf_error(-rc, what)

    def enable(self) -> None:
        self._ioctl(0, "PERF_EVENT_IOC_ENABLE")

    def disable(self) -> None:
        self._ioctl(1, "PERF_EVENT_IOC_DISABLE")

    def reset(self) -> None:
        self._ioctl(2, "PERF_EVENT_IOC_RESET")

    def read(self) -> GroupReading:
        leader, n = self._leader(), len(self.events)
        return _decode(lambda *out: lib.mp_perf_read_group(leader, n, *out), self.events, "read(perf group)")

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> "PerfGroup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # a forgotten group must not leak descriptors
        try:
            self.close()
        except Exception:
            pass


@dataclass(frozen=True)
class SpawnSpec:
    """What the launcher runs and how it isolates it (see :func:`spawn`)."""

    argv: Sequence[str]
    env: Mapping[str, str]
    workdir: str
    inner_dir: Optional[str] = None
    namespaces: int = 0
    ro_mounts: Sequence[Tuple[str, int]] = ()
    mount_proc: bool = True
    no_aslr: bool = True
    no_new_privs: bool = True
    seccomp: bool = True
    rlimits: Sequence[Tuple[int, int]] = ()
    stdin_fd: int = -1
    stdout_fd: int = -1
    stderr_fd: int = -1
    keep_fds: Sequence[int] = ()
    cgroup_procs: Optional[str] = None
    events: Sequence[str] = ()
    inherit: bool = True
    enable_on_exec: bool = True
    pinned: bool = True
    run_uid: int = -1            # >= 0: the child drops to this uid (and run_gid) before exec
    run_gid: int = -1
    private_dev: bool = False    # a fresh read-only /dev with null, zero, full, random, urandom
    scratch_dir: Optional[str] = None  # a size-limited tmpfs mounted here (inside path)
    scratch_bytes: int = 0
    socket_policy: int = 0       # 0 any family, 1 AF_INET/AF_INET6 only, 2 none (socketpair only)
    expose: Sequence[Tuple[str, str]] = ()  # (cover, path): see measure_native.h
    bind: Optional[Tuple[str, str]] = None  # (host directory, inside path), read-only


@dataclass
class Child:
    """A launched child: its pid (in our PID namespace), the counter group opened on it, warnings."""

    pid: int
    own_pid_namespace: bool
    group: Optional[PerfGroup]
    warnings: List[str] = field(default_factory=list)
    result: Optional["WaitResult"] = None  # set once the child has been reaped
    last_reading: Optional[GroupReading] = None  # the perf backend's previous cumulative read


@dataclass(frozen=True)
class WaitResult:
    """How a child ended. ``maxrss_bytes`` is the peak resident set of the largest process waited for."""

    exit_code: Optional[int]
    signal: Optional[int]
    timed_out: bool
    maxrss_bytes: int
    user_s: float
    system_s: float


def spawn(spec: SpawnSpec) -> Child:
    """Fork, isolate (before exec, in C), open ``spec.events`` on the child, release it, exec.

    Raises :class:`~measure.errors.SandboxError` when a set-up step fails in the child, and a
    :class:`~measure.errors.PerfError` when the counters cannot be opened.
    """
    keep = []  # cffi buffers must outlive the call
    def cstr(s: str):
        b = ffi.new("char[]", os.fsencode(s))
        keep.append(b)
        return b

    def cstrv(items: Sequence[str]):
        arr = ffi.new("char *[]", [cstr(x) for x in items] + [ffi.NULL])
        keep.append(arr)
        return arr

    null_devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        s = ffi.new("struct mp_spawn_spec *")
        s.path = cstr(spec.argv[0])
        s.argv = cstrv(spec.argv)
        s.envp = cstrv([f"{k}={v}" for k, v in spec.env.items()])
        s.workdir = cstr(spec.workdir)
        s.inner_dir = cstr(spec.inner_dir) if spec.inner_dir else ffi.NULL
        s.ns_flags = spec.namespaces
        s.map_uid, s.map_gid = os.getuid(), os.getgid()
        ro_paths = ffi.new("char *[]", [cstr(p) for p, _ in spec.ro_mounts] or [ffi.NULL])
        ro_flags = ffi.new("unsigned long[]", [f for _, f in spec.ro_mounts] or [0])
        keep += [ro_paths, ro_flags]
        s.ro_mounts, s.ro_flags, s.n_ro = ro_paths, ro_flags, len(spec.ro_mounts)
        s.mount_proc, s.no_aslr = int(spec.mount_proc), int(spec.no_aslr)
        s.no_new_privs, s.seccomp = int(spec.no_new_privs), int(spec.seccomp)
        res_ = ffi.new("int[]", [r for r, _ in spec.rlimits] or [0])
        val_ = ffi.new("uint64_t[]", [v for _, v in spec.rlimits] or [0])
        keep += [res_, val_]
        s.n_rlimits, s.rl_resource, s.rl_value = len(spec.rlimits), res_, val_
        s.stdin_fd = spec.stdin_fd if spec.stdin_fd >= 0 else null_devnull
        s.stdout_fd = spec.stdout_fd if spec.stdout_fd >= 0 else null_devnull
        s.stderr_fd = spec.stderr_fd if spec.stderr_fd >= 0 else null_devnull
        kf = ffi.new("int[]", list(spec.keep_fds) or [0])
        keep.append(kf)
        s.keep_fds, s.n_keep = kf, len(spec.keep_fds)
        s.cgroup_procs = cstr(spec.cgroup_procs) if spec.cgroup_procs else ffi.NULL
        pairs = _check_events(spec.events) if spec.events else []
        types = ffi.new("uint32_t[]", [t for t, _ in pairs] or [0])
        configs = ffi.new("uint64_t[]", [c for _, c in pairs] or [0])
        keep += [types, configs]
        s.n_events, s.ev_types, s.ev_configs = len(pairs), types, configs
        s.ev_inherit, s.ev_enable_on_exec, s.ev_pinned = int(spec.inherit), int(spec.enable_on_exec), int(spec.pinned)
        s.run_uid, s.run_gid, s.private_dev = spec.run_uid, spec.run_gid, int(spec.private_dev)
        s.scratch_dir = cstr(spec.scratch_dir) if spec.scratch_dir else ffi.NULL
        s.scratch_bytes, s.socket_policy = spec.scratch_bytes, spec.socket_policy
        covers = ffi.new("char *[]", [cstr(c) for c, _ in spec.expose] or [ffi.NULL])
        paths = ffi.new("char *[]", [cstr(p) for _, p in spec.expose] or [ffi.NULL])
        keep += [covers, paths]
        s.expose_cover, s.expose_path, s.n_expose = covers, paths, len(spec.expose)
        s.bind_src = cstr(spec.bind[0]) if spec.bind else ffi.NULL
        s.bind_dst = cstr(spec.bind[1]) if spec.bind else ffi.NULL
        r = ffi.new("struct mp_spawn_result *")
        rc = lib.mp_spawn(s, r)
    finally:
        os.close(null_devnull)
    if r.counter_errno:
        idx = r.counter_failed_index
        bad = spec.events[idx] if 0 <= idx < len(spec.events) else "group"
        raise perf_error(r.counter_errno, f"perf_event_open({bad}) on the child")
    if rc < 0 or r.error_stage:
        stage = STAGES.get(r.error_stage, f"stage {r.error_stage}")
        err = r.error_errno or -rc
        hint = _stage_hint(r.error_stage, err)
        raise SandboxError(f"could not start {spec.argv[0]!r}: {stage} failed: {os.strerror(err)}. {hint}")
    warnings = [f"sandbox step '{STAGES.get(st, st)}' failed ({os.strerror(e)}); continuing without it"
                for st, e in zip(list(r.warn_stage)[: r.n_warn], list(r.warn_errno)[: r.n_warn])]
    group = PerfGroup(spec.events, [r.counter_fds[i] for i in range(len(pairs))]) if pairs else None
    return Child(int(r.pid), bool(spec.namespaces & CLONE_NEWPID), group, warnings)


def _stage_hint(stage: int, err: int) -> str:
    if stage == 15:
        return "Check that the interpreter path exists and is executable."
    if stage == 1 and err in (_errno.EPERM, _errno.EINVAL, _errno.ENOSPC):
        return "Namespaces are not permitted here: run with isolation='best-effort' to go on without them."
    if stage == 10:
        return "A resource limit is above the hard limit of this process: lower it in the Config."
    if stage == 14:
        return "This kernel refused the seccomp filter: set Config(seccomp=False) to run without it."
    return "Run `measure doctor` to see which isolation features this machine allows."


def wait(child: Child, timeout_s: Optional[float]) -> WaitResult:
    """Wait for ``child`` and every process in its PID namespace; kill the tree after ``timeout_s``.
    Waiting again for a reaped child returns the same result."""
    if child.result is not None:
        return child.result
    r = ffi.new("struct mp_wait_result *")
    ms = -1 if timeout_s is None else max(0, int(timeout_s * 1000))
    rc = lib.mp_wait(child.pid, ms, int(child.own_pid_namespace), r)
    if rc < 0:
        raise OSError(-rc, f"waiting for pid {child.pid}: {os.strerror(-rc)}")
    child.result = WaitResult(r.exit_code if r.exited else None, r.term_signal if r.signaled else None,
                              bool(r.timed_out), int(r.maxrss_kb) * 1024, float(r.utime_s), float(r.stime_s))
    return child.result


def run_counted(spec: SpawnSpec, timeout_s: Optional[float]) -> Tuple[WaitResult, Optional[GroupReading]]:
    """Child mode: launch ``spec`` with its events opened on the child (``enable_on_exec``: counted
    from exec), wait for it and every descendant (timeout: kill the tree), then read the group.

    The read comes after the whole tree has exited, so every inherited count is folded in.
    """
    child = spawn(spec)
    try:
        result = wait(child, timeout_s)
        return result, child.group.read() if child.group is not None else None
    finally:
        if child.group is not None:
            child.group.close()


def kill_tree(child: Child) -> None:
    """SIGKILL the child and, through its PID namespace (or session), everything it started."""
    if child.result is None:  # never signal a pid that may have been reused
        lib.mp_kill_tree(child.pid, int(child.own_pid_namespace))


def probe_namespaces(flags: int) -> int:
    """0 if a child can get the namespaces in ``flags`` (mapping its ids in a user namespace), else -errno."""
    return int(lib.mp_probe_namespaces(flags, os.getuid(), os.getgid()))
