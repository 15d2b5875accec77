"""EffiBench's ET / MU / TMU(bound) from per-call counts and peak resident sets."""
from __future__ import annotations

import pytest

from measure.scores.effibench import normalized, usage
from measure.scores.effibench_counts import MIB, CountUsage, usage_from_calls


def test_et_is_the_sum_mu_the_largest_peak_in_mib_and_tmu_bound_the_sum_of_peak_times_cost():
    u = usage_from_calls([(100, 10 * MIB), (300, 20 * MIB)])
    assert u == CountUsage(et=400.0, mu=20.0, tmu_bound=10.0 * 100 + 20.0 * 300)


def test_tmu_bound_is_never_below_the_integral_of_any_memory_trace_under_the_peaks():
    # one call of 4 units that peaks at 30 MiB only for its last unit; the true trapezoidal integral
    # (EffiBench's) of this trace is smaller than the bound, which charges the peak throughout
    trace = [(0.0, 10.0), (3.0, 10.0), (4.0, 30.0)]
    assert usage(trace).tmu == 10.0 * 3 + 20.0 * 1
    assert usage_from_calls([(4, 30 * MIB)]).tmu_bound == 30.0 * 4


def test_a_constant_memory_trace_makes_the_bound_exact():
    assert usage([(0.0, 12.0), (5.0, 12.0)]).tmu == usage_from_calls([(5, 12 * MIB)]).tmu_bound


def test_an_unknown_peak_leaves_mu_and_the_bound_unknown_but_keeps_et():
    assert usage_from_calls([(7, 5 * MIB), (3, None)]) == CountUsage(10.0, None, None)


def test_no_calls_is_an_error():
    with pytest.raises(ValueError, match="no counted calls"):
        usage_from_calls([])


@pytest.mark.parametrize("calls, what", [([(-1, MIB)], r"costs\[0\] = -1"),
                                         ([(1, MIB), (float("nan"), MIB)], r"costs\[1\] = nan"),
                                         ([(1, -5)], r"peak_rss_bytes\[0\] = -5")])
def test_negative_or_non_finite_values_are_errors_naming_the_value(calls, what):
    with pytest.raises(ValueError, match=what):
        usage_from_calls(calls)


def test_normalised_bounds_follow_both_averaging_variants():
    model = [usage_from_calls([(200, 2 * MIB)]), usage_from_calls([(600, 4 * MIB)])]
    canon = [usage_from_calls([(100, 2 * MIB)]), usage_from_calls([(200, 2 * MIB)])]
    ntmu = [u.tmu_bound for u in model], [u.tmu_bound for u in canon]
    assert normalized(*ntmu) == (400 + 2400) / (200 + 400)
    assert normalized(*ntmu, variant="mean_of_ratios") == (2 + 6) / 2
