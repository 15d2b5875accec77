"""The worker that runs inside the measured interpreter. Standard library only; CPython >= 3.9.

It is copied, with ``wire.py`` and ``workerlib.so``, into the private working directory and started by the launcher
as ``python -S -s -B worker.py`` with fd 3 (to the parent) and fd 4 (from the parent), as an
unprivileged user whose only writable place is ``run/`` (a size-limited tmpfs where the sandbox
has a mount namespace). It:

1. receives the job (candidate source, entry point, number of inputs, repeats, backend mode), says
   ``ready`` and waits until the parent has sealed what the candidate must not touch;
2. compiles the candidate (uncounted), then executes its module body inside a counted region
   reported as ``setup``, and checks that the module body left the harness as it found it (see
   :func:`snapshot`): a candidate that patched the code measuring it gets ``sandbox_violation``;
3. hands over to the fork server (workerlib.c, mp_serve), which forks one pristine copy per
   (input, repeat) without running any Python in between; the copy may not start processes or
   threads, reads its input (``input``, which the parent writes just before that fork: the
   worker never holds the inputs, so the module body cannot see them and its memory at the
   fork does not depend on them), runs the warm-up calls, and runs the counted call with the
   GC disabled; the server kills whatever the call left behind and empties
   ``run/`` for the next call. Nothing a call leaves behind reaches the next one, and every call
   starts from exactly the same interpreter state.

After a call's region ends no code of the candidate runs: the return value is read through the
base types' own methods (wire.py), exceptions are described from plain data only, output
streams are flushed through the objects captured before the module body ran, and signals are
blocked. Regions: ``valgrind`` uses callgrind client requests from a Python-free shared object;
``perf`` asks the parent, which owns the counters, to enable them, and a call's region ends
only when its process has exited; ``time`` only reads the clocks. Outputs go back as plain data
(see wire.py); the parent checks them.
"""
import os
import sys


def add_site_packages():
    """What ``site`` does at start-up, less running the code of ``.pth`` files (the interpreter
    runs with -S): the exit/quit/help builtins, the site-packages directories and the directories
    that ``.pth`` files list. An ``import`` line of a ``.pth`` file (an editable install's import
    hook, setuptools' distutils shim) would run code before every candidate and change the
    interpreter's heap at each fork, and with it every count: a ``.pth`` importing json moved
    every call by 6 instructions, this project's own editable install moved a loop of integer
    arithmetic by 0.4 %. So the count does not depend on what else is installed that way."""
    import site
    site.setquit()
    site.setcopyright()
    site.sethelper()
    prefixes = [sys.prefix]
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    for conf in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg")):
        if os.path.isfile(conf):  # a virtual environment, as site.venv() reads it
            system_site = True
            with open(conf, encoding="utf-8") as f:
                for line in f:
                    key, eq, value = line.partition("=")
                    if eq and key.strip().lower() == "include-system-site-packages":
                        system_site = value.strip().lower() == "true"
            sys.prefix = sys.exec_prefix = os.path.dirname(exe_dir)
            prefixes = [sys.prefix] + ([sys.base_prefix] if system_site else [])
            break
    for d in site.getsitepackages(prefixes):
        if d in sys.path or not os.path.isdir(d):
            continue
        sys.path.append(d)
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".pth"))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                p = os.path.abspath(os.path.join(d, line))
                if p not in sys.path and os.path.isdir(p):
                    sys.path.append(p)


add_site_packages()

import _random  # noqa: E402  (after the site directories, as in any interpreter)
import errno  # noqa: E402
import gc  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402,F401  imported before any candidate: a call that imports it gets it, reseeded (reseed())
import resource  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import wire  # noqa: E402

TO_PARENT, FROM_PARENT, CTL_OUT, CTL_IN = 3, 4, 5, 6  # the last two: the job server's own (mp_jobs)
RUN_DIR = "run"
SANDBOX_ERRNOS = {errno.EROFS, errno.EPERM, errno.EACCES, errno.ENETUNREACH, errno.ENETDOWN,
                  errno.EHOSTUNREACH, errno.EFBIG, errno.ENOSPC, errno.EDQUOT}
MESSAGE_LIMIT = 4000
PLAIN = (str, int, float, bool, type(None), bytes)
# names of the sys module a candidate may rebind without touching the harness
SYS_FREE = {"stdout", "stderr", "stdin", "displayhook", "excepthook", "ps1", "ps2", "last_type",
            "last_value", "last_traceback", "last_exc", "tracebacklimit", "argv", "path", "dont_write_bytecode"}
# a module's own description, which the import system rewrites (importing importlib renames the
# frozen bootstrap modules): nothing the harness runs reads it
METADATA = {"__name__", "__package__", "__file__", "__spec__", "__loader__", "__cached__", "__path__"}
# modules whose os.register_at_fork hooks rebind their own globals in every fork (and that this
# harness never calls): a change there is not a change of the harness
FORK_REBINDS = {"threading"}
_NAME = type.__dict__["__name__"]
_SEED = _random.Random.seed  # C: reseeding through it runs no code of the candidate
_ARGS = BaseException.__dict__["args"]
_TRACEBACK = BaseException.__dict__["__traceback__"]
_BUILTIN_EXCEPTIONS = {v for v in vars(sys.modules["builtins"]).values()
                       if isinstance(v, type) and issubclass(v, BaseException)}


def canary():
    """The worker's own empty call (see backends/valgrind.py, RequestAudit)."""


def call_at(k, i0, r0, repeat, canary_first):
    """(input, repeat) of the worker's k-th fork: the canary (-1, 0) first when asked for, then
    every repeat of every input from (i0, r0) on."""
    if canary_first:
        if k == 0:
            return -1, 0
        k -= 1
    if k < repeat - r0:
        return i0, r0 + k
    k -= repeat - r0
    return i0 + 1 + k // repeat, k % repeat


EMPTY = pickle.dumps((), protocol=4)


def await_ack(expected):
    """Wait for the parent's one-byte go-ahead."""
    if os.read(FROM_PARENT, 1) != expected:
        os._exit(2)


def _plain(v):
    return type(v) in PLAIN


def describe(exc):
    """The text of an exception, built from plain data only: its type's name, its arguments when
    they are plain values, and for each traceback entry the file, line and function. No method of
    the candidate (``__str__``, a property, a loader's ``get_source``) runs."""
    t = type(exc)
    name = _NAME.__get__(t)
    lines = ["Traceback (most recent call last):"]
    tb = _TRACEBACK.__get__(exc)
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append('  File "%s", line %s, in %s' % (code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    args = _ARGS.__get__(exc)
    if t in _BUILTIN_EXCEPTIONS and all(_plain(a) for a in args) and all(
            _plain(getattr(exc, a, None)) for a in ("filename", "filename2", "strerror", "errno")):
        text = str(exc)  # a built-in exception with plain arguments: C code only
    elif all(_plain(a) for a in args):
        text = str(args[0]) if len(args) == 1 else (repr(args) if args else "")
    else:
        text = "<message withheld: the exception carries objects that are not plain data>"
    lines.append("%s: %s" % (name, text) if text else name)
    out = "\n".join(lines)
    if len(out) > MESSAGE_LIMIT:  # keep the tail; the first line is then never one the candidate wrote
        out = "...\n" + out[-MESSAGE_LIMIT:]
    return out


def classify(exc):
    """(status, message) for an exception raised by the candidate."""
    t = type(exc)
    if issubclass(t, MemoryError):
        return "memory", "MemoryError: the candidate exceeded the memory limit"
    if issubclass(t, SystemExit):
        code = SystemExit.__dict__["code"].__get__(exc)
        code = code if _plain(code) else "<not plain data>"
        return "error", "the candidate called sys.exit(%r)" % (code,)
    text = describe(exc)
    if issubclass(t, OSError):
        err = OSError.__dict__["errno"].__get__(exc)
        err = err if type(err) is int else None
        if err == errno.EFBIG:
            return "sandbox_violation", "output limit exceeded (file size limit):\n" + text
        if err in (errno.ENOSPC, errno.EDQUOT):
            return "sandbox_violation", "the call's disk quota is exhausted (Config.disk):\n" + text
        if err in SANDBOX_ERRNOS or _NAME.__get__(t) == "gaierror":
            return "sandbox_violation", ("the sandbox denied an operation (a call may not start processes, "
                                         "open sockets or write outside its working directory):\n" + text)
    if t is RuntimeError and "can't start new thread" in text:
        return "sandbox_violation", ("the call tried to start a thread: a counted call is one process with "
                                     "one thread, so that its count is all of its work:\n" + text)
    if issubclass(t, OverflowError):
        return "error", wire.OVERFLOW_MARK + text
    return "error", text


class Region(object):
    """Delimits the counted region for one backend mode."""

    def __init__(self, mode, lib):
        self.mode = mode
        self._lib = lib
        if mode == "valgrind" and not lib.mp_vg_running():
            raise RuntimeError("mode 'valgrind' but the worker is not running under valgrind")
        if mode == "qemu":  # the markers that measure's QEMU plugin counts between (workerlib.c)
            for name in ("mp_qemu_start", "mp_qemu_stop", "mp_qemu_end"):
                getattr(lib, name).restype = None

    def run(self, name, fn, args, final=False):
        """Call ``fn(*args)`` inside the region; returns (result, exception, wall_ns, cpu_ns).

        final: a counted call, after which this process only reports and exits. Signals are then
        blocked before the region ends, and in perf mode the region is left open: the parent
        closes it when this process has exited, so nothing it does after the call escapes."""
        result = exc = None
        wall, cpu = time.perf_counter_ns, time.thread_time_ns  # see backends/timer.py
        lib = self._lib
        if self.mode == "valgrind":
            start, zero, end = lib.mp_vg_start, lib.mp_vg_zero, (lib.mp_region_end if final else lib.mp_vg_end)
            tag = ("measure-" + name).encode()
            c0, t0 = cpu(), wall()
            start()
            zero()
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            end(tag)
            t1, c1 = wall(), cpu()
        elif self.mode == "qemu":
            start, end = lib.mp_qemu_start, (lib.mp_qemu_end if final else lib.mp_qemu_stop)
            c0, t0 = cpu(), wall()
            start()
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            end()
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
            if final:
                lib.mp_block_signals()
            else:
                write(TO_PARENT, b"\0\0\0\x0b{\"t\":\"end\"}")  # a pre-built frame: no work after the call
            t1, c1 = wall(), cpu()
            if not final and read(FROM_PARENT, 1) != b"d":  # wait until the counters are disabled
                os._exit(3)
        else:
            c0, t0 = cpu(), wall()
            try:
                result = fn(*args)
            except BaseException as e:
                exc = e
            if final:
                lib.mp_block_signals()
            t1, c1 = wall(), cpu()
        return result, exc, t1 - t0, c1 - c0


def max_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reseed():
    """The same random state for every call of every run: Python's global generator (seeded from
    the OS when imported, which the worker does before any candidate, so that a call importing
    it inside its region gets this one) starts from seed 0. Through the C method, so no code of
    the candidate runs."""
    r = sys.modules.get("random")
    inst = vars(r).get("_inst") if type(r) is type(sys) else None
    if issubclass(type(inst), _random.Random):
        _SEED(inst, 0)


def read_input():
    """The pickled arguments of this call, as the parent wrote them for it."""
    with open("input", "rb") as f:
        return f.read()


def call_child(region, fn, blob, warmup, i, r, streams, snap):
    """Body of the forked copy for one counted call. Never returns. ``snap``: the harness to check
    again (None when no thread ran beside the worker after the setup's check)."""
    code = 0
    try:
        changed = tampered(snap) if snap is not None else ()
        if changed:
            restore(snap)
            wire.send(TO_PARENT, {"t": "result", "i": i, "r": r, "status": "sandbox_violation",
                                  "message": "the harness was changed before this call: " + "; ".join(changed[:10])})
            os._exit(0)
        reseed()
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
            result, exc, wall_ns, cpu_ns = region.run("call", fn, call_args, final=True)
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
            for stream in streams:  # those this harness set up, whatever the candidate did to sys.stdout
                stream.flush()
        except OSError as e:
            status, text = classify(e)
            if msg.get("status") == "ok":
                msg.update(status=status, message=text)
        msg["rss_kb"] = max_rss_kb()
        try:
            wire.send(TO_PARENT, msg)
        except (wire.WireError, ValueError, OverflowError, RecursionError) as e:
            wire.send(TO_PARENT, {"t": "result", "i": i, "r": r, "status": "error",
                                  "message": "the result could not be reported: %s: %s" % (_NAME.__get__(type(e)), e)})
    except BaseException as e:
        try:
            os.write(2, describe(e).encode("utf-8", "replace"))  # into the call's output, which the parent reports
        except BaseException:
            pass
        code = 4
    os._exit(code)


def load_workerlib():
    """The native helpers. PyDLL, not CDLL: calls keep the GIL, so while the fork server runs no
    other Python thread (say, one the candidate's module started) can change the worker's state."""
    import ctypes
    lib = ctypes.PyDLL(os.path.abspath("workerlib.so"))
    for name in ("mp_vg_start", "mp_vg_stop", "mp_vg_zero", "mp_vg_dump", "mp_vg_end", "mp_region_end",
                 "mp_block_signals"):
        getattr(lib, name).restype = None
    lib.mp_vg_dump.argtypes = [ctypes.c_char_p]
    lib.mp_vg_end.argtypes = lib.mp_region_end.argtypes = [ctypes.c_char_p]
    lib.mp_serve.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.mp_jobs.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
    return lib


def _functions(obj):
    """The Python functions defined in a module or class, with what makes them behave."""
    out = []
    for v in vars(obj).values():
        if isinstance(v, (staticmethod, classmethod)):
            v = v.__func__
        if type(v).__name__ == "function":
            out.append((v, v.__code__, v.__defaults__, v.__kwdefaults__, v.__globals__))
        elif isinstance(v, type) and v.__module__ == getattr(obj, "__name__", None):
            out.extend(_functions(v))
    return out


def snapshot(*objects):
    """What the module body must leave as it is: every loaded module and its namespace (by
    identity), this harness's functions and their code, the attributes of ``objects`` (the
    region, the native library), builtins, import hooks, trace and profile functions, signal
    handlers."""
    mods = dict(sys.modules)
    return {
        "objects": [(o, dict(vars(o))) for o in objects],
        "modules": mods,
        "dicts": {n: dict(vars(m)) for n, m in mods.items()
                  if type(getattr(m, "__dict__", None)) is dict and n not in FORK_REBINDS},
        "ids": {n: _ids(vars(m)) for n, m in mods.items()
                if type(getattr(m, "__dict__", None)) is dict and n not in FORK_REBINDS},
        "functions": _functions(sys.modules["__main__"]) + _functions(wire),
        "hooks": (sys.gettrace(), sys.getprofile(), list(sys.meta_path), list(sys.path_hooks)),
        "signals": {s: h for s in range(1, signal.NSIG) for h in [_handler_or_none(s)] if h is not None},
    }


def _handler_or_none(s):
    try:
        return signal.getsignal(s)
    except (ValueError, OSError):
        return None


def _ids(d, tuple=tuple, map=map, id=id):
    """The identities of a namespace's keys and values, in order: equal iff nothing was rebound,
    added or deleted (the snapshot keeps every object alive, so no identity is reused)."""
    return tuple(map(id, d)), tuple(map(id, d.values()))


def _same(a, b, len=len, all=all, zip=zip):
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def restore(snap):
    """Put back every module namespace the module body changed (so that this harness can still
    report it: say, with builtins.len patched, it could not even frame a message)."""
    for name, before in snap["dicts"].items():
        vars(snap["modules"][name]).update(before)
    for obj, before in snap["objects"]:
        vars(obj).clear()
        vars(obj).update(before)
    for name, mod in snap["modules"].items():
        sys.modules[name] = mod


def tampered(snap, len=len, type=type, vars=vars, all=all, str=str, zip=zip, getattr=getattr):
    """What the module body changed of the harness (empty if nothing). Only reads: runs no code of
    the candidate (identity comparisons of snapshotted objects; new modules are not inspected).
    The builtins it uses are bound when the worker starts: a patched builtin cannot blind it."""
    found = []
    for name, mod in snap["modules"].items():
        if sys.modules.get(name) is not mod:
            found.append("sys.modules[%r] was replaced" % name)
    for name, before in snap["dicts"].items():
        now = vars(snap["modules"][name])
        if _ids(now) == snap["ids"][name]:  # the same keys bound to the same objects, compared in C
            continue
        if not all(type(key) is str for key in now):  # tested before any hashing: no code of the candidate runs
            found.append("a key that is not a string was added to %s" % name)
            continue
        for key, value in before.items():
            if (name == "sys" and key in SYS_FREE) or (name == "builtins" and key == "_") or key in METADATA:
                continue
            if key not in now or now[key] is not value:
                found.append("%s.%s was rebound or deleted" % (name, key))
        for key in now:
            if key not in before and not (name == "builtins" and key == "_") and key not in METADATA and \
                    type(now[key]) is not type(sys) and not (name == "sys" and key in SYS_FREE):
                found.append("%s.%s was added" % (name, key))
    for fn, code, defaults, kwdefaults, globs in snap["functions"]:
        if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults \
                or fn.__globals__ is not globs:
            found.append("the code of %s was replaced" % fn.__qualname__)
    for obj, before in snap["objects"]:
        now = vars(obj)
        if len(now) != len(before) or not all(k in now and now[k] is v for k, v in before.items()):
            found.append("the harness's %s object was changed" % _NAME.__get__(type(obj)))
    hooks = (sys.gettrace(), sys.getprofile(), list(sys.meta_path), list(sys.path_hooks))
    if hooks[0] is not None or hooks[1] is not None:
        found.append("a trace or profile function was installed")
    if not (_same(hooks[2], snap["hooks"][2]) and _same(hooks[3], snap["hooks"][3])):
        found.append("an import hook was installed")
    for s, h in snap["signals"].items():
        if _handler_or_none(s) is not h:
            found.append("the handler of signal %d was changed" % s)
    return found


def main():
    """The job server: ready once (the backend's log is sealed before any candidate runs), then
    one forked process per job (mp_jobs), each from the same state."""
    head = wire.recv(FROM_PARENT)
    if head is None or head.get("t") != "worker":
        os._exit(2)
    lib = load_workerlib()
    region = Region(head["mode"], lib)
    streams = (sys.stdout, sys.stderr)
    wire.send(TO_PARENT, {"t": "ready", "pid": os.getpid()})
    await_ack(b"r")  # the parent has sealed the backend's log: no code of a candidate ran before
    k = lib.mp_jobs(CTL_IN, CTL_OUT, RUN_DIR.encode())
    if k < -1:
        raise OSError(-2 - k, "the job server failed: " + os.strerror(-2 - k))
    if k == 0:  # a job's own process
        run_job(lib, region, streams)


def run_job(lib, region, streams):
    """One job: the candidate's module body (counted as setup), then its calls (mp_serve)."""
    job = wire.recv(FROM_PARENT)
    if job is None or job.get("t") != "job":
        os._exit(2)
    # the threads this process has before any code of the candidate runs: one natively and under
    # valgrind, and QEMU's own (its RCU thread) besides under qemu, where the guest's are host threads
    own_threads = len(os.listdir("/proc/self/task"))
    wire.send(TO_PARENT, {"t": "started", "pid": os.getpid()})
    # The plan is fixed before any code of the candidate runs, in immutable objects (a dict or a
    # list found through the garbage collector could otherwise be rewritten: more warm-ups).
    n_inputs = int(job["n_inputs"])
    # (only numbers: the worker's memory at the fork must not depend on how many calls follow)
    warmup, entry, filename = int(job["warmup"]), str(job["entry"]), str(job["filename"])
    i0, r0 = (int(x) for x in job.get("start", [0, 0]))
    repeat, canary_first = int(job["repeat"]), int(bool(job.get("canary")))
    n_calls = canary_first + (max(0, n_inputs - i0) * repeat - r0 if i0 < n_inputs else 0)

    # setup: compile (uncounted), then the module body (counted)
    try:
        code = compile(job.pop("source"), filename, "exec", dont_inherit=True)
    except BaseException as e:
        t = type(e)
        text = "%s: %s" % (_NAME.__get__(t), e) if t in _BUILTIN_EXCEPTIONS else describe(e)
        wire.send(TO_PARENT, {"t": "setup", "status": "error", "message": text})
        return
    module = type(sys)("candidate")
    module.__file__ = filename
    reseed()  # the module body, too, draws the same numbers in every run
    snap = snapshot(region, lib)
    sys.modules["candidate"] = module
    snap["modules"]["candidate"] = module
    gc.disable()
    _, exc, wall_ns, cpu_ns = region.run("setup", exec, (code, module.__dict__))
    msg = {"t": "setup", "wall_ns": wall_ns, "cpu_ns": cpu_ns, "status": "ok"}
    changed = tampered(snap)
    if changed:
        restore(snap)
        msg["status"] = "sandbox_violation"
        msg["message"] = ("the module body changed the harness that measures it: " + "; ".join(changed[:10])
                          + ". Remedy: a candidate may not patch modules, builtins or hooks it did not create.")
    elif exc is not None:
        msg["status"], msg["message"] = classify(exc)
    else:
        fn = module.__dict__.get(entry)
        if not callable(fn):
            msg["status"] = "error"
            msg["message"] = ("the candidate defines no function named %r (names defined: %s)"
                              % (entry, ", ".join(sorted(k for k in module.__dict__
                                                                if type(k) is str and not k.startswith("__")))
                                 or "none"))
    msg["rss_kb"] = max_rss_kb()
    wire.send(TO_PARENT, msg)
    if msg["status"] != "ok":
        return
    await_ack(b"s")  # the parent has read the setup's counts

    # threads the module body started may have changed the harness after its check: those still
    # running may go on until the fork server holds the GIL, so each call checks it again (in its
    # fork, where they are gone); what those that have ended did is found here, once
    alive = len(os.listdir("/proc/self/task")) > own_threads
    recheck = snap if alive or tampered(snap) else None
    k = lib.mp_serve(n_calls, TO_PARENT, FROM_PARENT, RUN_DIR.encode(), 2 if region.mode == "qemu" else 1)
    if k >= 0:  # a pristine fork: run call k
        i, r = call_at(k, i0, r0, repeat, canary_first)
        if i < 0:
            call_child(region, canary, EMPTY, 0, i, r, streams, recheck)
        # each call unpickles its own fresh copy of its input (at C speed), so a candidate that
        # mutates its arguments cannot affect another call
        call_child(region, fn, read_input(), warmup, i, r, streams, recheck)
    if k < -1:
        raise OSError(-2 - k, "the fork server failed: " + os.strerror(-2 - k))
    wire.send(TO_PARENT, {"t": "done"})


if __name__ == "__main__":
    try:
        main()
    except BaseException as e:
        os.write(2, describe(e).encode("utf-8", "replace"))
        os._exit(2)
    os._exit(0)
