"""Comparing results of two platforms through calibration profiles (measure.calibration).

Each side's values are divided by its platform's factor (units of that platform per reference
unit), so both read in reference-platform units. The comparison is then only as precise as the
transfer: the tolerance of every benchmark is widened to at least the 95 % half-width of the two
factors' combined error (their bootstrap log SEs and the platform x program interaction SDs, the
calibration's measured floor on how well one program's counts transfer), and the report says so.
A side on the reference platform needs no profile of its own (the shipped reference profile is used).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import List, Sequence, Tuple

from ..errors import ConfigError, MissingProfile
from .compare import GatePolicy
from .resultset import BenchResult, ResultSet

Z95 = 1.959963984540054


def _profile_for(rs: ResultSet, profiles: Sequence, what: str):
    from ..calibration.normalize import missing_profile_message
    from ..calibration.profile import shipped_profiles
    for p in list(profiles) + shipped_profiles():
        if p.matches(rs.platform):
            return p
    raise MissingProfile(f"no calibration profile matches the {what}'s platform: " + missing_profile_message(rs.platform))


def _scaled(rs: ResultSet, factor: float) -> ResultSet:
    benches = {n: replace(b, processes=tuple(tuple(v / factor for v in p) for p in b.processes))
               for n, b in rs.benchmarks.items()}
    return ResultSet(rs.platform, benches, rs.meta)


def calibrate(base: ResultSet, cand: ResultSet, profile_paths: Sequence[str],
              policy: GatePolicy) -> Tuple[ResultSet, ResultSet, GatePolicy, List[str]]:
    """Both sides in reference units, on one nominal platform (the candidate's), and the policy with
    tolerances widened by the transfer error; plus notes for the report."""
    try:
        from ..calibration.profile import load
    except ImportError:  # pragma: no cover - the calibration layer ships with measure
        raise ConfigError("this installation has no calibration layer (measure.calibration)") from None
    if not (base.deterministic and cand.deterministic):
        raise ConfigError("--calibration applies to instruction counts (valgrind, perf), not to the time backend")
    profiles = [load(p) for p in profile_paths]
    pb, pc = _profile_for(base, profiles, "baseline"), _profile_for(cand, profiles, "candidate")
    fb, fc = pb.factor, pc.factor
    err = math.sqrt(sum(x ** 2 for p in (pb, pc) for x in (p.fit.log_se, p.fit.interaction_sd)))
    floor = math.exp(Z95 * err) - 1
    b2 = _scaled(base, fb)
    c2 = _scaled(cand, fc)
    b2 = ResultSet(cand.platform, b2.benchmarks, b2.meta)  # one nominal platform: both are in reference units
    tolerance = max(policy.tolerance, floor)
    tolerances = {n: max(t, floor) for n, t in policy.tolerances.items()}
    for n, b in list(c2.benchmarks.items()):
        if b.tolerance is not None and b.tolerance < floor:
            c2.benchmarks[n] = BenchResult(b.name, b.metric, b.processes, b.status, b.message, floor)
    notes = [f"calibrated: baseline {base.platform.label()} / {fb:.4g}, candidate {cand.platform.label()} / {fc:.4g} "
             f"(reference units); tolerance at least {floor * 100:.2f} %, the profiles' 95 % transfer error"]
    return b2, c2, replace(policy, tolerance=tolerance, tolerances=tolerances), notes
