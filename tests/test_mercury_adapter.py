"""The Mercury adapter on task records written here in Mercury's format (the fields of the Hugging Face
dataset Elfsong/Mercury as its evaluator reads them): loading, the tasks' own convert/evaluate code,
the programs as the worker runs them (executed here, no sandbox), and one small run under qemu whose
Beyond figures must be the score functions applied to the recorded costs."""
from __future__ import annotations

import json

import pytest

from measure.errors import InputFileError
from measure.harness.adapter import evaluate
from measure.harness.mercury import (CASE_CLASS, RUNTIME, MercuryAdapter, checker_of, code_cap, leetcode_ms,
                                     load_mercury_samples, load_tasks)
from measure.scores import pass_at_k
from measure.scores.mercury import beyond
from measure.scores.mercury_code import beyond_code

PLAIN_CONVERT = "def convert_offline(case):\n    return case\n"
PLAIN_EVAL = ("def evaluate_offline(inputs, outputs, expected):\n    if outputs == expected:\n        return True\n"
              "    return False\n")
LL_CONVERT = ("def convert_offline(case):\n    import lctk\n    inputs, expected = case\n"
              "    inputs = tuple([lctk.linkedList(inputs[0])])\n    return inputs, expected\n")
LL_EVAL = ("def evaluate_offline(inputs, outputs, expected):\n    import lctk\n"
           "    outputs = lctk.linkedList2Arr(outputs)\n    if outputs == expected:\n        return True\n"
           "    return False\n")
INPLACE_EVAL = ("def evaluate_offline(inputs, outputs, expected):\n    if inputs[0] == expected:\n        return True\n"
                "    return False\n")
TREE_EVAL = ("def evaluate_offline(inputs, outputs, expected):\n    import lctk\n"
             "    return lctk.binaryTree2Arr(outputs) == expected\n")

LOOP = ("class Solution(object):\n    def runningSum(self, nums):\n        out, s = [], 0\n        for x in nums:\n"
        "            s += x\n            out.append(s)\n        return out\n")
NESTED = ("class Solution(object):\n    def runningSum(self, nums):\n"
          "        return [sum(nums[:i + 1]) for i in range(len(nums))]\n")
ACCUMULATE = "class Solution:\n    def runningSum(self, nums):\n        return list(itertools.accumulate(nums))\n"
WRONG_SUM = "class Solution:\n    def runningSum(self, nums):\n        return nums\n"
REVERSE = ("class Solution:\n    def reverseList(self, head):\n        prev = None\n        while head:\n"
           "            head.next, prev, head = prev, head, head.next\n        return prev\n")
REVERSE_COPY = ("class Solution:\n    def reverseList(self, head):\n        vals = []\n        while head:\n"
                "            vals.append(head.val)\n            head = head.next\n        dummy = cur = ListNode()\n"
                "        for v in reversed(vals):\n            cur.next = ListNode(v)\n            cur = cur.next\n"
                "        return dummy.next\n")
NOT_REVERSED = "class Solution:\n    def reverseList(self, head):\n        return head\n"

RUNNING_SUM = {
    "id": 1480, "slug_name": "running-sum-of-1d-array", "difficulty": "Easy", "entry_point": "runningSum",
    "pretty_content": ["Given an array nums ..."],
    "prompt": "class Solution(object):\n    def runningSum(self, nums):\n",
    "test_cases": json.dumps([{"input": [list(range(40))], "expected": [i * (i + 1) // 2 for i in range(40)]},
                              {"input": [[5]], "expected": [5]}, {"input": [[3, 1]], "expected": [3, 4]}]),
    "convert_offline": PLAIN_CONVERT, "evaluate_offline": PLAIN_EVAL,
    "solutions": [{"hash": 11, "runtime": "52ms", "solution": NESTED},
                  {"hash": 12, "runtime": "40ms", "solution": LOOP}]}
REVERSE_LIST = {
    "id": 206, "slug_name": "reverse-linked-list", "difficulty": "Medium", "entry_point": "reverseList",
    "test_cases": json.dumps([{"input": [list(range(30))], "expected": list(range(29, -1, -1))},
                              {"input": [[]], "expected": []}]),
    "convert_offline": LL_CONVERT, "evaluate_offline": LL_EVAL,
    "solutions": [{"runtime": "36ms", "solution": REVERSE}, {"runtime": "48ms", "solution": REVERSE_COPY}]}
ROTATE = {  # a method that works in place: the verdict reads the inputs
    "slug_name": "rotate-array", "difficulty": "Hard", "entry_point": "rotate",
    "test_cases": [{"input": [[1, 2, 3, 4], 1], "expected": [4, 1, 2, 3]}],
    "convert_offline": PLAIN_CONVERT, "evaluate_offline": INPLACE_EVAL,
    "solutions": [{"runtime": "1ms", "solution": "class Solution:\n    def rotate(self, nums, k):\n"
                                                 "        nums[:] = nums[-k:] + nums[:-k]\n"}]}
TREE = {  # a tree built from a plain list: the output is converted in the worker
    "slug_name": "convert-sorted-array-to-binary-search-tree", "entry_point": "sortedArrayToBST",
    "test_cases": json.dumps([{"input": [[0, 1, 2]], "expected": [1, 0, 2]}]),
    "convert_offline": PLAIN_CONVERT, "evaluate_offline": TREE_EVAL,
    "solutions": [{"runtime": "50ms", "solution": "x"}]}


def write(tmp_path, name, data) -> str:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def one(tmp_path, record):
    return load_tasks(write(tmp_path, "tasks.json", [record]))[0]


def run_here(problem, code, args):
    """The program as the worker runs it (prompt, candidate, method wrapper), executed here."""
    program = problem.program(code)
    scope: dict = {"__name__": "__candidate__"}
    exec(compile(program.source, "<program>", "exec"), scope)
    return scope[program.entry](*args)


# --- loading --------------------------------------------------------------------------------------

def test_a_plain_task_calls_solution_method_directly_on_its_stored_cases(tmp_path):
    p = one(tmp_path, RUNNING_SUM)
    assert (p.id, p.kind, p.entry, p.tests) == ("running-sum-of-1d-array", "class", "Solution.runningSum", ())
    assert p.perf_inputs[1:] == (([5],), ([3, 1],))
    assert p.perf_expected[1:] == ([5], [3, 4])
    assert p.references == (NESTED, LOOP)
    assert p.meta["difficulty"] == "Easy" and p.meta["call"] == "direct"
    assert p.meta["leetcode_runtimes"] == ["52ms", "40ms"] and p.meta["leetcode_ms"] == [52.0, 40.0]


def test_json_lines_and_a_json_list_load_the_same_tasks(tmp_path):
    listed = load_tasks(write(tmp_path, "tasks.json", [RUNNING_SUM, REVERSE_LIST]))
    text = json.dumps(RUNNING_SUM) + "\n\n" + json.dumps(REVERSE_LIST) + "\n"
    lines = load_tasks(write(tmp_path, "tasks.jsonl", text))
    assert listed == lines


def test_a_linked_list_task_converts_in_the_worker(tmp_path):
    p = one(tmp_path, REVERSE_LIST)
    assert (p.kind, p.entry, p.meta["call"]) == ("class", f"{CASE_CLASS}.run", "converted in the worker")
    assert p.perf_inputs == (([list(range(30))],), ([[]],))   # one argument each: the stored inputs
    assert p.perf_expected == (list(range(29, -1, -1)), [])


def test_the_worker_returns_nodes_as_plain_data_and_the_verdict_is_the_tasks_own(tmp_path):
    p = one(tmp_path, REVERSE_LIST)
    case = ([[1, 2, 3]],)                   # one argument: the stored inputs, converted in the worker
    out = run_here(p, REVERSE, case)
    assert out == ({"$node": "list", "values": [3, 2, 1], "cycle": -1}, None)
    check = checker_of(p)
    assert check(case, [3, 2, 1], out) is True
    assert check(case, [3, 2, 1], run_here(p, NOT_REVERSED, case)) is False
    assert check(case, [3, 2, 1], [3, 2, 1]) is False          # not the worker's pair
    assert check(case, [3, 2, 1], ({"$node": "bogus"}, None)) is False


def test_an_in_place_method_is_judged_on_the_inputs_as_the_call_left_them(tmp_path):
    p = one(tmp_path, ROTATE)
    assert p.meta["call"] == "converted in the worker"
    out = run_here(p, p.references[0], p.perf_inputs[0])
    assert out == (None, [[4, 1, 2, 3], 1])
    assert checker_of(p)(p.perf_inputs[0], p.perf_expected[0], out) is True
    assert checker_of(p)(p.perf_inputs[0], p.perf_expected[0], (None, [[1, 2, 3, 4], 1])) is False


def test_a_tree_output_goes_through_lctks_array_form(tmp_path):
    p = one(tmp_path, TREE)
    assert p.meta["call"] == "converted in the worker"   # lctk in its verdict
    bst = ("class Solution:\n    def sortedArrayToBST(self, nums):\n        if not nums:\n            return None\n"
           "        m = len(nums) // 2\n        return TreeNode(nums[m], self.sortedArrayToBST(nums[:m]), "
           "self.sortedArrayToBST(nums[m + 1:]))\n")
    out = run_here(p, bst, p.perf_inputs[0])
    assert out == ({"$node": "tree", "values": [1, 0, 2]}, None)
    assert checker_of(p)(p.perf_inputs[0], [1, 0, 2], out) is True


def test_a_tree_whose_nodes_are_shared_is_not_a_tree():
    scope: dict = {}
    exec(RUNTIME, scope)
    leaf = scope["TreeNode"](1)
    assert scope["_mercury_plain"](scope["TreeNode"](0, leaf, leaf)) == {"$node": "invalid"}


def test_a_cyclic_list_is_written_with_its_cycle_and_rebuilt_with_it():
    scope: dict = {}
    exec(RUNTIME, scope)
    lctk = scope["_mercury_lctk"]()
    head = lctk.linkedList([1, 2, 3], 1)
    assert scope["_mercury_plain"](head) == {"$node": "list", "values": [1, 2, 3], "cycle": 1}
    assert lctk.linkedList2Arr(head) == [1, 2, 3]
    assert lctk.linkedList([1], 5) is None          # lctk: a bad cycle position gives None


def test_lctk_tree_arrays_lose_trailing_falsy_values_as_lctk_does():
    scope: dict = {}
    exec(RUNTIME, scope)
    lctk = scope["_mercury_lctk"]()
    assert lctk.binaryTree2Arr(lctk.binaryTree([1, None, 2, 3])) == [1, None, 2, 3]
    assert lctk.binaryTree2Arr(lctk.binaryTree([1, 2, 0])) == [1, 2]   # the 0 goes, as in lctk 0.0.6
    assert lctk.binaryTree([]) is None and lctk.binaryTree2Arr(None) == []


def test_mercurys_one_second_cap_applies_to_task_clock_nanoseconds_and_not_to_counts():
    assert (code_cap("task_clock_ns"), code_cap("instructions")) == (1e9, None)


def test_leetcode_runtimes_are_read_in_milliseconds():
    assert [leetcode_ms(r) for r in ("44ms", "3.5 ms", 12, "fast", None)] == [44.0, 3.5, 12.0, None, None]


def test_mercurys_own_samples_file_and_a_plain_list_are_read(tmp_path):
    ids = ["running-sum-of-1d-array", "reverse-linked-list"]
    own = {"running-sum-of-1d-array": [{"task_id": "running-sum-of-1d-array", "completion": LOOP}],
           "reverse-linked-list": [REVERSE, {"completion": NOT_REVERSED}]}
    assert load_mercury_samples(write(tmp_path, "s.json", own), ids) == {
        "running-sum-of-1d-array": [LOOP], "reverse-linked-list": [REVERSE, NOT_REVERSED]}
    assert load_mercury_samples(write(tmp_path, "l.json", [[LOOP], [REVERSE]]), ids) == {
        "running-sum-of-1d-array": [LOOP], "reverse-linked-list": [REVERSE]}


# --- malformed files: the message names the place, the cause and the remedy -----------------------

def broken(**changes):
    rec = {**RUNNING_SUM, **changes}
    return {k: v for k, v in rec.items() if v is not None}


@pytest.mark.parametrize("record, message", [
    (broken(slug_name=None), "record 0: no 'slug_name' field: a Mercury task record has slug_name, entry_point, "
                             "test_cases, solutions, convert_offline and evaluate_offline"),
    (broken(entry_point="run sum"), "record 0 (running-sum-of-1d-array): entry_point 'run sum' is not a method name"),
    (broken(test_cases="[{"), "record 0 (running-sum-of-1d-array): test_cases is not valid JSON"),
    (broken(test_cases="[]"), 'record 0 (running-sum-of-1d-array): test_cases must be a non-empty JSON list of '
                              '{"input": [arguments], "expected": value}'),
    (broken(test_cases=[{"input": [1]}]), 'record 0 (running-sum-of-1d-array), test case 0: expected an object '
                                          'with "input" and "expected"'),
    (broken(test_cases=[{"input": 1, "expected": 1}]), 'test case 0: "input" is int, not the list of the method\'s '
                                                       'arguments'),
    (broken(solutions=[]), 'record 0 (running-sum-of-1d-array): solutions must be a non-empty list of '
                           '{"solution": code, "runtime": "44ms"}: Mercury\'s runtime distribution needs them'),
    (broken(solutions=[{"runtime": "4ms"}]), 'solution 0: expected an object with the code in "solution"'),
    (broken(convert_offline="def convert(case):\n    return case\n"),
     "record 0 (running-sum-of-1d-array): its convert_offline does not define convert_offline: KeyError: "
     "'convert_offline'. Give the task's code as Mercury's dataset stores it"),
    (broken(evaluate_offline=3), "record 0 (running-sum-of-1d-array): 'evaluate_offline' is 3, not a non-empty string"),
    ("spiral-matrix", "record 0: a task record is a JSON object, got str"),
])
def test_a_malformed_record_is_refused_with_its_place_and_cause(tmp_path, record, message):
    with pytest.raises(InputFileError) as info:
        load_tasks(write(tmp_path, "tasks.json", [record]))
    assert message in str(info.value)


def test_a_task_named_twice_is_refused(tmp_path):
    path = write(tmp_path, "tasks.json", [RUNNING_SUM, RUNNING_SUM])
    with pytest.raises(InputFileError, match="record 1: slug_name 'running-sum-of-1d-array' appears twice: "
                                             "task ids must be unique"):
        load_tasks(path)


def test_a_bad_json_line_and_an_empty_file_are_refused(tmp_path):
    with pytest.raises(InputFileError, match=r"line 2: not a JSON record \(.*\); the Mercury task file is a JSON "
                                             "array or one JSON object per line"):
        load_tasks(write(tmp_path, "tasks.jsonl", json.dumps(RUNNING_SUM) + "\n{oops\n"))
    with pytest.raises(InputFileError, match="holds no Mercury task records"):
        load_tasks(write(tmp_path, "empty.jsonl", ""))


def test_samples_for_an_unknown_task_or_of_the_wrong_kind_are_refused(tmp_path):
    ids = ["running-sum-of-1d-array"]
    with pytest.raises(InputFileError, match="'two-sum' is not a task of the task file: keys must be slug_name values"):
        load_mercury_samples(write(tmp_path, "a.json", {"two-sum": [LOOP]}), ids)
    with pytest.raises(InputFileError, match="task 'running-sum-of-1d-array', sample 1: expected a program string "
                                             'or an object with its "completion"'):
        load_mercury_samples(write(tmp_path, "b.json", {"running-sum-of-1d-array": [LOOP, {"code": LOOP}]}), ids)
    with pytest.raises(InputFileError, match="has 2 entries but the task file has 1 tasks"):
        load_mercury_samples(write(tmp_path, "c.json", [[LOOP], [LOOP]]), ids)


# --- one run under qemu ---------------------------------------------------------------------------

def test_both_beyond_figures_are_the_score_functions_on_the_recorded_costs(qemu, tmp_path):
    tasks = write(tmp_path, "tasks.json", [RUNNING_SUM, REVERSE_LIST])
    samples = write(tmp_path, "samples.json", {
        "running-sum-of-1d-array": [{"task_id": "running-sum-of-1d-array", "completion": c}
                                    for c in (ACCUMULATE, WRONG_SUM, NESTED)],
        "reverse-linked-list": [{"task_id": "reverse-linked-list", "completion": c} for c in (REVERSE, NOT_REVERSED)]})
    results = tmp_path / "results.jsonl"
    doc = evaluate(MercuryAdapter(), tasks, samples, str(results), backend="qemu", cache_dir=str(tmp_path / "cache"),
                   progress=False)
    recs = {r["key"]: r for r in map(json.loads, results.read_text().splitlines()[1:])}

    fast, wrong, slow = (recs[f"running-sum-of-1d-array/{i}"] for i in range(3))
    assert [fast["correct"], wrong["correct"], slow["correct"]] == [True, False, True]
    assert (wrong["status"], wrong["cost"], wrong["beyond"], wrong["beyond_code"]) == ("wrong_answer", None, 0.0, 0.0)
    assert slow["cost"] == slow["reference_max"]            # the slowest solution itself
    assert fast["cost"] < fast["reference_min"]             # faster than every solution
    assert fast["beyond"] == 1.0 and fast["beyond_code"] > 1.0
    for r in recs.values():
        refs = [r["reference_min"], r["reference_max"]]
        assert r["beyond"] == beyond(r["cost"], refs)
        assert r["beyond_code"] == beyond_code(r["cost"], refs, cap=None)   # counts: no 1-second cap
        assert (r["references"], r["references_failed"]) == (2, 0)
    assert recs["reverse-linked-list/0"]["cost"] == recs["reverse-linked-list/0"]["reference_min"]
    assert recs["reverse-linked-list/1"]["status"] == "wrong_answer"

    assert doc["jobs"] == {"measured": 7, "from_cache": 2}   # the samples equal to a solution: from the cache
    assert doc["schema"] == "measure/score-mercury" and doc["unit"] == "instructions" and doc["ks"] == [1]
    assert set(doc["formulas"]) == {"beyond", "beyond_code"} and doc["beyond_code_cap"] is None
    rows = {r["problem"]: r for r in doc["per_problem"]}
    assert rows["running-sum-of-1d-array"]["beyond@1"] == fast["beyond"]
    assert rows["running-sum-of-1d-array"]["beyond_code@1"] == fast["beyond_code"]
    assert rows["running-sum-of-1d-array"]["pass@1"] == pass_at_k(3, 2, 1)
    o = doc["overall"]
    assert o["beyond@1"] == (fast["beyond"] + 1.0) / 2
    assert o["beyond_code@1"] == (fast["beyond_code"] + 1.0) / 2
    assert o["by_difficulty"]["Easy"]["beyond_code@1"] == fast["beyond_code"]
    assert o["by_difficulty"]["Medium"]["pass@1"] == 0.5
    head, table = MercuryAdapter().columns(doc)
    assert head == ["task", "difficulty", "n", "passed", "refs", "pass@1", "beyond@1", "beyond_code@1"]
    assert [row[0] for row in table] == ["running-sum-of-1d-array", "reverse-linked-list", "Easy", "Medium", "all"]
