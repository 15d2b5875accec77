"""EvalPerf's own task file (measure.harness.evalplus): loading tasks written in evalplus's format,
its errors, evalplus's output comparison, evalplus's samples files, and one end-to-end run on qemu
whose DPS is the pure function (measure.scores.evalplus_dps) of the recorded costs."""
from __future__ import annotations

import gzip
import json
import math

import pytest

from measure.errors import ConfigError, InputFileError
from measure.harness.evalplus import EvalPlusAdapter, decode_inputs, evaluate, load_evalperf, load_evalplus_samples
from measure.harness.problems import make_checker
from measure.scores.evalplus_dps import task_dps

SLOW = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
MID = "def total(n):\n    return sum(range(n))\n"
FAST = "def total(n):\n    return n * (n - 1) // 2\n"


def task(**over):
    """A HumanEval task as the Hub publishes it: pe_input a JSON text of [argument list]."""
    t = {"task_id": "HumanEval/1", "entry_point": "total", "prompt": "def total(n):\n",
         "reference": [SLOW, MID, FAST], "scores": [30.0, 70.0, 100.0], "pe_input": json.dumps([[3000]])}
    t.update(over)
    return t


def jsonl(tmp_path, name, rows) -> str:
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(p)


def load_one(tmp_path, **over):
    return load_evalperf(jsonl(tmp_path, "evalperf.jsonl", [task(**over)]))[0]


def error(tmp_path, **over) -> str:
    with pytest.raises(InputFileError) as exc:
        load_one(tmp_path, **over)
    return str(exc.value)


# --- loading the task file -----------------------------------------------------------------------

def test_a_task_becomes_a_problem_with_its_references_perf_input_and_stored_scores(tmp_path):
    p = load_one(tmp_path)
    assert (p.id, p.entry, p.kind, p.prompt) == ("HumanEval/1", "total", "function", "")
    assert p.references == (SLOW, MID, FAST)
    assert p.perf_inputs == ((3000,),)
    assert p.tests == () and p.expected is None and p.perf_expected is None
    assert p.meta == {"scores": (30.0, 70.0, 100.0), "prompt": "def total(n):\n", "atol": 0.0}


def test_pe_input_may_be_the_decoded_list_as_in_evalperf_date_jsonl(tmp_path):
    assert load_one(tmp_path, pe_input=[[3000]]).perf_inputs == ((3000,),)


def test_only_the_first_pe_input_is_profiled_as_evalplus_does(tmp_path):
    assert load_one(tmp_path, pe_input=json.dumps([[7], [8]])).perf_inputs == ((7,),)


def test_pe_input_keeps_big_ints_and_non_finite_floats(tmp_path):
    p = load_one(tmp_path, pe_input='[[123456789012345678901234567890, NaN, -Infinity, [1.5, "x"]]]')
    big, nan, ninf, rest = p.perf_inputs[0]
    assert big == 123456789012345678901234567890 and math.isnan(nan) and ninf == -math.inf
    assert rest == [1.5, "x"]


def test_a_json_array_file_and_a_gzipped_jsonl_file_load_the_same(tmp_path):
    arr = tmp_path / "evalperf.json"
    arr.write_text(json.dumps([task(), task(task_id="HumanEval/2")]))
    gz = tmp_path / "evalperf.jsonl.gz"
    with gzip.open(gz, "wt") as f:
        f.write(json.dumps(task()) + "\n\n" + json.dumps(task(task_id="HumanEval/2")) + "\n")
    assert load_evalperf(str(arr)) == load_evalperf(str(gz))
    assert [p.id for p in load_evalperf(str(gz))] == ["HumanEval/1", "HumanEval/2"]


@pytest.mark.parametrize("tid, stored, args", [
    ("Mbpp/2", [[1, 2], [3]], ((1, 2), (3,))),                                  # every argument a tuple
    ("Mbpp/63", [[[1, 2], [3, 4]]], ([(1, 2), (3, 4)],)),                       # a list of tuples
    ("Mbpp/75", [[[1, 2]], 3], ([(1, 2)], 3)),
    ("Mbpp/106", [[1], [2, 3]], ([1], (2, 3))),
    ("Mbpp/115", [[[1, 2], []]], ([{1, 2}, {}],)),                              # an empty set stored as {} upstream
    ("Mbpp/124", ["1.5", "(1+2j)"], (1.5, 1 + 2j)),
    ("Mbpp/252", ["(3-4j)"], (3 - 4j,)),
    ("Mbpp/259", [[[1, 2], [3]], [[4]]], (((1, 2), (3,)), ((4,),))),
    ("Mbpp/278", [[1, [2, 3], 4]], ((1, (2, 3), 4),)),
    ("Mbpp/307", [[1, 2], 0, 5], ((1, 2), 0, 5)),
    ("Mbpp/580", [[1, [2, [3]]], 4], ((1, (2, (3,))), 4)),                       # deep tuples
    ("Mbpp/722", [{"a": [1, 2]}, 3], ({"a": (1, 2)}, 3)),
    ("Mbpp/3", [[1, 2], 3], ([1, 2], 3)),                                         # no rule: as stored
    ("HumanEval/2", [[1, 2]], ([1, 2],)),                                         # HumanEval: as stored
])
def test_mbpp_inputs_get_back_the_types_evalplus_restores(tid, stored, args):
    assert decode_inputs(tid, [stored], "w") == [args]


def test_an_mbpp_pe_input_is_restored_like_its_tests(tmp_path):
    p = load_one(tmp_path, task_id="Mbpp/2", entry_point="f", pe_input=json.dumps([[[1, 2], [2, 3]]]))
    assert p.perf_inputs == (((1, 2), (2, 3)),)


# --- malformed task files: each error names the task and the field -------------------------------

def test_a_missing_field_is_named(tmp_path):
    t = task()
    del t["scores"]
    with pytest.raises(InputFileError) as exc:
        load_evalperf(jsonl(tmp_path, "e.jsonl", [t]))
    assert str(exc.value) == (f"'{tmp_path}/e.jsonl', task 'HumanEval/1': field 'scores' is missing (an EvalPerf "
                              "task has task_id, entry_point, reference, scores, pe_input)")


def test_scores_of_another_length_than_the_references_are_refused(tmp_path):
    assert error(tmp_path, scores=[50.0, 100.0]) == (
        f"'{tmp_path}/evalperf.jsonl', task 'HumanEval/1': field 'scores' has 2 values for 3 references: "
        "one stored score per reference, in the same order")


def test_decreasing_scores_are_refused(tmp_path):
    assert error(tmp_path, scores=[30.0, 20.0, 100.0]).endswith(
        "field 'scores' decreases at item 1 (30.0 then 20.0): the stored scores are cumulative, slowest reference first")


def test_a_score_outside_0_to_100_is_refused(tmp_path):
    assert error(tmp_path, scores=[30.0, 70.0, 101.0]).endswith(
        "field 'scores' item 2 is 101.0, not a percentage in [0, 100]")
    assert error(tmp_path, scores=[30.0, True, 100.0]).endswith(
        "field 'scores' item 1 is True, not a percentage in [0, 100]")


def test_an_entry_point_that_is_not_a_name_is_refused(tmp_path):
    assert error(tmp_path, entry_point="total()") == (
        f"'{tmp_path}/evalperf.jsonl', task 'HumanEval/1': field 'entry_point' is 'total()', not a function name")


def test_references_must_be_a_non_empty_list_of_programs(tmp_path):
    assert error(tmp_path, reference=[], scores=[]).endswith("field 'reference' must be a non-empty list of programs")
    assert error(tmp_path, reference=[SLOW, 3, FAST]).endswith(
        "field 'reference' item 1 is not a program (a non-empty string)")


def test_a_pe_input_that_is_not_json_is_refused(tmp_path):
    msg = error(tmp_path, pe_input="[[1, 2]")
    assert msg.startswith(f"'{tmp_path}/evalperf.jsonl', task 'HumanEval/1': field 'pe_input': not valid JSON text (")


def test_a_pe_input_without_an_argument_list_is_refused(tmp_path):
    assert error(tmp_path, pe_input="[]").endswith(
        "field 'pe_input': expected a non-empty list whose first element is the argument list, got an empty list")
    assert error(tmp_path, pe_input="{}").endswith(
        "field 'pe_input': expected a non-empty list whose first element is the argument list, got dict")
    assert error(tmp_path, pe_input="[5]").endswith("field 'pe_input': input 0 is int, not a list of the function's "
                                                    "arguments")


def test_an_mbpp_pe_input_of_the_wrong_shape_is_refused(tmp_path):
    assert error(tmp_path, task_id="Mbpp/106", entry_point="f", pe_input="[[[1]]]") == (
        f"'{tmp_path}/evalperf.jsonl', task 'Mbpp/106': field 'pe_input': input 0 does not have the shape evalplus "
        "stores for Mbpp/106 (IndexError: list index out of range)")


def test_a_prompt_that_is_not_text_is_refused(tmp_path):
    assert error(tmp_path, prompt=["x"]).endswith("field 'prompt' is list, not a string")


def test_a_record_without_a_task_id_names_its_line(tmp_path):
    path = jsonl(tmp_path, "e.jsonl", [task(), {"entry_point": "f"}])
    with pytest.raises(InputFileError) as exc:
        load_evalperf(path)
    assert str(exc.value) == (f"'{path}' line 2: field 'task_id' is missing or not a string "
                              "(e.g. \"HumanEval/10\", \"Mbpp/2\")")


def test_a_task_twice_is_refused(tmp_path):
    path = jsonl(tmp_path, "e.jsonl", [task(), task()])
    with pytest.raises(InputFileError, match=r"line 2: task 'HumanEval/1' appears twice \(first on line 1\)"):
        load_evalperf(path)


def test_a_line_that_is_not_json_is_refused(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text(json.dumps(task()) + "\n{oops\n")
    with pytest.raises(InputFileError, match=r"e.jsonl' line 2: not a JSON record \(.*\); the EvalPerf task file "
                                             r"is a JSON array or one JSON object per line"):
        load_evalperf(str(p))


def test_an_empty_file_is_refused(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text("\n")
    with pytest.raises(InputFileError, match="has no tasks: expected EvalPerf's task file"):
        load_evalperf(str(p))


# --- correctness tests from HumanEval+ / MBPP+ ---------------------------------------------------

def plus(**over):
    t = {"task_id": "HumanEval/1", "entry_point": "total", "prompt": "def total(n):\n", "canonical_solution": "",
         "base_input": [[3], [10]], "plus_input": [[0]], "atol": 0}
    t.update(over)
    return t


def test_the_tests_file_gives_base_and_plus_inputs_and_atol(tmp_path):
    ev = jsonl(tmp_path, "e.jsonl", [task(), task(task_id="Mbpp/2", entry_point="f", pe_input="[[[1], [2]]]")])
    tests = [jsonl(tmp_path, "he.jsonl", [plus(atol=1e-3), plus(task_id="HumanEval/0", entry_point="g")]),
             jsonl(tmp_path, "mbpp.jsonl", [plus(task_id="Mbpp/2", entry_point="f", base_input=[[[1, 2], [2]]],
                                                 plus_input=[])])]
    he, mb = load_evalperf(ev, tests)
    assert he.tests == ((3,), (10,), (0,)) and he.meta["atol"] == 0.001
    assert mb.tests == (((1, 2), (2,)),)


def test_a_task_missing_from_the_tests_files_is_refused(tmp_path):
    ev = jsonl(tmp_path, "e.jsonl", [task()])
    t = jsonl(tmp_path, "mbpp.jsonl", [plus(task_id="Mbpp/2")])
    with pytest.raises(InputFileError) as exc:
        load_evalperf(ev, [t])
    assert str(exc.value) == (f"task 'HumanEval/1' is not in the tests file(s) '{t}': give the HumanEval+ and MBPP+ "
                              "NoExtreme task files that cover every EvalPerf task, or leave --tests out")


def test_a_tests_file_of_another_release_is_refused(tmp_path):
    ev = jsonl(tmp_path, "e.jsonl", [task()])
    t = jsonl(tmp_path, "he.jsonl", [plus(entry_point="sum_to")])
    with pytest.raises(InputFileError) as exc:
        load_evalperf(ev, [t])
    assert str(exc.value) == (f"'{t}', task 'HumanEval/1': field 'entry_point' is 'sum_to' but the EvalPerf task's "
                              "is 'total': the files are of different releases")


def test_a_tests_record_without_plus_input_or_with_a_bad_atol_is_refused(tmp_path):
    ev = jsonl(tmp_path, "e.jsonl", [task()])
    bad = plus()
    del bad["plus_input"]
    with pytest.raises(InputFileError, match="task 'HumanEval/1': field 'plus_input' is missing"):
        load_evalperf(ev, [jsonl(tmp_path, "a.jsonl", [bad])])
    with pytest.raises(InputFileError, match="task 'HumanEval/1': field 'atol' is -1, not a number >= 0"):
        load_evalperf(ev, [jsonl(tmp_path, "b.jsonl", [plus(atol=-1)])])


# --- evalplus's output comparison ----------------------------------------------------------------

def checker(tmp_path, atol=0, base_input=((3,),), **over):
    ev = jsonl(tmp_path, "e.jsonl", [task(**over)])
    t = jsonl(tmp_path, "t.jsonl", [plus(task_id=over.get("task_id", "HumanEval/1"), base_input=base_input,
                                         entry_point=over.get("entry_point", "total"), atol=atol, plus_input=[])])
    return make_checker(load_evalperf(ev, [t])[0])


def test_outputs_are_equal_exactly_unless_floats(tmp_path):
    check = checker(tmp_path)
    assert check((1,), 3, 3) and not check((1,), 3, 4)
    assert not check((1,), [1, 2], (1, 2))          # a tuple is not a list (evalplus: ==)


def test_floats_are_close_within_1e_6_when_atol_is_0(tmp_path):
    check = checker(tmp_path)
    assert check((1,), 1.0, 1.0 + 5e-7) and not check((1,), 1.0, 1.0 + 5e-6)
    assert check((1,), [1.0, 2.0], [1.0, 2.0 + 5e-7])
    assert check((1,), 1.0, 1)                       # equal values pass (1 == 1.0)
    assert not check((1,), (1.0, 2.0), [1.0, 2.0 + 5e-7])   # the types must agree once the values differ
    assert not check((1,), [1.0, 2.0], [1.0])


def test_the_tasks_atol_widens_the_float_comparison(tmp_path):
    check = checker(tmp_path, atol=1e-2)
    assert check((1,), 1.0, 1.005) and not check((1,), 1.0, 1.05)


def test_mbpp_set_equal_tasks_compare_as_sets(tmp_path):
    check = checker(tmp_path, task_id="Mbpp/2", entry_point="similar_elements", pe_input="[[[1], [1]]]",
                    base_input=[[[1], [1]]])
    assert check(((1, 2), (2, 1)), (1, 2), (2, 1)) and not check(((1, 2), (2, 1)), (1, 2), (1, 3))


def test_humaneval_find_zero_checks_the_root(tmp_path):
    check = checker(tmp_path, atol=1e-6, entry_point="find_zero")
    assert check(([-2, 1],), 2.0, 2.0000000001) and not check(([-2, 1],), 2.0, 2.1)


# --- evalplus's samples files --------------------------------------------------------------------

def test_evalplus_samples_read_solutions_completions_and_folder_style_ids(tmp_path):
    problems = load_evalperf(jsonl(tmp_path, "e.jsonl", [task()]))
    s = jsonl(tmp_path, "s.jsonl", [{"task_id": "HumanEval/1", "solution": FAST},
                                    {"task_id": "HumanEval_1", "completion": "    return 0\n"},
                                    {"task_id": "HumanEval/99", "solution": "ignored"}])
    assert load_evalplus_samples(s, problems) == {"HumanEval/1": [FAST, "def total(n):\n    return 0\n"]}


def test_a_sample_without_its_program_is_refused(tmp_path):
    problems = load_evalperf(jsonl(tmp_path, "e.jsonl", [task()]))
    s = jsonl(tmp_path, "s.jsonl", [{"task_id": "HumanEval/1", "code": FAST}])
    with pytest.raises(InputFileError) as exc:
        load_evalplus_samples(s, problems)
    assert str(exc.value) == (f"'{s}' line 1, task 'HumanEval/1': field 'solution' (or 'completion') is missing "
                              "or not a string")


def test_min_correct_above_max_profile_is_a_config_error():
    with pytest.raises(ConfigError, match="need 1 <= min_correct <= max_profile, got 5 and 4"):
        EvalPlusAdapter(5, 4)


# --- end to end on qemu --------------------------------------------------------------------------

SLOWER = "def total(n):\n    s = 0\n    for i in range(n):\n        for _ in range(2):\n            s += i / 2\n" \
         "    return int(s)\n"
SIMILAR_SLOW = "def similar_elements(a, b):\n    return tuple(x for x in a if x in b)\n"
SIMILAR_FAST = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n"


def test_dps_on_stored_scores_is_the_pure_function_of_the_recorded_costs(qemu, tmp_path):
    ev = jsonl(tmp_path, "evalperf.jsonl", [
        task(),
        task(task_id="Mbpp/2", entry_point="similar_elements", prompt="", reference=[SIMILAR_SLOW, SIMILAR_FAST],
             scores=[40.0, 100.0], pe_input=json.dumps([[list(range(300)), list(range(150, 450))]]))])
    tests = jsonl(tmp_path, "plus.jsonl", [plus(), plus(task_id="Mbpp/2", entry_point="similar_elements",
                                                        base_input=[[[1, 2, 3], [3, 2]]], plus_input=[])])
    wrong = "def total(n):\n    return 0\n"
    samples = jsonl(tmp_path, "samples.jsonl", [
        {"task_id": "HumanEval/1", "solution": FAST},      # ties the fastest reference: level 2
        {"task_id": "HumanEval/1", "solution": wrong},     # fails the tests: not profiled
        {"task_id": "HumanEval/1", "solution": MID},       # ties the middle one: level 1
        {"task_id": "HumanEval/1", "solution": SLOWER},    # slower than every reference: level -1, 0
        {"task_id": "HumanEval/1", "solution": FAST},      # beyond max_profile = 3
        {"task_id": "Mbpp/2", "solution": SIMILAR_FAST},
        {"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return tuple(sorted(set(b) & set(a)))\n"},
    ])
    doc = evaluate(ev, samples, str(tmp_path / "r.jsonl"), min_correct=2, max_profile=3, tests=[tests],
                   backend="qemu", progress=False)
    recs = [r for r in map(json.loads, open(tmp_path / "r.jsonl")) if "key" in r]
    by = {}
    for r in recs:
        by.setdefault(r["problem"], {})[r["sample"]] = r
    he = [by["HumanEval/1"][i] for i in range(5)]
    assert [r["correct"] for r in he] == [True, False, True, True, True]
    assert [r["level"] for r in he] == [2, None, 1, -1, 2]
    assert (he[3]["dps"], he[3]["dps_norm"]) == (0.0, 0.0)
    rows = {r["problem"]: r for r in doc["per_problem"]}
    for pid, scores in (("HumanEval/1", [30.0, 70.0, 100.0]), ("Mbpp/2", [40.0, 100.0])):
        rs = [by[pid][i] for i in range(len(by[pid]))]
        want = task_dps([r["correct"] for r in rs], [r["cost"] for r in rs], rs[0]["reference_costs"], scores, 2, 3)
        assert (rows[pid]["dps"], rows[pid]["dps_norm"], rows[pid]["profiled"]) == \
            (want.dps, want.dps_norm, len(want.profiled))
    assert rows["HumanEval/1"]["dps"] == pytest.approx((100.0 + 70.0 + 0.0) / 3, rel=1e-15)
    assert rows["HumanEval/1"]["dps_norm"] == pytest.approx((100.0 + 200.0 / 3 + 0.0) / 3, rel=1e-15)
    assert rows["HumanEval/1"]["pass@1"] == pytest.approx(0.8, rel=1e-15)
    assert rows["HumanEval/1"]["levels"] == 3 and rows["Mbpp/2"]["correct"] == 2
    assert doc["overall"]["problems_scored"] == 2
    assert doc["overall"]["dps"] == (rows["HumanEval/1"]["dps"] + rows["Mbpp/2"]["dps"]) / 2
