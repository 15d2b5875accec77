"""One call, one count: the count of a (program, input) is a function of the interpreter binary,
the engine, the backend, the program and the input alone (docs/measurement.md, "What a count is a function of").
Not of the other inputs of the batch and their order, the path of the virtual environment, the
parent's working directory or environment, or the run (random state, entropy from the OS)."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest

from measure import Config, Program, measure

FIB = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def cfg():
    if shutil.which("valgrind") is None:
        pytest.skip("exact equality is a property of valgrind, which is not installed")
    return Config(backend="valgrind", repeat=1, timeout=120)


def count_of(m, i=0):
    return m.inputs[i].samples[0].instructions


def test_a_count_does_not_depend_on_the_other_inputs_of_the_batch_or_their_order(cfg):
    alone = count_of(measure(Program(FIB, "fib"), [[2000]], cfg))
    rng = random.Random(16)
    for _ in range(3):
        others = [[rng.randrange(10, 30000)] for _ in range(rng.randrange(1, 5))]
        batch = others + [[2000]]
        rng.shuffle(batch)
        m = measure(Program(FIB, "fib"), batch, cfg)
        assert count_of(m, batch.index([2000])) == alone, batch


def test_a_count_does_not_depend_on_the_path_of_the_virtual_environment(cfg, tmp_path):
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    counts = []
    for name in ("a", "a-much-longer-name-for-the-second-environment"):
        venv = tmp_path / name
        subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
        counts.append(count_of(measure(Program(FIB, "fib"), [[2000]],
                                       Config(**{**cfg.__dict__, "python": str(venv / "bin" / "python")}))))
    assert counts[0] == counts[1]


# integer arithmetic whose count followed the interpreter's heap at the fork: this project's editable
# install (an import hook run from a .pth file) moved it by 0.4 %
TRIAL = ("def trial(n):\n    count = 0\n    for k in range(2, n):\n        d = 2\n        while d * d <= k:\n"
         "            if k % d == 0:\n                break\n            d += 1\n        else:\n"
         "            count += 1\n    return count\n")


def test_a_count_does_not_depend_on_the_name_the_interpreter_was_given_by(cfg, tmp_path):
    # sys.executable is a string on the heap every call forks from: python vs python3 of one venv
    # moved a loop of bytearray slicing by 0.17 %, until the sandbox ran every venv as bin/python
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    venv = tmp_path / "env"
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    from measure.calibration.programs import as_program, select, suite
    program, inp = as_program(select(suite(), ["buffer_ops"])[0])
    names = ["python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"]
    counts = {n: count_of(measure(program, [inp], Config(**{**cfg.__dict__, "python": str(venv / "bin" / n)})))
              for n in names}
    assert len(set(counts.values())) == 1, counts


def test_code_that_pth_files_run_at_start_up_does_not_change_counts(cfg, tmp_path):
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    venv = tmp_path / "env"
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "helper_mod.py").write_text("VALUE = 7\n")
    src = TRIAL + "def with_helper(n):\n    import helper_mod\n    return trial(n) + helper_mod.VALUE\n"
    cfg_env = Config(**{**cfg.__dict__, "python": str(venv / "bin" / "python")})
    before = measure(Program(src, "trial"), [[3000]], cfg_env)
    with open(os.path.join(site, "zz-hooks.pth"), "w") as f:  # what editable installs and shims do
        f.write("import json, collections, decimal; json.loads('[1]' * 1)\n")
    with open(os.path.join(site, "zz-paths.pth"), "w") as f:
        f.write(str(extra) + "\n")
    after = measure(Program(src, "trial"), [[3000]], cfg_env)
    assert count_of(after) == count_of(before)
    # the directories .pth files list are still on the path
    helped = measure(Program(src, "with_helper", paths=(str(extra),)), [[10]], cfg_env)
    assert helped.inputs[0].output == 4 + 7, helped.inputs[0].message


def test_a_count_does_not_depend_on_the_parents_directory_or_environment(cfg, tmp_path):
    program = tmp_path / "fib.py"
    program.write_text(FIB)
    (tmp_path / "inputs.json").write_text("[[2000]]")
    counts = []
    for cwd, extra in ((tmp_path, {}), (HERE, {"GLIBC_TUNABLES": "glibc.cpu.x86_rep_movsb_threshold=100000",
                                              "MEASURE_SOMETHING": "x" * 300})):
        out = subprocess.run([sys.executable, "-m", "measure.cli", "run", str(program), "--entry", "fib",
                              "--inputs", str(tmp_path / "inputs.json"), "--backend", "valgrind", "--repeat", "1",
                              "--json"], capture_output=True, text=True, cwd=cwd, env=dict(os.environ, **extra),
                             timeout=600)
        assert out.returncode == 0, out.stderr
        counts.append(json.loads(out.stdout)["inputs"][0]["instructions"]["median"])
    assert counts[0] == counts[1]


def test_every_call_of_every_run_starts_from_the_same_random_state(cfg):
    src = "import random\nrandom.random()\ndef f():\n    return [random.random() for _ in range(3)]"
    runs = [measure(Program(src, "f"), [[]], Config(**{**cfg.__dict__, "repeat": 2})) for _ in range(2)]
    outputs = [m.inputs[0].output for m in runs]
    assert outputs[0] == outputs[1]
    rng = random.Random(0)
    assert outputs[0] == [rng.random() for _ in range(3)]
    assert len({s.instructions for m in runs for s in m.inputs[0].samples}) == 1


ENTROPY = """
import os, random, secrets, uuid
SEEDED_AT_IMPORT = random.Random().random()   # the module body draws from the OS too
def f():
    import numpy as np
    return (os.urandom(4), random.Random().random(), uuid.uuid4().hex, secrets.token_hex(4),
            int(np.random.default_rng().integers(10**9)), float(np.random.rand()), SEEDED_AT_IMPORT)
"""


def test_every_source_of_entropy_gives_the_same_numbers_in_every_run(cfg):
    runs = [measure(Program(ENTROPY, "f"), [[]], Config(**{**cfg.__dict__, "repeat": 2})) for _ in range(2)]
    if "fixed" not in runs[0].isolation["randomness"]:
        pytest.skip("no private /dev here: " + runs[0].isolation["randomness"])
    outputs = [m.inputs[0].output for m in runs]
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == b"\0\0\0\0" and outputs[0][3] == "00000000"  # os.urandom and secrets read zeros
    assert len({s.instructions for m in runs for s in m.inputs[0].samples}) == 1


def test_a_calibration_programs_count_does_not_depend_on_the_programs_measured_with_it(cfg):
    from measure.calibration.collect import collect
    from measure.calibration.programs import suite as load_suite
    suite = [p for p in load_suite() if not p.requires]
    rng = random.Random(16)
    shared = rng.sample(suite, 2)
    rest = [p for p in suite if p not in shared]
    a = collect(shared + rng.sample(rest, 3), count_bytecodes=False)
    b = collect(rng.sample(rest, 2) + shared[::-1], count_bytecodes=False)
    for p in shared:
        assert a.programs[p.name].values == b.programs[p.name].values, p.name
