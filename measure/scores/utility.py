"""Utility scores over runtime distributions (Graham, Leyton-Brown & Roughgarden, ICML 2023,
"Formalizing Preferences Over Runtime Distributions"; drgrhm/formalizing-preferences utils.py,
drgrhm/utilitarian-ac naive.py and up.py).

A utility u(t) in [0, 1] is non-increasing; u(t) = Pr[K > t] for a captime distribution K. The
score is E[u(T)]; a timeout or failure has t = inf, u = 0. Runs may be capped at kappa: the
capped estimator's bias is at most u(kappa)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ._check import cost_or_censored


@dataclass(frozen=True)
class Utility:
    """A named utility ``u`` with its inverse where one exists (``inverse(eps)`` = smallest t with u(t) <= eps)."""

    name: str
    u: Callable[[float], float]
    inverse: Optional[Callable[[float], float]] = None

    def __call__(self, t: float) -> float:
        if t is None or math.isinf(t):
            return 0.0
        if t < 0 or math.isnan(t):
            raise ValueError(f"runtime {t!r} must be >= 0")
        return self.u(t)


def _pos(**kw):
    for k, v in kw.items():
        if not v > 0:
            raise ValueError(f"{k} must be > 0, got {v!r}")


def uniform(k0: float) -> Utility:
    _pos(k0=k0)
    return Utility(f"Uniform({k0:g})", lambda t: 1 - t / k0 if t < k0 else 0.0, lambda eps: k0 * (1 - eps))


def exponential(k0: float) -> Utility:
    _pos(k0=k0)
    return Utility(f"Exp({k0:g})", lambda t: math.exp(-t / k0), lambda eps: -k0 * math.log(eps))


def pareto(k0: float, a: float) -> Utility:
    _pos(k0=k0, a=a)
    return Utility(f"Pareto({k0:g},{a:g})", lambda t: 1.0 if t < k0 else (k0 / t) ** a,
                   lambda eps: k0 * eps ** (-1 / a))


def log_laplace(k0: float, a: float) -> Utility:
    _pos(k0=k0, a=a)
    return Utility(f"LogLaplace({k0:g},{a:g})",
                   lambda t: 1 - (t / k0) ** a / 2 if t < k0 else (k0 / t) ** a / 2)


def gen_log_laplace(k0: float, a: float, b: float) -> Utility:
    _pos(k0=k0, a=a, b=b)
    return Utility(f"GenLogLaplace({k0:g},{a:g},{b:g})",
                   lambda t: 1 - a / (a + b) * (t / k0) ** b if t < k0 else b / (a + b) * (k0 / t) ** a)


def polynomial(k0: float, a: float) -> Utility:
    _pos(k0=k0, a=a)
    return Utility(f"Poly({k0:g},{a:g})", lambda t: 1 - (t / k0) ** a if t < k0 else 0.0)


def log_normal(k0: float, sigma: float) -> Utility:
    _pos(k0=k0, sigma=sigma)
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return Utility(f"LogNormal({k0:g},{sigma:g})", lambda t: 1.0 if t == 0 else 1 - phi(math.log(t / k0) / sigma))


def expected_utility(runtimes: Sequence[Optional[float]], u: Utility, cap: Optional[float] = None) -> float:
    """(1/m) sum u(min(T_i, cap)); a timeout (None or inf) contributes 0, or u(cap) when capped
    (it is known to exceed the cap)."""
    if not runtimes:
        raise ValueError("expected_utility: no runs")
    total = 0.0
    for i, r in enumerate(runtimes):
        t = cost_or_censored(r, f"runtimes[{i}]")
        if t is None:
            total += u(cap) if cap is not None else 0.0
        else:
            total += u(min(t, cap) if cap is not None else t)
    return total / len(runtimes)


def runs_needed(n_configs: int, eps: float, delta: float, u_at_cap: float) -> int:
    """Runs per configuration for eps-optimality among n with probability 1 - delta (Hoeffding and a
    union bound, naive.py): ceil(2 ln(2n/delta) / (eps - u(kappa))^2). Needs u(kappa) < eps."""
    if not (n_configs >= 1 and 0 < delta < 1 and 0 < eps and 0 <= u_at_cap < eps):
        raise ValueError("need n >= 1, 0 < delta < 1 and 0 <= u(cap) < eps")
    return math.ceil(2 * math.log(2 * n_configs / delta) / (eps - u_at_cap) ** 2)


def anytime_radius(n_configs: int, m_runs: int, cap: float, delta: float) -> float:
    """alpha of up.py's anytime bounds after m runs at cap k:
    sqrt(ln(4 * 2.705808 * n * m^2 * (log2 k + 1)^2 / delta) / (2m))."""
    if not (n_configs >= 1 and m_runs >= 1 and cap >= 1 and 0 < delta < 1):
        raise ValueError("need n >= 1, m >= 1, cap >= 1 and 0 < delta < 1")
    return math.sqrt(math.log(4 * 2.705808 * n_configs * m_runs ** 2 * (math.log2(cap) + 1) ** 2 / delta)
                     / (2 * m_runs))


def anytime_bounds(u_hat: float, u_at_cap: float, finished_fraction: float, radius: float,
                   previous_lcb: float = 0.0, previous_ucb: float = 1.0):
    """(LCB, UCB) of up.py: UCB = min(prev, U + (1 - u(k)) alpha); LCB = max(prev, U - alpha - u(k)(1 - F))."""
    ucb = min(previous_ucb, u_hat + (1 - u_at_cap) * radius)
    lcb = max(previous_lcb, u_hat - radius - u_at_cap * (1 - finished_fraction))
    return lcb, ucb
