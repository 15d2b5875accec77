"""``measure score coffe-files``: COFFE's own files (../shared/data/coffe, JohnnyPeng18/Coffe at
7979acb, Apache-2.0) read unchanged, its raw model outputs sanitised as COFFE sanitises them, and
one small end-to-end run on qemu (deterministic: ground truth against itself is an exact tie).
The sanitiser's outputs asserted here are those of COFFE's own Extractor on the same text."""
from __future__ import annotations

import ast
import collections
import itertools
import json
import math
import os
import random

import pytest

from conftest import SHARED
from measure.errors import InputFileError
from measure.harness.adapter import evaluate
from measure.harness.coffe import CoffeAdapter
from measure.harness.coffe_files import CoffeFilesAdapter, dropped, generator_input, load, load_samples, named_entry, \
    stressful_input
from measure.harness.coffe_sanitize import coffe_program, extract, rename_entry
from measure.harness.inputs import InputCode, decode, encode, evaluate as evaluate_input

COFFE = os.path.join(SHARED, "data", "coffe")
FUNCTION, FILE = os.path.join(COFFE, "function"), os.path.join(COFFE, "file")
OUTPUTS = os.path.join(COFFE, "examples", "function")


# --- sanitising raw outputs (no data needed) -----------------------------------------------------------

def test_a_chat_answer_becomes_its_fenced_function_renamed_solution():
    raw = "Here it is:\n\n```python\ndef area(r):\n    # circle\n    return 3 * r * r\n```\n\nTry `area(2)`."
    assert coffe_program(raw, "area", humaneval_stub="def area(r):\n    '''doc'''\n") == \
        "def solution(r):\n    return 3 * r * r"


def test_a_humaneval_answer_that_starts_with_an_import_is_pasted_into_the_stub_as_coffe_does():
    # COFFE's test is "starts with def": the import lands in the stub's body, a local name of the
    # first definition, which the second replaces (so math is undefined when it runs)
    raw = "```python\nimport math\n\ndef area(r):\n    return math.pi * r * r\n```"
    assert coffe_program(raw, "area", humaneval_stub="def area(r):\n    '''doc'''\n") == \
        'def solution(r):\n    """doc"""\n    import math\n\ndef solution(r):\n    return math.pi * r * r'


def test_llama_headers_are_dropped_and_recursive_calls_follow_the_rename():
    raw = "<|start_header_id|>assistant<|end_header_id|>\n\ndef fact(n):\n    return 1 if n < 2 else n * fact(n - 1)"
    assert coffe_program(raw, "fact", humaneval_stub="") == \
        "def solution(n):\n    return 1 if n < 2 else n * solution(n - 1)"


def test_a_humaneval_body_without_its_def_line_gets_the_prompts_stub():
    stub = 'def double(x):\n    """Twice x."""\n'
    assert coffe_program("return 2 * x", "double", humaneval_stub=stub) == \
        'def solution(x):\n    """Twice x."""\n    return 2 * x'


def test_an_mbpp_answer_keeps_the_first_chunk_with_a_def_and_trailing_calls_are_cut():
    raw = "def twice(x):\n    return 2 * x\n\nprint(twice(3))\nassert twice(1) == 2\n"
    assert extract(raw, "") == "def twice(x):\n    return 2 * x\n\nprint(twice(3))\nassert twice(1) == 2"
    assert coffe_program(raw, "twice") == "def solution(x):\n    return 2 * x\nprint(solution(3))\nassert solution(1) == 2"
    # HumanEval problems cut after the entry's body: the unindented print and what follows go
    assert extract(raw, "twice") == "def twice(x):\n    return 2 * x"


def test_functions_that_do_not_parse_are_dropped_but_the_entry_is_kept():
    raw = "def helper(:\n    return 1\n\ndef f(x):\n    return x\n"
    assert extract(raw, "") == "def f(x):\n    return x"


def test_methods_only_get_a_solution_that_calls_the_last_method_and_returns_nothing():
    code = "class Solution:\n    def twice(self, x):\n        return 2 * x\n"
    assert rename_entry(code, "twice") == (
        "class Solution:\n\n    def twice(self, x):\n        return 2 * x\n\n"
        "def solution(*args):\n    s = Solution()\n    s.twice(*args)", False)


def test_renaming_removes_every_class_as_coffe_does():
    code = "class Node:\n    pass\n\ndef depth(n):\n    return 0\n"
    assert rename_entry(code, "depth") == ("def solution(n):\n    return 0", False)


def test_an_output_coffe_cannot_process_is_none_and_scores_as_a_failing_program():
    assert coffe_program("import os\n'''just text'''\n", "f") is None
    assert coffe_program("def f(x):\n    return (x\n", "f") is None
    assert "def " not in dropped("why") and dropped("why").startswith("#")


def test_a_whole_program_is_its_first_fenced_block_left_as_written():
    raw = "Read n:\n```python\nn = int(input())  # n\nprint(n * 2)\n```\nDone.\n```python\nprint(0)\n```"
    assert coffe_program(raw, "", whole_program=True) == "n = int(input())  # n\nprint(n * 2)"


def test_a_plain_sample_named_as_the_problem_is_called_as_solution():
    assert named_entry("def add(a, b):\n    return a + b\n", "add") == \
        "def add(a, b):\n    return a + b\n\n\nsolution = add\n"
    same = "def solution(a, b):\n    return a + b\n"
    assert named_entry(same, "add") == same and named_entry("def (", "add") == "def ("


# --- the loader on COFFE's files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def function_level():
    if not os.path.isdir(FUNCTION):
        pytest.skip("COFFE's function level is not in ../shared/data/coffe/function")
    return load(FUNCTION)


@pytest.fixture(scope="module")
def file_level():
    if not os.path.isdir(FILE):
        pytest.skip("COFFE's file level is not in ../shared/data/coffe/file")
    return load(FILE)


def test_the_function_level_has_398_problems_in_data_json_order(function_level):
    ps = function_level
    assert len(ps) == 398 and len({p.id for p in ps}) == 398
    assert [p.id for p in ps[:3]] == ["HumanEval/113", "HumanEval/100", "HumanEval/19"] and ps[-1].id == "Mbpp/79"
    assert collections.Counter(p.id.split("/")[0] for p in ps) == {"HumanEval": 164, "Mbpp": 234}
    assert {(p.kind, p.entry, len(p.references), p.expected, p.perf_expected) for p in ps} == \
        {("function", "solution", 1, None, None)}
    assert all("def solution(" in p.references[0] for p in ps)


def test_function_tests_are_the_stored_argument_lists_and_stressful_tests_are_code(function_level):
    ps = function_level
    assert sum(len(p.tests) for p in ps) == 2277 and all(isinstance(c, tuple) for p in ps for c in p.tests)
    assert ps[0].tests[0] == (["1234567"],)
    assert sum(len(p.perf_inputs) for p in ps) == 1986
    assert all(isinstance(c, InputCode) and c.call == "coffe_input" for p in ps for c in p.perf_inputs)


def test_the_file_level_has_358_scripts_with_generated_stdin_and_no_tests(file_level):
    ps = file_level
    assert len(ps) == 358 and [p.id for p in ps[:3]] == ["0", "1", "2"] and len({p.id for p in ps}) == 358
    assert {(p.kind, p.compare, p.tests, len(p.references)) for p in ps} == {("script", "whitespace", (), 1)}
    assert sum(len(p.perf_inputs) for p in ps) == 1772
    assert all(isinstance(c, InputCode) and c.call == "generate_input" for p in ps for c in p.perf_inputs)


def test_a_generated_stdin_is_coffes_seeded_1024_and_what_the_module_prints_is_discarded(file_level, capsys):
    first = evaluate_input(file_level[9].perf_inputs[0], "file 9")
    assert first == "8\n1\n1\n0\n1\n100000\n1\n1\n1\n" == evaluate_input(file_level[9].perf_inputs[0], "again")
    module = "import random\nprint('noise')\ndef generate_input():\n    print('more')\n    return str(random.random())\n"
    random.seed(1024)
    assert evaluate_input(generator_input(module), "printing") == str(random.random())
    assert capsys.readouterr().out == ""


def test_a_stressful_expression_sees_random_seeded_1024_and_huge_int_strings():
    random.seed(1024)
    assert evaluate_input(stressful_input("[random.randint(0, 9) for _ in range(5)]"), "x") == \
        [random.randint(0, 9) for _ in range(5)]
    assert evaluate_input(stressful_input("[str(10 ** 9999)]"), "x") == ["1" + "0" * 9999]


def test_a_folder_without_coffes_files_is_refused_naming_the_missing_one(tmp_path):
    with pytest.raises(InputFileError, match="not a COFFE dataset folder"):
        load(str(tmp_path))
    (tmp_path / "data.json").write_text(json.dumps([{"final_prompt": "p", "entry_point": "f", "task_id": 1}]))
    with pytest.raises(InputFileError, match="best_solutions.json is missing"):
        load(str(tmp_path))


def test_a_problem_missing_from_one_file_is_named(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps([{"final_prompt": "p", "entry_point": "f", "task_id": 7}]))
    (tmp_path / "best_solutions.json").write_text(json.dumps({"p": ["def solution(x):\n    return x\n", False]}))
    (tmp_path / "testcases.json").write_text(json.dumps({"p": [{"input": "[(1, 2)]", "output": [1]}]}))
    (tmp_path / "stressful_testcases.json").write_text(json.dumps({"q": []}))
    with pytest.raises(InputFileError, match="stressful_testcases.json has no entry for problem 'Mbpp/7'"):
        load(str(tmp_path / "data.json"))
    (tmp_path / "stressful_testcases.json").write_text(json.dumps({"p": [{"input": "[[0] * 9]", "output": None}]}))
    (p,) = load(str(tmp_path))
    assert p.tests == (((1, 2),),) and p.perf_inputs[0].call == "coffe_input"   # a literal string read with ast


# --- every value type COFFE's inputs use ---------------------------------------------------------------

BIG = 2 ** 63


def note(examples, kind, values) -> None:
    """Keep the first few small values of each kind as examples."""
    if len(examples[kind]) < 3:
        examples[kind].extend(v for v in values[:50] if not hasattr(v, "__len__") or len(v) <= 1000)
        del examples[kind][3:]


def kinds(items, out, examples) -> None:
    """The kinds of value among ``items`` at any depth, added to ``out`` (each depth pooled, so a
    million small lists cost one pass), with a few examples of each kind."""
    by_type = collections.defaultdict(list)
    for x in items:
        by_type[type(x)].append(x)
    for t, xs in by_type.items():
        out.add(t.__name__)
        note(examples, t.__name__, xs)
        if t is dict:
            odd = [d for d in xs if any(type(k) is not str for k in d)]
            if odd:
                out.add("dict with non-str keys")
                note(examples, "dict with non-str keys", odd)
            kinds(list(itertools.chain.from_iterable(itertools.chain(d.keys(), d.values()) for d in xs)), out, examples)
        elif t in (list, tuple, set, frozenset):
            kinds(list(itertools.chain.from_iterable(xs)), out, examples)
        elif t is float:
            odd = [x for x in xs if not math.isfinite(x)]
            if odd:
                out.add("non-finite float")
                note(examples, "non-finite float", odd)
        elif t is int:
            big = [x for x in xs if not -BIG <= x < BIG]
            if big:
                out.add("big int")
                note(examples, "big int", big)


@pytest.fixture(scope="module")
def value_kinds(function_level):
    """Per problem, the kinds of value its inputs hold (tests, and stressful tests evaluated as
    COFFE evaluates them), and a few example values of each kind (about 10 s)."""
    per, examples = {}, collections.defaultdict(list)
    for p in function_level:
        out = set()
        kinds([list(c) for c in p.tests], out, examples)
        for i, c in enumerate(p.perf_inputs):
            kinds([list(evaluate_input(c, f"{p.id} stressful {i}"))], out, examples)
        per[p.id] = out
    return per, examples


def test_the_count_of_problems_whose_inputs_use_each_kind_of_value(value_kinds):
    per, _ = value_kinds
    assert collections.Counter(k for s in per.values() for k in s) == {
        "list": 398, "int": 293, "str": 139, "float": 55, "tuple": 27, "big int": 15, "dict": 8,
        "non-finite float": 6, "bool": 5, "NoneType": 4, "complex": 1, "dict with non-str keys": 1}
    json_lacks = {"tuple", "complex", "dict with non-str keys", "non-finite float"}
    assert sum(bool(s & json_lacks) for s in per.values()) == 35     # the count
    assert [p for p, s in per.items() if "complex" in s] == ["Mbpp/252"]
    assert [p for p, s in per.items() if "dict with non-str keys" in s] == ["Mbpp/115"]


def identical(a, b) -> bool:
    """Equal and of the same types all the way down (NaN equal to NaN, -0.0 not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, complex):
        return identical(a.real, b.real) and identical(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(identical, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a.items(), b.items()))
    if isinstance(a, (set, frozenset)):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    return a == b


def test_every_kind_of_value_coffes_inputs_use_round_trips_losslessly(value_kinds):
    per, examples = value_kinds
    used = set().union(*per.values())
    assert used <= set(examples) and all(examples[k] for k in used)
    for kind in sorted(used):
        for value in examples[kind][:3]:
            back = decode(json.loads(json.dumps(encode(value, kind))), kind)
            assert identical(back, value), (kind, value)


def test_whole_inputs_with_kinds_json_lacks_round_trip(function_level):
    by_id = {p.id: p for p in function_level}
    for pid in ("Mbpp/252", "Mbpp/115", "HumanEval/137", "Mbpp/222", "HumanEval/155"):
        for i, c in enumerate(by_id[pid].perf_inputs[:2]):
            value = tuple(evaluate_input(c, pid))
            assert identical(decode(json.loads(json.dumps(encode(value, pid))), pid), value), (pid, i)


# --- samples -----------------------------------------------------------------------------------------

def test_coffes_model_output_files_give_every_problem_the_program_coffe_runs(function_level):
    if not os.path.isdir(OUTPUTS):
        pytest.skip("COFFE's example outputs are not in ../shared/data/coffe/examples/function")
    by_id = {p.id: p for p in function_level}
    gpt = load_samples(os.path.join(OUTPUTS, "GPT-4o.json"), function_level)
    llama = load_samples(os.path.join(OUTPUTS, "Llama3.1_405B.json"), function_level)
    assert len(gpt) == len(llama) == 398 and {len(v) for v in gpt.values()} == {len(v) for v in llama.values()} == {1}
    assert gpt["HumanEval/53"] == ['def solution(x: int, y: int):\n    """Add two numbers x and y\n    >>> add(2, 3)\n'
                                   '    5\n    >>> add(5, 7)\n    12\n    """\n    return x + y']
    assert llama["HumanEval/35"] == ["def solution(l: list):\n    return max(l)"]
    assert llama["Mbpp/257"][0].startswith("def solution(a, b):\n") and llama["Mbpp/257"][0].endswith("return (b, a)")
    # every program parses; those without a solution() named their function otherwise than MBPP does
    unnamed = [[pid for pid, (code,) in samples.items()
                if not any(isinstance(n, ast.FunctionDef) and n.name == "solution" for n in ast.parse(code).body)]
               for samples in (gpt, llama)]
    assert unnamed == [["Mbpp/233", "Mbpp/126", "Mbpp/273", "Mbpp/115"],
                       ["Mbpp/233", "Mbpp/453", "Mbpp/240", "Mbpp/126", "Mbpp/273", "Mbpp/115"]]
    assert by_id["Mbpp/233"].meta["entry_point"] not in gpt["Mbpp/233"][0]


def test_missing_invalid_and_foreign_prompts_score_as_coffe_scores_them(function_level, tmp_path):
    a, b, c = function_level[:3]
    path = tmp_path / "model.json"
    path.write_text(json.dumps({a.meta["prompt"]: [[f"def {a.meta['entry_point']}(lst):\n    return lst\n"], True],
                                b.meta["prompt"]: [["def x():\n    return 1\n"], False],
                                "a prompt of another benchmark": ["def f():\n    return 1\n", True]}))
    samples = load_samples(str(path), [a, b, c])
    assert samples[a.id] == ["def solution(lst):\n    return lst"]
    assert samples[b.id] == [dropped("the output is marked invalid")]
    assert samples[c.id] == [dropped("the file has no output for this prompt")]
    path.write_text(json.dumps({"another prompt": [["x"], True]}))
    with pytest.raises(InputFileError, match="none of its 1 prompts is a prompt of this dataset"):
        load_samples(str(path), [a, b, c])


def test_a_plain_samples_file_keyed_by_id_is_read_as_full_programs(function_level, tmp_path):
    a = function_level[0]
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({a.id: [a.references[0], f"def {a.meta['entry_point']}(lst):\n    return lst\n"]}))
    assert load_samples(str(path), function_level)[a.id] == \
        [a.references[0], f"def {a.meta['entry_point']}(lst):\n    return lst\n\n\nsolution = {a.meta['entry_point']}\n"]


def test_coffes_best_solutions_file_as_samples_gives_each_problem_its_ground_truth(function_level):
    samples = load_samples(os.path.join(FUNCTION, "best_solutions.json"), function_level)
    assert set(samples) == {p.id for p in function_level}
    assert all(samples[p.id] == [p.references[0]] for p in function_level)


def test_the_adapter_is_coffes_scoring_on_coffes_files():
    adapter = CoffeFilesAdapter(0.01)
    assert isinstance(adapter, CoffeAdapter) and adapter.name == "coffe-files" and adapter.tie_tolerance == 0.01
    assert adapter.schema == CoffeAdapter.schema and adapter.record_fields["efficient"]
    assert adapter.parse_ids("HumanEval/113, Mbpp/79") == ["HumanEval/113", "Mbpp/79"]


# --- end to end on qemu ------------------------------------------------------------------------------

def test_ground_truth_against_itself_is_correct_a_tie_and_speedup_exactly_one(function_level, file_level, qemu,
                                                                                tmp_path):
    fn = function_level[:2]
    (tmp_path / "gt.json").write_text(json.dumps({p.id: list(p.references) for p in fn}))
    doc = evaluate(CoffeFilesAdapter(), os.path.join(FUNCTION, "data.json"), str(tmp_path / "gt.json"),
                   str(tmp_path / "r.jsonl"), problems=[p.id for p in fn], backend="qemu", progress=False)
    assert [(r["problem"], r["correct"], r["efficient"], r["speedup"]) for r in doc["per_problem"]] == \
        [("HumanEval/113", 1, 0, 1.0), ("HumanEval/100", 1, 0, 1.0)]
    assert (doc["overall"]["pass@1"], doc["overall"]["efficient@1"], doc["overall"]["speedup"], doc["excluded"]) == \
        (1.0, 0.0, 1.0, [])

    script = file_level[9]   # CodeContests' CQXYM permutations: five small generated inputs
    (tmp_path / "gt-file.json").write_text(json.dumps({script.id: list(script.references)}))
    doc = evaluate(CoffeFilesAdapter(), os.path.join(FILE, "data.json"), str(tmp_path / "gt-file.json"),
                   str(tmp_path / "r-file.jsonl"), problems=[script.id], backend="qemu", progress=False)
    (row,) = doc["per_problem"]
    assert (row["problem"], row["correct"], row["efficient"], row["speedup"], doc["excluded"]) == ("9", 1, 0, 1.0, [])
