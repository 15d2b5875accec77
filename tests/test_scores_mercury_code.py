"""Mercury's Beyond as its code computes it (measure.scores.mercury_code) against the paper's formula
(measure.scores.mercury.beyond) and against a transcription of Mercury's own lines."""
from __future__ import annotations

import math
import random

import pytest

from measure.scores.mercury import beyond, beyond_at_k
from measure.scores.mercury_code import CAP_SECONDS, beyond_code

REFS = [0.25, 0.5, 0.75]  # binary-exact runtimes: every value below is exact


def test_a_sample_faster_than_the_fastest_reference_scores_above_one_in_the_code_and_one_in_the_paper():
    assert beyond_code(0.125, REFS) == 1.25
    assert beyond(0.125, REFS) == 1.0


def test_inside_the_range_the_two_agree():
    assert beyond_code(0.5, REFS) == beyond(0.5, REFS) == 0.5
    assert beyond_code(0.25, REFS) == beyond(0.25, REFS) == 1.0
    assert beyond_code(0.75, REFS) == beyond(0.75, REFS) == 0.0


def test_a_slower_or_failed_sample_scores_zero_in_both():
    for r in (1.0, None, math.inf):
        assert beyond_code(r, REFS) == beyond(r, REFS) == 0.0


def test_the_code_caps_max_minus_r_at_one_runtime_unit():
    refs = [0.5, 2.5, 4.5]  # seconds: a 4 s range
    assert beyond_code(1.5, refs) == 0.25          # min(4.5 - 1.5, 1) / 4
    assert beyond_code(1.5, refs, cap=None) == 0.75
    assert beyond(1.5, refs) == 0.75
    assert beyond_code(0.0, refs) == 0.25          # the cap also binds below the fastest reference
    assert beyond_code(0.0, refs, cap=None) == 1.125


def test_the_cap_is_in_the_runtimes_unit():
    assert beyond_code(1.5e9, [5e8, 4.5e9], cap=1e9) == 0.25  # 1 s in nanoseconds
    assert CAP_SECONDS == 1.0


def test_on_instruction_counts_the_literal_cap_of_one_is_one_instruction_so_counts_take_no_cap():
    assert beyond_code(2000, [1000, 3000]) == 1 / 2000
    assert beyond_code(2000, [1000, 3000], cap=None) == 0.5
    assert beyond_code(500, [1000, 3000], cap=None) == 1.25


def test_equal_reference_runtimes_are_guarded_where_upstream_divides_by_zero():
    assert beyond_code(1.0, [2.0, 2.0]) == 1.0
    assert beyond_code(2.0, [2.0, 2.0]) == 1.0
    assert beyond_code(3.0, [2.0, 2.0]) == 0.0
    with pytest.raises(ZeroDivisionError):
        mercury_d712fa0({"result": "passed", "runtime": 1.0}, [2.0, 2.0])


def test_beyond_at_k_averages_code_values_above_one():
    assert beyond_at_k([[1.25, 0.0], [0.5, 0.5]], 1) == (1.25 + 0.5) / 2


@pytest.mark.parametrize("cap", [0, -1.0, math.nan, True, "1"])
def test_a_cap_that_is_not_a_positive_number_is_refused(cap):
    with pytest.raises(ValueError, match=r"cap = .*: give a positive number in the runtimes' unit, or None"):
        beyond_code(0.5, REFS, cap=cap)


def test_no_references_or_a_negative_runtime_is_refused():
    with pytest.raises(ValueError, match="beyond_code: no reference runtimes for this task"):
        beyond_code(0.5, [])
    with pytest.raises(ValueError, match=r"runtime\[0\] = -1.0"):
        beyond_code(-1.0, REFS)


# --- Oracles: Mercury's lines, transcribed by hand from reading them ---------------------------------

def mercury_d712fa0(result, runtimes):
    """Elfsong/Mercury src/evaluator.py, DistributeWiseEvaluator.evaluate, commit
    d712fa06b6bd2aab2246513b64242d00d25081e8: lines 441-445 (range of the passing references'
    runtimes) and 462-466 (the sample's beyond_p); ``result`` is Sandbox.run_sample's dict."""
    runtimes = sorted(runtimes)
    min_runtime = min(runtimes)
    max_runtime = max(runtimes)
    runtime = result['runtime'] if result['result'] == "passed" else float('inf')
    beyond = max_runtime - runtime
    beyond = min(beyond, 1)
    beyond = max(beyond, 0)
    return beyond / (max_runtime - min_runtime)


def mercury_f82b981(result, runtimes):
    """The same function at commit f82b981947ab6990eb4b310d76281d76a2d7f41f (line 461: no cap), which
    wrote data/openai/gpt-4-1106-preview_eval.json."""
    min_runtime = min(runtimes)
    max_runtime = max(runtimes)
    runtime = result['runtime'] if result['result'] == "passed" else float('inf')
    beyond = max_runtime - runtime if max_runtime - runtime > 0 else 0
    return beyond / (max_runtime - min_runtime)


def random_case(rng: random.Random):
    scale = rng.choice([1e-4, 1e-2, 1.0, 5.0])  # ms-range tasks and tasks spanning seconds
    refs = [rng.uniform(0.2, 3.0) * scale for _ in range(rng.randint(2, 30))]
    lo, hi = min(refs), max(refs)
    r = rng.choice([rng.uniform(0, lo), rng.uniform(lo, hi), rng.uniform(hi, 2 * hi), rng.choice(refs), 0.0])
    status = rng.choice(["passed", "passed", "passed", "failed@cases", "failed@timeout"])
    return {"result": status, "runtime": r}, refs


def test_beyond_code_equals_mercurys_code_exactly_on_random_cases():
    rng = random.Random(14)
    above_one = capped = 0
    for _ in range(5000):
        result, refs = random_case(rng)
        ours = beyond_code(result["runtime"] if result["result"] == "passed" else None, refs)
        assert ours == mercury_d712fa0(result, refs)
        above_one += ours > 1
        capped += result["result"] == "passed" and max(refs) - result["runtime"] > 1
    assert above_one > 100 and capped > 100  # both differences from the paper were exercised


def test_beyond_code_without_a_cap_equals_mercurys_earlier_code_exactly_on_random_cases():
    rng = random.Random(15)
    for _ in range(5000):
        result, refs = random_case(rng)
        ours = beyond_code(result["runtime"] if result["result"] == "passed" else None, refs, cap=None)
        assert ours == mercury_f82b981(result, refs)
