"""Bad input and hostile candidates: each ends in a clear status within timeout + 2 s, with a
message, and leaves no process behind. Statuses do not depend on the backend, so the fast
``time`` backend is used; counting-specific cases run on the deterministic backend elsewhere."""
from __future__ import annotations

import functools
import os
import time

import pytest

from measure import Config, ConfigError, Input, Program, Status, measure

TIMEOUT = 2.0
CFG = Config(backend="time", repeat=2, timeout=TIMEOUT, memory=512 * 1024**2, output_limit=1024**2)


def leftover_workers():
    """Processes descended from this test process (a measurement must leave none behind)."""
    parent = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    me, found = os.getpid(), []
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p > 1 and seen < 64:
            p, seen = parent[p], seen + 1
            if p == me:
                found.append(pid)
                break
    return found


def outcome(source: str, entry: str = "f", inputs=([],), cfg: Config = CFG):
    before = set(leftover_workers())
    t0 = time.monotonic()
    m = measure(Program(source, entry), list(inputs), cfg)
    elapsed = time.monotonic() - t0
    time.sleep(0.1)
    assert set(leftover_workers()) - before == set(), "a worker process outlived its measurement"
    return m, elapsed


def status_of(m):
    return m.setup.status if m.setup.status is not Status.OK else m.inputs[0].status


def message_of(m):
    return m.setup.message if m.setup.status is not Status.OK else m.inputs[0].message


@pytest.mark.parametrize("name, source, status, words", [
    ("syntax error", "def f(:\n    pass", Status.ERROR, "SyntaxError"),
    ("missing entry point", "def g():\n    pass", Status.ERROR, "no function named 'f' (names defined: g)"),
    ("exception", "def f():\n    raise ValueError('boom')", Status.ERROR, "ValueError: boom"),
    ("sys.exit", "import sys\ndef f():\n    sys.exit(3)", Status.ERROR, "sys.exit(3)"),
    ("os._exit", "import os\ndef f():\n    os._exit(0)", Status.ERROR, "ended its process"),
    ("segfault", "import ctypes\ndef f():\n    ctypes.string_at(0)", Status.CRASHED, "SIGSEGV"),
    ("unserialisable output", "def f():\n    return object()", Status.ERROR, "not plain data"),
    ("output frame above the channel limit", "def f():\n    return 'x' * (65 * 2**20)", Status.ERROR,
     "could not be reported"),
    ("memory bomb", "def f():\n    x = []\n    while True:\n        x.append(' ' * 10**7)", Status.MEMORY, "MemoryError"),
    ("output flooding", "def f():\n    while True:\n        print('x' * 10000)", Status.SANDBOX_VIOLATION, "output limit"),
    ("write outside the working directory", "def f():\n    open('/etc/measure-evil', 'w').write('x')",
     Status.SANDBOX_VIOLATION, "Read-only file system"),
    ("network connection", "import socket\ndef f():\n    socket.create_connection(('1.1.1.1', 80), 1)",
     Status.SANDBOX_VIOLATION, "unreachable"),
    ("writes to the measurement channel", "import os\ndef f():\n    os.write(3, b'\\0\\0\\0\\5hello')\n    return 1",
     Status.SANDBOX_VIOLATION, "channel was corrupted"),
])
def test_hostile_candidate_ends_in_its_status_with_a_message(name, source, status, words):
    m, elapsed = outcome(source)
    assert status_of(m) is status
    assert words in message_of(m)
    assert elapsed < TIMEOUT + 2
    assert all(s.instructions is None for r in m.inputs for s in r.samples)


@pytest.mark.parametrize("name, source", [
    ("infinite loop", "def f():\n    while True:\n        pass"),
    ("infinite loop at import", "while True:\n    pass\ndef f():\n    pass"),
    ("fork bomb", "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass"),
    ("fork bomb at import", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
                            "def f():\n    pass"),
])
def test_runaway_candidate_times_out_within_the_limit_and_leaves_nothing_behind(name, source):
    m, elapsed = outcome(source)
    assert status_of(m) is Status.TIMEOUT
    assert "time limit" in message_of(m) and "right-censored" in message_of(m)
    assert elapsed < TIMEOUT + 2
    if m.setup.status is Status.OK:
        assert len(m.inputs[0].samples) == 1  # a timed-out input is not repeated


def test_a_detached_grandchild_of_the_module_body_does_not_survive_it():
    marker = f"measure-orphan-{os.getpid()}-{time.monotonic_ns()}"
    src = (f"import os\nif os.fork() == 0:\n    os.setsid()\n"
           f"    os.execv('/bin/sleep', ['sleep', '1000', '{marker}'])\ndef f():\n    return 1")
    m, _ = outcome(src)
    assert m.inputs[0].status is Status.OK
    time.sleep(0.2)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                assert marker.encode() not in open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                pass


def test_a_timeout_on_one_input_does_not_stop_the_others():
    src = "def f(n):\n    while n < 0:\n        pass\n    return n * 2"
    m, _ = outcome(src, inputs=([1], [-1], [3]))
    assert [r.status for r in m.inputs] == [Status.OK, Status.TIMEOUT, Status.OK]
    assert [r.output for r in m.inputs] == [2, None, 6]
    assert [len(r.samples) for r in m.inputs] == [2, 1, 2]


def test_wrong_answer_is_checked_in_the_parent_and_keeps_the_count():
    m, _ = outcome("def f(x):\n    return x + 1", inputs=[Input((1,), 3)])
    assert m.inputs[0].status is Status.WRONG_ANSWER
    assert "expected 3, got 2" in m.inputs[0].message


def test_a_custom_checker_decides_correctness():
    cfg = Config(**{**CFG.__dict__, "checker": lambda out, exp: abs(out - exp) < 1e-6})
    m, _ = outcome("def f(x):\n    return x / 3 * 3", inputs=[Input((1.0,), 1.0)], cfg=cfg)
    assert m.inputs[0].status is Status.OK


def test_unserialisable_inputs_are_a_config_error_naming_the_input():
    with pytest.raises(ConfigError, match="input #1 cannot be sent"):
        measure(Program("def f(x):\n    return x", "f"), [[1], [lambda: 0]], CFG)


def test_picklable_inputs_reach_the_candidate():
    import fractions
    m, _ = outcome("def f(x):\n    return float(x * 2)", inputs=[[fractions.Fraction(1, 3)]])
    assert m.inputs[0].output == pytest.approx(2 / 3)


def test_a_bad_config_is_refused_with_the_remedy():
    with pytest.raises(ConfigError, match="repeat must be an integer >= 1"):
        Config(repeat=0)
    with pytest.raises(ConfigError, match="unknown backend 'fast'"):
        Config(backend="fast")


def test_an_instruction_budget_needs_a_backend_that_counts_instructions():
    with pytest.raises(ConfigError, match="time backend counts none"):
        Config(backend="time", budget=1_000_000)
    with pytest.raises(ConfigError, match="positive number of instructions"):
        Config(budget=0)


def test_the_wall_clock_backstop_of_a_budget_lies_far_above_the_budget():
    from measure.backends.valgrind import ValgrindBackend
    # 1.36e8 instructions (ENAMEL's 10 ms of slack) take about a second under callgrind
    assert ValgrindBackend().backstop_s(136_000_000) == pytest.approx(2.0 + 13.6)


def test_stop_on_failure_leaves_later_inputs_unmeasured():
    cfg = Config(**{**CFG.__dict__, "stop_on_failure": True})
    m, _ = outcome("def f(n):\n    while n < 0:\n        pass\n    return n", inputs=([1], [-1], [3]), cfg=cfg)
    assert [(r.index, r.status) for r in m.inputs] == [(0, Status.OK), (1, Status.TIMEOUT)]


def test_a_huge_integer_output_comes_back_exactly():
    m, _ = outcome("def f():\n    return 3 ** 100000")
    assert m.inputs[0].status is Status.OK and m.inputs[0].output == 3 ** 100000


# ---------------------------------------------------------------------------------------------
# The security model (docs/security-model.md): for any candidate, the count of a call is the
# count of everything the call did, or the call is not ok; nothing it does reaches another call
# or the host. Each class of attack below runs on the deterministic backends (valgrind, qemu) and
# on time; a counting case passes only if the hostile count is at least the honest count of the
# same work, or the status is not ok.

WORK = "def work():\n    s = 0\n    for i in range(200000):\n        s += i * i\n    return s\n"
ANSWER = sum(i * i for i in range(200000))
BACKENDS = ["valgrind", "qemu", "time"]


@functools.lru_cache(maxsize=None)
def unavailable(backend):
    """Why ``backend`` cannot run here (None: it can)."""
    from measure.backends import get_backend
    from measure.errors import BackendUnavailable
    try:
        get_backend(backend).check()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def backend_config(backend, **kw):
    if unavailable(backend):
        pytest.skip(f"{backend} is unavailable here: {unavailable(backend)}")
    base = dict(backend=backend, repeat=2, timeout=60.0 if backend == "valgrind" else TIMEOUT,
                memory=512 * 1024**2, output_limit=1024**2)
    base.update(kw)
    return Config(**base)


def metric(sample):
    return sample.instructions if sample.instructions is not None else sample.task_clock_ns


@functools.lru_cache(maxsize=None)
def honest(backend):
    """The honest count of WORK's call on this backend."""
    m = measure(Program(WORK + "def f():\n    return work()\n", "f"), [Input((), ANSWER)], backend_config(backend))
    assert m.inputs[0].status is Status.OK
    return min(metric(s) for s in m.inputs[0].samples)


def assert_not_cheaper(m, backend):
    """The security model's rule for one measurement of WORK under attack."""
    r = m.inputs[0] if m.setup.status is Status.OK else None
    if r is None or r.status is not Status.OK:
        return
    if backend in ("valgrind", "qemu"):
        assert all(s.instructions >= honest(backend) for s in r.samples), [s.instructions for s in r.samples]
    else:  # timings are noisy: the attack must not shrink them by an order of magnitude
        assert all(s.task_clock_ns >= honest(backend) / 10 for s in r.samples)
        assert all(s.wall_ns >= s.task_clock_ns / 2 for s in r.samples)


CLIENT_REQUEST = '''
import ctypes, mmap
_CODE = bytes.fromhex("4889f831d2" "48c1c703" "48c1c70d" "48c1c73d" "48c1c733" "4887db" "4889d0c3")
_PAGE = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
_PAGE.write(_CODE)
_REQUEST = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(ctypes.addressof(ctypes.c_char.from_buffer(_PAGE)))
def request(code):
    args = (ctypes.c_ulong * 6)(code, 0, 0, 0, 0, 0)
    return _REQUEST(ctypes.addressof(args))
'''


@pytest.mark.parametrize("name, body", [
    ("zero the stats through the harness's own library",
     "import ctypes, os\ndef f():\n    r = work()\n    ctypes.CDLL(os.path.abspath('../workerlib.so')).mp_vg_zero()\n    return r"),
    ("pause collection with its own client request (toggle, work, toggle)",
     CLIENT_REQUEST + "def f():\n    request(0x43540002)\n    r = work()\n    request(0x43540002)\n    return r"),
    ("stop and restart instrumentation around the work",
     CLIENT_REQUEST + "def f():\n    request(0x43540005)\n    r = work()\n    request(0x43540004)\n    return r"),
    ("dump early",
     CLIENT_REQUEST + "def f():\n    request(0x43540000)\n    return work()"),
])
def test_a_call_that_issues_client_requests_is_a_sandbox_violation(name, body):
    if os.uname().machine != "x86_64" and "request(" in body:
        pytest.skip("the hand-made client request is x86_64 code")
    m, _ = outcome(WORK + body, inputs=[Input((), ANSWER)], cfg=backend_config("valgrind"))
    assert m.inputs[0].status is Status.SANDBOX_VIOLATION, m.inputs[0].message
    assert "client requests" in m.inputs[0].message
    assert all(s.instructions is None for s in m.inputs[0].samples)


def test_a_module_body_that_issues_client_requests_is_a_sandbox_violation():
    m, _ = outcome(WORK + CLIENT_REQUEST + "request(0x43540001)\ndef f():\n    return work()",
                   inputs=[Input((), ANSWER)], cfg=backend_config("valgrind"))
    assert m.setup.status is Status.SANDBOX_VIOLATION and "client requests" in m.setup.message


def test_fake_dump_files_do_not_lower_the_count():
    fake = ("# callgrind format\\nversion: 1\\ncreator: callgrind-3.19.0\\npid: %d\\ncmd: x\\npart: 1\\n\\n"
            "desc: Trigger: Client Request: measure-call\\n\\npositions: line\\nevents: Ir\\nsummary: 7\\n\\nfn=x\\n0 7\\n")
    body = ("import os\ndef f():\n    for n in range(0, 4):\n"
            f"        open('.cg.%d.%d' % (os.getpid(), n), 'w').write('{fake}' % os.getpid())\n"
            "    return work()")
    m, _ = outcome(WORK + body, inputs=[Input((), ANSWER)], cfg=backend_config("valgrind"))
    assert_not_cheaper(m, "valgrind")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forged_result_frame_neither_lowers_the_count_nor_the_time(backend):
    body = ("import json, os\ndef f():\n    r = work()\n"
            "    body = json.dumps({'t': 'result', 'i': 0, 'r': %s, 'status': 'ok', 'output': r, 'wall_ns': 1,"
            " 'cpu_ns': 1, 'rss_kb': 1}).encode()\n"
            "    os.write(3, len(body).to_bytes(4, 'big') + body)\n    os._exit(0)")
    for r in (0, 1):  # forge the frame of the call in flight, whichever repeat it is
        m, _ = outcome(WORK + body % r, inputs=[Input((), ANSWER)], cfg=backend_config(backend, repeat=1))
        assert m.inputs[0].status is not Status.OK or backend == "time", m.inputs[0].message
        assert_not_cheaper(m, backend)


# The job server's protocol: a call that has done its work writes the frames that end a job (done
# on the shared channel, jobend there and on the server's control pipe, fd 5, closed in every job)
# to have its region cut short or the job taken for over, on a worker kept for the next job.
FORGED_END = ("import os\ndef f():\n    r = work()\n"
              "    for fd, body in ((3, b'{\"t\":\"done\"}'), (3, b'{\"t\":\"jobend\",\"k\":0,\"pid\":2,\"exit\":0,"
              "\"signal\":null}'), (5, b'{\"t\":\"jobend\",\"k\":0,\"pid\":2,\"exit\":0,\"signal\":null}')):\n"
              "        try:\n            os.write(fd, len(body).to_bytes(4, 'big') + body)\n        except OSError:\n"
              "            pass\n    return r\n")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_call_that_forges_the_end_of_its_job_is_a_sandbox_violation_and_the_next_job_counts_honestly(backend):
    from measure.run import WorkerReuse
    from measure.sandbox.session import use_pool
    cfg = backend_config(backend, repeat=1)
    reuse = WorkerReuse()
    reuse.enter_thread()   # as an Evaluator's thread: the worker is kept for the next job
    try:
        forged = measure(Program(WORK + FORGED_END, "f"), [Input((), ANSWER)], cfg)
        after = measure(Program(WORK + "def f():\n    return work()\n", "f"), [Input((), ANSWER)], cfg)
    finally:
        reuse.close()
        use_pool(None)
    assert forged.inputs[0].status is Status.SANDBOX_VIOLATION, forged.inputs[0].message
    assert all(metric(s) is None for s in forged.inputs[0].samples)
    assert after.inputs[0].status is Status.OK
    if backend != "time":
        assert [s.instructions for s in after.inputs[0].samples] == [honest(backend)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, body, words", [
    ("work done in a forked child", "import os\ndef f():\n    if os.fork() == 0:\n        work()\n        os._exit(0)\n"
                                    "    os.wait()\n    return 1", "may not start processes"),
    ("multiprocessing", "import multiprocessing\ndef f():\n    with multiprocessing.Pool(2) as p:\n"
                        "        return sum(p.map(abs, range(10)))", ""),
    ("a thread", "import threading\ndef f():\n    t = threading.Thread(target=work)\n    t.start()\n    t.join()\n"
                 "    return 1", "start a thread"),
    ("subprocess", "import subprocess\ndef f():\n    return subprocess.run(['true']).returncode", "may not start processes"),
])
def test_a_call_cannot_start_processes_or_threads(backend, name, body, words):
    m, _ = outcome(WORK + body, cfg=backend_config(backend, repeat=1))
    r = m.inputs[0]
    assert r.status in (Status.SANDBOX_VIOLATION, Status.ERROR), r.message
    assert words in r.message
    assert all(s.instructions is None for s in r.samples)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nothing_a_call_writes_reaches_the_next_call(backend):
    src = ("import os, tempfile\n"
           "PLACES = ('.', os.environ.get('TMPDIR', '.'), tempfile.gettempdir(), os.path.expanduser('~'), '/tmp', '/dev/shm')\n"
           "def f(tag):\n"
           "    seen = sorted({d for d in PLACES if os.path.exists(os.path.join(d, 'measure-state'))})\n"
           "    for d in PLACES:\n"
           "        try:\n            open(os.path.join(d, 'measure-state'), 'w').write(tag)\n"
           "        except OSError:\n            pass\n"
           "    return seen")
    m, _ = outcome(src, inputs=[["a"], ["b"]], cfg=backend_config(backend, repeat=3))
    assert [r.status for r in m.inputs] == [Status.OK, Status.OK]
    assert [r.output for r in m.inputs] == [[], []]
    if backend == "valgrind":
        counts = [s.instructions for r in m.inputs for s in r.samples]
        assert len(set(counts)) == 1, counts


def test_every_repeat_counts_the_same_whatever_the_calls_before_left_behind():
    src = ("import os\ndef f():\n    n = len(os.listdir('.'))\n"
           "    for i in range(50):\n        os.makedirs('d%d/e/f' % i)\n        open('d%d/e/f/x' % i, 'w').write('x' * 1000)\n"
           "    os.chmod('d0', 0)\n    return n")
    m, _ = outcome(src, cfg=backend_config("valgrind", repeat=3))
    r = m.inputs[0]
    assert r.status is Status.OK and r.output == 1  # only its own out.txt
    assert len({s.instructions for s in r.samples}) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_call_has_a_disk_quota(backend):
    src = "def f():\n    for i in range(40):\n        open('big%d' % i, 'wb').write(b'x' * (1 << 20))\n    return 1"
    m, _ = outcome(src, cfg=backend_config(backend, repeat=1, disk=16 * 1024**2))
    assert m.inputs[0].status is Status.SANDBOX_VIOLATION
    assert "disk quota" in m.inputs[0].message


def mount_namespace():
    from measure.sandbox.policy import plan_isolation
    return plan_isolation().has("mount")


@pytest.mark.parametrize("name, source, words", [
    ("a file in /dev", "def f():\n    open('/dev/measure-evil', 'w').write('x')", "Read-only file system"),
    ("the kernel log", "def f():\n    return open('/dev/kmsg').read(10)", "No such file"),
    ("root's secrets", "def f():\n    return open('/etc/shadow').read()", "Permission denied"),
    ("the worker's log", "def f():\n    open('../worker.log', 'a').write('x')", "Permission denied"),
    ("the harness's files", "def f():\n    open('../worker.py', 'a').write('x')", "Permission denied"),
    ("kernel settings", "def f():\n    open('/proc/sys/kernel/hostname', 'w').write('x')", "Read-only file system"),
    ("sysfs", "import os\ndef f():\n    open('/sys/kernel/mm/transparent_hugepage/enabled', 'w').write('never')", "denied"),
])
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_host_is_out_of_reach(backend, name, source, words):
    if not mount_namespace() or os.getuid() != 0:
        pytest.skip("needs root and a mount namespace (the worker then runs as nobody with a private /dev)")
    m, _ = outcome(source, cfg=backend_config(backend, repeat=1))
    assert m.inputs[0].status is Status.SANDBOX_VIOLATION or m.inputs[0].status is Status.ERROR
    assert words in m.inputs[0].message


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_host_unix_socket_cannot_be_reached(backend, tmp_path):
    import socket
    path = str(tmp_path / "host.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)
    os.chmod(tmp_path, 0o755)
    os.chmod(path, 0o777)
    try:
        m, _ = outcome(f"import socket\ndef f():\n    s = socket.socket(socket.AF_UNIX)\n    s.connect({path!r})\n"
                       "    s.sendall(b'hello')\n    return 1", cfg=backend_config(backend, repeat=1))
        assert m.inputs[0].status is Status.SANDBOX_VIOLATION
        server.settimeout(0.2)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_candidate_has_no_capabilities_and_no_root(backend):
    src = ("import os\ndef f():\n    caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')]\n"
           "    return [os.getuid(), os.geteuid(), caps[0]]")
    m, _ = outcome(src, cfg=backend_config(backend, repeat=1))
    uid, euid, caps = m.inputs[0].output
    assert int(caps, 16) == 0
    if os.getuid() == 0 and mount_namespace():
        assert uid == euid == 65534


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_call_that_dies_inside_its_region_does_not_touch_the_next(backend):
    src = "import os, signal\ndef f(n):\n    if n < 0:\n        os.kill(os.getpid(), signal.SIGKILL)\n    return n"
    m, _ = outcome(src, inputs=([-1], [2]), cfg=backend_config(backend))
    assert [r.status for r in m.inputs] == [Status.CRASHED, Status.OK]
    assert all(metric(s) is not None for s in m.inputs[1].samples)


@pytest.mark.parametrize("name, source", [
    ("a patched harness function", "import __main__\n__main__.call_child = lambda *a: None\ndef f():\n    return 1"),
    ("a patched builtin", "import builtins\nbuiltins.len = lambda x: 0\ndef f():\n    return 1"),
    ("replaced code", "import __main__\n__main__.classify.__code__ = (lambda e: ('ok', '')).__code__\n"
                      "def f():\n    return 1"),
    ("a trace function", "import sys\nsys.settrace(lambda *a: None)\ndef f():\n    return 1"),
    ("a signal handler", "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\ndef f():\n    return 1"),
    ("the region's mode", "import gc\nfor o in gc.get_objects():\n    if type(o).__name__ == 'Region':\n"
                          "        o.mode = 'time'\ndef f():\n    return 1"),
])
def test_a_module_body_that_patches_the_harness_is_refused(name, source):
    m, _ = outcome(source)
    assert m.setup.status is Status.SANDBOX_VIOLATION, m.setup.message
    assert "changed the harness" in m.setup.message


# a thread of the module body that waits until the setup's check has passed (it reads the harness's
# own frames) and then, while the main thread waits on the parent, rebinds what each call uses to
# read its input
LATE_PATCH = """
import sys, threading, pickle
def _later():
    main = threading.main_thread().ident
    while True:
        frame = sys._current_frames().get(main)
        while frame is not None and frame.f_code.co_name != "run_job":
            frame = frame.f_back
        if frame is not None and "changed" in frame.f_locals:
            pickle.loads = lambda blob: (0,)
            return
threading.Thread(target=_later, daemon=True).start()
def f(*args):
    return pickle.loads.__name__  # "<lambda>": the call ran on the patched harness
"""


@pytest.mark.parametrize("backend", ["time", "valgrind"])
def test_a_thread_that_patches_the_harness_after_the_setups_check_is_caught(backend):
    # The thread needs the GIL in a short window, which a loaded machine may not give it: a run
    # where it got none has an unpatched harness, so it is tried again. What catches it: each call
    # (time), or valgrind's canary call, forked after the module body (the setup is refused)
    caught = 0
    for _ in range(10):
        m, _ = outcome(LATE_PATCH, inputs=([1, 2],), cfg=backend_config(backend, repeat=2))
        r = m.inputs[0]
        assert "<lambda>" not in [s.status is Status.OK and r.output for s in r.samples], "ran on a patched harness"
        if m.setup.status is Status.SANDBOX_VIOLATION:
            assert "the harness was changed" in m.setup.message
            caught += 1
        elif r.samples[0].status is Status.SANDBOX_VIOLATION:
            assert [s.status for s in r.samples] == [Status.SANDBOX_VIOLATION] * 2, r.message
            assert "the harness was changed before this call: pickle.loads was rebound" in r.message
            caught += 1
        if caught == 2:
            break
    assert caught == 2


def test_a_killed_run_leaves_nothing_the_next_one_does_not_clean(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import tempfile
    env = dict(os.environ, TMPDIR=str(tmp_path))
    script = ("from measure import measure, Program, Config\n"
              "measure(Program('def f():\\n    while True:\\n        pass', 'f'), [[]], Config(backend='time', timeout=60))")
    p = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=str(tmp_path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(tmp_path.glob(f"measure-{p.pid}-*/worker.py")):
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    left = list(tmp_path.glob(f"measure-{p.pid}-*"))
    assert left, "the killed run had made no working directory"
    from measure.sandbox import files
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    time.sleep(0.5)  # its worker dies with it (PR_SET_PDEATHSIG)
    assert files.clean_stale.__wrapped__() >= 1
    assert not list(tmp_path.glob(f"measure-{p.pid}-*"))


def test_valgrinds_log_is_out_of_the_candidates_reach():
    if not mount_namespace() or os.getuid() != 0:
        pytest.skip("needs root and a mount namespace (the worker then runs as nobody)")
    body = ("import os\ndef f():\n    r = work()\n    denied = 0\n"
            "    try:\n        open('../vg.log', 'a').write('client request: code 0\\n')\n"
            "    except PermissionError:\n        denied += 1\n"
            "    for fd in range(3, 1200):\n        try:\n            os.write(fd, b'==1== Collected : 1\\n')\n"
            "        except OSError:\n            pass\n"
            "    return [r, denied]")
    m, _ = outcome(WORK + body, inputs=[Input((), [ANSWER, 1])], cfg=backend_config("valgrind"))
    assert m.inputs[0].status in (Status.OK, Status.SANDBOX_VIOLATION), m.inputs[0].message
    assert_not_cheaper(m, "valgrind")


def test_a_measurement_records_what_the_candidate_could_reach():
    from measure.model import Measurement
    m, _ = outcome("def f():\n    return 1")
    assert set(m.isolation) == {"user", "dev", "network", "disk", "processes", "randomness", "count"}
    assert Measurement.from_json(m.to_json()).isolation == m.isolation
    if os.getuid() == 0 and mount_namespace():
        assert m.isolation["user"].startswith("nobody (65534)")
        assert m.isolation["dev"].startswith("private")


def test_a_module_body_cannot_rewrite_the_plan_of_the_calls():
    # the job as the worker received it is reachable through the garbage collector: more warm-ups
    # (a cache filled before the counted call) or a smaller input must change nothing
    cached = ("import functools, gc\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n"
              "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n")
    attack = ("for o in gc.get_objects():\n    if type(o) is dict and o.get('t') == %r:\n"
              "        o['warmup'] = 3\n        o['n_inputs'] = 0\n        o['repeat'] = 1\n")
    cfg = backend_config("valgrind")
    honest_m = measure(Program(cached + attack % "not the job", "fib"), [[300]], cfg)  # the same walk, no write
    m, _ = outcome(cached + attack % "job", entry="fib", inputs=[[300]], cfg=cfg)
    assert m.inputs[0].status is Status.OK and m.inputs[0].output == honest_m.inputs[0].output
    assert [s.instructions for s in m.inputs[0].samples] == [s.instructions for s in honest_m.inputs[0].samples]


def test_a_call_cannot_write_the_fork_servers_memory():
    from measure.sandbox.policy import plan_isolation
    if not plan_isolation().has("pid"):
        pytest.skip("needs a PID namespace (the fork server is its pid 1)")
    src = "def f():\n    with open('/proc/1/mem', 'r+b') as m:\n        return 'opened'"
    m, _ = outcome(src)
    assert m.inputs[0].status is Status.SANDBOX_VIOLATION and "Permission denied" in m.inputs[0].message


def test_the_module_body_never_sees_the_inputs():
    # look for the inputs in the worker's memory and files, to precompute every answer and make
    # each call a lookup: the module body must find nothing (each call says whether it was found)
    attack = ("import gc, os, pickle\nFOUND = set()\n"
              "def _learn(x):\n    if type(x) is int and x * 7 in (22239, 29687):\n        FOUND.add(x)\n"
              "for o in gc.get_objects():\n    for v in (o.values() if type(o) is dict else o if type(o) in (list, tuple) else ()):\n"
              "        if type(v) is bytes:\n            try:\n                v = pickle.loads(v)\n            except Exception:\n                continue\n"
              "        for w in (v if type(v) in (list, tuple) else [v]):\n            _learn(w)\n"
              "for name in os.listdir('.'):\n    try:\n        _learn(pickle.load(open(name, 'rb'))[0])\n    except Exception:\n        pass\n"
              "def f(n):\n    return n in FOUND\n")
    m, _ = outcome(attack, inputs=[[3177], [4241]], cfg=backend_config("valgrind"))  # (the program names only 7 x them)
    assert [r.status for r in m.inputs] == [Status.OK, Status.OK]
    assert [r.output for r in m.inputs] == [False, False]

def test_a_home_the_worker_may_not_enter_shows_it_only_the_interpreter():
    if not mount_namespace() or os.getuid() != 0 or not os.path.isdir("/root"):
        pytest.skip("needs root and a mount namespace (the worker then runs as nobody)")
    from measure.platform import resolve_interpreter
    paths = resolve_interpreter(None).paths
    visible = {p.split("/")[2] for p in paths if p.startswith("/root/")}
    m, _ = outcome("import os\ndef f():\n    return sorted(os.listdir('/root'))")
    r = m.inputs[0]
    if r.status is Status.OK:  # /root covered: only the way to the interpreter is there
        assert set(r.output) <= visible, r.output
    else:  # /root not covered (the interpreter is elsewhere): not readable at all
        assert "Permission denied" in r.message


@pytest.mark.parametrize("source", [
    "import importlib, importlib.util\n",                     # renames the frozen bootstrap modules
    "import threading, queue, concurrent.futures\n",
    "import typing, dataclasses, collections, functools, itertools, heapq, bisect, re, json, math\n",
    "import random\nrandom.seed(42)\nDATA = random.sample(range(100), 10)\n",
    "import sys\nsys.setrecursionlimit(10000)\nsys.path.append('/nowhere')\n",
    "import warnings\nwarnings.simplefilter('ignore')\n",
    "import logging\nlogging.basicConfig(level=logging.ERROR)\n",
])
def test_an_honest_module_body_is_not_taken_for_a_patch(source):
    import sys
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))  # no site .pth imports
    m, _ = outcome(source + "def f():\n    return 1", cfg=Config(**{**CFG.__dict__, "python": base}))
    assert m.setup.status is Status.OK, m.setup.message
    assert m.inputs[0].status is Status.OK, m.inputs[0].message


def test_under_qemu_a_module_body_that_starts_a_thread_is_refused_with_the_setup():
    m, _ = outcome(LATE_PATCH, inputs=([1, 2],), cfg=backend_config("qemu", repeat=2))
    assert m.setup.status is Status.SANDBOX_VIOLATION
    assert "started a thread" in m.setup.message
    assert all(s.instructions is None for s in m.inputs[0].samples)
