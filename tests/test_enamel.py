"""The ENAMEL adapter on a small ENAMEL-format problem set of our own (fast), and on ENAMEL's
real data where ../shared is present."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from measure.errors import InputFileError
from measure.harness.enamel import evaluate, generate_tests, load_problems

PROMPT_SUM = 'def total(xs):\n    """Sum of xs."""\n'
PROMPT_SORT = 'def ordered(xs):\n    """xs sorted ascending."""\n'
GEN = ("def generate_input(size: int, lid: int, cid: int):\n"
       "    return ([random.randint(0, 1000) for _ in range(size)],)\n")
CHECK = "def __check(input, answer, output):\n    return type(output) == type(answer) and output == answer\n"
ROWS = [
    {"task_id": "T/0", "prompt": PROMPT_SUM, "input_generator": GEN, "input_levels": "5 200 400 800",
     "reference_solution": "    return sum(xs)\n", "checker": CHECK, "entry_point": "total"},
    {"task_id": "T/1", "prompt": PROMPT_SORT, "input_generator": GEN, "input_levels": "5 100 200 300",
     "reference_solution": "    return sorted(xs)\n", "checker": CHECK, "entry_point": "ordered"},
]
REF = [PROMPT_SUM + "\n" + ROWS[0]["reference_solution"], PROMPT_SORT + "\n" + ROWS[1]["reference_solution"]]
SLOW_SUM = "def total(xs):\n    s = 0\n    for x in xs:\n        for _ in range(20):\n            s += x\n    return s // 20\n"
WRONG_SORT = "def ordered(xs):\n    return list(xs)\n"
LOOP_SORT = "def ordered(xs):\n    while True:\n        pass\n"
OVERFLOW_SUM = ("def total(xs):\n    if len(xs) > 300:\n        return int(float(10 ** 400))\n"
                "    return sum(xs)\n")
SPOOFED_SUM = ("def total(xs):\n    if len(xs) > 300:\n"
               "        raise ValueError('x\\nOverflowError raised by the call\\n')\n    return sum(xs)\n")
# over T + ENAMEL's 10 ms (in instructions) from level 1 on: about 2e8 instructions a call
BURN_SUM = ("def total(xs):\n    if len(xs) >= 200:\n        for _ in range(5_000_000):\n            pass\n"
            "    return sum(xs)\n")
BUBBLE = ("def ordered(xs):\n    xs = list(xs)\n    for i in range(len(xs)):\n        for j in range(len(xs) - 1 - i):\n"
          "            if xs[j] > xs[j + 1]:\n                xs[j], xs[j + 1] = xs[j + 1], xs[j]\n    return xs\n")


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "mini.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ROWS[0]))
        w.writeheader()
        w.writerows(ROWS)
    return str(path)


def write(tmp_path, name, samples):
    p = tmp_path / name
    p.write_text(json.dumps(samples))
    return str(p)


def run(dataset, samples, tmp_path, backend, **kw):
    return evaluate(dataset, samples, str(tmp_path / "results.jsonl"), problems=[0, 1], backend=backend,
                    cache_dir=str(tmp_path / "cache"), progress=False, **kw)


def test_tests_follow_enamels_seeding_and_are_cached(dataset, tmp_path):
    problems = load_problems(dataset)
    a = generate_tests(problems, str(tmp_path))
    b = generate_tests(problems, str(tmp_path))
    assert a == b and [len(level) for level in a[0]] == [8, 4, 4, 4]
    import random
    random.seed(998244353 ^ 0 ^ (8 + 0))  # problem 0, level 1, case 0
    assert a[0][1][0] == {"$tuple": [[random.randint(0, 1000) for _ in range(200)]]}


def test_the_reference_scored_as_a_sample_gets_exactly_one(dataset, tmp_path, counting_backend):
    report = run(dataset, write(tmp_path, "refs.json", [[REF[0]], [REF[1]]]), tmp_path, counting_backend)
    assert report["overall"] == {"pass@1": 1.0, "eff@1": 1.0}


def test_slow_wrong_and_runaway_samples(dataset, tmp_path, counting_backend):
    samples = write(tmp_path, "mixed.json", [[REF[0], SLOW_SUM], [WRONG_SORT, LOOP_SORT, BUBBLE]])
    report = run(dataset, samples, tmp_path, counting_backend)
    per = {r["problem"]: r for r in report["per_problem"]}
    recs = {(r["problem"], r["sample"]): r for r in map(json.loads, open(tmp_path / "results.jsonl").readlines()[1:])}
    assert recs[(0, 1)]["passed"] and 0 <= recs[(0, 1)]["score"] < 1        # correct but slower
    assert recs[(1, 0)]["passed"] is False and recs[(1, 0)]["score"] == 0  # wrong answer
    assert recs[(1, 1)]["levels"][0] == "timeout" and recs[(1, 1)]["passed"] is False
    assert recs[(1, 2)]["passed"] and recs[(1, 2)]["score"] < 0.5  # quadratic: slow levels score 0, still passes
    assert per[1]["pass@1"] == pytest.approx(1 / 3)


def test_an_overflow_error_breaks_the_level_as_in_enamel_and_cannot_be_spoofed(dataset, tmp_path, counting_backend):
    samples = write(tmp_path, "of.json", [[OVERFLOW_SUM, SPOOFED_SUM], [REF[1]]])
    run(dataset, samples, tmp_path, counting_backend)
    recs = {(r["problem"], r["sample"]): r for r in map(json.loads, open(tmp_path / "results.jsonl").readlines()[1:])}
    # levels of sizes 5, 200, 400, 800: the built-in OverflowError at 400 breaks levels 2 and 3
    assert recs[(0, 0)]["levels"] == ["ok", "ok", "overflow", "not_reached"] and recs[(0, 0)]["passed"]
    # a ValueError whose message carries the marker's text is an error: the sample fails
    assert recs[(0, 1)]["levels"][2] == "error" and recs[(0, 1)]["passed"] is False


def test_a_level_breaks_on_the_count_over_enamels_alarm_not_on_the_wall_clock(dataset, tmp_path, counting_backend):
    from measure.harness.enamel import SLACK_INSTRUCTIONS
    samples = write(tmp_path, "burn.json", [[BURN_SUM], [REF[1]]])
    run(dataset, samples, tmp_path, counting_backend)
    rec = next(r for r in map(json.loads, open(tmp_path / "results.jsonl").readlines()[1:]) if r["key"] == "0/0")
    assert rec["levels"] == ["ok", "timeout", "not_reached", "not_reached"]
    assert rec["passed"] and rec["score"] == 0.0
    assert 100_000_000 < SLACK_INSTRUCTIONS < 200_000_000  # 10 ms of CPython at 1.36e10 instructions/s


def test_a_rerun_recomputes_nothing(dataset, tmp_path, counting_backend):
    samples = write(tmp_path, "refs.json", [[REF[0], SLOW_SUM], [REF[1]]])
    first = run(dataset, samples, tmp_path, counting_backend)
    again = run(dataset, samples, tmp_path, counting_backend)
    assert again["per_problem"] == first["per_problem"]
    assert again["jobs"]["measured"] == 0


def test_a_line_cut_short_by_a_kill_is_redone(dataset, tmp_path, counting_backend):
    samples = write(tmp_path, "refs.json", [[REF[0]], [REF[1]]])
    first = run(dataset, samples, tmp_path, counting_backend)
    path = tmp_path / "results.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-10])  # the last record half written
    again = run(dataset, samples, tmp_path, counting_backend)
    assert again["per_problem"] == first["per_problem"]
    assert len(path.read_text().splitlines()) == 3


def test_sigkill_then_rerun_gives_identical_results_and_remeasures_nothing_recorded(dataset, tmp_path, counting_backend):
    samples = write(tmp_path, "s.json", [[REF[0], SLOW_SUM, REF[0]], [REF[1], BUBBLE, WRONG_SORT]])
    args = [sys.executable, "-m", "measure.cli", "score", "enamel", "--dataset", dataset, "--samples", samples,
            "--problems", "0,1", "--backend", counting_backend, "--results", str(tmp_path / "r.jsonl"),
            "--cache", str(tmp_path / "cache"), "--jobs", "1", "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tmp_path)
    while not (tmp_path / "r.jsonl").exists() or len((tmp_path / "r.jsonl").read_text().splitlines()) < 3:
        assert proc.poll() is None, "finished before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    recorded = len((tmp_path / "r.jsonl").read_text().splitlines()) - 1
    out = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)
    resumed = json.loads(out.stdout)
    clean = run(dataset, samples, tmp_path / "clean" if (tmp_path / "clean").mkdir() is None else None,
                counting_backend)
    assert resumed["per_problem"] == clean["per_problem"]
    assert resumed["jobs"]["measured"] <= 6 - recorded  # at most the samples not yet recorded


def test_malformed_sample_files_are_refused_naming_the_problem(dataset, tmp_path):
    with pytest.raises(InputFileError, match="has 1 entries but the dataset has 2 problems"):
        run(dataset, write(tmp_path, "a.json", [[REF[0]]]), tmp_path, "time")
    with pytest.raises(InputFileError, match="problem 1: expected a non-empty list"):
        run(dataset, write(tmp_path, "b.json", [[REF[0]], []]), tmp_path, "time")
    (tmp_path / "c.json").write_text("[[")
    with pytest.raises(InputFileError, match="not valid JSON"):
        run(dataset, str(tmp_path / "c.json"), tmp_path, "time")


def test_results_of_another_run_are_not_mixed_in(dataset, tmp_path, counting_backend):
    run(dataset, write(tmp_path, "one.json", [[REF[0]], [REF[1]]]), tmp_path, counting_backend)
    with pytest.raises(InputFileError, match="different run .*samples_sha256"):
        run(dataset, write(tmp_path, "two.json", [[SLOW_SUM], [REF[1]]]), tmp_path, counting_backend)


ENAMEL = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "enamel")


@pytest.mark.skipif(not os.path.isdir(ENAMEL), reason="ENAMEL's data is not in ../shared/data/enamel")
def test_enamels_own_references_score_one_on_real_problems(tmp_path, counting_backend):
    report = evaluate(os.path.join(ENAMEL, "enamel.csv"), os.path.join(ENAMEL, "enamel-references.json"),
                      str(tmp_path / "r.jsonl"), problems=[0, 12], backend=counting_backend,
                      cache_dir=str(tmp_path / "cache"), progress=False)
    assert report["overall"] == {"pass@1": 1.0, "eff@1": 1.0}
