"""``calibrate``: measure the suite on a platform, fit it against the reference, validate it.

The steps are the functions below; ``measure calibrate`` (cli.py) strings them together.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, Sequence, Union

from .collect import Collection, collect
from ..errors import CalibrationError, ProfileError
from .model import fit_platform
from .profile import Profile, ProfileFit, from_collection, identity_fit, reference_profile
from .programs import CalibrationProgram, load_directory, select, suite
from .validate import validate

Progress = Optional[Callable[[str], None]]


@contextmanager
def measurement_bar(total: int, desc: str, enabled: bool) -> Iterator[Optional[Callable[[], object]]]:
    """A progress bar with ETA on stderr over ``total`` program measurements; yields its tick (None
    when not ``enabled``)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="program", file=sys.stderr, leave=False, smoothing=0.1,
               dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()


def _collect(progs: Sequence[CalibrationProgram], *, desc: str, bar: bool, processes: Optional[int] = None,
             backend: str = "valgrind", **kwargs) -> Collection:
    """:func:`.collect.collect` with :func:`measurement_bar` around it."""
    n = processes or (1 if backend != "time" else 5)
    with measurement_bar(len(progs) * n, desc, bar) as tick:
        return collect(progs, backend=backend, processes=processes, tick=tick, **kwargs)


def check_against_reference(c: Collection, reference: Profile) -> None:
    """ProfileError when a program differs from the reference's version of it, CalibrationError when
    one computed a different result (the counts would not be of the same work)."""
    changed = [n for n, pc in c.programs.items()
               if n in reference.programs and pc.digest != reference.programs[n].digest]
    if changed:
        raise ProfileError(f"the reference profile measured other versions of {', '.join(sorted(changed))}: use the "
                           "reference profile shipped with this measure, or recalibrate the reference platform")
    differ = [n for n, pc in c.programs.items() if pc.status == "ok" and n in reference.programs
              and reference.programs[n].status == "ok" and reference.programs[n].output
              and pc.output != reference.programs[n].output]
    if differ:
        raise CalibrationError(f"suite program(s) {', '.join(sorted(differ))} computed a different result than on the "
                               "reference platform, so their counts are not of the same work: check the interpreter")


def make_profile(c: Collection, reference: Optional[Profile], n_boot: int = 2000) -> Profile:
    """A profile from a collection: fitted against ``reference``, or the reference itself when None."""
    if reference is None:
        return from_collection(c, identity_fit(sum(1 for p in c.programs.values() if p.status == "ok")), None)
    check_against_reference(c, reference)
    target = {n: pc.per_process for n, pc in c.programs.items() if pc.status == "ok"}
    ref = reference.per_process
    skipped = sorted(n for n, pc in c.programs.items() if pc.status != "ok") + \
        sorted(n for n in target if n not in ref)
    kinds = {n: pc.kind for n, pc in c.programs.items()}
    ops = {n: pc.bytecodes for n, pc in c.programs.items() if pc.bytecodes}
    fns = {n: pc.functions for n, pc in c.programs.items() if pc.functions}
    fit = fit_platform(target, ref, kinds, bytecodes=ops or None, functions=fns or None, n_boot=n_boot)
    return from_collection(c, ProfileFit.from_fit(fit, skipped), reference)


def calibrate(*, python: Optional[str] = None, backend: str = "valgrind", reference: Optional[Profile] = None,
              as_reference: bool = False, programs: Optional[Sequence[str]] = None,
              repeat: Optional[int] = None, processes: Optional[int] = None, timeout: float = 600.0,
              progress: Progress = None, bar: bool = False) -> Profile:
    """Measure the suite (or the named programs) on (backend, python) and fit the platform's factor
    against ``reference`` (default: the shipped reference profile). ``as_reference`` makes a
    reference profile instead (factor 1). ``bar``: a progress bar with ETA on stderr while measuring."""
    progs = select(suite(), programs)
    ref = None if as_reference else (reference or reference_profile())
    c = _collect(progs, desc="suite", bar=bar, backend=backend, python=python, repeat=repeat, processes=processes,
                 timeout=timeout, progress=progress)
    if progress and ref is not None:
        progress("fitting the models (bootstrap, cross-validation)")
    return make_profile(c, ref)


def predict_reference_units(profile: Profile, count: float, bytecodes: Optional[float] = None,
                            functions: Optional[Dict[str, int]] = None) -> float:
    """A count on the profile's platform in reference units, by the profile's model where the call's
    profile (bytecodes, functions) is known, else the platform factor (:func:`.normalize.factor_for`)."""
    from .normalize import factor_for
    return count / factor_for(profile, count, bytecodes, functions)[0]


def validate_profile(profile: Profile, heldout: Union[str, Path], *, reference_counts: Optional[Dict[str, float]] = None,
                     reference_python: Optional[str] = None, python: Optional[str] = None,
                     timeout: float = 600.0, progress: Progress = None, bar: bool = False):
    """Measure the held-out programs in ``heldout`` on the profile's platform, normalise them, and
    compare them with the reference platform's counts: from ``reference_counts``, else the shipped
    reference profile's held-out counts (matched by program digest), else measured now on
    ``reference_python``. Returns (Validation, normalised counts, reference counts, collection)."""
    progs = load_directory(heldout)
    backend = profile.platform.backend
    c = _collect(progs, desc="held-out", bar=bar, backend=backend, python=python, timeout=timeout, progress=progress)
    if not profile.matches(c.platform):
        raise ProfileError(f"the profile is for {profile.platform.label()} but --python runs {c.platform.label()}: "
                           "validate a profile on the platform it was made on")
    if reference_counts is None:
        if reference_python is not None:
            rc = _collect(progs, desc="held-out (reference)", bar=bar, backend="valgrind", python=reference_python,
                          timeout=timeout, progress=progress)
            reference_counts = {n: pc.count for n, pc in rc.programs.items() if pc.status == "ok"}
        else:
            reference_counts = stored_heldout_counts(progs)
    norm = {n: predict_reference_units(profile, pc.count, pc.bytecodes, pc.functions)
            for n, pc in c.programs.items() if pc.status == "ok"}
    lopo = profile.fit.used_lopo
    v = validate(norm, reference_counts, lopo_errors=None if lopo is None else lopo.errors)
    return v, norm, reference_counts, c


def stored_heldout_counts(progs: Sequence[CalibrationProgram]) -> Dict[str, float]:
    """The shipped reference profile's counts of these held-out programs (same digest only)."""
    ref = reference_profile()
    stored = (ref.validation or {}).get("heldout_counts", {})
    out = {p.name: stored[p.name]["count"] for p in progs
           if p.name in stored and stored[p.name]["digest"] == p.digest}
    if len(out) < 4:
        raise CalibrationError("the reference profile holds counts for fewer than 4 of these held-out programs "
                               "(or other versions of them): pass --reference-python PATH to measure them on the "
                               "reference platform now")
    return out


def heldout_counts_section(heldout: Union[str, Path], python: Optional[str], timeout: float = 600.0,
                           progress: Progress = None, bar: bool = False) -> Dict[str, Dict]:
    """For a reference profile: the held-out programs' counts on the reference platform, by name, with
    their digests (a changed held-out program is then measured afresh, never compared with a stale count)."""
    c = _collect(load_directory(heldout), desc="held-out", bar=bar, backend="valgrind", python=python, timeout=timeout,
                 progress=progress)
    return {n: {"count": pc.count, "digest": pc.digest, "bytecodes": pc.bytecodes}
            for n, pc in c.programs.items() if pc.status == "ok"}
