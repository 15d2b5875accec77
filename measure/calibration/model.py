"""The calibration model: log-linear with program effects, fitted with statsmodels.

    log y[p, b] = mu + a[p] + b[b] + e[p, b],      a[reference] = 0

``y`` is a program's count (or per-process median time) on a platform. ``exp(a[p])`` is the
platform's factor: how many of its units one reference unit costs. ``e`` is the platform x program
interaction; its SD (in log units) is the floor on how well any single factor can agree for an
individual program. Everything here is a pure function of counts (dicts program -> value).

Methods: ``ols`` (program fixed effects; the default), ``rlm`` (Huber's T, robust to one odd
program), ``mixedlm`` (programs as random intercepts: copes with platforms missing programs and
reports the interaction variance as a variance component), and ``median`` (median log ratio).
Uncertainty: a bootstrap over programs (and, for timed platforms, over processes within each
program: the two-level design). Error: leave-one-program-out cross-validation, measured, never assumed.

Beyond one factor: the IPB model lets the factor depend on the program's instructions per
bytecode (a cheap dynamic profile, :mod:`.bytecodes`): interpreter-loop work and work done in C
scale differently between builds. The function model goes further: under valgrind, callgrind
attributes each call's instructions to C functions, and the factor becomes the mix of per-function
factors fitted on the suite (ridge regression, :class:`FunctionModel`). Which model a platform uses
is decided by the same leave-one-program-out cross-validation and recorded in the profile. Per-kind
factors (the suite's ``KIND`` tags, shrunk toward the platform factor) are reported as a description
of the platform.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import CalibrationError
from ..extras import require

Counts = Mapping[str, float]
Processes = Mapping[str, Sequence[float]]   # program -> per-process medians


@dataclass(frozen=True)
class Factor:
    """A platform's factor relative to the reference, with a bootstrap CI (``confidence``)."""

    value: float
    low: float
    high: float
    log_se: float               # SD of the bootstrap log factors
    confidence: float = 0.95


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-program-out relative errors of predicting the reference count (signed, e.g. 0.03 = 3 %)."""

    errors: Dict[str, float]

    def _abs(self) -> np.ndarray:
        return np.abs(np.array(list(self.errors.values()), dtype=float))

    @property
    def median(self) -> float:
        return float(np.median(self._abs()))

    @property
    def p90(self) -> float:
        return float(np.quantile(self._abs(), 0.9))

    @property
    def worst(self) -> float:
        return float(self._abs().max())


@dataclass(frozen=True)
class Fit:
    """One platform against the reference."""

    method: str
    factor: Factor
    n_programs: int
    interaction_sd: float                  # SD of log(y_p / y_ref) across programs (log units)
    alternatives: Dict[str, float]         # factor by the other methods
    mixedlm_interaction_sd: Optional[float]
    lopo: CrossValidation
    kind_factors: Dict[str, Tuple[float, int]] = field(default_factory=dict)   # kind -> (factor, n programs)
    ipb: Optional["IPBModel"] = None
    ipb_lopo: Optional[CrossValidation] = None
    common: Tuple[str, ...] = ()
    functions: Optional["FunctionModel"] = None
    functions_lopo: Optional[CrossValidation] = None

    @property
    def ipb_pays(self) -> bool:
        """Whether the IPB model's cross-validated error beats the single factor's."""
        return self.ipb is not None and self.ipb_lopo is not None and \
            mean_abs_log(self.ipb_lopo) < mean_abs_log(self.lopo)

    @property
    def model(self) -> str:
        """The model normalisation uses: ``factor``, ``ipb`` or ``functions``, whichever has the
        lowest cross-validated error (:func:`mean_abs_log`); the single factor on a tie."""
        cands = [("factor", self.lopo), ("ipb", self.ipb_lopo if self.ipb is not None else None),
                 ("functions", self.functions_lopo if self.functions is not None else None)]
        best = "factor", mean_abs_log(self.lopo)
        for name, cv in cands[1:]:
            if cv is not None and mean_abs_log(cv) < best[1]:
                best = name, mean_abs_log(cv)
        return best[0]


def common_programs(target: Counts, reference: Counts) -> List[str]:
    """Programs with a positive count on both platforms, sorted by name."""
    return sorted(b for b in target if b in reference and target[b] and reference[b]
                  and target[b] > 0 and reference[b] > 0)


def log_ratios(target: Counts, reference: Counts, names: Sequence[str]) -> np.ndarray:
    return np.array([math.log(target[b]) - math.log(reference[b]) for b in names])


def long_frame(platforms: Mapping[str, Counts]):
    """A pandas DataFrame (platform, program, logy) from platform -> program -> count (missing cells omitted)."""
    pd = require("pandas", "the calibration fit")
    rows = [(p, b, math.log(v)) for p, cs in platforms.items() for b, v in cs.items() if v and v > 0]
    return pd.DataFrame(rows, columns=["platform", "program", "logy"])


def fit_ols(platforms: Mapping[str, Counts], reference: str) -> Dict[str, float]:
    """OLS with program fixed effects; returns platform -> factor (reference 1). Missing cells are allowed."""
    smf = require("statsmodels.formula.api", "the calibration fit")
    df = long_frame(platforms)
    res = smf.ols(f"logy ~ C(program) + C(platform, Treatment(reference={reference!r}))", data=df).fit()
    return _factors(res.params, platforms, reference)


def fit_rlm(platforms: Mapping[str, Counts], reference: str) -> Dict[str, float]:
    """Huber-T robust regression, same design as :func:`fit_ols`."""
    sm = require("statsmodels.api", "the calibration fit")
    smf = require("statsmodels.formula.api", "the calibration fit")
    df = long_frame(platforms)
    res = smf.rlm(f"logy ~ C(program) + C(platform, Treatment(reference={reference!r}))", data=df,
                  M=sm.robust.norms.HuberT()).fit()
    return _factors(res.params, platforms, reference)


def fit_mixedlm(platforms: Mapping[str, Counts], reference: str) -> Tuple[Dict[str, float], float, float]:
    """Programs as random intercepts. Returns (platform -> factor, program SD, residual (interaction) SD),
    SDs in log units. Copes with platforms that miss programs."""
    smf = require("statsmodels.formula.api", "the calibration fit")
    df = long_frame(platforms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # convergence chatter on tiny designs; the result is checked below
        res = smf.mixedlm(f"logy ~ C(platform, Treatment(reference={reference!r}))", data=df,
                          groups=df["program"]).fit(reml=True)
    program_sd = float(math.sqrt(max(float(res.cov_re.iloc[0, 0]), 0.0)))
    return _factors(res.fe_params, platforms, reference), program_sd, float(math.sqrt(res.scale))


def _factors(params, platforms, reference) -> Dict[str, float]:
    out = {reference: 1.0}
    for p in platforms:
        if p == reference:
            continue
        key = f"C(platform, Treatment(reference={reference!r}))[T.{p}]"
        if key not in params:
            raise CalibrationError(f"platform {p!r} shares no program with the reference: no factor can be fitted")
        out[p] = float(math.exp(params[key]))
    return out


def bootstrap_factor(target: Processes, reference: Processes, names: Sequence[str], *, n_boot: int = 2000,
                     confidence: float = 0.95, seed: int = 0) -> Factor:
    """Factor = exp(mean log ratio) (the OLS estimate for two platforms), with a percentile CI from a
    bootstrap over programs and, where a program has several processes, over its processes."""
    rng = np.random.default_rng(seed)
    t = [np.asarray(target[b], dtype=float) for b in names]
    r = [np.asarray(reference[b], dtype=float) for b in names]
    point = float(np.mean([math.log(np.median(x)) - math.log(np.median(y)) for x, y in zip(t, r)]))
    n = len(names)
    multi = any(len(x) > 1 for x in t) or any(len(y) > 1 for y in r)
    logs = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, n)
        if multi:
            d = [math.log(np.median(rng.choice(t[j], len(t[j])))) - math.log(np.median(rng.choice(r[j], len(r[j]))))
                 for j in idx]
        else:
            d = [math.log(t[j][0]) - math.log(r[j][0]) for j in idx]
        logs[i] = np.mean(d)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(logs, [alpha, 1 - alpha])
    return Factor(math.exp(point), float(math.exp(lo)), float(math.exp(hi)), float(np.std(logs, ddof=1)), confidence)


def lopo(target: Counts, reference: Counts, names: Sequence[str]) -> CrossValidation:
    """Leave one program out: fit the factor on the others, predict the left-out reference count."""
    d = log_ratios(target, reference, names)
    n = len(d)
    total = d.sum()
    return CrossValidation({b: float(math.exp(d[i] - (total - d[i]) / (n - 1)) - 1) for i, b in enumerate(names)})


def shrunk_kind_factors(d: np.ndarray, kinds: Sequence[str]) -> Dict[str, Tuple[float, int]]:
    """Per-kind factors (descriptive), shrunk toward the platform factor by empirical Bayes
    (method of moments): a kind with one program borrows most of its estimate from the platform."""
    d = np.asarray(d, dtype=float)
    grand = float(d.mean())
    groups: Dict[str, List[float]] = {}
    for x, k in zip(d, kinds):
        groups.setdefault(k, []).append(float(x))
    within = [x - np.mean(v) for v in groups.values() for x in v]
    dof = len(d) - len(groups)
    s2 = float(np.sum(np.square(within)) / dof) if dof > 0 else float(np.var(d))
    means = np.array([np.mean(v) for v in groups.values()])
    sizes = np.array([len(v) for v in groups.values()])
    tau2 = max(float(np.var(means, ddof=1)) - s2 * float(np.mean(1.0 / sizes)), 0.0) if len(groups) > 1 else 0.0
    out = {}
    for (k, v), m in zip(groups.items(), means):
        w = len(v) * tau2 / (len(v) * tau2 + s2) if (tau2 + s2) > 0 else 0.0
        out[k] = (float(math.exp(grand + w * (m - grand))), len(v))
    return out


@dataclass(frozen=True)
class IPBModel:
    """log factor(x) = alpha + beta * (clip(x) - x_mean), x = log(instructions per bytecode on the platform).

    ``cov`` is the bootstrap covariance of (alpha, beta); x is clipped to the suite's range
    [x_min, x_max] so a candidate outside it gets the factor of the nearest suite program's IPB."""

    alpha: float
    beta: float
    x_mean: float
    x_min: float
    x_max: float
    cov: Tuple[Tuple[float, float], Tuple[float, float]]
    residual_sd: float

    def log_factor(self, count: float, bytecodes: float) -> Tuple[float, float]:
        """(log factor, its SE) for a call that ran ``count`` units and ``bytecodes`` bytecodes here.

        The covariate uses the platform's own count, so the model needs nothing from the reference."""
        x = min(max(math.log(max(count, 1.0) / max(bytecodes, 1.0)), self.x_min), self.x_max) - self.x_mean
        (va, cab), (_, vb) = self.cov
        return self.alpha + self.beta * x, math.sqrt(max(va + x * x * vb + 2 * x * cab, 0.0))

    def to_dict(self) -> Dict:
        return {"alpha": self.alpha, "beta": self.beta, "x_mean": self.x_mean, "x_min": self.x_min,
                "x_max": self.x_max, "cov": [list(r) for r in self.cov], "residual_sd": self.residual_sd}

    @classmethod
    def from_dict(cls, d: Mapping) -> "IPBModel":
        return cls(d["alpha"], d["beta"], d["x_mean"], d["x_min"], d["x_max"],
                   tuple(tuple(r) for r in d["cov"]), d["residual_sd"])


def _ipb_fit(x: np.ndarray, y: np.ndarray) -> Tuple[float, float, float]:
    xm = float(x.mean())
    xc = x - xm
    sxx = float(np.dot(xc, xc))
    beta = float(np.dot(xc, y - y.mean()) / sxx) if sxx > 0 else 0.0
    return float(y.mean()), beta, xm


def fit_ipb(target: Counts, reference: Counts, bytecodes: Mapping[str, float], names: Sequence[str], *,
            n_boot: int = 2000, seed: int = 0) -> Tuple[IPBModel, CrossValidation]:
    """The IPB model by OLS (statsmodels), its bootstrap covariance over programs, and its LOPO errors."""
    sm = require("statsmodels.api", "the calibration fit")
    names = [b for b in names if bytecodes.get(b)]
    if len(names) < 4:
        raise CalibrationError("the IPB model needs bytecode counts for at least 4 programs")
    x = np.array([math.log(target[b] / bytecodes[b]) for b in names])
    y = log_ratios(target, reference, names)
    if float(np.ptp(x)) < 1e-9:
        raise CalibrationError("every program has the same instructions per bytecode: the IPB model has no slope to fit")
    xm = float(x.mean())
    res = sm.OLS(y, sm.add_constant(x - xm)).fit()
    alpha, beta = float(res.params[0]), float(res.params[1])
    rng = np.random.default_rng(seed)
    boots = np.empty((n_boot, 2))
    for i in range(n_boot):
        idx = rng.integers(0, len(names), len(names))
        a, b, m = _ipb_fit(x[idx], y[idx])
        boots[i] = (a + b * (xm - m), b)      # re-centred at the full data's x mean
    cov = np.cov(boots.T)
    model = IPBModel(alpha, beta, xm, float(x.min()), float(x.max()),
                     ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
                     float(math.sqrt(res.scale)))
    errs = {}
    for i, b in enumerate(names):
        keep = np.arange(len(names)) != i
        a, bb, m = _ipb_fit(x[keep], y[keep])
        xi = min(max(x[i], x[keep].min()), x[keep].max())
        errs[b] = float(math.exp(y[i] - (a + bb * (xi - m))) - 1)
    return model, CrossValidation(errs)


def rms_log(cv: CrossValidation) -> float:
    """Root mean square of log(1 + error)."""
    v = np.log1p(np.array(list(cv.errors.values())))
    return float(np.sqrt(np.mean(v * v)))


def mean_abs_log(cv: CrossValidation) -> float:
    """Mean |log(1 + error)|: the criterion that decides between models (one program the suite
    cannot predict by any model does not decide alone, as it would a squared criterion)."""
    return float(np.mean(np.abs(np.log1p(np.array(list(cv.errors.values()))))))


# ---------------------------------------------------------------------------------------------
# The function model: which C functions a program's instructions run in, and what each costs here.

#: Ridge penalties tried for the function model (chosen by leave-one-program-out cross-validation).
FUNCTION_LAMBDAS = tuple(10.0 ** (e / 2) for e in range(-8, 5))

Functions = Mapping[str, Mapping[str, float]]     # program -> function key -> instructions


#: Functions below this share of a program's instructions are pooled as ``(other)`` in a profile.
MIN_FUNCTION_SHARE = 1e-4
OTHER = "(other)"


def trim_functions(functions: Optional[Dict[str, int]], min_share: float = MIN_FUNCTION_SHARE
                   ) -> Optional[Dict[str, int]]:
    """Keep the functions with at least ``min_share`` of the instructions; pool the rest as ``(other)``
    (together at most a few tenths of a percent: they cannot move a prediction, and a profile stays
    small). The total is unchanged."""
    if not functions:
        return None
    total = sum(functions.values())
    out: Dict[str, int] = {}
    rest = 0
    for k, v in sorted(functions.items()):
        if v >= min_share * total:
            out[k] = v
        else:
            rest += v
    if rest:
        out[OTHER] = out.get(OTHER, 0) + rest
    return out


def function_shares(functions: Mapping[str, float]) -> Dict[str, float]:
    """Each function's share of a call's instructions (shares sum to 1; empty for an empty profile)."""
    total = float(sum(v for v in functions.values() if v > 0))
    return {k: v / total for k, v in functions.items() if v > 0} if total > 0 else {}


@dataclass(frozen=True)
class FunctionModel:
    """Reference units per instruction here = h0 + sum_f share_f * coef_f, with share_f the fraction
    of a call's instructions (on this platform) spent in C function f, and coef_f how far that
    function departs from ``h0``, fitted by ridge regression on the suite (penalty ``lam``, scaled
    per function by its largest share in any suite program: see :func:`_ridge`).

    Interpreter builds differ function by function (Debian's 3.11.2 runs ``list_contains`` in 0.63x
    the instructions of pyenv's 3.11.7 and ``list.count`` in 0.81x). If each function f costs g_f
    instructions here per reference instruction, a call's reference count is sum_f n_f / g_f, so
    reference units per instruction are *linear* in the shares n_f / n: the model is exact for
    such a platform, and the ridge penalty pulls functions the suite barely ran toward ``h0``.
    A function the suite never ran adds nothing: a call spent in unseen code gets 1/h0, close to the
    platform factor. ``residual_sd``: RMS of the nested leave-one-program-out log errors (the
    measured error of one prediction)."""

    h0: float
    lam: float
    coef: Dict[str, float]
    residual_sd: float

    def reference_per_unit(self, functions: Mapping[str, float]) -> float:
        """Reference units per unit here for a call with these instructions per function, clipped to
        [h0 / 4, 4 h0] (a guard against a wild extrapolation, far outside anything the suite shows).
        The call's functions are trimmed as the suite's were (:func:`trim_functions`)."""
        shares = function_shares(trim_functions(functions) or {})
        return _clip(self.h0 + sum(w * self.coef.get(f, 0.0) for f, w in shares.items()), self.h0)

    def log_factor(self, functions: Mapping[str, float]) -> float:
        """log of this platform's factor (its units per reference unit) for such a call."""
        return -math.log(self.reference_per_unit(functions))

    def coverage(self, functions: Mapping[str, float]) -> float:
        """The share of a call's instructions in functions the suite ran (the model knows them)."""
        return sum(w for f, w in function_shares(trim_functions(functions) or {}).items() if f in self.coef)

    def to_dict(self) -> Dict:
        return {"h0": self.h0, "lam": self.lam, "residual_sd": self.residual_sd,
                "coef": {f: float(f"{c:.6g}") for f, c in sorted(self.coef.items()) if c != 0.0}}

    @classmethod
    def from_dict(cls, d: Mapping) -> "FunctionModel":
        return cls(float(d["h0"]), float(d["lam"]), dict(d["coef"]), float(d["residual_sd"]))


def _clip(v: float, h0: float) -> float:
    return min(max(v, h0 / 4), 4 * h0)


def _share_matrix(functions: Functions, names: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
    keys = sorted({f for b in names for f in functions[b]})
    col = {f: j for j, f in enumerate(keys)}
    w = np.zeros((len(names), len(keys)))
    for i, b in enumerate(names):
        for f, v in function_shares(functions[b]).items():
            w[i, col[f]] = v
    return w, keys


def _ridge(w: np.ndarray, y: np.ndarray, lam: float) -> Tuple[float, np.ndarray]:
    """(h0, coef) of y = h0 + w coef with an L2 penalty on coef / m, h0 the mean of y.

    m_f is function f's largest share in any program: a function that dominates some program is
    free to take that program's departure from h0, while one that only ever appears as a sliver
    stays near h0 (the plain penalty would spread each program's departure over all of its
    functions, and a function that is a sliver of a cheap program would come out cheap)."""
    h0 = float(y.mean())
    m = w.max(axis=0)
    ws = w * m
    alpha = np.linalg.solve(ws @ ws.T + lam * np.eye(len(y)), y - h0)
    return h0, (ws.T @ alpha) * m


def _kernel_loo(k: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """Leave-one-out predictions of ``y`` by :func:`_ridge` with Gram matrix ``k`` (= ws ws^T), for
    each penalty: [l, j] is y_j predicted by the fit on the others with penalty lambdas[l]
    (unclipped), *as if* leaving j out left ``k`` among the others unchanged (see :func:`_loo`).
    ``k`` may be a stack of Gram matrices (b, n, n); the result is then (b, L, n).

    The fit on the others is h0_j + k[j, -j] (k[-j, -j] + lam I)^-1 (y[-j] - h0_j), h0_j the mean of
    the others' y. For a fixed target z, kernel ridge without intercept predicts z_j from the others
    as z_j - (G z)_j / G_jj with G = (k + lam I)^-1 (the hat-matrix identity e_j / (1 - H_jj): here
    e = lam G z and 1 - H = lam G). That prediction is linear in z and ignores z_j, so with
    z = y - h0_j 1 (h0_j constant within fold j) the fold's prediction is
    y_j - ((G y)_j - h0_j (G 1)_j) / G_jj. h0 is the mean of y, not a fitted unpenalised intercept,
    so no augmented design is needed; one eigendecomposition of k serves every penalty."""
    n = len(y)
    s, u = np.linalg.eigh(k)                                            # k = u diag(s) u^T
    ut = np.swapaxes(u, -1, -2)
    d = 1.0 / (s[..., None, :] + lambdas[:, None])                      # (..., L, n): eigenvalues of G
    g_diag = d @ (ut * ut)                                              # G_jj
    gy = (d * (ut @ y)[..., None, :]) @ ut                              # (G y)_j
    g1 = (d * ut.sum(axis=-1)[..., None, :]) @ ut                       # (G 1)_j
    h0 = (y.sum() - y) / (n - 1)
    return y - (gy - h0 * g1) / g_diag


def _loo(w: np.ndarray, y: np.ndarray, lambdas: Sequence[float]) -> np.ndarray:
    """Leave-one-program-out predictions (reference units per unit, clipped as a prediction is):
    [l, j] is program j predicted by ``_ridge(others, lambdas[l])`` (:func:`_ridge`), in closed form.

    Leaving j out changes the fit's per-function scale m_f where j alone holds function f's largest
    share and some other program runs f: such a program's fold gets its own Gram matrix, with m_f
    the second largest share (a low-rank update of the common one). Where no other program runs f,
    the column only touches k[j, j], which j's own prediction never uses."""
    lambdas = np.asarray(lambdas, dtype=float)
    n = len(y)
    m = w.max(axis=0)
    k = (w * m) @ (w * m).T
    top = w.argmax(axis=0)
    second = np.partition(w, n - 2, axis=0)[n - 2] if n > 2 else np.zeros_like(m)
    moved = (second < m) & (second > 0)
    own = np.unique(top[moved])
    stack = [k]
    for j in own:
        c = moved & (top == j)
        stack.append(k - (w[:, c] * (m[c] ** 2 - second[c] ** 2)) @ w[:, c].T)
    pred = _kernel_loo(np.stack(stack), y, lambdas)
    out = pred[0]
    out[:, own] = pred[np.arange(1, len(own) + 1), :, own].T
    h0 = (y.sum() - y) / (n - 1)
    return np.clip(out, h0 / 4, 4 * h0)


def _loo_cost(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Each penalty's leave-one-out mean |log error| (rows of ``pred``, as :func:`_loo` returns)."""
    return np.mean(np.abs(np.log(y[None, :] / pred)), axis=1)


def _choose_lambda(w: np.ndarray, y: np.ndarray) -> float:
    """The penalty (of :data:`FUNCTION_LAMBDAS`) with the lowest leave-one-out mean |log error|
    (the first such on a tie)."""
    return FUNCTION_LAMBDAS[int(np.argmin(_loo_cost(y, _loo(w, y, FUNCTION_LAMBDAS))))]


def _nested_loo(w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each program's reference units per unit predicted by the fit on the others, its penalty
    chosen by the others' own leave-one-out (:func:`_choose_lambda` without it)."""
    n = len(y)
    outer = _loo(w, y, FUNCTION_LAMBDAS)
    out = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        out[i] = outer[FUNCTION_LAMBDAS.index(_choose_lambda(w[keep], y[keep])), i]
    return out


def fit_functions(target: Counts, reference: Counts, functions: Functions, names: Sequence[str]
                  ) -> Tuple[FunctionModel, CrossValidation]:
    """The function model and its leave-one-program-out errors (relative errors of the predicted
    reference count, like :func:`lopo`).

    The penalty is chosen by leave-one-program-out cross-validation on the suite; the errors reported
    are *nested* (each left-out program's penalty is chosen without it), so they measure the whole
    procedure, not a penalty tuned on the programs it is then scored on."""
    names = [b for b in names if functions.get(b)]
    if len(names) < 4:
        raise CalibrationError("the function model needs the function profiles of at least 4 programs "
                               "(valgrind backend)")
    w, keys = _share_matrix(functions, names)
    y = np.array([reference[b] / target[b] for b in names])
    lam = _choose_lambda(w, y)
    h0, coef = _ridge(w, y, lam)
    nested = _nested_loo(w, y)
    cv = CrossValidation({b: float(nested[i] / y[i] - 1) for i, b in enumerate(names)})
    model = FunctionModel(h0, lam, {k: float(v) for k, v in zip(keys, coef)}, rms_log(cv))
    return model, cv

def fit_platform(target: Processes, reference: Processes, kinds: Mapping[str, str], *,
                 bytecodes: Optional[Mapping[str, float]] = None, functions: Optional[Functions] = None,
                 n_boot: int = 2000, confidence: float = 0.95) -> Fit:
    """Fit one platform against the reference from per-process medians (one value per program under
    a deterministic backend). Programs missing on either side are left out (the caller lists them).
    ``bytecodes`` (program -> bytecodes on this platform) adds the IPB model; ``functions`` (program
    -> instructions per C function on this platform) adds the function model. Raises
    CalibrationError with fewer than 3 common programs."""
    tc = {b: float(np.median(v)) for b, v in target.items() if len(v)}
    rc = {b: float(np.median(v)) for b, v in reference.items() if len(v)}
    names = common_programs(tc, rc)
    if len(names) < 3:
        raise CalibrationError(f"only {len(names)} program(s) measured on both this platform and the reference: "
                               "a factor needs at least 3; run the whole suite")
    factor = bootstrap_factor(target, reference, names, n_boot=n_boot, confidence=confidence)
    d = log_ratios(tc, rc, names)
    pair = {"target": {b: tc[b] for b in names}, "reference": {b: rc[b] for b in names}}
    ols = fit_ols(pair, "reference")["target"]
    if not math.isclose(ols, factor.value, rel_tol=1e-9):
        raise CalibrationError(f"internal check failed: OLS factor {ols} != mean log ratio {factor.value}")
    alts = {"rlm": fit_rlm(pair, "reference")["target"], "median": float(math.exp(np.median(d)))}
    try:
        mfac, _, mix_sd = fit_mixedlm(pair, "reference")
        alts["mixedlm"] = mfac["target"]
    except (np.linalg.LinAlgError, ValueError):
        mix_sd = None
    kf = shrunk_kind_factors(d, [kinds[b] for b in names])
    ipb = ipb_cv = None
    if bytecodes and sum(1 for b in names if bytecodes.get(b)) >= 4:
        try:
            ipb, ipb_cv = fit_ipb(tc, rc, bytecodes, names, n_boot=n_boot)
        except CalibrationError:
            ipb = ipb_cv = None          # no spread in IPB: one factor is all the data support
    fm = fm_cv = None
    if functions and sum(1 for b in names if functions.get(b)) >= 4:
        fm, fm_cv = fit_functions(tc, rc, functions, names)
    return Fit("ols", factor, len(names), float(np.std(d, ddof=1)), alts, mix_sd, lopo(tc, rc, names), kf,
               ipb, ipb_cv, tuple(names), fm, fm_cv)
