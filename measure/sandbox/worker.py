"""The worker that runs inside the measured interpreter. Standard library only; CPython >= 3.9.

It is copied, with ``wire.py`` and ``workerlib.so``, into the private working directory and started by the launcher
as ``python -s -B worker.py`` with fd 3 (to the parent) and fd 4 (from the parent). It:

1. receives the job (candidate source, entry point, inputs, repeats, backend mode);
2. compiles the candidate (uncounted), then executes its module body inside a counted region
   reported as ``setup``;
3. hands over to the fork server (workerlib.c, mp_serve), which forks one pristine copy per
   (input, repeat) without running any Python in between; the copy unpickles its own copy of the input, runs
   the warm-up calls, and runs the counted call with the GC disabled; the server kills whatever
   the call left behind and gives the next call a fresh, empty directory. Nothing a call leaves
   behind reaches the next one, and every call starts from exactly the same interpreter state.

Regions: ``valgrind`` uses callgrind client requests from a Python-free shared object;
``perf`` asks the parent, which owns the counters, to enable/disable them; ``time`` only reads
the clocks. Outputs go back as plain data (see wire.py); the parent checks them.
"""
import errno
import gc
import os
import pickle
import sys
import time
import traceback

import wire

TO_PARENT, FROM_PARENT = 3, 4
RUN_DIR = "run"
SANDBOX_ERRNOS = {errno.EROFS, errno.EPERM, errno.EACCES, errno.ENETUNREACH, errno.ENETDOWN,
                  errno.EHOSTUNREACH, errno.EFBIG}
MESSAGE_LIMIT = 4000


def classify(exc):
    """(status, message) for an exception raised by the candidate."""
    if isinstance(exc, MemoryError):
        return "memory", "MemoryError: the candidate exceeded the memory limit"
    if isinstance(exc, SystemExit):
        return "error", "the candidate called sys.exit(%r)" % (exc.code,)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(text) > MESSAGE_LIMIT:  # keep the tail; the first line is then never one the candidate wrote
        text = "...\n" + text[-MESSAGE_LIMIT:]
    if isinstance(exc, OSError):
        if exc.errno == errno.EFBIG:
            return "sandbox_violation", "output limit exceeded (file size limit):\n" + text
        if exc.errno in SANDBOX_ERRNOS or type(exc).__name__ == "gaierror":
            return "sandbox_violation", "the sandbox denied an operation:\n" + text
    if isinstance(exc, OverflowError):
        return "error", wire.OVERFLOW_MARK + text
    return "error", text


class Region(object):
    """Delimits the counted region for one backend mode."""

    def __init__(self, mode, lib):
        self.mode = mode
        self._lib = lib
        if mode == "valgrind" and not lib.mp_vg_running():
            raise RuntimeError("mode 'valgrind' but the worker is not running under valgrind")

    def run(self, name, fn, args):
        """Call ``fn(*args)`` inside the region; returns (result, exception, wall_ns, cpu_ns)."""
        result = exc = None
        wall, cpu = time.perf_counter_ns, time.thread_time_ns  # see backends/timer.py
        if self.mode == "valgrind":
            start, zero, dump, stop = self._lib.mp_vg_start, self._lib.mp_vg_zero, self._lib.mp_vg_dump, self._lib.mp_vg_stop
            tag = ("measure-" + name).encode()
            c0, t0 = cpu(), wall()
            start()
            zero()
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            dump(tag)
            stop()
            t1, c1 = wall(), cpu()
        elif self.mode == "perf":
            write, read = os.write, os.read
            wire.send(TO_PARENT, {"t": "start", "what": name})
            c0, t0 = cpu(), wall()
            read(FROM_PARENT, 1)  # the parent has enabled its counters
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            write(TO_PARENT, b"\0\0\0\x0b{\"t\":\"end\"}")  # a pre-built frame: no work after the call
            t1, c1 = wall(), cpu()
            if read(FROM_PARENT, 1) != b"d":  # wait until the counters are disabled
                os._exit(3)
        else:
            c0, t0 = cpu(), wall()
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            t1, c1 = wall(), cpu()
        return result, exc, t1 - t0, c1 - c0


def max_rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def call_child(region, fn, blob, warmup, i, r):
    """Body of the forked copy for one counted call. Never returns."""
    code = 0
    try:
        os.chdir(RUN_DIR)
        out = os.open("out.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        gc.disable()
        msg = {"t": "result", "i": i, "r": r}
        try:
            for _ in range(warmup):
                fn(*pickle.loads(blob))
            call_args = pickle.loads(blob)  # a fresh deep copy of the input, at C speed
        except BaseException as e:
            status, text = classify(e)
            msg.update(status=status, message="during warm-up: " + text)
        else:
            result, exc, wall_ns, cpu_ns = region.run("call", fn, call_args)
            msg.update(wall_ns=wall_ns, cpu_ns=cpu_ns)
            if exc is not None:
                status, text = classify(exc)
                msg.update(status=status, message=text)
            else:
                try:
                    msg.update(status="ok", output=wire.encode_value(result))
                except (wire.WireError, RecursionError) as e:
                    msg.update(status="error", message="the return value is not plain data: %s" % e)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError as e:
            status, text = classify(e)
            if msg.get("status") == "ok":
                msg.update(status=status, message=text)
        msg["rss_kb"] = max_rss_kb()
        try:
            wire.send(TO_PARENT, msg)
        except (wire.WireError, ValueError, OverflowError, RecursionError) as e:
            wire.send(TO_PARENT, {"t": "result", "i": i, "r": r, "status": "error",
                                  "message": "the result could not be reported: %s: %s" % (type(e).__name__, e)})
    except BaseException:
        traceback.print_exc()  # into the call's output, which the parent reports
        code = 4
    os._exit(code)


def load_workerlib():
    """The native helpers. PyDLL, not CDLL: calls keep the GIL, so while the fork server runs no
    other Python thread (say, one the candidate's module started) can change the worker's state."""
    import ctypes
    lib = ctypes.PyDLL(os.path.abspath("workerlib.so"))
    for name in ("mp_vg_start", "mp_vg_stop", "mp_vg_zero", "mp_vg_dump"):
        getattr(lib, name).restype = None
    lib.mp_vg_dump.argtypes = [ctypes.c_char_p]
    lib.mp_serve.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p]
    return lib


def main():
    job = wire.recv(FROM_PARENT)
    if job is None or job.get("t") != "job":
        os._exit(2)
    lib = load_workerlib()
    region = Region(job["mode"], lib)
    # each input kept pickled: every call unpickles its own fresh copy, so a candidate that
    # mutates its arguments cannot affect another call (and deepcopy's cost is avoided)
    inputs = [pickle.dumps(wire.decode_value(a, trusted=True), protocol=4) for a in job["inputs"]]
    os.mkdir(RUN_DIR, 0o700)
    wire.send(TO_PARENT, {"t": "ready", "pid": os.getpid()})

    # setup: compile (uncounted), then the module body (counted)
    try:
        code = compile(job["source"], job["filename"], "exec", dont_inherit=True)
    except BaseException as e:
        wire.send(TO_PARENT, {"t": "setup", "status": "error",
                              "message": "".join(traceback.format_exception_only(type(e), e))})
        return
    module = type(sys)("candidate")
    module.__file__ = job["filename"]
    sys.modules["candidate"] = module
    gc.disable()
    _, exc, wall_ns, cpu_ns = region.run("setup", exec, (code, module.__dict__))
    msg = {"t": "setup", "wall_ns": wall_ns, "cpu_ns": cpu_ns, "status": "ok"}
    if exc is not None:
        msg["status"], msg["message"] = classify(exc)
    else:
        fn = module.__dict__.get(job["entry"])
        if not callable(fn):
            msg["status"] = "error"
            msg["message"] = ("the candidate defines no function named %r (names defined: %s)"
                              % (job["entry"], ", ".join(sorted(k for k in module.__dict__ if not k.startswith("__")))
                                 or "none"))
    msg["rss_kb"] = max_rss_kb()
    wire.send(TO_PARENT, msg)
    if msg["status"] != "ok":
        return

    i0, r0 = job.get("start", [0, 0])
    calls = [(i, r) for i in range(i0, len(inputs)) for r in range(r0 if i == i0 else 0, job["repeat"])]
    k = lib.mp_serve(len(calls), TO_PARENT, RUN_DIR.encode(), b"trash")
    if k >= 0:  # a pristine fork: run call k
        i, r = calls[k]
        call_child(region, fn, inputs[i], job["warmup"], i, r)
    if k < -1:
        raise OSError(-2 - k, "the fork server failed: " + os.strerror(-2 - k))
    wire.send(TO_PARENT, {"t": "done"})


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        traceback.print_exc()
        os._exit(2)
    os._exit(0)
