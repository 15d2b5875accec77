"""The field's metrics against brute force and hand-worked examples (reference/metrics.md)."""
from __future__ import annotations

import itertools
import math
import random

import pytest

from measure.scores import coffe, ecco, eff_at_k, effibench, enamel, evalperf, mercury, pass_at_k, pie, utility


def brute_eff(scores, k):
    subsets = list(itertools.combinations(scores, k))
    return sum(max(s) for s in subsets) / len(subsets)


def test_eff_at_k_is_the_mean_of_subset_maxima_on_random_inputs():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 12)
        scores = [rng.choice([0.0, rng.random() * 2, 1.0]) for _ in range(n)]
        for k in range(1, n + 1):
            assert eff_at_k(scores, k) == pytest.approx(brute_eff(scores, k), abs=1e-12)


def test_eff_at_k_equals_pass_at_k_on_binary_scores():
    for n in range(1, 13):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert eff_at_k([1.0] * c + [0.0] * (n - c), k) == pytest.approx(pass_at_k(n, c, k), abs=1e-12)


def test_pass_at_k_matches_the_binomial_formula():
    for n, c, k in itertools.product(range(1, 15), range(0, 15), range(1, 15)):
        if c <= n and k <= n:
            assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


@pytest.mark.parametrize("call, words", [
    (lambda: eff_at_k([0.5, float("nan")], 1), "scores\\[1\\]"),
    (lambda: eff_at_k([0.5, -1.0], 1), "must be finite and >= 0"),
    (lambda: eff_at_k([0.5, 0.2], 3), "k = 3 exceeds the 2 samples"),
    (lambda: pass_at_k(5, 6, 1), "0 <= c <= n"),
])
def test_bad_arguments_are_refused_naming_them(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# ENAMEL (metrics.md 1.3-1.4), worked by hand: reference level costs 1, 10, 20, 40 -> T = 2 * 40 = 80
REF = [1.0, 10.0, 20.0, 40.0]
L = enamel.LevelOutcome


def test_enamel_level_score_is_linear_to_zero_and_not_clipped_at_one():
    assert enamel.time_limit(REF) == 80.0
    assert enamel.level_score(10.0, 10.0, 80.0) == 1.0
    assert enamel.level_score(45.0, 10.0, 80.0) == 0.5           # (80 - 45) / (80 - 10)
    assert enamel.level_score(3.0, 10.0, 80.0) == pytest.approx(77 / 70)  # faster than the reference: > 1
    assert enamel.level_score(90.0, 10.0, 80.0) == 0.0
    assert enamel.level_score(None, 10.0, 80.0) == 0.0            # censored: the true cost never matters


def test_enamel_reference_measured_as_a_sample_scores_exactly_one():
    assert enamel.sample_score([L("ok", c) for c in REF], REF) == (True, 1.0)


def test_enamel_weights_levels_by_hardness():
    # e = (0, 1, 0.5, 0) -> (3*1 + 3*0.5 + 4*0) / 10 = 0.45
    levels = [L("ok", 1.0), L("ok", 10.0), L("ok", 50.0), L("ok", 80.0)]
    assert enamel.sample_score(levels, REF) == (True, pytest.approx(0.45))


def test_enamel_overflow_error_breaks_the_level_like_a_timeout():
    ok = [L("ok", c) for c in REF[:2]]
    assert enamel.sample_score(ok + [L("overflow"), L("not_reached")], REF) == \
        enamel.sample_score(ok + [L("timeout"), L("not_reached")], REF)
    assert enamel.sample_score(ok + [L("overflow"), L("not_reached")], REF)[0] is True
    assert enamel.sample_score([L("overflow")] + [L("not_reached")] * 3, REF) == (False, 0.0)


def test_enamel_timeout_breaks_the_level_and_the_later_ones_but_passes():
    levels = [L("ok", 1.0), L("ok", 10.0), L("timeout"), L("ok", 40.0)]
    assert enamel.sample_score(levels, REF) == (True, pytest.approx(0.3))


def test_enamel_timeout_or_memory_at_level_zero_fails_and_wrong_answer_anywhere_fails():
    assert enamel.sample_score([L("memory"), L("ok", 10.0), L("ok", 20.0), L("ok", 40.0)], REF) == (False, 0.0)
    assert enamel.sample_score([L("ok", 1.0), L("ok", 10.0), L("ok", 20.0), L("wrong_answer")], REF) == (False, 0.0)


# EvalPerf (metrics.md 2.2-2.3): an independent, literal transcription of the rules
def transcribed_clusters(costs, base=0.10):
    a = sorted(costs)[::-1]
    bounds = [0] + [i + 1 for i in range(len(a) - 1) if (a[i] - a[i + 1]) / a[i] > base + (10000 / a[i]) ** 0.5]
    groups = [a[s:e] for s, e in zip(bounds, bounds[1:] + [len(a)])]
    reps = [g[0] for g in groups]
    scores = [100 * sum(len(g) for g in groups[: j + 1]) / len(a) for j in range(len(groups))]
    return reps, scores


def transcribed_dps(x, reps, scores):
    matches = [j for j in range(len(reps)) if x <= reps[j]]
    if not matches:
        return 0.0, 0.0
    return scores[matches[-1]], 100 * (matches[-1] + 1) / len(reps)


def test_evalperf_clustering_and_dps_match_the_transcribed_rules_on_random_pools():
    rng = random.Random(3)
    for _ in range(300):
        pool = [float(rng.choice([rng.randint(10_000, 10**8), 10**6, 2 * 10**6])) for _ in range(rng.randint(1, 30))]
        levels = evalperf.cluster_levels(pool)
        reps, scores = transcribed_clusters(pool)
        assert list(levels.representatives) == reps and list(levels.scores) == pytest.approx(scores)
        assert levels.scores[-1] == 100.0
        probes = pool + [max(pool) + 1, min(pool) - 1, rng.uniform(min(pool), max(pool))]
        for x in probes:  # ties, faster than all, slower than every representative
            d = evalperf.dps(x, levels)
            assert (d.dps, d.dps_norm) == pytest.approx(transcribed_dps(x, reps, scores))


def test_evalperf_broken_profile_and_slower_than_all_score_zero():
    levels = evalperf.cluster_levels([4e6, 2e6, 1e6])
    assert evalperf.dps(None, levels).level == -1
    assert evalperf.dps(5e6, levels) == evalperf.DPS(0.0, 0.0, -1)
    assert evalperf.dps(4e6, levels).dps == levels.scores[0]  # a tie matches


def test_coffe_efficiency_is_strict_and_speedup_is_a_ratio_of_sums():
    assert coffe.is_efficient(True, 99, 100) and not coffe.is_efficient(True, 100, 100)
    assert not coffe.is_efficient(False, 1, 100) and not coffe.is_efficient(True, None, 100)
    assert coffe.speedup([100, 300, 50], [50, 100, None]) == pytest.approx(400 / 150)
    assert coffe.efficient_at_k(1, 1, 1) == 1.0


def test_effibench_usage_and_both_normalisations():
    u = effibench.usage([(0.0, 10.0), (1.0, 20.0), (3.0, 20.0)])
    assert (u.et, u.mu, u.tmu) == (3.0, 20.0, 15.0 + 40.0)
    assert effibench.normalized([2, 6, None], [1, 2, 5]) == pytest.approx(8 / 3)
    assert effibench.normalized([2, 6, None], [1, 2, 5], "mean_of_ratios") == pytest.approx(2.5)


def test_mercury_beyond_clips_guards_equal_runtimes_and_averages_the_first_k():
    ref = [1.0, 2.0, 3.0]
    assert [mercury.beyond(r, ref) for r in (0.5, 1.5, 3.5, None)] == [1.0, 0.75, 0.0, 0.0]
    assert mercury.beyond(1.0, [2.0, 2.0]) == 1.0 and mercury.beyond(3.0, [2.0, 2.0]) == 0.0
    assert mercury.beyond_at_k([[1.0, 0.0, 1.0], [0.5, 0.5, 0.0]], 2) == pytest.approx((0.5 + 0.5) / 2)


def test_ecco_percentile_has_no_zero_to_one_bug():
    humans = [10.0, 8.0, 6.0, 4.0]  # slowest first
    assert ecco.percentile(11.0, humans) == 0.0  # even the slowest human is faster: 0, not 1
    assert ecco.percentile(7.0, humans) == 0.5
    assert ecco.percentile(3.0, humans) == 1.0   # none faster
    assert ecco.speedup([4, 4, 9], [2, 1, 1], [True, True, False]) == pytest.approx(8 / 3)


def test_pie_speedup_is_floored_at_one_and_pct_opt_counts_thresholds():
    assert pie.problem_speedup(10.0, [20.0, None, 5.0], k=1) == 1.0
    assert pie.problem_speedup(10.0, [20.0, None, 5.0], k=3) == 2.0
    assert pie.problem_speedup(10.0, [None], k=1) == 1.0
    assert pie.speedup_at_k([10.0, 10.0], [[5.0], [None]], 1) == 1.5
    assert pie.pct_opt([1.0, 1.1, 2.0, 1.09]) == 0.5


def test_utilities_and_the_capped_estimator():
    u = utility.uniform(20)
    assert (u(5), u(25), u(None)) == (0.75, 0.0, 0.0)
    p = utility.pareto(5, 3)
    assert p(4) == 1.0 and p(10) == pytest.approx(1 / 8)
    assert p.inverse(1 / 8) == pytest.approx(10)
    assert utility.exponential(1).inverse(math.exp(-2)) == pytest.approx(2)
    assert utility.expected_utility([5, 25, None], u) == pytest.approx(0.25)
    assert utility.expected_utility([5, 25, None], utility.exponential(10), cap=10) == pytest.approx(
        (math.exp(-0.5) + 2 * math.exp(-1)) / 3)
    assert utility.runs_needed(10, 0.1, 0.05, 0.0) == math.ceil(2 * math.log(400) / 0.01)
    lcb, ucb = utility.anytime_bounds(0.5, 0.1, 0.9, 0.2)
    assert (lcb, ucb) == (pytest.approx(0.29), pytest.approx(0.68))
