"""The EvalPerf-style (DPS) and COFFE-style adapters on a small problem set of our own, measured
under valgrind: costs are exact, so scores are checked against the score functions applied to the
recorded costs, and samples identical to a reference must cost exactly what it costs."""
from __future__ import annotations

import json

import pytest

from measure.cli import main
from measure.errors import InputFileError
from measure.harness import coffe, evalperf
from measure.errors import ReferenceFailed
from measure.harness.problems import load_problem_set, load_samples, outputs_equal
from measure.scores.coffe import speedup
from measure.scores.evalperf import cluster_levels, dps

SLOW = "def total(xs):\n    s = 0\n    for x in xs:\n        for _ in range(30):\n            s += x\n    return s // 30\n"
MID = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
FAST = "def total(xs):\n    return sum(xs)\n"
SLOWER = ("def total(xs):\n    s = 0\n    for x in xs:\n        for _ in range(90):\n            s += x\n"
          "    return s // 90\n")
WRONG = "def total(xs):\n    return len(xs)\n"
BROKEN = "def total(xs):\n    raise RuntimeError('no')\n"
PROBLEMS = {"schema": "measure/problems", "version": 1, "problems": [
    {"id": "total", "entry": "total", "tests": [[[]], [[1, 2, 3]], [[5]]], "expected": [0, 6, 5],
     "perf_inputs": [[list(range(300))]], "references": [SLOW, MID, FAST]},
    {"id": "pairs", "entry": "pairs", "prompt": "import itertools",
     "tests": [[[1, 2]], [[3, 1, 2]]],
     "perf_inputs": [[[3, 1, 2, 5, 4]], [[2, 2, 1]]],
     "references": ["def pairs(xs):\n    return sorted(itertools.combinations(sorted(xs), 2))\n"],
     "checker": "def check(args, expected, output):\n    return [list(p) for p in output] == [list(p) for p in expected]\n"},
]}
SAMPLES = {"total": [SLOW, FAST, SLOWER, WRONG, MID], "pairs": ["def pairs(xs):\n    return [(1, 2)]\n"]}


def write(tmp_path, name, data) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("problems")
    return write(d, "problems.json", PROBLEMS), write(d, "samples.json", SAMPLES), d


@pytest.fixture(scope="module")
def dps_run(files, valgrind):
    problems, samples, d = files
    report = evalperf.evaluate(problems, samples, str(d / "dps.jsonl"), backend="valgrind", cache_dir=str(d / "cache"),
                               progress=False, min_correct=1, max_profile=3)
    records = [json.loads(line) for line in open(d / "dps.jsonl")][1:]
    return report, {r["key"]: r for r in records}


def test_a_sample_identical_to_a_reference_costs_exactly_what_it_costs(dps_run):
    _, rec = dps_run
    # SLOW is the pool's slowest member: alone in the slowest level, so it scores 1/3 of the pool
    assert rec["total/0"]["level"] == 0 and rec["total/0"]["dps"] == pytest.approx(100 / 3)


def test_every_dps_is_the_rule_applied_to_the_measured_pool(dps_run):
    _, rec = dps_run
    # samples 0, 4 and 1 are the references SLOW, MID and FAST verbatim: their costs are the pool's
    pool = [rec[f"total/{i}"]["cost"] for i in (0, 4, 1)]
    assert pool[0] > pool[1] > pool[2]
    levels = cluster_levels(pool)
    for i in (0, 1, 2, 4):
        expect = dps(rec[f"total/{i}"]["cost"], levels)
        assert (rec[f"total/{i}"]["dps"], rec[f"total/{i}"]["dps_norm"], rec[f"total/{i}"]["level"]) == \
            (expect.dps, expect.dps_norm, expect.level)


def test_a_sample_slower_than_every_representative_scores_zero(dps_run):
    _, rec = dps_run
    assert rec["total/2"]["correct"] and rec["total/2"]["cost"] > rec["total/0"]["cost"]
    assert (rec["total/2"]["dps"], rec["total/2"]["level"]) == (0.0, -1)


def test_a_wrong_answer_is_not_profiled(dps_run):
    report, rec = dps_run
    assert (rec["total/3"]["correct"], rec["total/3"]["status"], rec["total/3"]["dps"]) == (False, "wrong_answer", None)
    row = next(r for r in report["per_problem"] if r["problem"] == "total")
    # max_profile = 3: the first three correct samples (0, 1, 2) are profiled, MID (sample 4) is not
    assert (row["n"], row["correct"], row["profiled"], row["pass@1"]) == (5, 4, 3, 0.8)
    assert row["dps"] == pytest.approx((rec["total/0"]["dps"] + rec["total/1"]["dps"] + rec["total/2"]["dps"]) / 3)


def test_the_problems_checker_and_expected_outputs_from_the_reference(dps_run):
    report, rec = dps_run
    # expected outputs come from the reference; the checker compares pairs as lists
    assert rec["pairs/0"]["status"] == "wrong_answer"
    assert next(r for r in report["per_problem"] if r["problem"] == "pairs")["dps"] is None  # no correct sample


def test_dps_needs_min_correct_samples(files, dps_run):
    problems, samples, d = files
    # the same results file, summarised with EvalPerf's default min_correct = 10: no problem qualifies
    report = evalperf.evaluate(problems, samples, str(d / "dps.jsonl"), backend="valgrind", cache_dir=str(d / "cache"),
                               progress=False, max_profile=20)
    assert report["overall"]["dps"] is None and report["overall"]["problems_scored"] == 0
    assert report["jobs"] == {"measured": 0, "from_cache": 0}   # everything was already recorded


def test_coffe_efficient_means_strictly_cheaper_than_the_best_ground_truth(files, valgrind, tmp_path):
    problems, _, d = files
    gt_slow = dict(PROBLEMS["problems"][0], references=[SLOW])   # the best ground truth is SLOW itself
    ps = write(tmp_path, "p.json", dict(PROBLEMS, problems=[gt_slow]))
    ss = write(tmp_path, "s.json", {"total": [SLOW, FAST, WRONG]})
    report = coffe.evaluate(ps, ss, str(tmp_path / "c.jsonl"), backend="valgrind", cache_dir=str(d / "cache"),
                            progress=False)
    rec = {r["key"]: r for r in map(json.loads, open(tmp_path / "c.jsonl")) if "key" in r}
    assert [rec[f"total/{i}"]["efficient"] for i in range(3)] == [False, True, False]  # a tie is not efficient
    row = report["per_problem"][0]
    assert (row["efficient"], row["efficient@1"], row["pass@1"]) == (1, pytest.approx(1 / 3), pytest.approx(2 / 3))
    gt = rec["total/0"]["best_ground_truth_cost"]
    assert gt == rec["total/0"]["cost"]
    assert report["overall"]["speedup"] == speedup([gt, gt], [rec["total/0"]["cost"], rec["total/1"]["cost"]])


def test_under_strict_a_failing_reference_is_an_error_naming_problem_and_reference(valgrind, tmp_path):
    bad = dict(PROBLEMS["problems"][0], references=[FAST, BROKEN])
    ps = write(tmp_path, "p.json", dict(PROBLEMS, problems=[bad]))
    ss = write(tmp_path, "s.json", {"total": [FAST]})
    with pytest.raises(ReferenceFailed, match="problem 'total': reference 1 fails \\(error\\)"):
        evalperf.evaluate(ps, ss, str(tmp_path / "r.jsonl"), backend="valgrind", progress=False, strict=True)


def test_malformed_problem_sets_name_the_place_and_the_format(tmp_path):
    broken = dict(PROBLEMS, problems=[dict(PROBLEMS["problems"][0], perf_inputs=[])])
    with pytest.raises(InputFileError, match="at problems/0/perf_inputs: .* should be non-empty"):
        load_problem_set(write(tmp_path, "a.json", broken))
    twice = dict(PROBLEMS, problems=[PROBLEMS["problems"][0]] * 2)
    with pytest.raises(InputFileError, match="problem id 'total' appears twice"):
        load_problem_set(write(tmp_path, "b.json", twice))
    short = dict(PROBLEMS, problems=[dict(PROBLEMS["problems"][0], expected=[0])])
    with pytest.raises(InputFileError, match="1 expected outputs for 3 tests"):
        load_problem_set(write(tmp_path, "c.json", short))
    with pytest.raises(InputFileError, match="not valid JSON"):
        load_problem_set(write(tmp_path, "d.json", "{"))


def test_malformed_sample_files_name_the_problem(tmp_path):
    with pytest.raises(InputFileError, match="has 1 entries but the dataset has 2 problems"):
        load_samples(write(tmp_path, "a.json", [[FAST]]), ["total", "pairs"])
    with pytest.raises(InputFileError, match="'nope' is not a problem"):
        load_samples(write(tmp_path, "b.json", {"nope": [FAST]}), ["total", "pairs"])
    with pytest.raises(InputFileError, match="problem total: sample 1 is not a string"):
        load_samples(write(tmp_path, "c.json", {"total": [FAST, 3]}), ["total", "pairs"])


def test_default_checker_equates_tuples_with_lists_and_close_floats():
    assert outputs_equal([1, [2, 3]], (1, (2, 3)))
    assert outputs_equal(0.1 + 0.2, 0.3)
    assert not outputs_equal(1, True) and not outputs_equal([1], [1, 2]) and not outputs_equal(0.3, 0.31)


def test_score_coffe_cli_prints_the_table(files, dps_run, capsys):
    problems, samples, d = files
    rc = main(["score", "coffe", "--dataset", problems, "--samples", samples, "--backend", "valgrind",
               "--results", str(d / "cli.jsonl"), "--cache", str(d / "cache"), "--problems", "total"])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.splitlines()[1].split() == ["problem", "n", "correct", "efficient", "pass@1", "efficient@1", "speedup"]
    assert "total  5        4          0  0.8000       0.0000" in out


def test_score_dps_cli_rejects_an_unknown_problem(files, capsys):
    problems, samples, d = files
    rc = main(["score", "dps", "--dataset", problems, "--samples", samples, "--problems", "nope",
               "--results", str(d / "x.jsonl")])
    assert rc == 2 and "problem 'nope' is not in" in capsys.readouterr().err
