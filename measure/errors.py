"""Typed exceptions for infrastructure problems. Each message names the cause and the remedy.

A candidate's own failure is never an exception: it is a :class:`~measure.model.Status` on its
sample. These exceptions are for the machine, the configuration or the caller's files.
"""
from __future__ import annotations

import errno as _errno
import os


class MeasureError(Exception):
    """Base class of every error measure raises on purpose."""


class ConfigError(MeasureError, ValueError):
    """A configuration value or an argument is invalid."""


class InputFileError(MeasureError, ValueError):
    """A file given to measure (inputs, expected outputs, a saved Measurement) is unreadable or malformed."""


class BackendUnavailable(MeasureError):
    """The requested backend cannot run on this machine."""


class ValgrindUnavailable(BackendUnavailable):
    pass


class InterpreterError(MeasureError):
    """The measured interpreter cannot be used (missing, not CPython >= 3.9, broken)."""


class SandboxError(MeasureError):
    """The sandbox could not be set up (and strict isolation was asked for, or a required step failed)."""


class WorkerProtocolError(MeasureError):
    """The measured worker broke the parent/worker protocol (this is an engine bug or a tampering candidate)."""


class PerfError(BackendUnavailable, OSError):
    """``perf_event_open`` (or an operation on its descriptors) failed.

    Subclasses map the errno to its usual cause and remedy.
    """

    cause = "perf_event_open failed"
    remedy = "run `measure doctor` for a diagnosis"

    def __init__(self, err: int, what: str = "perf_event_open"):
        self.errno = err
        self.what = what
        OSError.__init__(self, err, f"{what}: {os.strerror(err)} ({_errno.errorcode.get(err, err)}). "
                                    f"Cause: {self.cause}. Remedy: {self.remedy}.")

    def __str__(self) -> str:  # OSError's own formatting would repeat the errno
        return self.strerror


class PMUUnavailable(PerfError):
    cause = ("this kernel exposes no hardware PMU for this event (typical of virtual machines, "
             "cloud VMs and CI runners without a virtual PMU)")
    remedy = ("use `--backend qemu` (deterministic, 8-14x native per call) or `--backend valgrind` (40-105x), "
              "or run on bare metal / a VM with a virtual PMU; software events (task-clock) still work")


class PerfPermissionError(PerfError):
    cause = ("permission denied: kernel.perf_event_paranoid is too high for this user, a capability "
             "(CAP_PERFMON or CAP_SYS_ADMIN) is missing, or a container seccomp profile blocks perf_event_open")
    remedy = ("`sysctl kernel.perf_event_paranoid=2` (or lower; Debian/Ubuntu levels 3/4 forbid unprivileged "
              "use), grant CAP_PERFMON, or allow perf_event_open in the container's seccomp profile")


class PerfNotImplemented(PerfError):
    cause = "perf_event_open is not implemented here (a seccomp ENOSYS action, or gVisor)"
    remedy = "run outside the sandboxing runtime, or use `--backend valgrind`"


class PerfInvalidEvent(PerfError):
    cause = ("the kernel rejected the event attributes (an event this CPU does not have, a group too large "
             "for the counters, or an unsupported flag)")
    remedy = "open fewer events in the group (instructions alone suffice for scores), or use `--backend valgrind`"


class PerfMultiplexed(PerfError):
    cause = "the pinned counter group could not be scheduled on the PMU (other users hold the counters)"
    remedy = "stop other perf users (including the NMI watchdog: `sysctl kernel.nmi_watchdog=0`) or open fewer events"


_PERF_ERRORS = {
    _errno.ENOENT: PMUUnavailable,
    _errno.EOPNOTSUPP: PMUUnavailable,
    _errno.EACCES: PerfPermissionError,
    _errno.EPERM: PerfPermissionError,
    _errno.ENOSYS: PerfNotImplemented,
    _errno.EINVAL: PerfInvalidEvent,
    _errno.ENOSPC: PerfInvalidEvent,
    _errno.ENODATA: PerfMultiplexed,
}


def perf_error(err: int, what: str = "perf_event_open") -> PerfError:
    """The typed exception for a perf_event errno."""
    return _PERF_ERRORS.get(err, PerfError)(err, what)


class MissingExtra(MeasureError, ImportError):
    """An optional package that one application needs is not installed (see measure.extras)."""


class PlatformMismatch(MeasureError):
    """Counts taken on platforms that count differently (:meth:`measure.PlatformKey.differences`)
    were compared without a calibration profile for each: the message names every field that
    differs and the remedy (measure both on one platform, or calibrate each)."""


class HistoryError(MeasureError):
    """The history database cannot be opened or used (not a measure history, newer schema, locked)."""


class ReferenceFailed(MeasureError):
    """A reference solution does not pass its own problem: the problem cannot be scored."""


class InputGenerationFailed(InputFileError):
    """A benchmark's own code that makes an input (a generator, an expression) raised or returned
    something that is not an input: the problem cannot be scored."""


class CalibrationError(MeasureError):
    """A calibration cannot be made or used: a failed suite run, an incompatible profile, no profile."""


class ProfileError(CalibrationError, InputFileError):
    """A profile file is malformed, or was made by another engine version, suite version or backend."""


class MissingProfile(PlatformMismatch, CalibrationError):
    """Results from different platforms were normalised or compared without a calibration profile
    for each: a :class:`PlatformMismatch`, raised by the calibration layer."""
