"""EvalPerf's DPS against each task's stored scores (measure.scores.evalplus_dps): hand-checked
cases, then agreement with a transcription of evalplus's own code on random pools with ties."""
from __future__ import annotations

import itertools
import random
from statistics import mean

import pytest

from measure.scores.evalplus_dps import TaskDPS, match_reference, stored_dps, task_dps

REFS = [100, 50, 20]            # session costs of the task's references, slowest first
SCORES = [40.0, 75.0, 100.0]    # the task's stored cumulative percentages


# ---- (a) hand-checked cases -------------------------------------------------------------------

def test_a_sample_faster_than_every_reference_takes_the_fastest_level():
    assert stored_dps(10, REFS, SCORES) == (100.0, 100.0)
    assert match_reference(10, REFS) == 2


def test_a_tie_with_a_reference_matches_that_reference():
    assert stored_dps(20, REFS, SCORES) == (100.0, 100.0)
    assert stored_dps(50, REFS, SCORES) == (75.0, 66.66666666666667)
    assert stored_dps(100, REFS, SCORES) == (40.0, 33.333333333333336)


def test_a_sample_between_two_references_takes_the_slower_ones_score():
    assert stored_dps(21, REFS, SCORES) == (75.0, 66.66666666666667)
    assert match_reference(21, REFS) == 1


def test_a_sample_slower_than_every_reference_scores_zero_at_level_minus_one():
    assert stored_dps(101, REFS, SCORES) == (0.0, 0.0)
    assert match_reference(101, REFS) == -1


def test_a_broken_profile_scores_zero_at_level_minus_one():
    assert stored_dps(None, REFS, SCORES) == (0.0, 0.0)
    assert stored_dps(float("inf"), REFS, SCORES) == (0.0, 0.0)
    assert match_reference(None, REFS) == -1


def test_equal_references_match_the_later_one():
    assert match_reference(50, [50, 50, 20]) == 1
    assert stored_dps(50, [50, 50, 20], SCORES) == (75.0, 66.66666666666667)


def test_out_of_order_reference_costs_take_the_largest_matching_index():
    # evalplus's lazy evaluation does not check the order: the scan from the fastest index stops first at j=1
    assert match_reference(40, [50, 100, 20]) == 1
    assert stored_dps(60, [50, 100, 20], SCORES) == (75.0, 66.66666666666667)


def test_dps_norm_counts_references_not_stored_scores():
    # one reference: any match is 100 / 100
    assert stored_dps(5, [7], [100.0]) == (100.0, 100.0)
    # six references, match at j=0: DPS_norm = 100 / 6 whatever the stored score
    assert stored_dps(9, [9, 8, 7, 6, 5, 4], [3.0, 10.0, 20.0, 50.0, 80.0, 100.0]) == (3.0, 16.666666666666668)


def test_scores_and_references_of_different_lengths_are_rejected():
    with pytest.raises(ValueError, match="3 reference costs but 2 stored scores"):
        stored_dps(1, REFS, [50.0, 100.0])


def test_an_empty_reference_list_is_rejected():
    with pytest.raises(ValueError, match="reference_costs is empty"):
        stored_dps(1, [], [])


def test_a_broken_reference_cost_is_rejected_with_its_index():
    with pytest.raises(ValueError, match=r"reference_costs\[1\] = None"):
        stored_dps(1, [100, None, 20], SCORES)


def test_task_dps_is_none_below_min_correct():
    assert task_dps([True, False, True], [10, 10, 10], REFS, SCORES, min_correct=3, max_profile=3) == \
        TaskDPS(None, None, (), ())


def test_task_dps_means_the_first_max_profile_correct_samples_in_order():
    passed = [True, False, True, True, True]
    costs = [10, 10, 60, None, 10]
    r = task_dps(passed, costs, REFS, SCORES, min_correct=2, max_profile=3)
    # samples 0, 2, 3: (100, 100), (40, 33.33..), broken (0, 0)
    assert r.profiled == (0, 2, 3)
    assert r.levels == (2, 0, -1)
    assert r.dps == pytest.approx(140.0 / 3, abs=1e-12)
    assert r.dps_norm == mean([100.0, 100.0 / 3, 0.0])


def test_task_dps_rejects_min_correct_above_max_profile():
    with pytest.raises(ValueError, match="1 <= min_correct <= max_profile"):
        task_dps([True], [1], REFS, SCORES, min_correct=3, max_profile=2)


# ---- (b) evalplus's code, transcribed ---------------------------------------------------------
# Transcription of evalplus/evalplus @ 26d6d00bb1fd0fa37f39c99d5290da67891d1c5e:
#   evalplus/evalperf.py  script() L437-L442 (the min_correct gate), perf_worker() L149-L284 (lazy reference
#   profiling in get_avg_ref_profile, the sample loop with max_profile, the matching scan, the task means);
#   evalplus/perf/profile.py are_profiles_broken() L46-L47. Profiling is replaced by the given costs
#   (PERF_PROFILE_ROUNDS = 1: a profile is a one-element list; a broken one holds an error string).

def _are_profiles_broken(profiles) -> bool:
    return not all(isinstance(profile, (float, int)) for profile in profiles)


def _not_none(values: list) -> list:
    return [x for x in values if x is not None]


def upstream_task(ptask: dict, ref_profiles: list, ret_dict: dict, sample_profiles: list,
                  min_correct: int, max_profile: int, lazy_evaluation: bool = True) -> dict:
    n_pass = len([r for r in ret_dict["results"] if r["pass"]])
    if n_pass < min_correct:
        return ret_dict

    n_reference = len(ptask["reference"])
    cache_ref_num_inst = [None] * n_reference

    def get_avg_ref_profile(idx, check_order=True):
        # (upstream's `nonlocal cache_ref_num_inst` left out: the list is mutated, never rebound)
        assert (idx < n_reference - 1 and cache_ref_num_inst[idx + 1] is not None or idx == n_reference - 1)
        if cache_ref_num_inst[idx] is not None:
            return cache_ref_num_inst[idx], ptask["scores"][idx]
        profiles = ref_profiles[idx]
        avg_profile = mean(profiles)
        if idx < n_reference - 1 and avg_profile < cache_ref_num_inst[idx + 1]:
            if check_order:
                return None
        cache_ref_num_inst[idx] = avg_profile
        return cache_ref_num_inst[idx], ptask["scores"][idx]

    if not lazy_evaluation:
        for i in range(n_reference - 1, -1, -1):
            if get_avg_ref_profile(i) is None:
                break
        assert None not in cache_ref_num_inst

    cur_profiled = 0
    for k, result in enumerate(ret_dict["results"]):
        if cur_profiled >= max_profile:
            break
        if not result["pass"]:
            continue
        profiles = sample_profiles[k]
        score = 0
        norm_score = 0
        result["matching_cluster_idx"] = -1
        if _are_profiles_broken(profiles):
            pass
        else:
            avg_sample_profile = result["_num_cpu_instructions"] = mean(profiles)
            for j in range(n_reference - 1, -1, -1):
                avg_ref_profile, ref_score = get_avg_ref_profile(j, check_order=False)
                if avg_sample_profile <= avg_ref_profile:
                    result["matching_cluster_idx"] = j
                    score = ref_score
                    norm_score = 100 * (j + 1) / n_reference
                    break
        result["dps"] = score
        result["dps_norm"] = norm_score
        result["profiled"] = True
        cur_profiled += 1

    ret_dict["dps"] = mean(_not_none([r["dps"] for r in ret_dict["results"]]))
    ret_dict["dps_norm"] = mean(_not_none([r["dps_norm"] for r in ret_dict["results"]]))
    ret_dict["n_profiled"] = cur_profiled
    return ret_dict


def _random_pool(rng: random.Random):
    m = rng.randint(1, 6)
    ref_costs = [rng.randint(1, 8) for _ in range(m)]       # small range: ties and disorder are frequent
    sizes = [rng.randint(1, 5) for _ in range(m)]
    n, acc, scores = sum(sizes), 0, []
    for s in sizes:
        acc += s
        scores.append(100 * acc / n)
    samples = rng.randint(1, 25)
    passed = [rng.random() < 0.7 for _ in range(samples)]
    costs = [None if rng.random() < 0.1 else rng.randint(0, 10) for _ in range(samples)]
    min_correct = rng.randint(1, 5)
    max_profile = min_correct + rng.randint(0, 6)
    return ref_costs, scores, passed, costs, min_correct, max_profile


def _upstream(ref_costs, scores, passed, costs, min_correct, max_profile):
    ptask = {"reference": [f"ref{i}" for i in range(len(ref_costs))], "scores": scores}
    ret = {"results": [{"pass": p, "profiled": False, "matching_cluster_idx": None, "dps": None, "dps_norm": None}
                       for p in passed], "dps": None, "dps_norm": None, "n_profiled": None}
    ref_profiles = [[c] for c in ref_costs]
    sample_profiles = [["SOLUTION ERROR ENCOUNTERED WHILE PROFILING"] if c is None else [c] for c in costs]
    return upstream_task(ptask, ref_profiles, ret, sample_profiles, min_correct, max_profile)


def test_task_dps_equals_evalplus_code_on_random_pools_with_ties():
    rng = random.Random(20240328)
    scored = ties = unmatched = 0
    for _ in range(4000):
        ref_costs, scores, passed, costs, min_correct, max_profile = _random_pool(rng)
        up = _upstream(ref_costs, scores, passed, costs, min_correct, max_profile)
        ours = task_dps(passed, costs, ref_costs, scores, min_correct, max_profile)
        assert (ours.dps, ours.dps_norm) == (up["dps"], up["dps_norm"])
        if up["dps"] is None:
            continue
        scored += 1
        assert len(ours.profiled) == up["n_profiled"]
        assert [i for i, r in enumerate(up["results"]) if r["profiled"]] == list(ours.profiled)
        for i, level in zip(ours.profiled, ours.levels):
            r = up["results"][i]
            assert level == r["matching_cluster_idx"]
            assert stored_dps(costs[i], ref_costs, scores) == (r["dps"], r["dps_norm"])
            ties += costs[i] is not None and costs[i] in ref_costs
            unmatched += level == -1
    # the random pools exercised what they were drawn for
    assert scored > 2000 and ties > 3000 and unmatched > 500


def test_match_reference_equals_evalplus_scan_on_every_small_pool():
    # exhaustive: every reference cost vector over {1,2,3} of length 1..4 and every sample cost 0..4
    for m in range(1, 5):
        scores = [100 * (j + 1) / m for j in range(m)]
        for refs in itertools.product([1, 2, 3], repeat=m):
            for x in range(0, 5):
                up = _upstream(list(refs), scores, [True], [x], 1, 1)
                assert match_reference(x, refs) == up["results"][0]["matching_cluster_idx"]
                assert stored_dps(x, refs, scores) == (up["dps"], up["dps_norm"])
