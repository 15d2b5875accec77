"""The parent's side of the worker protocol: launch the sandboxed worker, answer its region
signals, read the backend's counts, enforce deadlines, restart after a killed call.

Nothing a candidate produces is evaluated here: frames are parsed strictly and a malformed one
ends the worker with ``sandbox_violation`` for the call in flight. The frames and their order are
written down in :mod:`measure.wire`, the module both sides share.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import select
import shutil
import signal
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..backends.base import Backend, Counts
from ..errors import SandboxError, WorkerProtocolError
from ..model import Config, Status
from ..native import Child, SpawnSpec, kill_tree, spawn, wait
from ..platform import Interpreter, base_environment
from .. import wire
from .cgroup import PidsCgroup
from .files import clean_stale, install_worker
from .policy import INNER_DIR, Isolation, exposures, rlimits, run_ids

STARTUP_SECONDS = 120.0  # interpreter (and valgrind) start-up, before the job's own deadlines
PROTOCOL_GRACE = 0.5     # fork, copying the input and reporting around one call
ENDING_SECONDS = 60.0    # a finished job's process exits and is reaped (a reused worker waits for it)
MAX_PROCESSES = 32       # pids.max of a worker's cgroup (processes and threads), where cgroups allow: a
                         # call may start none, and a module body that forks in a loop must not
                         # starve the parent of the CPU it needs to enforce the timeout


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
    paths: Tuple[str, ...] = ()  # host directories the program reads (Program.paths)


def _tail(path: str, n: int = 2000) -> str:
    """The last ``n`` bytes of a regular file as text ("" if it cannot be read). Never follows a
    link (a candidate's ``out.txt`` may point at a secret) nor blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return ""
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


def launch_key(job: Job) -> Tuple[Any, ...]:
    """What a worker's launch takes from a job: jobs with the same key may share a worker."""
    c = job.config
    return (job.backend.name, job.interpreter, job.isolation, tuple(job.paths), c.memory, c.output_limit, c.disk,
            c.seccomp, c.budget, call_limit_s(job))


class _Worker:
    """One launched worker (a job server) and its pipes: the shared channel of its jobs' frames,
    and the server's own control pipe (a byte per job out, its ``jobend`` frame back)."""

    def __init__(self, job: Job):
        self.job = job
        self.key = launch_key(job)
        clean_stale()
        self.workdir = tempfile.mkdtemp(prefix=f"measure-{os.getpid()}-")
        self.lock = -1
        self.audit = None
        self._pickled: Tuple[int, bytes] = (-1, b"")
        self.child: Optional[Child] = None
        self.cgroup: Optional[PidsCgroup] = None
        self.reader = wire.FrameReader()
        self.ctl_reader = wire.FrameReader()
        self.pending: List[Tuple[bool, dict]] = []
        self.up_r = self.down_w = self.ctl_r = self.ctl_w = -1
        self.ready = False     # the server said ready and its log is sealed
        try:
            self._launch()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        job, cfg, iso = self.job, self.job.config, self.job.isolation
        self.lock = install_worker(self.workdir)
        uid, gid = run_ids(iso)
        mounted = iso.has("mount")
        inside = INNER_DIR if mounted else self.workdir
        run = os.path.join(self.workdir, "run")
        self.audit = job.backend.audit(self.workdir)
        if self.audit is not None:  # the backend's log: the candidate's user may open it only until sealed
            fd = os.open(self.audit.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            os.close(fd)
            if uid >= 0:
                os.chown(self.audit.path, uid, gid)
        if uid >= 0:
            os.chown(run, uid, gid)
        # what the parent reads of the call's directory: the worker's own view of it (a tmpfs in
        # its mount namespace), through /proc/PID/root once the worker runs
        self.run_view = run
        up_r, up_w = os.pipe()
        down_r, down_w = os.pipe()
        ctl_up_r, ctl_up_w = os.pipe()
        ctl_down_r, ctl_down_w = os.pipe()
        log = os.open(os.path.join(self.workdir, "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        env = dict(base_environment(), HOME=f"{inside}/run", TMPDIR=f"{inside}/run")
        interp, bind = job.interpreter, None
        # One name for one interpreter: sys.executable (and argv[0]) is a string on the heap every call
        # forks from, and a call's count follows that heap (`python` vs `python3` of one venv moved a
        # loop of bytearray slicing by 0.17 %). A venv is run as bin/python at one fixed place, whatever
        # its path; any other interpreter by its real path, whichever link named it.
        if mounted and interp.venv:
            os.mkdir(os.path.join(self.workdir, "venv"))
            bind = (interp.venv, f"{INNER_DIR}/venv")
            name = "python" if os.path.exists(os.path.join(interp.venv, "bin", "python")) else \
                os.path.basename(interp.executable)
            interp = dataclasses.replace(interp, executable=f"{INNER_DIR}/venv/bin/{name}")
        elif not interp.venv:
            interp = dataclasses.replace(interp, executable=os.path.realpath(interp.executable))
        argv = job.backend.command(interp, ["-S", "-s", "-B", "worker.py"], inside, budget=cfg.budget)
        self.cgroup = PidsCgroup.create(MAX_PROCESSES)
        cpu = call_limit_s(job) * 2 + 60
        spec = SpawnSpec(
            argv=argv, env=env, workdir=self.workdir,
            inner_dir=INNER_DIR if mounted else None,
            namespaces=iso.namespaces, ro_mounts=iso.ro_mounts,
            mount_proc=iso.has("pid"), no_aslr=True, no_new_privs=True, seccomp=cfg.seccomp,
            rlimits=rlimits(cfg.memory, cfg.output_limit, cpu, job.backend.mode == "valgrind"),
            stdout_fd=log, stderr_fd=log, keep_fds=[up_w, down_r, ctl_up_w, ctl_down_r],
            cgroup_procs=self.cgroup.procs if self.cgroup else None,
            events=job.backend.events if job.backend.mode == "perf" else (),
            inherit=True, enable_on_exec=False, pinned=True,
            run_uid=uid, run_gid=gid, private_dev=mounted,
            scratch_dir=f"{INNER_DIR}/run" if mounted else None, scratch_bytes=cfg.disk,
            socket_policy=1 if iso.has("net") else 2,
            expose=exposures(job.interpreter.paths + tuple(job.paths), uid) if uid >= 0 else (), bind=bind)
        try:
            self.child = spawn(spec)
        finally:
            for fd in (up_w, down_r, ctl_up_w, ctl_down_r, log):
                os.close(fd)
        if mounted:
            self.run_view = f"/proc/{self.child.pid}/root{INNER_DIR}/run"
        self.up_r, self.down_w, self.ctl_r, self.ctl_w = up_r, down_w, ctl_up_r, ctl_down_w
        wire.send(down_w, {"t": "worker", "mode": job.backend.mode})

    def start_job(self, job: Job, start: Tuple[int, int]) -> None:
        """Have the server fork a process for ``job``, which measures it from ``start``."""
        self.job, self._pickled = job, (-1, b"")
        for name in ("input", ".input"):  # the last job's: a module body finds what a new worker's finds
            try:
                os.unlink(os.path.join(self.workdir, name))
            except FileNotFoundError:
                pass
        os.write(self.ctl_w, b"j")
        wire.send(self.down_w, {"t": "job", "source": job.source, "filename": "candidate.py", "entry": job.entry,
                                "n_inputs": len(job.inputs), "repeat": job.config.repeat,
                                "warmup": job.config.warmup, "start": list(start),
                                "canary": bool(self.audit is not None and self.audit.canary)})

    def next_frame(self, deadline: float) -> Optional[Tuple[bool, dict]]:
        """The next frame and whether it came on the server's own control pipe; None at EOF of
        either; raises TimeoutError past ``deadline`` (monotonic seconds)."""
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.up_r, self.ctl_r], [], [], left)
            for fd in ready:
                data = os.read(fd, 1 << 16)
                if not data:
                    return None
                control = fd == self.ctl_r
                reader = self.ctl_reader if control else self.reader
                self.pending.extend((control, m) for m in reader.feed(data))
        return self.pending.pop(0)

    def ack(self, byte: bytes) -> None:
        os.write(self.down_w, byte)

    def release(self, byte: bytes, pos: Tuple[int, int]) -> None:
        """Let the fork server fork the call at ``pos``: first its input, where only that call will
        find it (the worker never holds the inputs), then the go-ahead."""
        if pos[0] < len(self.job.inputs):
            data = self.pickled(pos[0])
            tmp = os.path.join(self.workdir, ".input")
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(self.workdir, "input"))
        self.ack(byte)

    def pickled(self, i: int) -> bytes:
        """Input ``i`` as the worker unpickles it (kept while its repeats run)."""
        if self._pickled[0] != i:
            self._pickled = (i, pickle.dumps(wire.decode_value(self.job.inputs[i], trusted=True), protocol=4))
        return self._pickled[1]

    def call_output(self) -> str:
        """The end of what the call just reaped printed (its directory is emptied after the ack)."""
        return _tail(os.path.join(self.run_view, "out.txt"))

    def log_tail(self) -> str:
        return _tail(os.path.join(self.workdir, "worker.log"))

    def close(self) -> None:
        if self.child is not None:
            kill_tree(self.child)
            wait(self.child, None)
            if self.child.group is not None:
                self.child.group.close()
            self.child = None
        for fd in (self.up_r, self.down_w, self.ctl_r, self.ctl_w):
            if fd >= 0:
                os.close(fd)
        self.up_r = self.down_w = self.ctl_r = self.ctl_w = -1
        if self.cgroup is not None:
            self.cgroup.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1


class WorkerPool:
    """The idle worker of one thread, kept between its jobs (see :func:`run_job`): at most one,
    so a thread holds one emulator at a time. :meth:`close` ends it."""

    def __init__(self):
        self._idle: Optional[_Worker] = None

    def take(self, key: Tuple[Any, ...]) -> Optional[_Worker]:
        w, self._idle = self._idle, None
        if w is not None and w.key != key:
            w.close()
            return None
        return w

    def keep(self, worker: _Worker) -> None:
        if self._idle is not None:
            self._idle.close()
        self._idle = worker

    def close(self) -> None:
        if self._idle is not None:
            self._idle.close()
            self._idle = None


_thread = threading.local()


def use_pool(pool: Optional[WorkerPool]) -> None:
    """Let this thread's jobs reuse their worker through ``pool`` (None: one worker per job)."""
    _thread.pool = pool


def reusable(job: Job) -> bool:
    """Whether a worker may serve more than this job: under the emulators (whose start is what
    reuse saves), with the worker init of its own PID namespace, so that nothing a job leaves
    running can outlive it (the server kills every other process between jobs)."""
    return job.backend.mode in ("valgrind", "qemu") and job.isolation.has("pid")


def run_job(job: Job) -> Outcome:
    """Measure the module body once and every (input, repeat) call, restarting after a call that
    had to be killed. A timed-out input is not repeated (its count is censored).

    Every job runs in a process the worker's job server forks from the same state, so its counts
    are the same whether the worker is new or served other jobs before (:func:`use_pool`)."""
    out = Outcome(warnings=list(job.isolation.warnings()))
    pool = getattr(_thread, "pool", None) if reusable(job) else None
    start = (0, 0)
    n_inputs = len(job.inputs)
    while True:
        worker = pool.take(launch_key(job)) if pool is not None else None
        if worker is None:
            worker = _Worker(job)
        out.workers += 1
        for w in worker.child.warnings:
            if w not in out.warnings:
                out.warnings.append(w)
        try:
            resume, idle = _drive(worker, job, start, out)
        except BaseException:
            worker.close()
            raise
        if idle and pool is not None:
            pool.keep(worker)
        else:
            worker.close()
        if resume is None or resume[0] >= n_inputs:
            return out
        start = resume


def _next(pos: Tuple[int, int], k: int) -> Tuple[int, int]:
    return (pos[0], pos[1] + 1) if pos[1] + 1 < k else (pos[0] + 1, 0)


def _drive(worker: _Worker, job: Job, start: Tuple[int, int], out: Outcome) -> Tuple[Optional[Tuple[int, int]], bool]:
    """Run one job on ``worker`` to its end. Returns where a next job must resume (None when
    done), and whether the worker may serve another job (its server is alive and idle)."""
    return _Driver(worker, job, start, out).run()


class _Driver:
    """The parent's state machine for one worker (the frames are in :mod:`measure.wire`).

    Phases: ``startup`` (a new worker, until ``ready``), ``job`` (the job's process, until
    ``started``), ``setup`` (the module body's region), ``calls`` (the fork server's calls, the
    auditing backend's canary first), ``ending`` (until the server reports the job's process
    gone, on its own control pipe). Each frame is accepted only by the handler of its type in the
    phase that expects it (:data:`HANDLERS`); any other frame, or a handler's guard failing, is a
    corrupted channel: ``sandbox_violation`` for the call in flight, and the worker is killed. A
    handler returns None to go on, or ``(DONE, resume)`` when the job is over."""

    def __init__(self, worker: _Worker, job: Job, start: Tuple[int, int], out: Outcome):
        self.worker, self.job, self.out = worker, job, out
        self.cfg, self.backend, self.child, self.audit = job.config, job.backend, worker.child, worker.audit
        self.per_call = call_limit_s(job) + PROTOCOL_GRACE
        self.deadline = time.monotonic() + (self.per_call if worker.ready else STARTUP_SECONDS)
        self.phase = "job" if worker.ready else "startup"
        self.pos = start              # the call in flight during "calls"
        self.resume: Optional[Tuple[int, int]] = None   # where a next job resumes, once "ending"
        self.worker_pid = 1
        self.result: Optional[dict] = None
        self.in_region = False
        self.regions = 0              # regions opened in the current phase's process (one allowed)
        self.opened_ns = 0            # perf: when the parent enabled the counters of the call in flight
        self.served = 0               # index of the call in flight among this worker's forks
        self.canary = self.audit is not None and self.audit.canary  # the worker's own empty call first
        if worker.ready:
            worker.start_job(job, start)

    def run(self) -> Tuple[Optional[Tuple[int, int]], bool]:
        while True:
            try:
                got = self.worker.next_frame(self.deadline)
            except TimeoutError:
                return self.timed_out(), False
            except wire.WireError as exc:
                return self.corrupted(exc), False
            if got is None:
                return self.worker_died(), False
            control, msg = got
            try:
                if control:   # the server's own pipe: only ever its jobend
                    if msg["t"] != "jobend":
                        raise WorkerProtocolError(f"the job server sent {msg['t']!r}")
                    resume = self.job_ended(msg)
                    # idle only with nothing of this job still on the channel (the server killed
                    # every process of the job before its jobend: nothing more can come)
                    return resume, not self.worker.pending and not self.worker.reader.buffered
                handler = self.HANDLERS.get((msg["t"], self.phase))
                if handler is None:
                    raise wire.WireError(f"unexpected frame {msg['t']!r} in phase {self.phase}")
                end = handler(self, msg)
            except (wire.WireError, KeyError, TypeError, ValueError, WorkerProtocolError) as exc:
                return self.corrupted(exc), False
            if end is not None:   # the job is over: its process ends, then the server says so
                self.phase, self.resume = "ending", end[1]
                self.deadline = time.monotonic() + min(self.per_call, ENDING_SECONDS)

    # --- ways a worker ends ---------------------------------------------------------------------

    def close_region(self) -> Optional[int]:
        if not self.in_region:
            return None
        self.backend.region_end(self.child)
        self.in_region = False
        return time.monotonic_ns() - self.opened_ns

    def fail_current(self, rec: Record, skip_input: bool) -> Optional[Tuple[int, int]]:
        """``rec`` for the setup or the call in flight; where the next worker resumes. Once the
        job is over ("ending") its records stand: nothing is in flight."""
        self.close_region()
        if self.phase == "ending":
            return self.resume
        if self.phase != "calls":
            self.out.setup = rec
            return None
        self.out.calls[self.pos] = rec
        self.backend.discard(self.child, self.worker.run_view, -1)  # perf: resynchronise the cumulative reading
        if self.cfg.stop_on_failure:
            return None
        return (self.pos[0] + 1, 0) if skip_input else _next(self.pos, self.cfg.repeat)

    def timed_out(self) -> Optional[Tuple[int, int]]:
        kill_tree(self.child)
        if self.phase == "startup":
            raise SandboxError(f"the worker did not start within {STARTUP_SECONDS:.0f} s. "
                               f"Worker log:\n{self.worker.log_tail()}")
        limit = self.per_call - PROTOCOL_GRACE
        return self.fail_current(Record(Status.TIMEOUT, f"exceeded the {limit:g} s time limit "
                                                        "(right-censored: no count recorded)"), skip_input=True)

    def corrupted(self, exc: Exception) -> Optional[Tuple[int, int]]:
        kill_tree(self.child)
        return self.fail_current(Record(Status.SANDBOX_VIOLATION, f"the measurement channel was corrupted ({exc}); "
                                                                  "the call's result was discarded"), skip_input=True)

    def job_ended(self, msg: dict) -> Optional[Tuple[int, int]]:
        """The server reaped the job's process: the end of a finished job, or the death of one
        still in flight (killed by a limit or a signal, or it ended itself)."""
        if self.phase == "ending":
            return self.resume
        if self.phase == "startup":
            raise WorkerProtocolError("a job ended before any started")
        rec = _death_record(msg.get("exit"), msg.get("signal"), self.worker.log_tail())
        rec.message = "the job's process died: " + rec.message
        ended = self.audit.skip() if self.audit is not None else None
        if ended:  # the backend itself ended it (qemu: tampering, or a budget)
            rec = Record(ended[0], ended[1])
        return self.fail_current(rec, skip_input=True)

    def worker_died(self) -> Optional[Tuple[int, int]]:
        st = wait(self.child, 5.0)
        if self.phase == "startup":
            raise SandboxError(f"the worker exited during start-up (exit {st.exit_code}, signal "
                               f"{st.signal}). Worker log:\n{self.worker.log_tail()}")
        rec = _death_record(st.exit_code, st.signal, self.worker.log_tail())
        rec.message = "the worker process died: " + rec.message
        return self.fail_current(rec, skip_input=True)

    # --- one handler per (frame, phase) ----------------------------------------------------------

    def on_ready(self, msg: dict):
        int(msg["pid"])
        if self.audit is not None:
            self.audit.seal()
        self.worker.ack(b"r")
        self.worker.ready = True
        self.phase, self.deadline = "job", time.monotonic() + self.per_call
        self.worker.start_job(self.job, self.pos)

    def on_started(self, msg: dict):
        self.worker_pid = int(msg["pid"])
        self.phase, self.deadline = "setup", time.monotonic() + self.per_call

    def on_start(self, msg: dict):
        if self.regions or self.result is not None:
            raise wire.WireError("a second region in one process")
        self.backend.region_start(self.child)
        self.in_region, self.regions, self.opened_ns = True, 1, time.monotonic_ns()
        self.worker.ack(b"g")

    def on_end(self, msg: dict):
        if not self.in_region:
            raise wire.WireError("a region ended that never started")
        self.close_region()
        self.worker.ack(b"d")

    def on_setup(self, msg: dict):
        if self.in_region:
            raise wire.WireError("the setup reported inside its region")
        out = self.out
        out.setup = _record(msg, self.backend, self.child, self.worker.run_view, self.worker_pid, "setup",
                            self.cfg.functions, self.audit)
        if out.setup.status is not Status.OK:
            if msg.get("status") == "ok":
                self.worker.ack(b"q")   # the worker, awaiting "s", ends the job on any other byte
            return DONE, None
        self.phase, self.deadline, self.regions = "calls", time.monotonic() + self.per_call, 0
        self.worker.release(b"s", self.pos)

    def on_result(self, msg: dict):
        if self.result is not None or (msg.get("i"), msg.get("r")) != ((-1, 0) if self.canary else self.pos):
            raise wire.WireError("a result for another call, or a second one")
        self.result = msg

    def on_reaped(self, msg: dict):
        if msg.get("k") != self.served:
            raise wire.WireError(f"fork {msg.get('k')!r} reaped while fork {self.served} was in flight")
        return self.canary_reaped(msg) if self.canary else self.call_reaped(msg)

    def canary_reaped(self, msg: dict):
        rec = (_record(self.result, self.backend, self.child, self.worker.run_view, int(msg["pid"]), "canary", False,
                       self.audit) if self.result is not None else Record(Status.ERROR, "it did not report"))
        if rec.status is not Status.OK:
            self.out.setup = Record(Status.SANDBOX_VIOLATION, "the harness's own empty call, forked after the "
                                    f"module body, failed ({rec.message}): the module body changed the harness")
            self.worker.ack(b"q")  # the fork server ends the job
            return DONE, None
        self.worker.release(b"n", self.pos)
        self.canary, self.result, self.regions, self.served = False, None, 0, self.served + 1
        self.deadline = time.monotonic() + self.per_call

    def call_reaped(self, msg: dict):
        cfg, backend, result, pid = self.cfg, self.backend, self.result, int(msg["pid"])
        wall_ns = self.close_region()  # perf: the call's region ends with its process
        tail = self.worker.call_output()
        if result is not None and backend.mode == "perf" and "wall_ns" in result and wall_ns is None:
            rec = Record(Status.SANDBOX_VIOLATION, "the call reported a region that never opened the "
                                                   "parent's counters: the harness in the worker was changed")
            backend.discard(self.child, self.worker.run_view, pid)
        elif result is not None:
            rec = _record(result, backend, self.child, self.worker.run_view, pid, "call", cfg.functions, self.audit,
                          wall_ns=wall_ns)
        else:
            rec = _death_record(msg.get("exit"), msg.get("signal"), tail)
            backend.discard(self.child, self.worker.run_view, pid)
            ended = self.audit.skip() if self.audit is not None else None
            if ended:  # the backend itself ended the call (qemu: tampering, or its budget)
                rec = Record(ended[0], ended[1], rss_bytes=rec.rss_bytes)
        self.out.calls[self.pos] = rec = over_budget(rec, cfg.budget)
        if cfg.stop_on_failure and rec.status is not Status.OK:
            self.worker.ack(b"q")  # the fork server ends the job
            return DONE, None
        self.result, self.regions = None, 0
        self.served += 1
        self.pos = _next(self.pos, cfg.repeat)
        self.worker.release(b"n", self.pos)  # the server may now empty the call's directory and fork the next
        self.deadline = time.monotonic() + self.per_call

    def on_done(self, msg: dict):
        if self.pos[0] < len(self.job.inputs) or self.result is not None:
            raise wire.WireError("done before the last call was reaped")
        return DONE, None

    def on_done_after_stop(self, msg: dict):
        """The fork server ended after the parent's ``q``: the job's process now exits."""

    HANDLERS = {("ready", "startup"): on_ready, ("started", "job"): on_started, ("start", "setup"): on_start,
                ("start", "calls"): on_start, ("end", "setup"): on_end, ("setup", "setup"): on_setup,
                ("result", "calls"): on_result, ("reaped", "calls"): on_reaped, ("done", "calls"): on_done,
                ("done", "ending"): on_done_after_stop}


DONE = "done"


def call_limit_s(job: Job) -> float:
    """Wall-clock seconds one counted call (with its warm-ups) may take: ``Config.timeout``, or,
    under an instruction budget, the backend's backstop for it if that is longer."""
    cfg = job.config
    limit = cfg.timeout
    if cfg.budget is not None:
        limit = max(limit, job.backend.backstop_s(cfg.budget))
    return limit * (1 + cfg.warmup)


def over_budget(rec: Record, budget: Optional[int]) -> Record:
    """A counted call over its instruction budget becomes a timeout, right-censored: no count."""
    n = rec.counts.instructions if rec.counts is not None else None
    if budget is None or rec.status is not Status.OK or n is None or n <= budget:
        return rec
    return Record(Status.TIMEOUT, f"counted {n:,} instructions, over the budget of {budget:,} "
                                  "(right-censored: no count recorded)", wall_ns=rec.wall_ns, cpu_ns=rec.cpu_ns,
                  rss_bytes=rec.rss_bytes)


def _record(msg: dict, backend: Backend, child: Child, workdir: str, pid: int, region: str,
            functions: bool = False, audit=None, wall_ns: Optional[int] = None) -> Record:
    """The record of a region from the worker's report and the backend's own counts. ``wall_ns``:
    the parent's measure of the region (perf mode), which replaces the worker's."""
    status = Status(msg["status"])
    rec = Record(status, str(msg.get("message", "")),
                 wall_ns=wall_ns if wall_ns is not None else _int(msg.get("wall_ns")),
                 cpu_ns=_int(msg.get("cpu_ns")),
                 rss_bytes=_int(msg.get("rss_kb")) * 1024 if msg.get("rss_kb") is not None else None)
    if status is Status.OK and "wall_ns" not in msg and wall_ns is None:
        if audit is not None:
            audit.skip()
        return Record(Status.SANDBOX_VIOLATION, f"the {region} reported success without a counted region: "
                                                "the frame was forged")
    if "wall_ns" in msg or wall_ns is not None:  # the region ran: the backend has (or must have) its counts
        try:
            counts = backend.read(child, workdir, pid, "call" if region == "canary" else region, functions=functions)
        except WorkerProtocolError:
            counts = None
        # a failed call may take its count with it (say, it filled the disk): it keeps its own status,
        # unless the backend's audit finds that it tampered
        problem = (audit.check(region, pid, counts.instructions if counts else None, needed=status is Status.OK)
                   if audit is not None else None)
        if counts is None and status is not Status.OK and problem is None:
            return rec
        if counts is None and problem is None:
            problem = f"the backend found no count for the {region}"
        if problem is not None:
            return Record(Status.SANDBOX_VIOLATION, problem)
        rec.counts = counts if status is Status.OK else Counts(task_clock_ns=counts.task_clock_ns)
    elif audit is not None:
        audit.skip()
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
