"""The function model's leave-one-program-out in closed form agrees with refitting the ridge
regression without each program (the specification, kept here only: it costs one refit per
program, penalty and, nested, outer fold: about 21,000 refits for the suite)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from measure.calibration.model import (FUNCTION_LAMBDAS, _choose_lambda, _clip, _loo, _nested_loo, _ridge,
                                       _share_matrix, fit_functions)
from measure.calibration.profile import reference_profile

RTOL = 1e-9


# --- the specification: refit without each program ------------------------------------------

def brute_left_out(w, y, i, lam=None):
    keep = np.arange(len(y)) != i
    h0, coef = _ridge(w[keep], y[keep], brute_choose_lambda(w[keep], y[keep]) if lam is None else lam)
    return _clip(h0 + w[i] @ coef, h0)


def brute_choose_lambda(w, y):
    def cost(lam):
        return float(np.mean([abs(math.log(y[i] / brute_left_out(w, y, i, lam))) for i in range(len(y))]))
    return min(FUNCTION_LAMBDAS, key=cost)


def brute_loo(w, y):
    return np.array([[brute_left_out(w, y, i, lam) for i in range(len(y))] for lam in FUNCTION_LAMBDAS])


# --- data ---------------------------------------------------------------------------------------

def random_suite(seed, n=14, n_functions=25):
    """Shares with the cases that matter: functions only one program runs, a program alone holding
    a function's largest share (its scale moves when that program is left out), tied largest
    shares, and functions no program in a fold runs."""
    rng = np.random.default_rng(seed)
    w = np.zeros((n, n_functions))
    for i in range(n):
        cols = rng.choice(n_functions, size=rng.integers(1, 8), replace=False)
        w[i, cols] = rng.dirichlet(np.full(len(cols), 0.7))
    w[1] = w[0]                          # ties for the largest share
    w[:, -1] = 0.0
    w[2, -1], w[2, 0] = 0.5, w[2, 0] * 0.5
    w[w.sum(axis=1) == 0, 0] = 1.0
    w /= w.sum(axis=1, keepdims=True)
    gain = np.exp(rng.normal(0, 0.3, n_functions))
    y = (w / gain).sum(axis=1) * np.exp(rng.normal(0, 0.02, n))
    return w, y


def shipped_suite(seed=0):
    """The shipped reference profile's function shares of the suite programs, with reference units
    per unit from per-function gains (as a platform that differs function by function would give)."""
    ref = reference_profile()
    names = sorted(n for n, pc in ref.programs.items() if pc.status == "ok" and pc.functions)
    fns = {n: ref.programs[n].functions for n in names}
    w, keys = _share_matrix(fns, names)
    rng = np.random.default_rng(seed)
    gain = np.exp(rng.normal(0, 0.15, len(keys)))
    y = (w / gain).sum(axis=1) * np.exp(rng.normal(0, 0.01, len(names)))
    return names, fns, w, y


def test_the_leave_one_out_in_closed_form_equals_refitting_without_each_program_on_random_suites():
    for seed in range(6):
        w, y = random_suite(seed)
        np.testing.assert_allclose(_loo(w, y, FUNCTION_LAMBDAS), brute_loo(w, y), rtol=RTOL, atol=0)


def test_the_leave_one_out_in_closed_form_equals_refitting_where_a_left_out_program_holds_a_functions_largest_share():
    w = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.5, 0.0, 0.5], [0.3, 0.3, 0.4], [0.0, 0.6, 0.4]])
    y = np.array([1.3, 0.8, 1.1, 1.0, 0.7])
    np.testing.assert_allclose(_loo(w, y, FUNCTION_LAMBDAS), brute_loo(w, y), rtol=RTOL, atol=0)


def test_the_closed_form_chooses_the_penalty_and_the_nested_errors_that_refitting_does_on_random_suites():
    for seed in range(3):
        w, y = random_suite(seed, n=10, n_functions=18)
        assert _choose_lambda(w, y) == brute_choose_lambda(w, y)
        expected = [brute_left_out(w, y, i) for i in range(len(y))]
        np.testing.assert_allclose(_nested_loo(w, y), expected, rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def shipped():
    return shipped_suite()


def test_the_leave_one_out_in_closed_form_equals_refitting_on_the_shipped_suites_functions(shipped):
    _, _, w, y = shipped
    np.testing.assert_allclose(_loo(w, y, FUNCTION_LAMBDAS), brute_loo(w, y), rtol=RTOL, atol=0)


def test_the_function_model_fitted_in_closed_form_is_the_refitted_one_on_the_shipped_suites_functions(shipped):
    """The whole selection, nested: the penalty chosen on all programs, and each program's error
    with the penalty chosen without it (a few outer folds by refitting, to keep the test quick)."""
    names, fns, w, y = shipped
    lam = brute_choose_lambda(w, y)
    target = {n: 1.0 for n in names}
    reference = dict(zip(names, y))
    model, cv = fit_functions(target, reference, fns, names)
    assert model.lam == lam
    h0, coef = _ridge(w, y, lam)
    assert model.h0 == h0
    nested = _nested_loo(w, y)
    for i in (0, len(names) // 2, len(names) - 1):
        assert nested[i] == pytest.approx(brute_left_out(w, y, i), rel=RTOL, abs=0)
    assert [cv.errors[n] for n in names] == pytest.approx(list(nested / y - 1), rel=RTOL, abs=1e-12)
