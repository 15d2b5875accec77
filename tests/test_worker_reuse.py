"""A worker serves many jobs (the Evaluator's and the harness's threads keep theirs): each job runs
in a process forked from the worker's same state, so a count never depends on the jobs before it,
and nothing a job does (files, processes, forged frames, the server's memory) reaches the next."""
from __future__ import annotations

import pytest

from measure import Config, Program, Status
from measure.run import WorkerReuse, measure
from measure.sandbox import session

LOOP = Program("def f(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t\n", "f")
FAST = Program("def f(n):\n    return (n - 1) * n * (2 * n - 1) // 6\n", "f")
READS = Program("import os\nSEEN = sorted(os.listdir('.'))\ndef f(n):\n    return SEEN\n", "f")
# the module body leaves a file in the shared directory and a process that, later, forges frames
LITTERS = Program("import os, time\nopen('planted', 'w').write('x')\n"
                  "if os.fork() == 0:\n    time.sleep(1.5)\n"
                  "    for fd in (3, 5):\n        try:\n            os.write(fd, b'\\x00\\x00\\x00\\x10{\"t\":\"jobend\"}')\n"
                  "        except OSError:\n            pass\n    os._exit(0)\n"
                  "def f(n):\n    return n\n", "f")
# a call that writes forged frames on the shared channel
FORGES = Program("import os\ndef f(n):\n    os.write(3, b'\\x00\\x00\\x00\\x0b{\"t\":\"done\"}')\n    return n\n", "f")
# a call that reaches for the server's memory and its control pipe
PRIES = Program("import os\ndef f(n):\n    out = []\n"
                "    for path in ('/proc/1/mem', '/proc/%d/mem' % os.getppid()):\n"
                "        try:\n            open(path, 'r+b').close()\n            out.append('open')\n"
                "        except OSError as e:\n            out.append(e.errno)\n"
                "    for fd in (5, 6):\n        try:\n            os.fstat(fd)\n            out.append('fd')\n"
                "        except OSError as e:\n            out.append(e.errno)\n    return out\n", "f")


@pytest.fixture(params=["qemu", "valgrind"])
def emulator(request):
    if request.param == "qemu":
        request.getfixturevalue("qemu")
    else:
        request.getfixturevalue("valgrind")
    return request.param


@pytest.fixture
def launches(monkeypatch):
    """How many workers were started."""
    started = []
    real = session._Worker.__init__

    def counting(self, job):
        started.append(job.entry)
        real(self, job)

    monkeypatch.setattr(session._Worker, "__init__", counting)
    return started


def signature(m):
    return m.setup.status, [(r.status, r.output, [s.instructions for s in r.samples]) for r in m.inputs]


def in_one_thread(jobs, cfg):
    """The jobs in this thread with worker reuse on, as an Evaluator's thread runs them."""
    reuse = WorkerReuse()
    reuse.enter_thread()
    try:
        return [measure(p, inputs, cfg) for p, inputs in jobs]
    finally:
        reuse.close()
        session.use_pool(None)


def test_a_job_counts_the_same_alone_and_after_others_on_one_worker(emulator, launches):
    cfg = Config(backend=emulator, repeat=2)
    alone = signature(measure(LOOP, [[3000]], cfg))
    n_alone = len(launches)
    batch = in_one_thread([(FAST, [[10]]), (LOOP, [[3000]]), (FAST, [[7]]), (LOOP, [[3000]])], cfg)
    assert [signature(m) for m in batch][1::2] == [alone, alone]
    assert len(launches) - n_alone == 1   # four jobs, one worker


def test_nothing_a_job_leaves_behind_reaches_the_next(emulator):
    cfg = Config(backend=emulator, repeat=1)
    clean = signature(measure(READS, [[0]], cfg))
    for hostile in (LITTERS, FORGES, PRIES):
        # no planted file, no late forged frame from a process the job left, the same count
        after = in_one_thread([(hostile, [[0]]), (READS, [[0]])], cfg)[1]
        assert signature(after) == clean, hostile.source


def test_a_forged_frame_fails_its_own_call_and_the_next_job_runs_on_a_new_worker(emulator, launches):
    cfg = Config(backend=emulator, repeat=1)
    forged, honest = in_one_thread([(FORGES, [[0]]), (FAST, [[10]])], cfg)
    assert forged.inputs[0].status is Status.SANDBOX_VIOLATION
    assert honest.inputs[0].status is Status.OK and honest.inputs[0].output == 285
    assert len(launches) == 2   # the worker that saw a forged frame is not reused


def test_a_job_cannot_open_the_servers_memory_nor_see_its_control_pipe(emulator):
    m = in_one_thread([(PRIES, [[0]])], Config(backend=emulator, repeat=1))[0]
    assert m.inputs[0].status is Status.OK
    mem, fds = m.inputs[0].output[:2], m.inputs[0].output[2:]
    assert "open" not in mem and fds == [9, 9]   # EBADF: the server's pipe is closed in the job
