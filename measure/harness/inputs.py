"""A benchmark's inputs: literal values read losslessly from a file, or trusted dataset code.

**Literal values** use the wire codec's tagged forms (:mod:`measure.wire`) for what JSON lacks:
``{"$tuple": [...]}``, ``{"$set": [...]}``, ``{"$frozenset": [...]}``, ``{"$bytes": "<base64>"}``,
``{"$complex": [re, im]}``, ``{"$dict": [[key, value], ...]}`` (keys that are not strings, or
strings that start with ``$``), ``{"$float": "nan" | "inf" | "-inf"}`` and ``{"$int": "0x..."}``
(any int may also be written plainly). :func:`decode` refuses an unknown tag or ``$pickle``:
a value is never silently altered. :func:`encode` writes any such value back, and raises for a
value that has no lossless form (an object of a class of its own).

**Inputs as code** (:class:`InputCode`) are the benchmark's own generators, as COFFE stores its
stressful tests (``"['a' * 10**6]"``) or a ``generate_input()`` function: evaluated in this
process (trusted dataset code, as COFFE and ENAMEL evaluate theirs), with Python's global random
generator seeded 0 (restored after), outside every count. The value reaches the worker through
the call's input file, never through the parent-worker channel, so its size is bounded by memory,
not by the channel's frame limit.
"""
from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

from ..errors import InputFileError, InputGenerationFailed
from .. import wire

SEED = 0
_LOCK = threading.Lock()  # the global random state is shared by every thread of the parent


@dataclass(frozen=True)
class InputCode:
    """Trusted dataset code that makes one input. ``call`` None: ``source`` is an expression
    whose value is the input; else ``source`` is a module and ``call()`` (a function it defines,
    called without arguments) returns it."""

    source: str
    call: Optional[str] = None

    def key(self) -> Any:
        """What identifies the input in a cache key (the code, not its value)."""
        return {"code": self.source, "call": self.call}


Case = Union[Tuple[Any, ...], InputCode]


def decode(data: Any, where: str) -> Any:
    """A value as a benchmark file writes it (tagged forms decoded); ``where`` names it in the error."""
    try:
        return wire.decode_value(data, trusted=False)
    except wire.WireError as exc:
        raise InputFileError(f"{where}: {exc}. Write tuples, sets, bytes, complex numbers, non-finite floats and "
                             "dicts with non-string keys in the tagged forms of measure/harness/inputs.py") from None


def encode(value: Any, where: str) -> Any:
    """``value`` in the lossless file form; InputFileError for a value that has none."""
    try:
        return wire.encode_value(value)
    except (wire.WireError, RecursionError) as exc:
        raise InputFileError(f"{where}: {exc}: only plain data (JSON types, tuples, sets, frozensets, bytes, complex, "
                             "dicts with any plain keys) can be written without loss") from None


def evaluate(code: InputCode, where: str) -> Any:
    """The value ``code`` makes (see the module docstring); InputGenerationFailed when it raises.
    The last :data:`KEPT` values are kept: every program of a problem runs on the same inputs, and
    a benchmark's generator may take minutes."""
    try:
        return _evaluated(code)
    except Exception as exc:
        raise InputGenerationFailed(f"{where}: the input's code fails: {type(exc).__name__}: {exc}") from None


KEPT = 16


@functools.lru_cache(maxsize=KEPT)
def _evaluated(code: InputCode) -> Any:
    with _LOCK:
        state = random.getstate()
        random.seed(SEED)
        try:
            scope: dict = {"__name__": "__measure_input__"}
            if code.call is None:
                return eval(compile(code.source, "<input>", "eval", dont_inherit=True), scope)
            exec(compile(code.source, "<input>", "exec", dont_inherit=True), scope)
            return scope[code.call]()
        finally:
            random.setstate(state)


def arguments(case: Case, script: bool, where: str) -> Tuple[Any, ...]:
    """The positional arguments of one call: a literal case as it is; code's value as the argument
    list (a list or tuple), or for a script the standard input (str or bytes) as the one argument."""
    if not isinstance(case, InputCode):
        return tuple(case)
    value = evaluate(case, where)
    if script:
        if not isinstance(value, (str, bytes)):
            raise InputGenerationFailed(f"{where}: the input's code returned {type(value).__name__}, not the program's "
                                 "standard input (str or bytes)")
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise InputGenerationFailed(f"{where}: the input's code returned {type(value).__name__}, not a list of the "
                             "function's arguments: write e.g. \"[[1, 2, 3]]\" for one list argument")
    return tuple(value)
