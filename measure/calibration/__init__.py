"""Cross-machine calibration: platform profiles, normalised units, and measured agreement.

``calibrate`` measures the shipped suite (``measure/calibration/suite/*.py``) on a platform
(backend x interpreter x machine) and fits its factor against the reference platform (pyenv
CPython 3.11.7 under valgrind, x86_64; its profile ships as ``reference-profile.json``).
``normalize`` turns a Measurement's counts into reference units through the profile of its
platform; ``reference_ratio`` is the within-platform score that needs no profile. Layer: below
stats and scores, above run (it uses measure.run, measure.model, measure.platform only).
"""
from .calibrate import calibrate, make_profile, validate_profile
from .collect import collect
from ..errors import CalibrationError, MissingProfile, ProfileError
from .model import fit_platform
from .normalize import normalize, normalize_all, reference_ratio
from .profile import REFERENCE_DESCRIPTION, Profile, load, reference_profile, save
from .validate import THRESHOLDS, validate

__all__ = ["calibrate", "make_profile", "validate_profile", "collect", "CalibrationError", "MissingProfile",
           "ProfileError", "fit_platform", "normalize", "normalize_all", "reference_ratio", "REFERENCE_DESCRIPTION",
           "Profile", "load", "reference_profile", "save", "THRESHOLDS", "validate"]
