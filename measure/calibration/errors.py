"""Errors of the calibration layer (each names the cause and the remedy)."""
from __future__ import annotations

from ..errors import InputFileError, MeasureError


class CalibrationError(MeasureError):
    """A calibration cannot be made or used: a failed suite run, an incompatible profile, no profile."""


class ProfileError(CalibrationError, InputFileError):
    """A profile file is malformed, or was made by another engine version, suite version or backend."""


class MissingProfile(CalibrationError):
    """Results from different platforms were compared without a calibration profile for each."""
