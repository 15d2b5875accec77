"""The parent's side of the worker protocol: launch the sandboxed worker, answer its region
signals, read the backend's counts, enforce deadlines, restart after a killed call.

Nothing a candidate produces is evaluated here: frames are parsed strictly (wire.py) and a
malformed one ends the worker with ``sandbox_violation`` for the call in flight.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..backends.base import Backend, Counts
from ..errors import SandboxError, WorkerProtocolError
from ..model import Config, Status
from ..native import Child, SpawnSpec, kill_tree, spawn, wait
from ..platform import Interpreter, base_environment
from . import wire
from .cgroup import PidsCgroup
from .files import install_worker
from .policy import INNER_DIR, Isolation, rlimits

STARTUP_SECONDS = 120.0  # interpreter (and valgrind) start-up, before the job's own deadlines
PROTOCOL_GRACE = 0.5     # fork, copying the input and reporting around one call
MAX_PROCESSES = 256      # pids.max of a worker's cgroup (processes and threads), where cgroups allow


@dataclass
class Record:
    """What the parent learnt about one region."""

    status: Status
    message: str = ""
    counts: Counts = field(default_factory=Counts)
    wall_ns: Optional[int] = None
    cpu_ns: Optional[int] = None
    rss_bytes: Optional[int] = None
    output: Any = None
    has_output: bool = False


@dataclass
class Outcome:
    setup: Optional[Record] = None
    calls: Dict[Tuple[int, int], Record] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    workers: int = 0


@dataclass
class Job:
    source: str
    entry: str
    inputs: List[Any]          # encoded with wire.encode_value(allow_pickle=True)
    config: Config
    backend: Backend
    interpreter: Interpreter
    isolation: Isolation


def _tail(path: str, n: int = 2000) -> str:
    """The last ``n`` bytes of a file as text ("" if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _death_record(exit_code: Optional[int], sig: Optional[int], tail: str) -> Record:
    """A call that ended its process without reporting a result."""
    extra = f"\noutput (last lines):\n{tail}" if tail else ""
    if sig is not None:
        if sig == signal.SIGXCPU:
            return Record(Status.TIMEOUT, "CPU time limit exceeded (SIGXCPU)" + extra)
        if sig == signal.SIGXFSZ:
            return Record(Status.SANDBOX_VIOLATION, "output limit exceeded (SIGXFSZ)" + extra)
        if sig == signal.SIGSYS:
            return Record(Status.SANDBOX_VIOLATION, "killed by the seccomp filter (SIGSYS)" + extra)
        return Record(Status.CRASHED, f"killed by {_signal_name(sig)}" + extra)
    return Record(Status.ERROR, f"the candidate ended its process without returning (exit code {exit_code}, "
                                f"e.g. os._exit){extra}")


class _Worker:
    """One launched worker process and its pipes."""

    def __init__(self, job: Job, start: Tuple[int, int]):
        self.job = job
        self.workdir = tempfile.mkdtemp(prefix="measure-")
        self.child: Optional[Child] = None
        self.cgroup: Optional[PidsCgroup] = None
        self.reader = wire.FrameReader()
        self.pending: List[dict] = []
        self.up_r = self.down_w = -1
        try:
            self._launch(start)
        except BaseException:
            self.close()
            raise

    def _launch(self, start: Tuple[int, int]) -> None:
        job, cfg = self.job, self.job.config
        install_worker(self.workdir)
        inside = INNER_DIR if job.isolation.has("mount") else self.workdir
        up_r, up_w = os.pipe()
        down_r, down_w = os.pipe()
        log = os.open(os.path.join(self.workdir, "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        env = dict(base_environment(), HOME=inside, TMPDIR=inside)
        argv = job.backend.command(job.interpreter, ["-s", "-B", "worker.py"], inside)
        self.cgroup = PidsCgroup.create(MAX_PROCESSES)
        cpu = (cfg.timeout * (1 + cfg.warmup)) * 2 + 60
        spec = SpawnSpec(
            argv=argv, env=env, workdir=self.workdir,
            inner_dir=INNER_DIR if job.isolation.has("mount") else None,
            namespaces=job.isolation.namespaces, ro_mounts=job.isolation.ro_mounts,
            mount_proc=job.isolation.has("pid"), no_aslr=True, no_new_privs=True, seccomp=cfg.seccomp,
            rlimits=rlimits(cfg.memory, cfg.output_limit, cpu, job.backend.mode == "valgrind"),
            stdout_fd=log, stderr_fd=log, keep_fds=[up_w, down_r],
            cgroup_procs=self.cgroup.procs if self.cgroup else None,
            events=job.backend.events if job.backend.mode == "perf" else (),
            inherit=True, enable_on_exec=False, pinned=True)
        try:
            self.child = spawn(spec)
        finally:
            os.close(up_w)
            os.close(down_r)
            os.close(log)
        self.up_r, self.down_w = up_r, down_w
        wire.send(down_w, {"t": "job", "source": job.source, "filename": "candidate.py", "entry": job.entry,
                           "mode": job.backend.mode, "inputs": job.inputs, "repeat": cfg.repeat,
                           "warmup": cfg.warmup, "start": list(start)})

    def next_frame(self, deadline: float) -> Optional[dict]:
        """The next frame; None at EOF; raises TimeoutError past ``deadline`` (monotonic seconds)."""
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.up_r], [], [], left)
            if not ready:
                continue
            data = os.read(self.up_r, 1 << 16)
            if not data:
                return None
            self.pending.extend(self.reader.feed(data))
        return self.pending.pop(0)

    def ack(self, byte: bytes) -> None:
        os.write(self.down_w, byte)

    def take_call_output(self, k: int) -> str:
        """The end of what call k printed; then its directory (moved aside by the worker) is deleted."""
        d = os.path.join(self.workdir, "trash", str(k))
        text = _tail(os.path.join(d, "out.txt"))
        shutil.rmtree(d, ignore_errors=True)
        return text

    def log_tail(self) -> str:
        return _tail(os.path.join(self.workdir, "worker.log"))

    def close(self) -> None:
        if self.child is not None:
            kill_tree(self.child)
            wait(self.child, None)
            if self.child.group is not None:
                self.child.group.close()
            self.child = None
        for fd in (self.up_r, self.down_w):
            if fd >= 0:
                os.close(fd)
        self.up_r = self.down_w = -1
        if self.cgroup is not None:
            self.cgroup.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run_job(job: Job) -> Outcome:
    """Measure the module body once and every (input, repeat) call, restarting the worker after
    a call that had to be killed. A timed-out input is not repeated (its count is censored)."""
    out = Outcome(warnings=list(job.isolation.warnings()))
    start = (0, 0)
    n_inputs = len(job.inputs)
    while True:
        worker = _Worker(job, start)
        out.workers += 1
        for w in worker.child.warnings:
            if w not in out.warnings:
                out.warnings.append(w)
        try:
            resume = _drive(worker, job, start, out)
        finally:
            worker.close()
        if resume is None or resume[0] >= n_inputs:
            return out
        start = resume


def _next(pos: Tuple[int, int], k: int) -> Tuple[int, int]:
    return (pos[0], pos[1] + 1) if pos[1] + 1 < k else (pos[0] + 1, 0)


def _drive(worker: _Worker, job: Job, start: Tuple[int, int], out: Outcome) -> Optional[Tuple[int, int]]:
    """Run one worker to its end. Returns where a new worker must resume, or None when done."""
    cfg, backend, child = job.config, job.backend, worker.child
    k = cfg.repeat
    per_call = cfg.timeout * (1 + cfg.warmup) + PROTOCOL_GRACE
    deadline = time.monotonic() + STARTUP_SECONDS
    phase = "startup"          # startup -> setup -> calls
    pos = start                # the call in flight during "calls"
    worker_pid = 1
    result: Optional[dict] = None
    in_region = False
    served = 0                 # index of the call in flight among this worker's forks

    def fail_current(rec: Record, skip_input: bool) -> Optional[Tuple[int, int]]:
        if phase != "calls":
            out.setup = rec
            return None
        out.calls[pos] = rec
        backend.discard(child, worker.workdir, -1)  # perf: resynchronise the cumulative reading
        if cfg.stop_on_failure:
            return None
        return (pos[0] + 1, 0) if skip_input else _next(pos, k)

    while True:
        try:
            msg = worker.next_frame(deadline)
        except TimeoutError:
            kill_tree(child)
            limit = STARTUP_SECONDS if phase == "startup" else per_call - PROTOCOL_GRACE
            if phase == "startup":
                raise SandboxError(f"the worker did not start within {STARTUP_SECONDS:.0f} s. "
                                   f"Worker log:\n{worker.log_tail()}")
            return fail_current(Record(Status.TIMEOUT, f"exceeded the {limit:g} s time limit "
                                                       "(right-censored: no count recorded)"), skip_input=True)
        except wire.WireError as exc:
            kill_tree(child)
            return fail_current(Record(Status.SANDBOX_VIOLATION,
                                       f"the measurement channel was corrupted ({exc}); the call's "
                                       "result was discarded"), skip_input=True)
        if msg is None:  # the worker itself died
            st = wait(child, 5.0)
            if phase == "startup":
                raise SandboxError(f"the worker exited during start-up (exit {st.exit_code}, signal "
                                   f"{st.signal}). Worker log:\n{worker.log_tail()}")
            rec = _death_record(st.exit_code, st.signal, worker.log_tail())
            rec.message = "the worker process died: " + rec.message
            return fail_current(rec, skip_input=True)
        t = msg["t"]
        try:
            if t == "ready" and phase == "startup":
                worker_pid = int(msg["pid"])
                phase, deadline = "setup", time.monotonic() + per_call
            elif t == "start" and not in_region:
                backend.region_start(child)
                in_region = True
                worker.ack(b"g")
            elif t == "end" and in_region:
                backend.region_end(child)
                in_region = False
                worker.ack(b"d")
            elif t == "setup" and phase == "setup":
                out.setup = _record(msg, backend, child, worker.workdir, worker_pid, "setup", cfg.functions)
                if out.setup.status is not Status.OK:
                    return None
                phase, deadline = "calls", time.monotonic() + per_call
            elif t == "result" and phase == "calls" and (msg.get("i"), msg.get("r")) == pos:
                result = msg
            elif t == "reaped" and phase == "calls" and msg.get("k") == served:
                pid = int(msg["pid"])
                tail = worker.take_call_output(served)
                if result is not None:
                    rec = _record(result, backend, child, worker.workdir, pid, "call", cfg.functions)
                else:
                    rec = _death_record(msg.get("exit"), msg.get("signal"), tail)
                    backend.discard(child, worker.workdir, pid)
                out.calls[pos] = rec
                if cfg.stop_on_failure and rec.status is not Status.OK:
                    return None
                result = None
                served += 1
                pos = _next(pos, k)
                deadline = time.monotonic() + per_call
            elif t == "done" and phase == "calls":
                return None
            else:
                raise wire.WireError(f"unexpected frame {t!r} in phase {phase}")
        except (wire.WireError, KeyError, TypeError, ValueError, WorkerProtocolError) as exc:
            kill_tree(child)
            return fail_current(Record(Status.SANDBOX_VIOLATION,
                                       f"the measurement channel was corrupted ({exc}); the call's "
                                       "result was discarded"), skip_input=True)


def _record(msg: dict, backend: Backend, child: Child, workdir: str, pid: int, region: str,
            functions: bool = False) -> Record:
    status = Status(msg["status"])
    rec = Record(status, str(msg.get("message", "")), wall_ns=_int(msg.get("wall_ns")),
                 cpu_ns=_int(msg.get("cpu_ns")),
                 rss_bytes=_int(msg.get("rss_kb")) * 1024 if msg.get("rss_kb") is not None else None)
    if "wall_ns" in msg:  # the region ran: the backend has (or must have) its counts
        counts = backend.read(child, workdir, pid, region, functions=functions)
        rec.counts = counts if status is Status.OK else Counts(task_clock_ns=counts.task_clock_ns)
    if status is Status.OK and "output" in msg:
        rec.output = wire.decode_value(msg["output"], trusted=False)
        rec.has_output = True
    return rec


def _int(v) -> Optional[int]:
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise wire.WireError(f"expected an integer, got {type(v).__name__}")
    return v
