"""Statistics: estimators by hand, the two-level tests, adaptive stopping, and the A/A utility."""
from __future__ import annotations

import numpy as np
import pytest

from measure.stats import (aa_false_positive_rate, adaptive_processes, bootstrap_ratio_ci, check_spread, compare,
                           hodges_lehmann, mad, mean_ci, relative_spread, trimmed_mean, Summary)


def test_hodges_lehmann_is_the_median_of_walsh_averages_including_self_pairs():
    assert hodges_lehmann([1, 2, 3, 10]) == 2.75


def test_trimmed_mean_drops_the_extremes_like_coffe():
    assert trimmed_mean([100] + [5] * 10 + [0]) == 5.0
    with pytest.raises(ValueError):
        trimmed_mean([1, 2], 1, 1)


def test_spreads():
    assert mad([1, 2, 3, 4, 100]) == 1.0
    assert relative_spread([10, 10, 10]) == 0.0 and relative_spread([9, 10, 11]) == pytest.approx(0.2)
    assert Summary.of([1, 2, 3]).median == 2.0


def test_nan_is_refused_with_a_censoring_hint():
    with pytest.raises(ValueError, match="censored"):
        Summary.of([1.0, float("nan")])


def test_deterministic_counts_are_flagged_only_above_the_threshold():
    assert not check_spread([1000, 1000, 1005]).flagged
    assert check_spread([1000, 1000, 1020]).flagged


def processes(rng, n, center, between=0.03, within=0.05, iters=10):
    return [list(center * (1 + rng.normal(0, between)) * (1 + rng.normal(0, within, iters))) for _ in range(n)]


def test_bootstrap_ratio_ci_resamples_processes_and_covers_the_true_ratio():
    rng = np.random.default_rng(0)
    r = bootstrap_ratio_ci(processes(rng, 30, 1.3), processes(rng, 30, 1.0))
    assert r.low < 1.3 < r.high and r.low > 1.0


def test_a_real_difference_is_significant_and_no_difference_is_not():
    rng = np.random.default_rng(1)
    assert compare(processes(rng, 20, 1.2), processes(rng, 20, 1.0)).significant
    assert not compare(processes(rng, 20, 1.0), processes(rng, 20, 1.0)).significant


def test_adaptive_stopping_reports_target_or_budget():
    rng = np.random.default_rng(2)
    ok = adaptive_processes(lambda: processes(rng, 1, 1.0)[0], target=0.02, max_processes=200)
    assert ok.reason == "target" and ok.relative_half_width <= 0.02 and ok.processes >= 5
    capped = adaptive_processes(lambda: processes(rng, 1, 1.0, between=0.5)[0], target=0.001, max_processes=8)
    assert capped.reason == "max_processes" and capped.processes == 8
    est, low, high = mean_ci(ok.data)
    assert low < est < high


def test_aa_per_process_test_keeps_its_level_and_pooling_does_not():
    rng = np.random.default_rng(3)
    procs = processes(rng, 40, 1.0, between=0.05, within=0.05, iters=20)
    welch = aa_false_positive_rate(procs, "welch_per_process", splits=300)
    pooled = aa_false_positive_rate(procs, "pooled_t", splits=300)
    assert welch.low <= 0.05  # at or under the nominal level within sampling error
    assert pooled.rate > 0.2
