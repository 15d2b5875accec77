"""Problems beyond one function call: LeetCode-style classes, whole scripts on stdin/stdout, inputs
given as code (big ones included), lossless values, perf inputs' outputs, failing references and
the tie tolerance. Measured on qemu (deterministic): costs are exact, so they are compared exactly."""
from __future__ import annotations

import json
import math

import pytest

from measure import Config, Input, Program
from measure.errors import InputFileError, InputGenerationFailed, ReferenceFailed
from measure.harness import coffe, evalperf
from measure.harness.adapter import evaluate
from measure.harness import inputs
from measure.harness.inputs import InputCode, arguments, decode, encode
from measure.harness.problems import load_problem_set, text_equal
from measure.run import measure

SCRIPT_SLOW = ("n = int(input())\nxs = list(map(int, input().split()))\nbest = 0\n"
               "for i in range(n):\n    for j in range(n):\n        best = max(best, xs[i] + xs[j])\nprint(best)\n")
SCRIPT_FAST = "import sys\nn = int(sys.stdin.readline())\nxs = sorted(map(int, sys.stdin.readline().split()))\n" \
              "print(2 * xs[-1])\n"
SCRIPT_WRONG = "input()\nprint(max(map(int, input().split())))\n"
CLASS_REF = "class Solution:\n    def twoMax(self, xs):\n        return sorted(xs)[-1] * 2\n"
CLASS_FAST = "class Solution:\n    def twoMax(self, xs):\n        return max(xs) * 2\n"
CLASS_MISSING = "class Solution:\n    def other(self, xs):\n        return 0\n"


def write(tmp_path, name, data) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return str(p)


def problem_set(*problems):
    return {"schema": "measure/problems", "version": 1, "problems": list(problems)}


def records(path):
    return {r["key"]: r for r in map(json.loads, open(path)) if "key" in r}


# --- whole programs and classes in the core ------------------------------------------------------

def test_a_script_reads_its_stdin_and_returns_its_stdout_with_an_exact_count(qemu):
    p = Program.script("import sys, os\nprint(int(input()) * 2)\nsys.stdout.write('b\\n')\n"
                       "sys.stdout.flush()\nos.write(1, b'raw\\n')\n")
    m = measure(p, [Input(("21\n",)), Input(("21\n",))], Config(backend="qemu", repeat=2))
    assert [r.output for r in m.inputs] == ["42\nb\nraw\n"] * 2
    counts = [s.instructions for r in m.inputs for s in r.samples]
    assert len(set(counts)) == 1   # the same input counts the same, call after call


def test_a_script_that_exits_nonzero_is_an_error_and_exit_zero_is_fine(qemu):
    m = measure(Program.script("import sys\nprint('x')\nsys.exit(3)\n"), [Input(("",))], Config(backend="qemu", repeat=1))
    assert m.inputs[0].status.value == "error" and "exited with status 3" in m.inputs[0].message
    m = measure(Program.script("print('x')\nexit()\n"), [Input(("",))], Config(backend="qemu", repeat=1))
    assert m.inputs[0].status.value == "ok" and m.inputs[0].output == "x\n"


def test_a_script_gets_the_sandbox_of_a_call_no_process_and_a_bounded_disk(qemu):
    forks = Program.script("import os\npid = os.fork()\nprint(pid)\n")
    floods = Program.script("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    m = measure(forks, [Input(("",))], Config(backend="qemu", repeat=1))
    assert m.inputs[0].status.value == "sandbox_violation"
    m = measure(floods, [Input(("",))], Config(backend="qemu", repeat=1, disk=4 * 2**20))
    assert m.inputs[0].status.value == "sandbox_violation" and m.inputs[0].samples[0].instructions is None


def test_a_class_method_is_called_on_a_fresh_instance_and_a_missing_one_fails_setup(qemu):
    m = measure(Program.method(CLASS_REF, "Solution", "twoMax"), [Input(([3, 1, 2],))], Config(backend="qemu", repeat=1))
    assert m.inputs[0].output == 6
    m = measure(Program.method(CLASS_MISSING, "Solution", "twoMax"), [Input(([1],))], Config(backend="qemu", repeat=1))
    assert m.setup.status.value == "error" and "twoMax" in m.setup.message


# --- values and inputs ----------------------------------------------------------------------------

def test_every_plain_value_type_round_trips_through_the_file_form():
    values = [(1, 2), {1, 2}, frozenset({"a"}), b"\x00\xff", 1 + 2j, {1: "a", (2, 3): [4]}, float("inf"),
              -float("inf"), 2 ** 200, -(2 ** 70), {"$x": 1}, [(1,), [{2: None}]], True, None, "s"]
    for v in values:
        back = decode(json.loads(json.dumps(encode(v, "v"))), "v")
        assert back == v and type(back) is type(v)
    nan = decode(encode(float("nan"), "v"), "v")
    assert isinstance(nan, float) and math.isnan(nan)


def test_a_value_without_a_lossless_form_is_refused_naming_it():
    with pytest.raises(InputFileError, match="problem 'p', test 0: cannot send a value of type object"):
        encode([object()], "problem 'p', test 0")
    with pytest.raises(InputFileError, match="problem .p., test 0: unknown or forbidden tag"):
        decode({"$pickle": "gAR9lC4="}, "problem 'p', test 0")


def test_a_problem_file_decodes_tagged_values_and_keeps_code_inputs_as_code(tmp_path):
    path = write(tmp_path, "p.json", problem_set(
        {"id": "t", "entry": "f", "tests": [[{"$tuple": [1, 2]}, {"$complex": [1.0, -1.0]}],
                                            [{"$dict": [[1, "a"]]}, {"$float": "nan"}]],
         "perf_inputs": [{"code": "[list(range(10))]"}], "references": ["def f(*a):\n    return 0\n"]}))
    (p,) = load_problem_set(path)
    assert p.tests[0] == ((1, 2), 1 - 1j) and type(p.tests[0][0]) is tuple
    assert p.tests[1][0] == {1: "a"} and math.isnan(p.tests[1][1])
    assert p.perf_inputs == (InputCode("[list(range(10))]"),)


def test_input_code_is_evaluated_with_random_seeded_and_the_callers_state_untouched():
    import random
    random.seed(123)
    before = random.random()
    random.seed(123)
    gen = InputCode("import random\ndef make():\n    return [random.randint(0, 10**9)]\n", "make")
    first = arguments(gen, False, "x")
    inputs._evaluated.cache_clear()   # evaluated afresh, not the value kept from the first time
    assert arguments(gen, False, "x") == first
    assert random.random() == before
    with pytest.raises(InputFileError, match="x: the input's code fails: ZeroDivisionError"):
        arguments(InputCode("[1 / 0]"), False, "x")
    with pytest.raises(InputFileError, match="not the program's standard input"):
        arguments(InputCode("[1]"), True, "x")


def test_script_outputs_compare_exactly_by_tokens_or_as_floats():
    assert text_equal("1 2\n", "1 2\n", "exact") and not text_equal("1 2\n", "1 2", "exact")
    assert text_equal("1 2\n3\n", "1  2 3", "whitespace") and not text_equal("1 2", "1 3", "whitespace")
    assert text_equal("0.3333333", "0.33333331", "float") and not text_equal("0.3", "0.31", "float")
    assert not text_equal("a", "0.0", "float") and not text_equal("1", 1, "whitespace")


# --- adapters on these problems ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def script_run(tmp_path_factory, qemu):
    d = tmp_path_factory.mktemp("scripts")
    xs = " ".join(str((i * 7919) % 1000) for i in range(60))
    ps = write(d, "p.json", problem_set(
        {"id": "pairmax", "kind": "script", "tests": ["3\n1 5 2\n", "1\n7\n"],
         "perf_inputs": [f"60\n{xs}\n"], "references": [SCRIPT_SLOW]}))
    ss = write(d, "s.json", {"pairmax": [SCRIPT_SLOW, SCRIPT_FAST, SCRIPT_WRONG]})
    doc = coffe.evaluate(ps, ss, str(d / "r.jsonl"), backend="qemu", progress=False)
    return doc, records(d / "r.jsonl")


def test_a_whole_program_pair_shows_its_speedup_on_exact_counts(script_run):
    doc, rec = script_run
    assert [rec[f"pairmax/{i}"]["correct"] for i in range(3)] == [True, True, False]
    assert rec["pairmax/2"]["status"] == "wrong_answer"
    slow, fast = rec["pairmax/0"]["cost"], rec["pairmax/1"]["cost"]
    assert slow == rec["pairmax/0"]["best_ground_truth_cost"]   # the reference's own count, exactly
    assert fast < slow / 5
    assert doc["overall"]["speedup"] == pytest.approx(2 * slow / (slow + fast))
    assert doc["per_problem"][0]["efficient"] == 1


@pytest.fixture(scope="module")
def class_problems(tmp_path_factory):
    d = tmp_path_factory.mktemp("classes")
    ps = write(d, "p.json", problem_set(
        {"id": "twomax", "kind": "class", "entry": "Solution.twoMax", "tests": [[[1, 5, 2]]],
         "perf_inputs": [{"code": "[list(range(3000, 0, -1))]"}], "references": [CLASS_REF]},
        {"id": "broken", "kind": "class", "entry": "Solution.twoMax", "tests": [[[1]]],
         "perf_inputs": [[[1, 2]]], "references": [CLASS_MISSING]}))
    ss = write(d, "s.json", {"twomax": [CLASS_FAST, CLASS_REF, CLASS_MISSING], "broken": [CLASS_FAST]})
    return d, ps, ss


def test_a_failing_reference_excludes_its_problem_with_a_note_and_a_count(class_problems, qemu):
    d, ps, ss = class_problems
    doc = evalperf.evaluate(ps, ss, str(d / "r.jsonl"), backend="qemu", progress=False, min_correct=1)
    assert [r["problem"] for r in doc["per_problem"]] == ["twomax"]
    assert doc["excluded"] == [{"problem": "broken", "reason": doc["excluded"][0]["reason"]}]
    assert "reference 0 fails (error)" in doc["excluded"][0]["reason"]
    assert any(w.startswith("1 problem(s) left out of the scores (a reference, or the code making an input, failed): "
                            "broken: problem 'broken': reference 0 fails (error)") for w in doc["warnings"])
    rec = records(d / "r.jsonl")
    assert rec["broken/excluded"]["sample"] == "excluded" and "broken/0" not in rec
    assert [rec[f"twomax/{i}"]["correct"] for i in range(3)] == [True, True, False]
    again = evalperf.evaluate(ps, ss, str(d / "r.jsonl"), backend="qemu", progress=False, min_correct=1)
    assert again["jobs"] == {"measured": 0, "from_cache": 0} and again["excluded"] == doc["excluded"]


def test_under_strict_a_failing_reference_stops_the_run(class_problems, qemu, tmp_path):
    _, ps, ss = class_problems
    with pytest.raises(ReferenceFailed, match="problem 'broken': reference 0 fails"):
        evalperf.evaluate(ps, ss, str(tmp_path / "r.jsonl"), backend="qemu", progress=False, strict=True,
                          problems=["broken"])


def test_a_fast_wrong_answer_on_a_perf_input_is_not_correct(qemu, tmp_path):
    ref = "def f(n):\n    return sum(range(n))\n"
    cheat = "def f(n):\n    return sum(range(n)) if n < 100 else 0\n"
    ps = write(tmp_path, "p.json", problem_set({"id": "s", "entry": "f", "tests": [[3], [10]],
                                                "perf_inputs": [[10000]], "references": [ref]}))
    ss = write(tmp_path, "s.json", {"s": [cheat]})
    coffe.evaluate(ps, ss, str(tmp_path / "r.jsonl"), backend="qemu", progress=False)
    r = records(tmp_path / "r.jsonl")["s/0"]
    assert (r["correct"], r["status"], r["efficient"]) == (False, "wrong_answer", False)


def test_a_perf_input_bigger_than_the_channel_never_crosses_it(qemu, tmp_path):
    big = "[' ' * (96 * 2**20)]"   # 96 MiB: above the 64 MiB frame limit
    ref = "def f(s):\n    return len(s)\n"
    echo = "def f(s):\n    return s if len(s) > 2 else len(s)\n"   # its big output cannot be reported
    ps = write(tmp_path, "p.json", problem_set({"id": "big", "entry": "f", "tests": [["ab"]],
                                                "perf_inputs": [{"code": big}], "references": [ref]}))
    ss = write(tmp_path, "s.json", {"big": [ref, echo]})

    class Patient(coffe.CoffeAdapter):
        min_wall_s = 120.0   # encoding a 96 MiB output under qemu on a loaded machine may take seconds

    doc = evaluate(Patient(), ps, ss, str(tmp_path / "r.jsonl"), backend="qemu", progress=False)
    rec = records(tmp_path / "r.jsonl")
    assert rec["big/0"]["correct"] and rec["big/0"]["cost"] == rec["big/0"]["best_ground_truth_cost"]
    # a clear status (right-censored: no cost), never a traceback
    assert (rec["big/1"]["status"], rec["big/1"]["cost"], rec["big/1"]["efficient"]) == ("error", None, False)
    assert doc["excluded"] == []


def test_the_tie_tolerance_reports_a_second_verdict_beside_the_strict_one(qemu, tmp_path):
    ref = "def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"
    near = "def f(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total + 0\n"
    fast = "def f(n):\n    return n * (n - 1) // 2\n"
    ps = write(tmp_path, "p.json", problem_set({"id": "tri", "entry": "f", "tests": [[4]],
                                                "perf_inputs": [[3000]], "references": [near]}))
    ss = write(tmp_path, "s.json", {"tri": [ref, fast]})
    doc = coffe.evaluate(ps, ss, str(tmp_path / "r.jsonl"), backend="qemu", progress=False, tie_tolerance=0.05)
    rec = records(tmp_path / "r.jsonl")
    margin = 1 - rec["tri/0"]["cost"] / rec["tri/0"]["best_ground_truth_cost"]
    assert 0 < margin < 0.05   # cheaper, by a hair
    assert (rec["tri/0"]["efficient"], rec["tri/0"]["efficient_tol"]) == (True, False)
    assert (rec["tri/1"]["efficient"], rec["tri/1"]["efficient_tol"]) == (True, True)
    assert (doc["overall"]["efficient@1"], doc["overall"]["efficient_tol@1"]) == (1.0, 0.5)
    assert doc["tie_tolerance"] == 0.05


def test_a_problem_whose_input_code_fails_is_excluded_and_the_others_scored(qemu, tmp_path):
    ref = "def f(xs):\n    return sum(xs)\n"
    ps = write(tmp_path, "p.json", problem_set(
        {"id": "good", "entry": "f", "tests": [[[1, 2]]], "perf_inputs": [{"code": "[list(range(100))]"}],
         "references": [ref]},
        {"id": "bad", "entry": "f", "tests": [[[1, 2]]], "perf_inputs": [{"code": "[random.sample({1, 2}, 1)]"}],
         "references": [ref]}))
    ss = write(tmp_path, "s.json", {"good": [ref], "bad": [ref]})
    doc = coffe.evaluate(ps, ss, str(tmp_path / "r.jsonl"), backend="qemu", progress=False)
    assert [r["problem"] for r in doc["per_problem"]] == ["good"]
    (bad,) = doc["excluded"]
    assert bad["problem"] == "bad"
    assert "the input's code fails: NameError" in bad["reason"]
    with pytest.raises(InputGenerationFailed, match="the input's code fails: NameError"):
        coffe.evaluate(ps, ss, str(tmp_path / "strict.jsonl"), backend="qemu", progress=False, strict=True)
