"""The gate's decision, benchmark by benchmark (pure functions over result sets).

Two rules, chosen by the backend that measured both sides:

* **Deterministic backends** (``valgrind``, ``perf``), after docs/statistics-and-scores.md: compare
  the medians of the counts. The tolerance of a benchmark is
  ``max(tolerance, learn_factor x observed relative spread)``, where ``tolerance`` is the
  benchmark's own (expectations file, ``--tolerance-for``, pytest marker, suite file) or the
  default (1 %), and the spread is (max - min) / median of each side's counts, so a benchmark
  whose counts move by 0.4 % gets a 1.2 % gate instead of firing on its own noise. A change at or
  above the tolerance fails only when the candidate's whole range lies beyond the baseline's.
  No statistics: under valgrind the counts repeat exactly.
* **Time** (``time`` backend): the two-level test of measure.stats (measurement.md 5.1-5.2): each
  process's calls are summarised by their median first (``summary``; a descheduled call moves a
  median less than a mean), then Welch's t-test compares the per-process medians (two-sided, level ``alpha``), with a bootstrap interval of the ratio that
  resamples processes. A slowdown fails when it is significant at ``alpha`` *and* at least
  ``min_effect``. On identical code the test is significant at most ``alpha`` of the time, and
  only half of those are slowdowns: the stated false-positive rate of a gate that fails on
  slowdowns is at most ``alpha / 2`` (``alpha`` with ``fail_on_improvement``).

Verdicts: ``pass``, ``slower`` (a regression: fails), ``faster`` (fails only with
``fail_on_improvement``), ``failed`` (the candidate's benchmark did not run ok: fails),
``new`` / ``missing`` (on one side only: fail only with ``require_all``), ``no-baseline``
(the baseline's benchmark did not run ok).
"""
from __future__ import annotations


from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import ConfigError, PlatformMismatch
from .resultset import BenchResult, ResultSet, unit_of

EPS = 1e-12  # "at or above the tolerance" survives the rounding of c / b - 1



@dataclass(frozen=True)
class GatePolicy:
    """How strict the gate is.

    tolerance: default relative tolerance of deterministic benchmarks (0.01 = 1 %).
    tolerances: per-benchmark tolerances (deterministic) or minimum effects (time), by name.
    learn_factor: a deterministic benchmark's tolerance is at least this times its observed
        relative spread (0 disables learning).
    alpha: significance level of the time backend's two-sided Welch test on per-process medians.
    min_effect: smallest relative slowdown the time backend's gate fails on (0.05 = 5 %).
    fail_on_improvement: an improvement beyond the tolerance fails too (so committed
        expectations stay current).
    require_all: a benchmark present on one side only fails the gate.
    summary: time backend: how each process's calls are summarised before the test (median:
        robust to the occasional descheduled call; mean).
    """

    tolerance: float = 0.01
    tolerances: Dict[str, float] = field(default_factory=dict)
    learn_factor: float = 3.0
    alpha: float = 0.01
    min_effect: float = 0.05
    fail_on_improvement: bool = False
    require_all: bool = False
    summary: str = "median"

    def __post_init__(self):
        if not 0 <= self.tolerance < 1:
            raise ConfigError(f"tolerance must be a fraction in [0, 1), e.g. 0.01 for 1 %; got {self.tolerance!r}")
        for name, t in self.tolerances.items():
            if not 0 <= t < 1:
                raise ConfigError(f"tolerance of {name!r} must be a fraction in [0, 1); got {t!r}")
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"alpha must be in (0, 0.5), e.g. 0.01; got {self.alpha!r}")
        if not 0 <= self.min_effect < 1:
            raise ConfigError(f"min_effect must be a fraction in [0, 1), e.g. 0.05; got {self.min_effect!r}")
        if self.summary not in ("mean", "median"):
            raise ConfigError(f"summary must be 'mean' or 'median' (of each process's calls); got {self.summary!r}")
        if self.learn_factor < 0:
            raise ConfigError(f"learn_factor must be >= 0; got {self.learn_factor!r}")


@dataclass(frozen=True)
class BenchComparison:
    """One benchmark's comparison.

    baseline, candidate: the compared summaries (median count; for time, the mean of the
    per-process medians, in ns); change: candidate / baseline - 1; low, high: an interval of the
    change (deterministic: from the two ranges; time: bootstrap over processes at 1 - alpha);
    threshold: the tolerance (deterministic) or minimum effect (time) that applied; pvalue:
    Welch's (time only); n_base, n_cand: values (deterministic) or processes (time).
    """

    name: str
    metric: str
    method: str
    verdict: str
    fails: bool
    baseline: Optional[float] = None
    candidate: Optional[float] = None
    change: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    threshold: Optional[float] = None
    pvalue: Optional[float] = None
    n_base: int = 0
    n_cand: int = 0
    note: str = ""

    @property
    def unit(self) -> str:
        return unit_of(self.metric)


@dataclass(frozen=True)
class GateReport:
    """Every benchmark's comparison, and the rule that was applied (``method``, stated in words)."""

    comparisons: List[BenchComparison]
    policy: GatePolicy
    backend: str
    platform: str
    method: str
    notes: List[str] = field(default_factory=list)

    @property
    def failures(self) -> List[BenchComparison]:
        return [c for c in self.comparisons if c.fails]

    @property
    def exit_code(self) -> int:
        """0: every benchmark passed; 1: at least one failed (regression, failure, improvement
        under fail_on_improvement, one-sided benchmark under require_all)."""
        return 1 if self.failures else 0


def _tolerance_for(name: str, cand: Optional[BenchResult], base: Optional[BenchResult], policy: GatePolicy,
                   default: float) -> float:
    if name in policy.tolerances:
        return policy.tolerances[name]
    for b in (cand, base):
        if b is not None and b.tolerance is not None:
            return b.tolerance
    return default


def relative_spread(values: Sequence[float]) -> float:
    a = np.asarray(values, dtype=float)
    med = float(np.median(a))
    return float(a.max() - a.min()) / med if med else 0.0


def learned_tolerance(base_values: Sequence[float], cand_values: Sequence[float], tolerance: float,
                      learn_factor: float) -> float:
    """max(tolerance, learn_factor x the larger relative spread of the two sides)."""
    spread = max(relative_spread(base_values), relative_spread(cand_values))
    return max(tolerance, learn_factor * spread)


def compare_deterministic(name: str, base: BenchResult, cand: BenchResult, policy: GatePolicy) -> BenchComparison:
    """Medians of the counts against a tolerance learned from their spread (see the module docstring)."""
    bv, cv = base.values, cand.values
    given = _tolerance_for(name, cand, base, policy, policy.tolerance)
    tol = learned_tolerance(bv, cv, given, policy.learn_factor)
    b, c = float(np.median(bv)), float(np.median(cv))
    if b <= 0:
        return BenchComparison(name, cand.metric, "exact", "failed", True, b, c, n_base=len(bv), n_cand=len(cv),
                               note="the baseline's count is 0: nothing to compare against")
    change = c / b - 1
    low, high = min(cv) / max(bv) - 1, max(cv) / min(bv) - 1
    note = f"tolerance learned from the spread ({tol * 100:.2f} % > {given * 100:.2f} %)" if tol > given else ""
    verdict, fails = "pass", False
    if change >= tol - EPS:
        if min(cv) > max(bv):
            verdict, fails = "slower", True
        else:
            note = "the ranges overlap: not a hard failure"
    elif change <= -tol + EPS:
        if max(cv) < min(bv):
            verdict, fails = "faster", policy.fail_on_improvement
        else:
            note = "the ranges overlap"
    return BenchComparison(name, cand.metric, "exact", verdict, fails, b, c, change, low, high, tol,
                           None, len(bv), len(cv), note)


def compare_time(name: str, base: BenchResult, cand: BenchResult, policy: GatePolicy) -> BenchComparison:
    """Welch's t on per-process medians at ``alpha``, plus the minimum effect (see the module docstring)."""
    from ..stats import bootstrap_ratio_ci, per_process, welch_t
    bp = [p for p in base.processes if p]
    cp = [p for p in cand.processes if p]
    if len(bp) < 2 or len(cp) < 2:
        raise ConfigError(f"benchmark {name!r}: the time backend's gate needs at least 2 processes per side "
                          f"(got {len(bp)} and {len(cp)}); it compares per-process medians, never pooled calls. "
                          "Measure with more processes (pytest --measure-processes, suite 'processes'), "
                          "20 by default.")
    min_effect = _tolerance_for(name, cand, base, policy, policy.min_effect)
    pb, pc = per_process(bp, policy.summary), per_process(cp, policy.summary)
    b, c = float(pb.mean()), float(pc.mean())
    test = welch_t(cp, bp, policy.summary)
    if not np.isfinite(test.pvalue):  # identical per-process medians on both sides: no evidence of a change
        pvalue = 1.0
    else:
        pvalue = test.pvalue
    ci = bootstrap_ratio_ci(cp, bp, policy.summary, confidence=1 - policy.alpha)
    change = c / b - 1
    verdict, fails = "pass", False
    if pvalue < policy.alpha and abs(change) >= min_effect - EPS:
        if change > 0:
            verdict, fails = "slower", True
        else:
            verdict, fails = "faster", policy.fail_on_improvement
    note = ""
    if pvalue < policy.alpha and verdict == "pass":
        note = f"significant but below the minimum effect {min_effect * 100:.1f} %"
    return BenchComparison(name, cand.metric, "welch", verdict, fails, b, c, change, ci.low - 1, ci.high - 1,
                           min_effect, pvalue, len(bp), len(cp), note)


def compare_time_to_expected(name: str, expected: float, cand: BenchResult, policy: GatePolicy) -> BenchComparison:
    """One-sample t-test of the candidate's per-process medians against a committed expected time."""
    from scipy import stats
    from ..stats import per_process
    cp = [p for p in cand.processes if p]
    if len(cp) < 2:
        raise ConfigError(f"benchmark {name!r}: the time backend needs at least 2 processes to test against an "
                          "expected value; measure with more processes (20 by default)")
    min_effect = _tolerance_for(name, cand, None, policy, policy.min_effect)
    pc = per_process(cp, policy.summary)
    c = float(pc.mean())
    r = stats.ttest_1samp(pc, expected)
    pvalue = float(r.pvalue) if np.isfinite(r.pvalue) else 1.0
    half = float(stats.t.ppf(1 - policy.alpha / 2, pc.size - 1) * pc.std(ddof=1) / np.sqrt(pc.size))
    change = c / expected - 1
    verdict, fails = "pass", False
    if pvalue < policy.alpha and abs(change) >= min_effect - EPS:
        verdict, fails = ("slower", True) if change > 0 else ("faster", policy.fail_on_improvement)
    return BenchComparison(name, cand.metric, "t-1sample", verdict, fails, expected, c, change,
                           (c - half) / expected - 1, (c + half) / expected - 1, min_effect, pvalue, 1, len(cp))


def check_platforms(base: ResultSet, cand: ResultSet) -> None:
    """Refuse two different PlatformKeys, naming the fields that differ and the way out."""
    diffs = base.platform.differences(cand.platform)
    if not diffs:
        return
    if base.platform.backend != cand.platform.backend:
        why = "counts of different backends are different quantities"
    elif base.platform.engine_version != cand.platform.engine_version:
        why = "another engine version measured the baseline (its protocol or counts may differ)"
    else:
        why = ("counts of one program differ between interpreter builds and between the CPUs the measured "
               "process sees")
    raise PlatformMismatch(
        f"the baseline and the candidate were measured on different platforms ({'; '.join(diffs)}): {why}. "
        "Re-measure the baseline on this platform (same backend, interpreter build and machine kind), "
        "or give a calibration profile with --calibration to compare across platforms.")


def compare_sets(base: ResultSet, cand: ResultSet, policy: GatePolicy = GatePolicy(),
                 expected: bool = False) -> GateReport:
    """Compare every benchmark of ``cand`` with ``base`` (the same PlatformKey; check it with
    :func:`check_platforms` first). ``expected``: ``base`` holds committed expected values (one value
    per benchmark) rather than a measured run."""
    deterministic = cand.deterministic
    out: List[BenchComparison] = []
    for name in sorted(set(base.benchmarks) | set(cand.benchmarks)):
        b, c = base.benchmarks.get(name), cand.benchmarks.get(name)
        metric = (c or b).metric
        if b is None:
            out.append(BenchComparison(name, metric, "-", "new", policy.require_all,
                                       candidate=c.center(deterministic), n_cand=len(c.values),
                                       note="not in the baseline"))
        elif c is None:
            out.append(BenchComparison(name, metric, "-", "missing", policy.require_all,
                                       baseline=b.center(deterministic), n_base=len(b.values),
                                       note="not in the candidate"))
        elif not c.ok:
            out.append(BenchComparison(name, metric, "-", "failed", True, baseline=b.center(deterministic),
                                       note=f"the candidate's benchmark ended with status {c.status}: "
                                            f"{_last_line(c.message)}"))
        elif not b.ok:
            out.append(BenchComparison(name, metric, "-", "no-baseline", False, candidate=c.center(deterministic),
                                       note=f"the baseline's benchmark ended with status {b.status}"))
        elif b.metric != c.metric:
            raise ConfigError(f"benchmark {name!r} is {b.metric} in the baseline and {c.metric} in the candidate")
        elif deterministic:
            out.append(compare_deterministic(name, b, c, policy))
        elif expected:
            out.append(compare_time_to_expected(name, float(np.median(b.values)), c, policy))
        else:
            out.append(compare_time(name, b, c, policy))
    return GateReport(out, policy, cand.backend, cand.platform.label(), describe_method(cand.backend, policy))


def describe_method(backend: str, policy: GatePolicy) -> str:
    """The rule in one sentence, for every report."""
    if backend == "time":
        fp = policy.alpha if policy.fail_on_improvement else policy.alpha / 2
        return (f"time backend: Welch's t-test on per-process {policy.summary}s, alpha = {policy.alpha:g} (two-sided), "
                f"minimum effect {policy.min_effect * 100:g} %; false-positive rate at most {fp * 100:g} % "
                "per benchmark on identical code")
    return (f"{backend} backend: exact counts; a change at or above the tolerance fails (default "
            f"{policy.tolerance * 100:g} %, at least {policy.learn_factor:g}x the observed spread)")


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no message)"
