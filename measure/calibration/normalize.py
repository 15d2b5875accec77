"""Normalisation into reference-platform units, and within-platform reference ratios.

``normalize(m, profile)`` divides each input's count by the profile's factor, so a count taken on
any calibrated platform reads in units of the reference platform. The factor is the profile's
model for that call: the function model where the profile chose it and the call's instructions
per C function are known (results measured with ``functions=True`` / ``--functions``), the IPB
model where chosen and the call's bytecodes are known, else the platform factor. The interval
carries the factor's uncertainty (its bootstrap log SE) and, for a noisy metric, the result's own
spread, added in log space; ``prediction`` also adds the model's per-program error (the platform x
program interaction SD for the factor, the residual SD for IPB, the nested-LOPO RMS for the
function model).

``reference_ratio(candidate, reference)`` is the score that needs no calibration: candidate count
over reference-solution count, both on one platform. Across platforms both are refused without
the profiles that make them comparable (:class:`MissingProfile`, naming the platform and the command).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..model import Measurement, PlatformKey, Status
from ..errors import CalibrationError, MissingProfile
from .profile import Profile

Z95 = 1.959963984540054


@dataclass(frozen=True)
class NormalizedInput:
    """One input in reference units: ``value`` with ``ci`` (factor and measurement uncertainty) and
    ``prediction`` (plus the model's per-program error). None for an input without an ok count.
    ``coverage`` (function model only): the share of the call's instructions in C functions the
    calibration suite ran; the rest is normalised by the platform-wide ``h0``, so a low coverage
    says the prediction rests on code no calibration has seen."""

    index: int
    name: Optional[str]
    status: str
    count: Optional[float]
    value: Optional[float]
    ci: Optional[Tuple[float, float]]
    prediction: Optional[Tuple[float, float]]
    coverage: Optional[float] = None


@dataclass(frozen=True)
class Normalized:
    program: str
    entry: str
    platform: PlatformKey
    factor: float
    model: str                    # "platform factor", "IPB model", "function model" (" + "-joined when mixed)
    inputs: Tuple[NormalizedInput, ...]

    def to_dict(self) -> Dict:
        from dataclasses import asdict
        d = asdict(self)
        d["inputs"] = [asdict(i) for i in self.inputs]
        return d


def _metric(profile: Profile) -> str:
    return profile.metric


def _log_se(values: Sequence[float]) -> float:
    """SE of the log median of a few noisy values (0 for one value or identical values)."""
    if len(values) < 2 or min(values) <= 0:
        return 0.0
    logs = [math.log(v) for v in values]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    return 1.2533 * sd / math.sqrt(len(logs))


def missing_profile_message(key: PlatformKey) -> str:
    py = f"CPython {key.python_version} (build {key.python_build[:8]})"
    return (f"no calibration profile for platform {key.label()} ({py}, backend {key.backend}, cpu {key.cpu_model!r}): "
            f"counts from different platforms are not comparable as they are. Make the missing profile on that "
            f"machine with `measure calibrate --python PATH-TO-THAT-PYTHON --backend {key.backend} --out PROFILE.json` "
            "and pass it with --profile PROFILE.json")


def factor_for(profile: Profile, count: float, bytecodes: Optional[float] = None,
               functions: Optional[Mapping[str, float]] = None
               ) -> Tuple[float, float, float, str, Optional[float]]:
    """(factor, its log SE, the prediction SD, the model's name, the suite's coverage of the call)
    for one call on the profile's platform (coverage: function model only, else None).

    The function model where the profile chose it (``fit.model``) and the call's ``functions`` are
    known; the IPB model where its cross-validation beat the single factor (``fit.ipb_pays``) and
    the call's bytecodes are known; otherwise the platform factor. The prediction SD is the model's
    per-program error (see the module docstring)."""
    fit = profile.fit
    if functions and fit.model == "functions" and fit.functions is not None:
        fm = fit.functions
        return math.exp(fm.log_factor(functions)), fit.log_se, fm.residual_sd, "function model", fm.coverage(functions)
    if bytecodes and fit.ipb_pays and fit.ipb is not None:
        lf, se = fit.ipb.log_factor(count, bytecodes)
        return math.exp(lf), se, fit.ipb.residual_sd, "IPB model", None
    return fit.factor, fit.log_se, fit.interaction_sd, "platform factor", None


def normalize(m: Measurement, profile: Profile, *, bytecodes: Optional[Sequence[Optional[float]]] = None,
              functions: Optional[Sequence[Optional[Mapping[str, float]]]] = None,
              allow_rejected: bool = False) -> Normalized:
    """``m``'s counts in reference units through ``profile`` (which must match ``m.platform``).

    ``bytecodes``: per input, the bytecodes the call executes (:func:`.bytecodes.count_program`);
    with them the IPB model is used where the profile kept it. ``functions``: per input, the
    call's instructions per C function; by default those recorded in ``m`` itself (measured with
    ``functions=True``); with them the function model is used where the profile chose it. Raises
    MissingProfile when the profile belongs to another platform, CalibrationError when its
    validation rejected the platform (unless ``allow_rejected``)."""
    if not profile.matches(m.platform):
        raise MissingProfile(f"the profile is for {profile.platform.label()}, the results were taken on "
                             f"{m.platform.label()} (they differ in {'; '.join(m.platform.differences(profile.platform))}). "
                             + missing_profile_message(m.platform))
    verdict = (profile.validation or {}).get("verdict")
    if verdict == "rejected" and not allow_rejected:
        raise CalibrationError(f"the profile of {profile.platform.label()} failed validation "
                               f"({'; '.join((profile.validation or {}).get('reasons', []))}): its normalised counts "
                               "do not agree with the reference within the documented thresholds. Pass "
                               "--allow-rejected (allow_rejected=True) to use it anyway")
    metric = _metric(profile)
    out = []
    models = set()
    for i, r in enumerate(m.inputs):
        vals = [getattr(s, metric) for s in r.samples if s.status is Status.OK and getattr(s, metric) is not None]
        if not vals:
            out.append(NormalizedInput(r.index, r.name, r.status.value, None, None, None, None))
            continue
        count = float(r.summary(metric).median)
        ops = bytecodes[i] if bytecodes is not None and i < len(bytecodes) else None
        fns = functions[i] if functions is not None and i < len(functions) else _recorded_functions(r)
        factor, se_f, inter, model, coverage = factor_for(profile, count, ops, fns)
        models.add(model)
        value = count / factor
        se = math.sqrt(se_f ** 2 + _log_se(vals) ** 2)
        sp = math.sqrt(se ** 2 + inter ** 2)
        out.append(NormalizedInput(r.index, r.name, r.status.value, count, value,
                                   (value * math.exp(-Z95 * se), value * math.exp(Z95 * se)),
                                   (value * math.exp(-Z95 * sp), value * math.exp(Z95 * sp)), coverage))
    return Normalized(m.program, m.entry, m.platform, profile.factor,
                      " + ".join(sorted(models)) or "platform factor", tuple(out))


def _recorded_functions(r) -> Optional[Dict[str, int]]:
    """The first ok sample's instructions per function (deterministic backends repeat them exactly)."""
    return next((s.functions for s in r.samples if s.status is Status.OK and s.functions), None)


def normalize_all(measurements: Sequence[Measurement], profiles: Sequence[Profile], *,
                  allow_rejected: bool = False) -> List[Normalized]:
    """Normalise every measurement with the profile of its platform.

    A measurement on the reference platform needs no profile beyond the reference's own. Any other
    platform without a matching profile raises MissingProfile naming that platform and the command
    that makes its profile; nothing is compared without one."""
    from .profile import shipped_profiles
    out = []
    pool = list(profiles)
    for m in measurements:
        match = next((p for p in pool if p.matches(m.platform)), None)
        if match is None:
            match = next((p for p in shipped_profiles() if p.matches(m.platform)), None)
        if match is None:
            raise MissingProfile(missing_profile_message(m.platform))
        out.append(normalize(m, match, allow_rejected=allow_rejected))
    return out


def reference_ratio(candidate: Measurement, reference: Measurement, metric: str = "instructions"
                    ) -> List[Optional[float]]:
    """Per input, candidate count / reference-solution count, both measured on the same platform.

    This score cancels the platform's factor and needs no calibration. None where either side has
    no ok count (a censored or failed input). Raises MissingProfile when the platforms differ, and
    CalibrationError when the input lists differ in length."""
    if not candidate.platform.comparable_to(reference.platform):
        raise MissingProfile("a reference ratio takes the candidate and the reference solution on one platform; "
                             f"these were measured on {candidate.platform.label()} and {reference.platform.label()}. "
                             "Measure both on one platform, or normalise each with its platform's profile "
                             "(`measure normalize RESULTS.json --profile FILE`).")
    if len(candidate.inputs) != len(reference.inputs):
        raise CalibrationError(f"the candidate has {len(candidate.inputs)} inputs and the reference solution "
                               f"{len(reference.inputs)}: a ratio needs the same inputs")
    out: List[Optional[float]] = []
    for c, r in zip(candidate.inputs, reference.inputs):
        cs, rs = c.summary(metric), r.summary(metric)
        out.append(None if cs is None or rs is None or not rs.median else cs.median / rs.median)
    return out
