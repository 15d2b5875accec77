"""measure: deterministic performance measurement of Python code.

One call, :func:`measure`, runs a program's entry point on a list of inputs in a sandboxed
worker and counts the instructions of each call (``perf`` hardware counters, ``valgrind``, or
``time`` as a noisy fallback). See README.md and docs/
"""
from ._version import __version__
from .errors import (BackendUnavailable, ConfigError, InputFileError, InterpreterError,  # noqa: E402
                     MeasureError, PerfError, PMUUnavailable, SandboxError)
from .model import (Config, CountSummary, Input, InputResult, Measurement, PlatformKey,  # noqa: E402
                    Program, Sample, Status)
from .run import measure  # noqa: E402
from .evaluator import Evaluator, Job, JobResult  # noqa: E402

__all__ = [
    "measure", "Evaluator", "Job", "JobResult", "Program", "Input", "Config", "Measurement", "InputResult", "Sample", "Status",
    "CountSummary", "PlatformKey", "MeasureError", "ConfigError", "InputFileError", "InterpreterError",
    "BackendUnavailable", "PerfError", "PMUUnavailable", "SandboxError",
]
