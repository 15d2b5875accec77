"""ECCO and PIE program pairs: their files read as script problems, their judges, their scores,
and the shipped whole-program example (examples/pairs) end to end on qemu.

Records are written here in each benchmark's own format: PIE's test set and generations (JSON
Lines: problem_id, src_id, src_code, tgt_code, tests; generated_answers), pie-perf's Python
splits (input, target, submission_id_v0), ECCO's edit split and generations file (problem_id,
input, target; generated_codes), and the test-case folder both use (<problem_id>/input.N.txt,
output.N.txt)."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from measure.errors import InputFileError
from measure.fmt import table
from measure.harness.adapter import Evaluation, evaluate
from measure.harness.pairs import CaseRun, EccoAdapter, PieAdapter, Source, ecco_best, judge0_accepts, \
    pie_accuracy, read_jsonl

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "pairs")
SLOW = "n = int(input())\nprint(sum(range(n + 1)))\n"
FAST = "n = int(input())\nprint(n * (n + 1) // 2)\n"


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def write_cases(root, problem_id, cases):
    """cases: {N: (stdin, stdout or None)}"""
    folder = root / problem_id
    folder.mkdir(parents=True, exist_ok=True)
    for n, (stdin, stdout) in cases.items():
        (folder / f"input.{n}.txt").write_text(stdin)
        if stdout is not None:
            (folder / f"output.{n}.txt").write_text(stdout)


def pie_record(pid="p00001", src_id="s1", **extra):
    rec = {"problem_id": pid, "src_id": src_id, "tgt_id": src_id + "t", "src_code": SLOW, "tgt_code": FAST,
           "tests": [0, 1], "n_tests": 2}
    rec.update(extra)
    return rec


@pytest.fixture
def pie_dataset(tmp_path):
    write_cases(tmp_path / "test_cases", "p00001", {0: ("3\n", "6\n"), 1: ("4\n", "10\n"), 2: ("5\n", "15\n")})
    return write_jsonl(tmp_path / "test.jsonl", [pie_record()])


# ------------------------------------------------------------------ the judges

def test_judge0_ignores_trailing_whitespace_of_each_line_and_of_the_whole():
    assert judge0_accepts("1 2\n3\n", "1 2  \n3\t\n\n\n")
    assert judge0_accepts("6", "6\n")


@pytest.mark.parametrize("output", [" 1 2\n3\n", "1 2\n\n3\n", "1  2\n3\n", None, 6])
def test_judge0_rejects_leading_spaces_inner_blank_lines_other_spacing_and_non_text(output):
    assert not judge0_accepts("1 2\n3\n", output)


def test_pie_accuracy_is_the_fraction_of_expected_lines_matched_exactly_or_within_1e_3():
    assert pie_accuracy("1\n2.0000\nabc\nx\n", "  1\n2.0009\nabc\ny\n") == 0.75
    assert pie_accuracy("2.0\n", "2.0011") == 0.0
    assert pie_accuracy("1\n2\n", "1\n") == 0.5


def test_pie_accuracy_ignores_extra_output_lines_as_upstream_and_needs_text():
    assert pie_accuracy("1\n", "1\nextra\n") == 1.0
    assert pie_accuracy("1\n", None) == 0.0


def test_pie_accuracy_of_an_empty_expected_output_accepts_only_an_empty_output():
    assert pie_accuracy("\n", " \n") == 1.0
    assert pie_accuracy("", "0") == 0.0


# ------------------------------------------------------------------ reading the pairs

def test_a_pie_pair_becomes_a_script_problem_with_its_selected_tests(pie_dataset):
    (p,) = PieAdapter().load(pie_dataset)
    assert (p.id, p.kind, p.references, p.compare) == ("s1", "script", (SLOW,), "whitespace")
    assert p.tests == ()
    assert p.perf_inputs == (("3\n",), ("4\n",))
    assert p.perf_expected == ("6\n", "10\n")
    assert p.meta == {"problem_id": "p00001", "tests": [0, 1], "line": 1, "target": FAST}


def test_pie_tests_are_run_in_the_listed_order_and_may_be_strings(tmp_path, pie_dataset):
    path = write_jsonl(tmp_path / "test.jsonl", [pie_record(tests=["2", 0])])
    (p,) = PieAdapter().load(path)
    assert p.perf_inputs == (("5\n",), ("3\n",))
    assert p.meta["tests"] == [2, 0]


def test_pie_perf_python_splits_name_the_slow_program_input_and_the_pair_submission_id_v0(tmp_path, pie_dataset):
    rec = {"problem_id": "p00001", "submission_id_v0": "s9", "input": SLOW, "target": FAST}
    (p,) = PieAdapter().load(write_jsonl(tmp_path / "py.jsonl", [rec]))
    assert (p.id, p.references, p.meta["target"]) == ("s9", (SLOW,), FAST)
    assert len(p.perf_inputs) == 3   # no "tests": every case of the folder


def test_ecco_pairs_are_named_by_problem_and_row_and_use_every_case_in_numeric_order(tmp_path):
    write_cases(tmp_path / "test_cases", "p1", {n: (f"{n}\n", f"{n * (n + 1) // 2}\n") for n in (0, 2, 10)})
    recs = [{"problem_id": "p1", "input": SLOW, "target": FAST}, {"problem_id": "p1", "input": SLOW + "\n"}]
    a, b = EccoAdapter().load(write_jsonl(tmp_path / "edit.jsonl", recs))
    assert (a.id, b.id) == ("p1#0", "p1#1")
    assert a.perf_inputs == (("0\n",), ("2\n",), ("10\n",))
    assert a.meta["tests"] == [0, 2, 10] and "target" not in b.meta


def test_a_folder_without_outputs_is_checked_against_the_source(tmp_path):
    write_cases(tmp_path / "cases", "p1", {0: ("3\n", None)})
    (p,) = EccoAdapter(str(tmp_path / "cases")).load(write_jsonl(tmp_path / "e.jsonl", [{"problem_id": "p1",
                                                                                          "input": SLOW}]))
    assert p.perf_expected is None


def test_the_test_cases_digest_is_a_run_parameter_and_follows_their_content(tmp_path, pie_dataset):
    a = PieAdapter()
    a.load(pie_dataset)
    before = a.params()["test_cases_sha256"]
    (tmp_path / "test_cases" / "p00001" / "output.1.txt").write_text("11\n")
    a.load(pie_dataset)
    assert a.params()["test_cases_sha256"] != before and len(before) == 64


@pytest.mark.parametrize("record, message", [
    ({"src_id": "s1", "src_code": SLOW}, "{path} line 1: \"problem_id\" must name its test-case folder (letters, "
                                         "digits, '_', '.', '-'), got null"),
    ({"problem_id": "../p00001", "src_code": SLOW}, "{path} line 1: \"problem_id\" must name its test-case folder "
                                                    "(letters, digits, '_', '.', '-'), got \"../p00001\""),
    ({"problem_id": "p00001"}, "{path} line 1 has no 'src_code' or 'input' field (the slow source program)"),
    ({"problem_id": "p00001", "src_code": " \n"}, "{path} line 1: 'src_code' must be the slow source program "
                                                  "(a non-empty string), got \" \\n\""),
    ({"problem_id": "p00002", "src_code": SLOW}, "{path} line 1: no test-case folder {cases}/p00002': give "
                                                 "--test-cases, the folder that holds one folder per problem_id with "
                                                 "input.N.txt and output.N.txt"),
    ({"problem_id": "p00001", "src_code": SLOW, "tests": [0, 7]}, "{path} line 1: its test case 7 has no file "
                                                                  "input.7.txt in {cases}/p00001'"),
    ({"problem_id": "p00001", "src_code": SLOW, "tests": 3}, "{path} line 1: \"tests\" must be a non-empty list of "
                                                             "test-case numbers (N of input.N.txt), got 3"),
    ({"problem_id": "p00001", "src_code": SLOW, "tests": []}, "{path} line 1: \"tests\" must be a non-empty list of "
                                                              "test-case numbers (N of input.N.txt), got []"),
])
def test_a_malformed_pie_record_is_refused_with_its_line_and_cause(tmp_path, pie_dataset, record, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [record])
    with pytest.raises(InputFileError) as err:
        PieAdapter().load(path)
    assert str(err.value) == message.format(path=repr(path), cases=repr(str(tmp_path / "test_cases"))[:-1])


def test_test_cases_may_be_given_elsewhere_and_a_missing_folder_names_the_option(tmp_path, pie_dataset):
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(InputFileError) as err:
        PieAdapter(str(elsewhere)).load(pie_dataset)
    assert str(err.value) == (f"{pie_dataset!r} line 1: no test-case folder {str(elsewhere / 'p00001')!r}: give "
                              "--test-cases, the folder that holds one folder per problem_id with input.N.txt and "
                              "output.N.txt")
    write_cases(elsewhere, "p00001", {0: ("3\n", "6\n"), 1: ("4\n", "10\n")})
    assert len(PieAdapter(str(elsewhere)).load(pie_dataset)) == 1


def test_a_test_case_with_an_input_but_no_output_among_others_that_have_one_is_refused(tmp_path, pie_dataset):
    os.remove(tmp_path / "test_cases" / "p00001" / "output.1.txt")
    with pytest.raises(InputFileError) as err:
        PieAdapter().load(pie_dataset)
    assert str(err.value) == (f"{pie_dataset!r} line 1: {str(tmp_path / 'test_cases' / 'p00001')!r} has input.1.txt "
                              "but no output.1.txt: give every test case its expected output, or none (then the "
                              "source program's outputs are expected)")


def test_two_pairs_with_one_id_are_refused(tmp_path, pie_dataset):
    path = write_jsonl(tmp_path / "dup.jsonl", [pie_record(), pie_record()])
    with pytest.raises(InputFileError) as err:
        PieAdapter().load(path)
    assert str(err.value) == f"{path!r} line 2: pair 's1' appears twice (also line 1): ids must be unique"


@pytest.mark.parametrize("text, message", [
    ("{\"problem_id\": \"p1\"}\n{oops\n", "{path} line 2: not a JSON record (Expecting property name enclosed in "
                                          "double quotes: line 1 column 2 (char 1)); the PIE dataset is a JSON array "
                                          "or one JSON object per line"),
    ("[1, 2]\n", "{path} line 1 is a JSON int, not a record (an object)"),
    ("\n\n", "the PIE dataset {path} has no records"),
])
def test_a_file_that_is_not_json_lines_of_records_is_refused(tmp_path, text, message):
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(InputFileError) as err:
        read_jsonl(str(path), "PIE dataset")
    assert str(err.value) == message.format(path=repr(str(path)))


def test_an_unreadable_dataset_names_the_file_and_why(tmp_path):
    path = str(tmp_path / "nope.jsonl")
    with pytest.raises(InputFileError) as err:
        PieAdapter().load(path)
    assert str(err.value) == f"cannot read the PIE dataset {path!r}: No such file or directory"


# ------------------------------------------------------------------ reading the generations

def test_pie_generations_match_pairs_by_src_id_and_one_string_is_one_sample(tmp_path, pie_dataset):
    a = PieAdapter()
    problems = a.load(pie_dataset)
    path = write_jsonl(tmp_path / "gen.jsonl", [{**pie_record(), "generated_answers": FAST}])
    assert a.load_samples(path, problems) == {"s1": [FAST]}


def test_generations_without_an_id_match_by_problem_and_stripped_slow_program_in_order(tmp_path):
    write_cases(tmp_path / "test_cases", "p1", {0: ("3\n", "6\n")})
    rows = [{"problem_id": "p1", "input": SLOW}, {"problem_id": "p1", "input": SLOW}]
    a = EccoAdapter()
    problems = a.load(write_jsonl(tmp_path / "edit.jsonl", rows))
    gens = [{"problem_id": "p1", "input": "\n" + SLOW, "generated_codes": [FAST, SLOW]},
            {"problem_id": "p1", "input": SLOW, "generated_codes": [SLOW]}]
    assert a.load_samples(write_jsonl(tmp_path / "gen.jsonl", gens), problems) == {"p1#0": [FAST, SLOW],
                                                                                   "p1#1": [SLOW]}


def test_the_generations_field_can_be_renamed(tmp_path, pie_dataset):
    a = PieAdapter(generations_col="beam_outputs")
    path = write_jsonl(tmp_path / "gen.jsonl", [{"src_id": "s1", "beam_outputs": [FAST]}])
    assert a.load_samples(path, a.load(pie_dataset)) == {"s1": [FAST]}
    assert a.params()["generations_col"] == "beam_outputs"


@pytest.mark.parametrize("records, message", [
    ([{"src_id": "s1"}], "line 1 has no 'generated_answers' field (the generated programs): name the field with "
                         "--generations-col"),
    ([{"src_id": "s1", "generated_answers": []}], "line 1: 'generated_answers' must be a program or a non-empty list "
                                                  "of programs"),
    ([{"src_id": "s1", "generated_answers": [FAST, None]}], "line 1: 'generated_answers' item 1 is null, not a "
                                                            "program (a string)"),
    ([{"src_id": "s7", "generated_answers": [FAST]}], "line 1: its pair 's7' is not in the dataset"),
    ([{"problem_id": "p00001", "src_code": FAST, "generated_answers": [FAST]}],
     "line 1: no pair of the dataset (left) has its problem_id \"p00001\" and slow program"),
    ([{"src_id": "s1", "generated_answers": [FAST]}, {"src_id": "s1", "generated_answers": [SLOW]}],
     "line 2: pair 's1' already has samples (line 1)"),
])
def test_malformed_generations_are_refused_with_their_line_and_cause(tmp_path, pie_dataset, records, message):
    a = PieAdapter()
    problems = a.load(pie_dataset)
    path = write_jsonl(tmp_path / "gen.jsonl", records)
    with pytest.raises(InputFileError) as err:
        a.load_samples(path, problems)
    assert str(err.value) == f"{path!r} {message}"


# ------------------------------------------------------------------ scoring one sample (no measuring)

SOURCE = Source(test_costs=(100.0, 300.0, 600.0), expected=("1\n", "2\n", "3\n"), wall_limit_s=4.0)


def runs(*cases):
    return [CaseRun("ok", c, out, 0) if c is not None else CaseRun(out, None, None, 0) for c, out in cases]


def test_ecco_speedup_is_over_the_tests_the_sample_passed():
    rec = EccoAdapter().score_runs(SOURCE, runs((50.0, "1"), (100.0, "9"), (None, "timeout")))
    assert rec["test_passed"] == [True, False, False]
    assert (rec["correct"], rec["status"], rec["cost"], rec["speedup"]) == (False, "wrong_answer", None, 2.0)
    assert rec["test_costs"] == [50.0, 100.0, None] and rec["source_cost"] == 1000.0


def test_ecco_has_no_speedup_for_a_sample_that_passed_no_test():
    rec = EccoAdapter().score_runs(SOURCE, runs((None, "error"), (None, "error"), (None, "error")))
    assert (rec["status"], rec["speedup"]) == ("error", None)


def test_pie_speedup_and_optimised_need_a_correct_sample():
    pie = PieAdapter()
    right = pie.score_runs(SOURCE, runs((10.0, "1"), (30.0, "2"), (50.0, "3.0004")))
    assert (right["correct"], right["cost"], right["speedup"], right["accuracy"], right["optimised"]) == \
        (True, 90.0, 1000.0 / 90.0, 1.0, True)
    same = pie.score_runs(SOURCE, runs((100.0, "1"), (300.0, "2"), (600.0, "3")))
    assert (same["speedup"], same["optimised"]) == (1.0, False)
    wrong = pie.score_runs(SOURCE, runs((1.0, "1"), (1.0, "0"), (None, "timeout")))
    assert (wrong["correct"], wrong["speedup"], wrong["optimised"], wrong["accuracy"]) == (False, None, False, 1 / 3)


def test_ecco_best_sample_passes_most_tests_then_costs_least_over_the_tests_that_ran_first_on_ties():
    recs = [{"test_passed": [True, False], "test_costs": [1.0, 1.0]},
            {"test_passed": [True, True], "test_costs": [5.0, 5.0]},
            {"test_passed": [True, True], "test_costs": [4.0, 6.0]},
            {"test_passed": [True, True], "test_costs": [3.0, 6.0]}]
    assert ecco_best(recs) == 3
    assert ecco_best(recs[:3]) == 1


# ------------------------------------------------------------------ the summaries (records written here)

def fake_evaluation(problems, records):
    session = SimpleNamespace(backend=SimpleNamespace(name="qemu"), platform=SimpleNamespace(label=lambda: "test"),
                              measured=0, cached=0)
    store = [{"key": f"{r['problem']}/{r['sample']}", **r} for r in records]
    samples = {p.id: [""] * sum(r["problem"] == p.id for r in records) for p in problems}
    return Evaluation(problems, samples, store, session, [])


def pie_rec(pid, s, correct, cost, accuracy, source=1000.0):
    return {"problem": pid, "sample": s, "correct": correct, "cost": cost, "accuracy": accuracy,
            "source_cost": source, "source_test_costs": [source], "test_costs": [cost], "test_passed": [correct],
            "speedup": source / cost if correct else None, "optimised": correct and source / cost >= 1.1}


def test_pie_summary_floors_speedup_at_one_and_counts_opt_at_1_1_inclusive(tmp_path, pie_dataset):
    a = PieAdapter()
    (p,) = a.load(pie_dataset)
    q = type(p)("s2", "", (), p.perf_inputs, p.references, kind="script", meta={"problem_id": "p00002"})
    records = [pie_rec("s1", 0, False, None, 0.5), pie_rec("s1", 1, True, 500.0, 1.0),
               pie_rec("s2", 0, True, 1000.0 / 1.1, 1.0), pie_rec("s2", 1, True, 2000.0, 1.0)]
    doc = a.summarize(fake_evaluation([p, q], records)).to_dict()
    s1, s2 = doc["per_problem"]
    assert (s1["speedup_best@1"], s1["speedup_best@2"], s1["is_correct_best@1"], s1["agg_cost_best@2"]) == \
        (1.0, 2.0, False, 500.0)
    assert s2["speedup_best@1"] == pytest.approx(1.1) and s2["speedup_best@2"] == s2["speedup_best@1"]
    o = doc["overall"]
    assert o["mean_speedup_best@1"] == pytest.approx(1.05) and o["mean_speedup_best@2"] == pytest.approx(1.55)
    assert (o["is_correct_best@1"], o["is_correct_best@2"], o["mean_accuracy_best@1"]) == (0.5, 1.0, 0.75)
    assert o["percent_programs_speedup_best@1>=speedup_threshold_1.1"] == 0.5
    assert o["percent_programs_speedup_best@2>=speedup_threshold_1.25"] == 0.5
    assert o["pass@1"] == 0.75


def test_ecco_summary_averages_speedup_over_pairs_that_have_one(tmp_path, pie_dataset):
    (p,) = PieAdapter().load(pie_dataset)
    q = type(p)("s2", "", (), p.perf_inputs, p.references, kind="script", meta={"problem_id": "p00002"})
    base = {"source_test_costs": [100.0, 300.0], "source_cost": 400.0}
    records = [{"problem": "s1", "sample": 0, "correct": True, "cost": 100.0, "test_costs": [25.0, 75.0],
                "test_passed": [True, True], "speedup": 4.0, **base},
               {"problem": "s1", "sample": 1, "correct": False, "cost": None, "test_costs": [10.0, None],
                "test_passed": [True, False], "speedup": 10.0, **base},
               {"problem": "s2", "sample": 0, "correct": False, "cost": None, "test_costs": [None, None],
                "test_passed": [False, False], "speedup": None, **base}]
    doc = EccoAdapter().summarize(fake_evaluation([p, q], records)).to_dict()
    s1, s2 = doc["per_problem"]
    assert (s1["best"], s1["speedup"], s1["output_pass_rate"], s1["best_run_cost"], s1["pass@1"]) == \
        (0, 4.0, 1.0, 100.0, 0.5)
    assert (s2["speedup"], s2["output_pass_rate"], s2["input_run_cost"]) == (None, 0.0, None)
    assert doc["overall"] == {"pass@1": 0.25, "output_pass_rate": 0.5, "speedup": 4.0, "pairs_with_speedup": 1}


# ------------------------------------------------------------------ the shipped example, end to end (qemu)

def run_example(tmp_path, adapter, dataset, samples, name):
    results = tmp_path / f"{name}.jsonl"
    doc = evaluate(adapter, os.path.join(EXAMPLE, dataset), os.path.join(EXAMPLE, samples), str(results),
                   backend="qemu", progress=False, jobs=3, cache_dir=None)
    recs = [json.loads(line) for line in results.read_text().splitlines()[1:]]
    return doc, {(r["problem"], r["sample"]): r for r in recs}


def test_the_pie_example_shows_speedup_exact_ties_wrong_answers_and_repeats_its_counts(tmp_path, qemu):
    doc, recs = run_example(tmp_path, PieAdapter(), "pie.jsonl", "pie_generations.jsonl", "first")
    fast, same, wrong = (recs[("sum_to_n-v0", s)] for s in range(3))
    assert fast["correct"] and fast["speedup"] > 1.1 and fast["optimised"]
    assert same["correct"] and same["speedup"] == 1.0 and same["test_costs"] == same["source_test_costs"]
    assert (wrong["correct"], wrong["status"], wrong["speedup"]) == (False, "wrong_answer", None)
    assert recs[("distinct-v0", 0)]["test_passed"] == [False, True, False]   # fast, wrong, right once
    o = doc["overall"]
    assert (o["is_correct_best@1"], o["percent_programs_speedup_best@1>=speedup_threshold_1.1"]) == (2 / 3, 1 / 3)
    assert o["percent_programs_speedup_best@3>=speedup_threshold_1.1"] == 1.0 and doc["excluded"] == []
    again, recs2 = run_example(tmp_path, PieAdapter(), "pie.jsonl", "pie_generations.jsonl", "second")
    assert {k: r["test_costs"] for k, r in recs2.items()} == {k: r["test_costs"] for k, r in recs.items()}
    assert again["jobs"] == {"measured": 12, "from_cache": 0}
    head, rows = PieAdapter().columns(again)
    assert head[:4] == ["pair", "n", "correct", "source cost"] and rows[-1][0] == "all"
    assert len(table([head] + rows)) == 5


def test_the_ecco_example_picks_the_fast_sample_of_every_pair(tmp_path, qemu):
    doc, recs = run_example(tmp_path, EccoAdapter(), "ecco.jsonl", "ecco.jsonl", "ecco")
    assert [r["best"] for r in doc["per_problem"]] == [0, 1, 2]
    assert all(r["speedup"] > 1.1 and r["output_pass_rate"] == 1.0 for r in doc["per_problem"])
    assert recs[("count_primes#0", 0)]["speedup"] == 1.0
    assert recs[("distinct#0", 0)]["speedup"] is not None   # passed one test: ECCO's speedup over it
    assert doc["overall"]["pass@1"] == pytest.approx(2 / 3) and doc["overall"]["pairs_with_speedup"] == 3
