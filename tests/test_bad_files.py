"""Damaged files measure keeps between runs (issue 11, "bad files"): the resumable results file of
`measure score ...` and the caches beside the measurements. Nothing here measures anything.

A results file holds the user's work: a bad record is refused in one line naming the file, the
line, what is wrong and the remedy, and the file is left byte for byte as it was. A cache holds
only what measure can derive again: a damaged entry is regenerated, with one warning."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from measure.errors import BackendUnavailable, ConfigError, InputFileError
from measure.harness import enamel, store
from measure.harness.cache import MeasurementCache, read_cached_tests
from measure.harness.store import ResultStore
from measure.model import InputResult, Measurement, PlatformKey, Sample, Status

HEADER = {"adapter": "enamel", "dataset_sha256": "d" * 64, "samples_sha256": "s" * 64, "platform": "p", "backend": "b"}
GOOD = [{"key": "0/0", "problem": 0, "sample": 0, "passed": True, "score": 0.5, "levels": ["ok"] * 4, "tests": []},
        {"key": "0/1", "problem": 0, "sample": 1, "passed": False, "score": 0.0, "levels": ["error"], "tests": []}]


def line(obj) -> bytes:
    return (json.dumps(obj, sort_keys=True) + "\n").encode()


def results_file(tmp_path, *records, header=HEADER, name="r.jsonl"):
    path = tmp_path / name
    path.write_bytes(line({"header": header}) + b"".join(r if isinstance(r, bytes) else line(r) for r in records))
    return path


def refused(path, header=HEADER) -> str:
    """The message of the refusal, after checking that the file was left exactly as it was."""
    before = path.read_bytes()
    with pytest.raises(InputFileError) as err:
        ResultStore(str(path), header)
    assert path.read_bytes() == before
    message = str(err.value)
    assert "\n" not in message
    return message


# --- the results file -----------------------------------------------------------------------------

def test_a_record_without_a_key_is_refused_naming_the_file_the_line_and_the_remedy(tmp_path):
    keyless = {k: v for k, v in GOOD[1].items() if k != "key"}
    path = results_file(tmp_path, GOOD[0], keyless)
    message = refused(path)
    assert message.startswith(f"{path} line 3: the record has no \"key\" field")
    assert "Delete that line to measure its sample again on the next run (the other results are kept)" in message
    assert "or delete the file to start over" in message


def test_a_non_numeric_score_is_refused_naming_the_field_and_its_value(tmp_path):
    path = results_file(tmp_path, GOOD[0], dict(GOOD[1], score="high"))
    assert refused(path).startswith(f'{path} line 3: the record of 0/1 has "score": "high", '
                                    "not a finite non-negative number;")


@pytest.mark.parametrize("score", [None, True, -1, float("nan"), float("inf")], ids=repr)
def test_a_score_must_be_a_finite_non_negative_number(tmp_path, score):
    path = tmp_path / "r.jsonl"
    path.write_bytes(line({"header": HEADER}) + json.dumps(dict(GOOD[0], score=score)).encode() + b"\n")
    assert '"score"' in refused(path)


def test_a_line_that_is_not_json_is_refused_with_the_same_remedy(tmp_path):
    path = results_file(tmp_path, b"{oops\n", GOOD[0])
    assert refused(path).startswith(f"{path} line 2: the line is not valid JSON; the file was edited or damaged. "
                                    "Delete that line")


def test_every_bad_line_is_named_in_the_one_message(tmp_path):
    path = results_file(tmp_path, b"[1]\n", GOOD[0], dict(GOOD[1], passed="yes"), b"{oops\n", GOOD[1])
    message = refused(path)
    assert message.startswith(f"{path} line 2: the record is [1], not a JSON object (also lines 4, 5);")
    assert "Delete those lines to measure their samples again" in message


def test_a_key_that_disagrees_with_its_problem_and_sample_is_refused(tmp_path):
    path = results_file(tmp_path, dict(GOOD[0], key="0/7"))
    assert 'its "key" "0/7" does not match its problem 0 and sample 0' in refused(path)


def test_the_records_each_adapter_reads_are_checked(tmp_path):
    coffe = {"key": "total/0", "problem": "total", "sample": 0, "correct": True, "efficient": False,
             "cost": 12.0, "best_ground_truth_cost": 10.0}
    header = dict(HEADER, adapter="coffe")
    assert ResultStore(str(results_file(tmp_path, coffe, header=header, name="ok.jsonl")), header).keys() == {"total/0"}
    path = results_file(tmp_path, dict(coffe, cost="12"), header=header)
    assert '"cost": "12", not a finite non-negative number or null' in refused(path, header)
    header = dict(HEADER, adapter="dps")
    path = results_file(tmp_path, {k: v for k, v in coffe.items() if k != "efficient"}, header=header, name="e.jsonl")
    assert 'the record of total/0 has no "dps" field' in refused(path, header)


def test_deleting_the_named_line_resumes_with_every_other_result(tmp_path):
    path = results_file(tmp_path, GOOD[0], dict(GOOD[1], score="high"))
    refused(path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]))  # what the message asks for: line 3 deleted
    assert ResultStore(str(path), HEADER).keys() == {"0/0"}


def test_a_record_cut_short_by_a_kill_is_dropped_and_the_rest_kept(tmp_path):
    path = results_file(tmp_path, GOOD[0], line(GOOD[1])[:-10])
    store = ResultStore(str(path), HEADER)
    assert store.keys() == {"0/0"}
    assert path.read_bytes() == line({"header": HEADER}) + line(GOOD[0])


def test_a_whole_last_record_without_its_newline_is_kept_and_its_line_ended(tmp_path):
    path = results_file(tmp_path, GOOD[0], line(GOOD[1])[:-1])
    store = ResultStore(str(path), HEADER)
    assert store.keys() == {"0/0", "0/1"}
    store.append(dict(GOOD[1], key="1/0", problem=1))
    assert [json.loads(x)["key"] for x in path.read_text().splitlines()[1:]] == ["0/0", "0/1", "1/0"]


def test_a_file_that_is_not_a_results_file_is_refused_and_never_truncated(tmp_path):
    samples = tmp_path / "samples.json"
    samples.write_text('[\n  ["def f(): pass"],\n  ["def g(): pass"]\n]')  # no final newline
    assert "is not a measure results file (no header line): give another --results path" in refused(samples)


def test_results_of_another_run_are_refused_and_left_as_they_were(tmp_path):
    path = results_file(tmp_path, GOOD[0], line(GOOD[1])[:-10])  # even the cut-short tail stays
    assert "holds results of a different run (differs in: backend)" in refused(path, dict(HEADER, backend="x"))


def test_a_header_cut_short_by_a_kill_starts_the_file_over(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(line({"header": HEADER})[:25])
    assert ResultStore(str(path), HEADER).keys() == set()
    assert path.read_bytes() == line({"header": HEADER})


def test_a_results_path_that_cannot_be_created_names_it_and_the_option(tmp_path):
    where = tmp_path / "no" / "such" / "r.jsonl"
    with pytest.raises(InputFileError, match=f"cannot use {where} as the results file: .*give another --results path"):
        ResultStore(str(where), HEADER)


# --- the command line ----------------------------------------------------------------------------

PROMPT = 'def total(xs):\n    """Sum of xs."""\n'
ROW = {"task_id": "T/0", "prompt": PROMPT, "input_levels": "5 10 20 40",
       "input_generator": "def generate_input(size: int, lid: int, cid: int):\n    return ([1] * size,)\n",
       "reference_solution": "    return sum(xs)\n",
       "checker": "def __check(input, answer, output):\n    return output == answer\n", "entry_point": "total"}


def test_score_enamel_refuses_a_bad_results_file_in_one_line_with_exit_2_before_measuring(tmp_path, monkeypatch):
    dataset, samples = tmp_path / "mini.csv", tmp_path / "samples.json"
    with open(dataset, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ROW))
        w.writeheader()
        w.writerow(ROW)
    samples.write_text(json.dumps([[PROMPT + "    return sum(xs)\n"] * 2]))
    cache = tmp_path / "cache"

    class Stop(Exception):
        pass

    header = {}

    def capture(path, h, fields=None):  # the header this very run writes, whatever it holds
        header.update(h)
        raise Stop

    monkeypatch.setattr(store, "ResultStore", capture)
    try:
        enamel.evaluate(str(dataset), str(samples), str(tmp_path / "x.jsonl"), problems=[0], backend="time",
                        cache_dir=str(cache), progress=False)
    except BackendUnavailable as exc:
        pytest.skip(f"the time backend is not available here: {exc}")
    except Stop:
        pass
    path = results_file(tmp_path, {k: v for k, v in GOOD[0].items() if k != "key"}, header=header)
    before = path.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "measure.cli", "score", "enamel", "--dataset", str(dataset),
                           "--samples", str(samples), "--problems", "0", "--backend", "time", "--results", str(path),
                           "--cache", str(cache), "--jobs", "1"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"measure: error: {path} line 2: the record has no \"key\" field;")
    assert "Delete that line" in proc.stderr and "delete the file to start over" in proc.stderr
    assert proc.stdout == ""
    assert path.read_bytes() == before
    assert not any(n.startswith("enamel-tests-") for n in os.listdir(cache))  # it stopped before generating tests


# --- the caches -----------------------------------------------------------------------------------

SHAPE = {0: [2, 1], 3: [1, 1]}
TESTS = {"0": [[{"$tuple": [1]}, {"$tuple": [2]}], [{"$tuple": [3]}]], "3": [[{"$tuple": [4]}], [{"$tuple": [5]}]]}


def test_whole_cached_tests_are_read_back_by_problem_index(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TESTS))
    assert read_cached_tests(str(path), SHAPE) == ({0: TESTS["0"], 3: TESTS["3"]}, None)
    assert read_cached_tests(str(tmp_path / "none.json"), SHAPE) == (None, None)


def test_truncated_cached_tests_are_a_miss_that_says_why(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TESTS)[:-7])
    tests, why = read_cached_tests(str(path), SHAPE)
    assert tests is None and "\n" not in why and why.startswith("Expecting")


@pytest.mark.parametrize("doc, why", [
    ([], "a JSON list, not an object of problems"),
    ({"0": TESTS["0"]}, "problem 3 is missing, not a list of 2 levels"),
    (dict(TESTS, **{"3": [[{"$tuple": [4]}]]}), "problem 3 has 1 levels, not 2"),
    (dict(TESTS, **{"0": [[{"$tuple": [1]}], [{"$tuple": [3]}]]}), "level 0 of problem 0 has 1 tests, not 2"),
    (dict(TESTS, **{"0": [{}, []]}), "level 0 of problem 0 is a JSON dict, not a list of 2 tests"),
], ids=["not-an-object", "missing-problem", "missing-level", "missing-test", "not-a-list"])
def test_cached_tests_of_the_wrong_shape_are_a_miss_that_says_why(tmp_path, doc, why):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    assert read_cached_tests(str(path), SHAPE) == (None, why)


def test_corrupt_cached_enamel_tests_are_generated_again_rewritten_and_warned_once(tmp_path):
    pytest.importorskip("enam.datautils", reason="ENAMEL's helpers (pip install enam) generate the tests")
    dataset = tmp_path / "mini.csv"
    with open(dataset, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ROW))
        w.writeheader()
        w.writerow(ROW)
    problems = enamel.load_problems(str(dataset))
    cache = tmp_path / "cache"
    cache.mkdir()
    fresh = enamel.generate_tests(problems, str(cache))
    (path,) = cache.iterdir()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # truncated
    warnings = []
    assert enamel.generate_tests(problems, str(cache), warnings=warnings) == fresh
    assert path.read_bytes() == whole
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith(f"the cached ENAMEL tests {path} were truncated or corrupt (")
    assert warnings[0].endswith("): generated again and rewritten")
    again = []
    assert enamel.generate_tests(problems, str(cache), warnings=again) == fresh and again == []


def measurement(n: int) -> Measurement:
    ok = Sample(Status.OK, instructions=n, wall_ns=1000)
    return Measurement("p", "f", PlatformKey("valgrind", "x86_64", "cpu", "cpython", "3.11.7", "b" * 64, "k", "1"),
                       {"repeat": 1}, ok, (InputResult(0, None, Status.OK, (ok,), 3),))


def test_an_unreadable_measurement_cache_entry_is_a_miss_measured_again_with_one_warning(tmp_path):
    cache = MeasurementCache(str(tmp_path / "c"))
    key = "ab" + "0" * 62
    cache.put(key, measurement(5))
    path = tmp_path / "c" / "ab" / f"{key}.json"
    path.write_bytes(path.read_bytes()[:40])  # truncated
    assert cache.get(key, 10.0) is None and cache.get(key, 10.0) is None
    (warning,) = cache.warnings()
    assert warning.startswith(f"2 entries of the measurement cache {tmp_path / 'c'} could not be read "
                              f"(truncated or corrupt; first: {path}: ")
    assert warning.endswith("): measured again and rewritten") and "\n" not in warning
    cache.put(key, measurement(5))   # what the session does after measuring again
    assert cache.get(key, 10.0).inputs[0].samples[0].instructions == 5


def test_a_measurement_that_cannot_be_cached_is_a_warning_not_a_failure(tmp_path):
    cache = MeasurementCache(str(tmp_path / "c"))
    key = "cd" + "0" * 62
    (tmp_path / "c" / "cd").write_text("a file where the entry's directory should be")
    cache.put(key, measurement(5))
    (warning,) = cache.warnings()
    assert warning.startswith(f"1 measurement could not be written to the cache {tmp_path / 'c'} (first: ")
    assert warning.endswith("): a rerun measures it again")


def test_a_cache_directory_that_cannot_be_made_names_it_and_the_option(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match=f"cannot use {tmp_path / 'f' / 'c'} as the measurement cache directory: "
                                          ".*give another with --cache DIR"):
        MeasurementCache(str(tmp_path / "f" / "c"))
