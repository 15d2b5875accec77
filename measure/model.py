"""The data model: programs, inputs, configuration, samples, measurements, platform keys.

Records are dataclasses; a :class:`Measurement` round-trips through a versioned JSON document
(``measure/schema/measurement-1.json``), converts to a pandas DataFrame, and exports to pyperf.
"""
from __future__ import annotations

import enum
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import entry as entry_forms, results, wire
from .errors import ConfigError, InputFileError
from .jsonfile import check_schema, read_json, write_json_atomic

SCHEMA_VERSION = 1

#: The backends, in the order ``auto`` tries them (measure.backends); every one but ``time``
#: counts instructions, deterministically. ``auto`` picks the first that works here.
BACKENDS = ("perf", "qemu", "valgrind", "time")
BACKEND_CHOICES = ("auto",) + BACKENDS


def metric_of(backend: str) -> str:
    """The quantity a backend's results are compared on: instructions, or for ``time`` the CPU
    time of the call (task-clock, ns)."""
    return "task_clock_ns" if backend == "time" else "instructions"


def is_deterministic(backend: str) -> bool:
    """Whether repeated counts of one call agree exactly (or nearly: perf), so that one process
    suffices and no statistics across processes are needed."""
    return backend != "time"


class _Missing:
    """The ``expected`` of an Input that has none: one instance, also after pickling (an Input
    crosses processes: Ray tasks, the evaluator), so that ``expected is _MISSING`` holds there."""

    _instance: "Optional[_Missing]" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self):
        return (_Missing, ())

    def __repr__(self) -> str:
        return "<no expected output>"


_MISSING = _Missing()


class Status(str, enum.Enum):
    """How one counted call ended. Only ``ok`` samples carry a count that scores may use."""

    OK = "ok"
    WRONG_ANSWER = "wrong_answer"
    ERROR = "error"                      # exception (traceback in the message), sys.exit, os._exit
    TIMEOUT = "timeout"                  # right-censored: no count is recorded, none is imputed
    MEMORY = "memory"
    CRASHED = "crashed"                  # killed by a signal
    SANDBOX_VIOLATION = "sandbox_violation"  # denied operation, output limit, tampered channel

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Program:
    """Python source whose function ``entry`` is measured. ``name`` labels results.

    paths: host directories the program reads besides the interpreter's own (say, the project
    whose module it imports). The worker runs as an unprivileged user; where one of these lies
    below a directory that user may not enter (/root), the sandbox shows it there, read-only."""

    source: str
    entry: str
    name: str = "candidate"
    paths: Tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str | Path, entry: str) -> "Program":
        p = Path(path)
        try:
            source = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputFileError(f"cannot read the program {str(p)!r}: {exc.strerror}. "
                                 "Check the path and permissions.") from None
        except UnicodeDecodeError:
            raise InputFileError(f"{str(p)!r} is not UTF-8 text: save the source as UTF-8.") from None
        return cls(source, entry, p.stem)

    @classmethod
    def method(cls, source: str, class_name: str, method: str, name: str = "candidate") -> "Program":
        """A LeetCode-style solution: each call is ``class_name().method(*args)`` on a fresh
        instance (Mercury, EffiBench). A source without the class or the method fails its setup
        with the NameError or AttributeError that names it."""
        try:
            return cls(entry_forms.method_source(source, class_name, method), entry_forms.METHOD_ENTRY, name)
        except ValueError as exc:
            raise ConfigError(f"{exc}: give the class and method as in 'Solution.twoSum'") from None

    @classmethod
    def script(cls, source: str, name: str = "candidate") -> "Program":
        """A whole program run as ``__main__``: each call's one argument is its standard input
        (str or bytes) and its output the text written to standard output. See
        :mod:`measure.entry` for what is counted and how ``sys.exit`` is read."""
        return cls(entry_forms.script_source(source), entry_forms.SCRIPT_ENTRY, name)


@dataclass(frozen=True)
class Input:
    """Positional arguments of one call, optionally with the expected output.

    ``args`` must be plain data (JSON types, tuples, sets, bytes) or picklable: the worker gets a
    deep copy for every call, so a candidate that mutates its arguments cannot affect the next call.
    """

    args: Tuple[Any, ...]
    expected: Any = _MISSING
    name: Optional[str] = None

    @property
    def has_expected(self) -> bool:
        return self.expected is not _MISSING


Checker = Callable[[Any, Any], bool]


def budget_needs_counts(backend: str) -> str:
    """Why an instruction budget cannot go with ``backend``, and the way out."""
    return (f"budget counts instructions, and the {backend} backend counts none: choose backend='qemu', "
            "'valgrind' or 'perf', or leave budget out and rely on timeout")


def load_inputs(path: str, expected_path: Optional[str]) -> List[Input]:
    """The inputs of the CLI's ``--inputs INPUTS.json [--expected EXPECTED.json]``: INPUTS.json a JSON list
    of argument lists, EXPECTED.json a list of outputs of the same length. Raises InputFileError naming the fix."""
    data = read_json(path, "inputs file")
    if not isinstance(data, list) or not all(isinstance(a, list) for a in data):
        raise InputFileError(f"{path!r} must be a JSON list of argument lists, e.g. [[1, 2], [3, 4]] for two "
                             "calls f(1, 2) and f(3, 4)")
    if expected_path is None:
        return [Input(tuple(a)) for a in data]
    exp = read_json(expected_path, "expected-outputs file")
    if not isinstance(exp, list) or len(exp) != len(data):
        raise InputFileError(f"{expected_path!r} must be a JSON list with one expected output per input "
                             f"({len(data)} inputs)")
    return [Input(tuple(a), e) for a, e in zip(data, exp)]


@dataclass(frozen=True)
class Config:
    """How to measure.

    backend: ``auto``, ``perf``, ``valgrind`` or ``time``.
    python: path of the measured interpreter (any CPython >= 3.9); None: the one running measure.
    repeat: counted calls per input (k), each in a fresh fork of the loaded worker.
    warmup: uncounted calls before each counted call, in the same fork (caches they fill carry
        into the counted call: 0 counts first-call costs).
    timeout: wall-clock seconds allowed per counted call (and for the module body), under the
        chosen backend: qemu runs code 8-14x slower than native and valgrind 40-105x, so raise it there.
    memory: address-space limit of the worker in bytes (None: unlimited).
    output_limit: bytes a call may write to one file or to stdout/stderr.
    disk: bytes a call may store in all (its working directory is a tmpfs of this size; a call
        that fills it gets ``sandbox_violation``).
    isolation: ``best-effort`` (go on with a warning when a namespace is not permitted) or
        ``strict`` (fail instead).
    checker: ``checker(output, expected) -> bool``; default: equality.
    stop_on_failure: stop at the first call whose status is not ok (timeout, error, ...): later
        inputs are not measured and are absent from ``Measurement.inputs`` (match by ``index``).
        Harnesses whose scoring stops at the first failure (ENAMEL) save the rest of the run.
    functions: also record each counted call's instructions per C function (callgrind's self
        cost per function, ``Sample.functions``): ``valgrind`` backend only. The calibration's
        function model uses them; they make a results file several times larger.
    budget: instructions a counted call may execute (None: no budget). A call that counts more
        is ``timeout``, right-censored like a wall-clock timeout, so whether a slow call is cut
        off is a function of its count alone, never of the machine's load. Deterministic
        backends only (``valgrind``, ``perf``). The wall clock stays as a backstop, far above
        the budget: each call is allowed at least the backend's :meth:`~measure.backends.base.
        Backend.backstop_s` of the budget, or ``timeout`` if that is longer.
    """

    backend: str = "auto"
    python: Optional[str] = None
    repeat: int = 5
    warmup: int = 0
    timeout: float = 10.0
    memory: Optional[int] = 4 * 1024**3
    output_limit: int = 16 * 1024**2
    disk: int = 64 * 1024**2
    isolation: str = "best-effort"
    seccomp: bool = True
    stop_on_failure: bool = False
    functions: bool = False
    budget: Optional[int] = None
    checker: Optional[Checker] = field(default=None, compare=False)

    def __post_init__(self):
        if self.backend not in BACKEND_CHOICES:
            raise ConfigError(f"unknown backend {self.backend!r}: choose {', '.join(BACKEND_CHOICES)}")
        if not isinstance(self.repeat, int) or self.repeat < 1:
            raise ConfigError(f"repeat must be an integer >= 1, got {self.repeat!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ConfigError(f"warmup must be an integer >= 0, got {self.warmup!r}")
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.memory is not None and (not isinstance(self.memory, int) or self.memory < 64 * 1024**2):
            raise ConfigError(f"memory must be at least 64 MiB (in bytes) or None, got {self.memory!r}")
        if not isinstance(self.output_limit, int) or self.output_limit < 4096:
            raise ConfigError(f"output_limit must be at least 4096 bytes, got {self.output_limit!r}")
        if not isinstance(self.disk, int) or self.disk < 1024**2:
            raise ConfigError(f"disk must be at least 1 MiB (in bytes), got {self.disk!r}")
        if self.functions and self.backend not in ("valgrind", "auto"):
            raise ConfigError(f"functions=True needs the valgrind backend (callgrind attributes instructions to "
                              f"functions), not {self.backend!r}: choose backend='valgrind'")
        if self.budget is not None and (not isinstance(self.budget, int) or isinstance(self.budget, bool)
                                        or self.budget < 1):
            raise ConfigError(f"budget must be a positive number of instructions or None, got {self.budget!r}")
        if self.budget is not None and self.backend == "time":
            raise ConfigError(budget_needs_counts("time"))
        if self.isolation not in ("best-effort", "strict"):
            raise ConfigError(f"isolation must be 'best-effort' or 'strict', got {self.isolation!r}")

    def describe(self) -> Dict[str, Any]:
        d = asdict(self)
        d["checker"] = None if self.checker is None else getattr(self.checker, "__qualname__", repr(self.checker))
        return d


@dataclass(frozen=True)
class PlatformKey:
    """Where counts were made. Two counts compare directly when no field that can change a count
    differs (:meth:`differences`); across such a difference, only through a calibration profile.

    cpu_model: the host CPU's marketing name. dispatch: the CPU the measured process sees
    (:mod:`measure.dispatch`: level, vendor, brand and a hash of the CPUID words glibc and numpy
    dispatch on); "" in documents written before it was recorded. kernel: the host's kernel release.
    """

    backend: str
    isa: str
    cpu_model: str
    implementation: str
    python_version: str
    python_build: str     # sha256 prefix of the interpreter binary
    kernel: str
    engine_version: str
    dispatch: str = ""

    def label(self) -> str:
        return f"{self.backend}/{self.isa}/{self.implementation}-{self.python_version}@{self.python_build[:8]}"

    def count_fields(self) -> Tuple[str, ...]:
        """The fields that can change a count of this key's backend.

        Every backend: the backend, ISA, interpreter build and engine version. valgrind: the CPU the
        process sees (valgrind's own, one per host feature level), not the host's name: an AMD EPYC
        and an Intel Xeon give the same counts. qemu: likewise (its fixed model and QEMU release). perf: also the host CPU, whose counters count. time:
        also the kernel (timings follow the scheduler). The kernel never changes a user-space count.
        """
        core = ("backend", "isa", "implementation", "python_version", "python_build", "engine_version", "dispatch")
        if self.backend in ("valgrind", "qemu"):  # the emulator's CPU, not the host's
            return core
        return core + (("cpu_model",) if self.backend == "perf" else ("cpu_model", "kernel"))

    def differences(self, other: "PlatformKey") -> List[str]:
        """``field: this vs that`` for each field that can change a count and differs (empty: the
        counts compare directly). A key without a ``dispatch`` (an older document) is compared on
        ``cpu_model`` in its place."""
        fields = list(self.count_fields() + tuple(f for f in other.count_fields() if f not in self.count_fields()))
        if not (self.dispatch and other.dispatch):
            fields = [f for f in fields if f != "dispatch"] + ([] if "cpu_model" in fields else ["cpu_model"])
        return [f"{f}: {getattr(self, f)!r} vs {getattr(other, f)!r}" for f in fields
                if getattr(self, f) != getattr(other, f)]

    def comparable_to(self, other: "PlatformKey") -> bool:
        """True when counts made under ``self`` and ``other`` compare directly."""
        return not self.differences(other)

    def identity(self) -> Tuple[str, ...]:
        """The values of :meth:`count_fields`: equal identities, comparable counts (a cache key)."""
        return tuple(getattr(self, f) for f in self.count_fields())


@dataclass(frozen=True)
class Sample:
    """One counted call (or the module body, for ``setup``).

    instructions, cycles, branches, branch_misses: user-space counts (None where the backend has
    none, and for every status but ok/wrong_answer). task_clock_ns: CPU time of the region; wall_ns:
    its wall time (under valgrind both are valgrind's). peak_rss_bytes: peak resident set of the
    process that ran it. scaled: the counter group was multiplexed (values are estimates).
    functions: instructions per C function (``name [object]`` -> self cost), only when
    :attr:`Config.functions` asked for them (valgrind); None otherwise.
    """

    status: Status
    instructions: Optional[int] = None
    cycles: Optional[int] = None
    branches: Optional[int] = None
    branch_misses: Optional[int] = None
    task_clock_ns: Optional[int] = None
    wall_ns: Optional[int] = None
    peak_rss_bytes: Optional[int] = None
    scaled: bool = False
    message: str = ""
    functions: Optional[Dict[str, int]] = None

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        if self.functions is None:
            del d["functions"]
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Sample":
        d = dict(d)
        d["status"] = Status(d["status"])
        return cls(**d)


@dataclass(frozen=True)
class CountSummary:
    """median, min, max and all values of the ok counts of one input (k = len(values))."""

    median: float
    min: int
    max: int
    values: Tuple[int, ...]

    @property
    def relative_spread(self) -> float:
        """(max - min) / median; 0 for a deterministic backend that repeated exactly."""
        return (self.max - self.min) / self.median if self.median else 0.0

    @classmethod
    def of(cls, values: Sequence[int]) -> Optional["CountSummary"]:
        if not values:
            return None
        return cls(float(statistics.median(values)), min(values), max(values), tuple(values))


@dataclass(frozen=True)
class InputResult:
    """All samples of one input, its overall status, and the output of its first ok call."""

    index: int
    name: Optional[str]
    status: Status
    samples: Tuple[Sample, ...]
    output: Any = None
    message: str = ""

    def summary(self, metric: str = "instructions") -> Optional[CountSummary]:
        vals = [getattr(s, metric) for s in self.samples if s.status is Status.OK]
        return CountSummary.of([v for v in vals if v is not None])

    @property
    def instructions(self) -> Optional[CountSummary]:
        return self.summary("instructions")


@dataclass(frozen=True)
class Measurement:
    """The result of :func:`measure.measure`: one program on a list of inputs."""

    program: str
    entry: str
    platform: PlatformKey
    config: Dict[str, Any]
    setup: Sample
    inputs: Tuple[InputResult, ...]
    warnings: Tuple[str, ...] = ()
    started: str = ""
    elapsed_s: float = 0.0
    isolation: Dict[str, str] = field(default_factory=dict)  # what the candidate could and could not do

    @property
    def backend(self) -> str:
        return self.platform.backend

    @property
    def ok(self) -> bool:
        return self.setup.status is Status.OK and all(r.status is Status.OK for r in self.inputs)

    def to_dict(self) -> Dict[str, Any]:
        """The versioned JSON document (schema ``measure/schema/measurement-1.json``)."""
        return {
            "schema": "measure/measurement", "version": SCHEMA_VERSION,
            "program": self.program, "entry": self.entry, "started": self.started, "elapsed_s": self.elapsed_s,
            "warnings": list(self.warnings), "isolation": dict(self.isolation), "config": self.config,
            "platform": asdict(self.platform), "setup": self.setup.to_dict(),
            "inputs": [{"index": r.index, "name": r.name, "status": r.status.value, "message": r.message,
                        "output": _encoded_or_repr(r.output), "instructions": _summary(r.instructions),
                        "samples": [s.to_dict() for s in r.samples]} for r in self.inputs],
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The versioned JSON document as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, doc: Any, source: str = "<document>") -> "Measurement":
        """Validate against the schema and rebuild the Measurement. Raises InputFileError naming the field."""
        check_schema(doc, f"measurement-{SCHEMA_VERSION}",
                     f"{source} is not a measure Measurement (version {SCHEMA_VERSION})",
                     "Produce it with `measure run --json` or Measurement export.")
        inputs = tuple(
            InputResult(index=r["index"], name=r.get("name"), status=Status(r["status"]),
                        samples=tuple(Sample.from_dict(s) for s in r["samples"]),
                        output=wire.decode_value(r.get("output")), message=r.get("message", ""))
            for r in doc["inputs"])
        return cls(program=doc["program"], entry=doc["entry"], platform=PlatformKey(**doc["platform"]),
                   config=doc["config"], setup=Sample.from_dict(doc["setup"]), inputs=inputs,
                   warnings=tuple(doc.get("warnings", ())), isolation=dict(doc.get("isolation", {})),
                   started=doc.get("started", ""), elapsed_s=doc.get("elapsed_s", 0.0))

    @classmethod
    def from_json(cls, text: str) -> "Measurement":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InputFileError(f"not valid JSON: {exc}") from None
        return cls.from_dict(doc)

    @classmethod
    def load(cls, path: "str | Path") -> "Measurement":
        """Read a file written by :meth:`save` (or ``measure run --json``)."""
        return cls.from_dict(read_json(path, "measurement file"), repr(str(path)))

    def save(self, path: "str | Path") -> None:
        """Write atomically (a temporary file renamed over the target): a crash never leaves half a file."""
        write_json_atomic(path, self.to_json())

    def to_dataframe(self):
        """One row per counted call (pandas DataFrame; the ``pandas`` extra)."""
        return results.to_dataframe(self)

    def to_pyperf(self, metric: str = "instructions"):
        """A pyperf.BenchmarkSuite (dump it with ``.dump(path)``; ``python -m pyperf stats`` reads it;
        the ``pyperf`` extra)."""
        return results.to_pyperf(self, metric)


def _summary(s: Optional[CountSummary]):
    return None if s is None else {"median": s.median, "min": s.min, "max": s.max, "values": list(s.values)}


def _encoded_or_repr(x: Any) -> Any:
    """A call's output as the lossless value encoding, or its repr where it has none."""
    try:
        return wire.encode_value(x)
    except wire.WireError:
        return repr(x)
