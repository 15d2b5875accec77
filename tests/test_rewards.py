"""The efficiency reward (measure.rewards): its formula, bounds and strict ordering as pure
mathematics, and end to end on a mix of real candidates (fast, slow, wrong, crashing, hanging,
not even Python), called exactly as TRL's GRPOTrainer and verl's NaiveRewardManager call a
reward function (neither library is needed)."""
from __future__ import annotations

import json
import math

import pytest

from measure import BackendUnavailable, Config, ConfigError, Status
from measure.errors import PlatformMismatch, ReferenceFailed
from measure.rewards import (Problem, compute_score, default_config, efficiency_reward, evaluate_completion,
                             extract_code, make_problem, parse_problem, speed_score, trl_reward)

LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------
# The formula, exactly

def test_reward_is_one_at_or_below_the_best_reference_and_halves_per_half_ratio():
    refs = [100, 400]                     # h = worst / best = 4
    assert efficiency_reward(100, "ok", refs) == 1.0
    assert efficiency_reward(50, Status.OK, refs) == 1.0          # faster than the best: bounded at 1
    assert efficiency_reward(400, "ok", refs) == pytest.approx(0.55, abs=1e-15)  # the slowest reference
    assert efficiency_reward(200, "ok", refs) == pytest.approx(0.1 + 0.9 * 2 ** -0.5, abs=1e-15)
    assert efficiency_reward(1600, "ok", refs) == pytest.approx(0.1 + 0.9 / 4, abs=1e-15)
    assert efficiency_reward(1600, "ok", refs, floor=0.2) == pytest.approx(0.2 + 0.8 / 4, abs=1e-15)
    assert efficiency_reward(200, "ok", refs, half_ratio=2.0) == pytest.approx(0.55, abs=1e-15)
    assert speed_score(800, refs) == pytest.approx(2 ** -1.5, abs=1e-15)


def test_one_reference_or_references_within_a_factor_two_use_half_ratio_two():
    for refs in ([100], [100, 100], [100, 150]):
        assert efficiency_reward(100, "ok", refs) == 1.0
        assert efficiency_reward(200, "ok", refs) == pytest.approx(0.55, abs=1e-15)
        assert efficiency_reward(400, "ok", refs) == pytest.approx(0.1 + 0.9 / 4, abs=1e-15)


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.OK])
def test_every_failure_is_zero_whatever_its_count(status):
    assert efficiency_reward(50, status, [100, 400]) == 0.0
    assert efficiency_reward(None, status.value, [100, 400]) == 0.0


def test_no_count_or_a_censored_count_is_a_failure():
    assert efficiency_reward(None, "ok", [100]) == 0.0
    assert efficiency_reward(math.inf, "ok", [100]) == 0.0


def test_reward_is_bounded_and_strictly_ordered_from_failure_to_the_best_reference():
    refs = [1_000, 3_000, 9_000]
    failures = [efficiency_reward(None, s, refs) for s in Status if s is not Status.OK]
    slower_than_every_reference = [efficiency_reward(c, "ok", refs) for c in (10**12, 10**9, 10**6, 20_000, 9_001)]
    between = [efficiency_reward(c, "ok", refs) for c in (9_000, 5_000, 3_000, 1_001)]
    best = [efficiency_reward(c, "ok", refs) for c in (1_000, 999, 1)]
    assert set(failures) == {0.0}
    chain = [0.0] + slower_than_every_reference + between
    assert all(a < b for a, b in zip(chain, chain[1:])), chain
    assert best == [1.0, 1.0, 1.0] and between[-1] < 1.0
    assert min(slower_than_every_reference) > 0.1 and max(slower_than_every_reference) < 0.55
    assert between[0] == pytest.approx(0.55, abs=1e-15)
    assert all(0.0 <= r <= 1.0 for r in failures + chain + best)


def test_reward_is_smooth_in_the_log_of_the_count_ratio_above_the_best():
    refs, h = [1_000, 5_000], 5.0

    def s_of_x(x):
        return speed_score(1_000 * math.exp(x), refs)

    for x in (0.01, 0.3, 1.0, 2.5, 6.0):
        eps = 1e-6
        slope = (s_of_x(x + eps) - s_of_x(x - eps)) / (2 * eps)
        assert slope == pytest.approx(-LN2 / math.log(h) * s_of_x(x), rel=1e-6)   # C-infinity: ds/dx = -ln2/ln h s
        assert s_of_x(x + 1e-9) < s_of_x(x)                                          # strictly decreasing
    assert s_of_x(1e-12) == pytest.approx(1.0, abs=1e-11)                            # continuous at the best


@pytest.mark.parametrize("call, words", [
    (lambda: efficiency_reward(100, "ok", []), "at least one reference"),
    (lambda: efficiency_reward(None, "error", []), "at least one reference"),
    (lambda: efficiency_reward(100, "ok", [100, 0]), r"reference_counts\[1\] = 0"),
    (lambda: efficiency_reward(100, "ok", [float("nan")]), r"reference_counts\[0\]"),
    (lambda: efficiency_reward(-5, "ok", [100]), "count = -5"),
    (lambda: efficiency_reward(100, "ok", [100], floor=0.0), r"floor must be in \(0, 1\)"),
    (lambda: efficiency_reward(100, "ok", [100], floor=1.0), r"floor must be in \(0, 1\)"),
    (lambda: efficiency_reward(100, "ok", [100], half_ratio=1.0), "half_ratio must be a finite number > 1"),
    (lambda: efficiency_reward(100, "fine", [100]), "unknown status 'fine'"),
])
def test_bad_arguments_are_refused_naming_the_fix(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# ---------------------------------------------------------------------------------------------
# Completions to code

def test_extract_code_takes_the_last_python_block_defining_the_entry_point():
    text = ("Draft:\n```python\ndef f(x):\n    return 0\n```\nBetter:\n```python\ndef f(x):\n    return x\n```\n"
            "Usage:\n```python\nprint(f(3))\n```\n")
    assert extract_code(text, "f") == "def f(x):\n    return x\n"
    assert extract_code(text) == "print(f(3))\n"
    assert extract_code("def f(x):\n    return x\n", "f") == "def f(x):\n    return x\n"    # no fence: all
    assert extract_code("```\ndef f(): pass\n```\n```text\nhi\n```") == "def f(): pass\n"  # untagged
    assert extract_code("```python\ndef f(x):\n    return", "f") == "def f(x):\n    return"  # truncated


def test_extract_code_reads_trl_conversational_completions():
    conv = [{"role": "assistant", "content": "```py\ndef f(): return 1\n```"}]
    assert extract_code(conv, "f") == "def f(): return 1\n"
    parts = [{"role": "user", "content": "?"},
             {"role": "assistant", "content": [{"type": "text", "text": "def f(): "}, {"type": "text", "text": "return 2"}]}]
    assert extract_code(parts, "f") == "def f(): return 2"
    assert extract_code(None) == "" and extract_code([]) == "" and extract_code(42) == ""


def test_problems_parse_from_json_and_refuse_malformed_fields_naming_them():
    p = parse_problem('{"entry_point": "f", "tests": [[[1, 2], 3]], "reference_counts": [10, 20]}')
    assert p == Problem("f", (((1, 2), 3),), (10, 20))
    assert parse_problem(p.to_json()) == p
    with pytest.raises(ValueError, match="lacks reference_counts"):
        parse_problem({"entry_point": "f", "tests": [[[1], 1]]})
    with pytest.raises(ValueError, match=r"tests\[0\]"):
        parse_problem({"entry_point": "f", "tests": [[1, 1]], "reference_counts": [1]})
    with pytest.raises(ValueError, match="at least one reference"):
        parse_problem({"entry_point": "f", "tests": [[[1], 1]], "reference_counts": []})
    with pytest.raises(ValueError, match="not JSON"):
        parse_problem("{entry_point")


# ---------------------------------------------------------------------------------------------
# End to end: real candidates, measured

FAST = "def total(n):\n    return n * (n - 1) // 2\n"
MEDIUM = "def total(n):\n    return sum(range(n))\n"
SLOW = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
SLOWER = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n        s -= 0\n    return s\n"
TESTS = [[[10], 45], [[3000], 4498500]]
TIMEOUT = 3.0

MIX = {  # name: completion, as a model writes it
    "faster than the best reference": f"Use the formula.\n```python\n{FAST}```",
    "the best reference": MEDIUM,
    "the slowest reference": f"```python\n{SLOW}```\n",
    "slower than every reference": f"```python\n{SLOWER}```",
    "wrong answer": "def total(n):\n    return n\n",
    "raises": "def total(n):\n    raise ValueError('no')\n",
    "os._exit": "import os\ndef total(n):\n    os._exit(0)\n",
    "hangs": "def total(n):\n    while True:\n        pass\n",
    "floods stdout": "def total(n):\n    print('x' * 10**8)\n    return n * (n - 1) // 2\n",
    "syntax error": "```python\ndef total(n) return n\n```",
    "no entry point": "def sum_up(n):\n    return n * (n - 1) // 2\n",
    "no code": "",
}
FAILURES = ["wrong answer", "raises", "os._exit", "hangs", "floods stdout", "syntax error", "no entry point", "no code"]


@pytest.fixture(scope="module")
def backend(request) -> str:
    """qemu where it runs (exact and fast), else perf or valgrind."""
    try:
        return request.getfixturevalue("qemu")
    except pytest.skip.Exception:
        return request.getfixturevalue("counting_backend")


@pytest.fixture(scope="module")
def config(backend) -> Config:
    return default_config(backend=backend, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def problem(config) -> Problem:
    return make_problem("total", TESTS, [MEDIUM, SLOW], config=config)


class TrainerState:  # what GRPOTrainer passes as trainer_state: an object, not a column
    global_step = 7


@pytest.fixture(scope="module")
def trl_rewards(problem, config):
    """The mix, scored as GRPOTrainer._calculate_rewards calls a custom reward function: keyword
    arguments prompts, completions, completion_ids, every dataset column but prompt and completion
    as a list with one value per completion, and trainer_state."""
    names = list(MIX)
    n = len(names)
    reward_fn = trl_reward(config=config)
    rewards = reward_fn(
        prompts=["Write total(n), the sum of 0..n-1."] * n,
        completions=[MIX[k] for k in names],
        completion_ids=[[101, 102, 103]] * n,
        entry_point=["total"] * n,
        tests=[json.dumps(TESTS)] * n,
        reference_counts=[list(problem.reference_counts)] * n,
        platform=[problem.platform] * n,
        trainer_state=TrainerState(),
    )
    return reward_fn, dict(zip(names, rewards))


def test_trl_reward_returns_one_float_in_0_1_per_completion(trl_rewards):
    reward_fn, rewards = trl_rewards
    assert reward_fn.__name__ == "efficiency_reward"
    assert list(rewards) == list(MIX)
    assert all(type(r) is float and 0.0 <= r <= 1.0 for r in rewards.values()), rewards


def test_trl_rewards_order_the_mix(trl_rewards):
    _, r = trl_rewards
    assert {k: r[k] for k in FAILURES} == {k: 0.0 for k in FAILURES}
    assert r["faster than the best reference"] == r["the best reference"] == 1.0
    assert r["the slowest reference"] == pytest.approx(0.55, abs=1e-12)   # exact counts: a copy counts the same
    assert 0.1 < r["slower than every reference"] < r["the slowest reference"]


def test_trl_reward_reads_conversational_completions_and_a_problem_column(problem, config):
    reward_fn = trl_reward(config=config, name="speed")
    prompt = [{"role": "user", "content": "Write total(n)."}]
    completions = [[{"role": "assistant", "content": f"```python\n{SLOW}```"}],
                   [{"role": "assistant", "content": "def total(n):\n    return -1\n"}],
                   [{"role": "assistant", "content": "no code here"}]]
    rewards = reward_fn(prompts=[prompt] * 4, completions=completions + [[{"role": "assistant", "content": "4"}]],
                        completion_ids=[[1]] * 4, problem=[problem.to_json()] * 3 + [None],
                        trainer_state=TrainerState())
    assert reward_fn.__name__ == "speed"
    assert rewards[0] == pytest.approx(0.55, abs=1e-12)
    assert rewards[1:3] == [0.0, 0.0]
    assert rewards[3] is None          # a row this reward does not apply to (TRL turns None into NaN)


@pytest.mark.parametrize("name", ["faster than the best reference", "slower than every reference",
                                  "wrong answer", "os._exit", "hangs", "syntax error"])
def test_verl_compute_score_returns_a_float_for_every_status(name, problem, backend, trl_rewards):
    # verl's NaiveRewardManager: compute_score(data_source=..., solution_str=..., ground_truth=...,
    # extra_info=...), all by keyword, with custom_reward_function.reward_kwargs merged in
    reward_kwargs = {"backend": backend, "timeout": TIMEOUT}
    score = compute_score(data_source="measure/total", solution_str=MIX[name], ground_truth=problem.to_json(),
                          extra_info={"split": "train", "index": 3, "num_turns": None}, **reward_kwargs)
    assert type(score) is float
    assert score == trl_rewards[1][name]


def test_verl_ground_truth_may_be_a_dict(problem, backend):
    gt = json.loads(problem.to_json())
    assert compute_score("measure/total", MEDIUM, gt, None, backend=backend) == 1.0


def test_the_result_says_why_a_candidate_scored_zero(problem, config):
    r = evaluate_completion(MIX["os._exit"], problem, config=config)
    assert (r.reward, r.status, r.cost) == (0.0, Status.ERROR, None) and "os._exit" in r.message
    r = evaluate_completion(MIX["syntax error"], problem, config=config)
    assert r.status is Status.ERROR and "SyntaxError" in r.message


def test_an_instruction_budget_cuts_a_slow_candidate_deterministically(problem, config):
    # a budget below the candidate's one big call: a timeout (reward 0) by count, not by clock
    r = evaluate_completion(SLOWER, problem, config=config, budget_factor=0.5)
    assert (r.reward, r.status) == (0.0, Status.TIMEOUT)
    assert "budget" in r.message


def test_machine_and_dataset_problems_raise_naming_the_fix(problem, backend, config, has_pmu):
    with pytest.raises(ConfigError, match="counts none"):
        evaluate_completion(FAST, problem, config=default_config(backend="time"))
    if not has_pmu:
        with pytest.raises(BackendUnavailable):
            evaluate_completion(FAST, problem, config=default_config(backend="perf"))
    other = parse_problem(dict(json.loads(problem.to_json()), platform="valgrind/x86_64/cpython-3.0.0@00000000"))
    with pytest.raises(PlatformMismatch, match="make_problem"):
        evaluate_completion(FAST, other, config=config)
    with pytest.raises(ValueError, match="'tests' column has 1 values for 2"):
        trl_reward(config=config)(completions=[FAST, FAST], entry_point=["total"] * 2, tests=[TESTS],
                                  reference_counts=[[1]] * 2)
    with pytest.raises(ReferenceFailed, match="reference #1"):
        make_problem("total", TESTS, [MEDIUM, MIX["wrong answer"]], config=config)
