"""EffiBench's own dataset file read as class problems; NET / NMU / NTMU(bound) end to end.

The records are written here in EffiBench's format (data/dataset.json: problem_idx, task_name,
markdown_description, canonical_solution, small_test_cases, test_case, test_case_generator)."""
from __future__ import annotations

import json

import pytest

from measure.errors import InputFileError
from measure.harness.effibench import PRELUDE, EffiBenchAdapter, Unsupported, evaluate, extract_program, \
    load_completions, load_dataset, read_asserts
from measure.scores.effibench import normalized

SUM_CANONICAL = "class Solution:\n    def total(self, nums: List[int]) -> int:\n        return sum(nums)\n"
SUM_TESTS = "solution = Solution()\nassert solution.total([1, 2, 3]) == 6\nassert solution.total([]) == 0\n"


def record(idx=1, canonical=SUM_CANONICAL, tests=SUM_TESTS, **extra):
    rec = {"problem_idx": idx, "task_name": f"task-{idx}", "description": "d", "markdown_description": "d",
           "canonical_solution": canonical, "small_test_cases": SUM_TESTS,
           "test_case": tests, "test_case_generator": "import random\n"}
    rec.update(extra)
    return rec


def write(tmp_path, data, name="dataset.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


# ------------------------------------------------------------------ the test code, read not run

def test_asserts_become_argument_tuples_and_expected_values_of_one_method():
    code = ("solution = Solution()\nassert solution.f([1, -2], 'a', {1: (2, 3)}) == [0.5, None]\n"
            "assert solution.f([], '', {}) == {1, 2}, 'message'\n")
    assert read_asserts(code) == ("f", [([1, -2], "a", {1: (2, 3)}), ([], "", {})], [[0.5, None], {1, 2}])


def test_the_solution_line_may_be_absent_or_repeated():
    assert read_asserts("assert solution.g(1) == 2\nsolution = Solution()\nassert solution.g(2) == 3\n") == \
        ("g", [(1,), (2,)], [2, 3])


@pytest.mark.parametrize("code, reason", [
    ("assert solution.f(ListNode(1)) == 1\n", "test line 1, argument 1 ('ListNode(1)') is not a Python literal"),
    ("assert solution.f(1) == ListNode(1)\n", "test line 1, expected value ('ListNode(1)') is not a Python literal"),
    ("assert solution.f(1) == 1\nassert solution.g(1) == 1\n",
     "test line 2 calls solution.g, earlier lines solution.f: one method per problem"),
    ("assert solution.f(1) is None\n", "test line 1 ('assert solution.f(1) is None') is not "
                                       "`assert solution.METHOD(...) == value`"),
    ("assert solution.f(x=1) == 1\n", "test line 1 ('assert solution.f(x=1) == 1') is not "
                                      "`assert solution.METHOD(...) == value`"),
    ("print(1)\n", "test line 1 ('print(1)') is not `assert solution.METHOD(...) == value`"),
    ("solution = Solution()\n", "its test code has no `assert solution.METHOD(...) == value` line"),
    ("assert solution.f(1 == 1\n", "its test code does not parse (line 1: '(' was never closed)"),
])
def test_test_code_other_than_literal_asserts_is_unsupported_with_its_reason(code, reason):
    with pytest.raises(Unsupported) as info:
        read_asserts(code)
    assert str(info.value) == reason


def test_the_prelude_defines_effibenchs_imports_and_node_classes():
    scope: dict = {}
    exec(compile(PRELUDE, "<prelude>", "exec"), scope)
    assert {"List", "defaultdict", "heappush", "bisect_left", "lru_cache", "inf", "heapq", "math"} <= set(scope)
    node = scope["ListNode"](3)
    tree = scope["TreeNode"](1)
    assert (node.val, node.next, tree.val, tree.left, tree.right, tree.next) == (3, None, 1, None, None, None)


# ------------------------------------------------------------------ the dataset file

def test_a_record_is_a_class_problem_whose_asserts_are_its_checked_perf_inputs(tmp_path):
    problems, order, skipped = load_dataset(write(tmp_path, [record(7)]))
    (p,) = problems
    assert (p.id, p.kind, p.entry, p.tests, p.perf_inputs, p.perf_expected) == \
        ("7", "class", "Solution.total", (), (([1, 2, 3],), ([],)), (6, 0))
    assert (p.references, p.prompt, p.meta["task_name"], order, skipped) == \
        ((SUM_CANONICAL,), PRELUDE, "task-7", ["7"], {})


def test_json_lines_are_read_too(tmp_path):
    path = write(tmp_path, "\n".join(json.dumps(record(i)) for i in (1, 2)) + "\n", "dataset.jsonl")
    assert [p.id for p in load_dataset(path)[0]] == ["1", "2"]


def test_unmeasurable_records_are_skipped_with_their_reason_and_keep_their_place(tmp_path):
    data = [record(1), record(2, tests="assert solution.f(ListNode(1)) == 1\n"),
            record(3, canonical="def total(nums):\n    return sum(nums)\n")]
    problems, order, skipped = load_dataset(write(tmp_path, data))
    assert [p.id for p in problems] == ["1"] and order == ["1", "2", "3"]
    assert skipped == {"2": "test line 1, argument 1 ('ListNode(1)') is not a Python literal",
                       "3": "its canonical solution has no `class Solution` (EffiBench's harness runs only those)"}


@pytest.mark.parametrize("data, message", [
    ({"problems": []}, "{path!r}, record 0 has no 'problem_idx' field: an EffiBench problem needs problem_idx, "
                       "canonical_solution, test_case"),
    ([], "{path!r} has no problem records: expected EffiBench's data/dataset.json"),
    ([record(1), [1]], "{path!r}, record 1 is a JSON list, not an object (a problem)"),
    ([{"problem_idx": 1, "test_case": "x"}], "{path!r}, record 0 has no 'canonical_solution' field: an EffiBench "
                                             "problem needs problem_idx, canonical_solution, test_case"),
    ([record(True)], "{path!r}, record 0: problem_idx is true, not an integer or a non-empty string"),
    ([record(1, tests=["assert solution.f(1) == 1"])],
     "{path!r}, record 0 (problem_idx 1): test_case is a JSON list, not a string of Python code"),
    ([record(4), record(4)], "{path!r}, record 1: problem_idx 4 appears twice: ids must be unique"),
    ([record(5, tests="print(1)\n")], "{path!r}: none of its 1 problems can be measured (problem 5: test line 1 "
                                      "('print(1)') is not `assert solution.METHOD(...) == value`)"),
])
def test_malformed_datasets_are_errors_that_name_the_record_and_the_cause(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(InputFileError) as info:
        load_dataset(path)
    assert str(info.value) == message.format(path=path)


def test_a_bad_json_line_is_named(tmp_path):
    path = write(tmp_path, json.dumps(record(1)) + "\n{oops\n", "dataset.jsonl")
    with pytest.raises(InputFileError, match=r"dataset.jsonl' line 2: not a JSON record"):
        load_dataset(path)


# ------------------------------------------------------------------ samples

@pytest.mark.parametrize("completion, program", [
    ("Here:\n```python\nclass Solution:\n    pass\n```\nDone.", "\nclass Solution:\n    pass\n"),
    ("```python\nclass Solution: pass", "\nclass Solution: pass"),
    ("class Solution: pass\n", "class Solution: pass\n"),
    ("```python\ndef f(): pass\n```", "```python\ndef f(): pass\n```"),   # no class Solution: runs as it is
])
def test_a_completion_is_cut_from_its_python_fence_as_effibench_does(completion, program):
    assert extract_program(completion) == program


def test_samples_come_from_effibenchs_results_file_or_measures_own_lists(tmp_path):
    results = write(tmp_path, [record(1, completion="```python\nclass Solution: A\n```"),
                               record(2, completion="class Solution: B")], "results.json")
    assert load_completions(results, ["1", "2"], ["1", "2"]) == {"1": ["\nclass Solution: A\n"],
                                                                 "2": ["class Solution: B"]}
    lists = write(tmp_path, [["class Solution: A"], ["class Solution: B", "class Solution: C"]], "samples.json")
    assert load_completions(lists, ["1", "2"], ["2"]) == {"2": ["class Solution: B", "class Solution: C"]}
    by_id = write(tmp_path, {"2": ["class Solution: B"]}, "by_id.json")
    assert load_completions(by_id, ["1", "2"], ["1", "2"]) == {"2": ["class Solution: B"]}


def test_a_results_record_without_a_completion_is_an_error(tmp_path):
    path = write(tmp_path, [record(1)], "results.json")
    with pytest.raises(InputFileError) as info:
        load_completions(path, ["1"], ["1"])
    assert str(info.value) == f"{path!r}, record 0: an EffiBench results record needs problem_idx and a completion string"


# ------------------------------------------------------------------ end to end (qemu)

SQUARES = "class Solution:\n    def squares(self, n: int) -> int:\n        return (n - 1) * n * (2 * n - 1) // 6\n"
SQUARES_LOOP = "class Solution:\n    def squares(self, n):\n        return sum(i * i for i in range(n))\n"
SQUARES_WRONG = "class Solution:\n    def squares(self, n):\n        return n * n\n"
COUNT = "class Solution:\n    def evens(self, nums: List[int]) -> int:\n        return sum(1 for x in nums if x % 2 == 0)\n"
COUNT_HUNGRY = ("class Solution:\n    def evens(self, nums):\n        pad = [0] * 12_000_000\n"
                "        return len([x for x in nums if x % 2 == 0]) + len(pad) - 12_000_000\n")


def test_end_to_end_on_qemu_net_and_nmu_are_normalized_on_the_recorded_values(tmp_path, qemu):
    data = [record(1, SQUARES, "solution = Solution()\nassert solution.squares(300) == 8955050\n"
                               "assert solution.squares(1) == 0\n"),
            record(2, COUNT, "solution = Solution()\nassert solution.evens([1, 2, 3, 4, 6]) == 3\n")]
    dataset = write(tmp_path, data)
    samples = write(tmp_path, [[SQUARES, SQUARES_LOOP, SQUARES_WRONG], [COUNT, COUNT_HUNGRY]], "samples.json")
    results = str(tmp_path / "results.jsonl")
    doc = evaluate(dataset, samples, results, backend="qemu", progress=False, jobs=2)
    recs = {(r["problem"], r["sample"]): r for r in map(json.loads, open(results).read().splitlines()[1:])}

    assert [recs["1", s]["correct"] for s in range(3)] == [True, True, False]
    assert recs["1", 2]["status"] == "wrong_answer" and recs["1", 2]["et"] is None
    assert recs["1", 0]["et"] == recs["1", 0]["canonical_et"]            # deterministic: the same program, the same count
    assert recs["1", 1]["et"] > 2 * recs["1", 0]["et"]                   # a loop of 300 against a formula
    assert recs["2", 1]["mu"] - recs["2", 1]["canonical_mu"] > 80        # ~92 MiB of padding

    pairs = [recs[k] for k in sorted(recs) if recs[k]["correct"]]   # the summary's order: problem, then sample
    for f in ("et", "mu", "tmu_bound"):
        model, canon = [r[f] for r in pairs], [r[f"canonical_{f}"] for r in pairs]
        assert doc["overall"][f"n{f}"] == normalized(model, canon)
        assert doc["overall"][f"n{f}_mean"] == normalized(model, canon, "mean_of_ratios")
    row2 = next(r for r in doc["per_problem"] if r["problem"] == "2")
    assert row2["nmu"] == normalized([recs["2", s]["mu"] for s in (0, 1)], [recs["2", s]["canonical_mu"] for s in (0, 1)])
    assert recs["2", 1]["tmu_bound"] == recs["2", 1]["mu"] * recs["2", 1]["et"]   # one call: its peak x its count
    assert doc["overall"]["pass@1"] == pytest.approx((2 / 3 + 1) / 2) and doc["overall"]["pairs"] == 4
    assert (doc["schema"], doc["et_unit"], doc["mu_unit"], doc["skipped"], doc["excluded"]) == \
        ("measure/score-effibench", "instructions", "MiB", [], [])
    assert doc["variants"]["net"].startswith("ratio_of_sums") and doc["variants"]["net_mean"].startswith("mean_of")
    head, rows = EffiBenchAdapter().columns(doc)
    assert head[6:9] == ["NET", "NMU", "NTMU<="] and rows[-1][:3] == ["all", "", "4"]
