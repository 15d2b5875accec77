"""Measurements cached by what determines them: program source, inputs, backend, platform, the
worker's code, limits.

A deterministic backend gives the same counts for the same key, so a reference measured once is
reused by every sample and every rerun (and a sample identical to its reference is not measured
again). Time-backend results are not cached: they are samples of a distribution.

Also here: reading back generated test inputs cached beside the measurements (ENAMEL's tests).
Whatever is cached is derived: a damaged entry is regenerated, with a warning, never an error."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigError
from ..model import Config, Measurement, PlatformKey, Program, Status
from ..jsonfile import write_json_atomic
from ..run import worker_hash


def job_key(program: Program, encoded_inputs: List[Any], config: Config, platform: PlatformKey) -> str:
    h = hashlib.sha256()
    for part in (program.source, program.entry, json.dumps(encoded_inputs, sort_keys=True), *platform.identity(),
                 worker_hash(), json.dumps([config.repeat, config.warmup, config.memory, config.output_limit,
                                            config.stop_on_failure])):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _why(exc: BaseException) -> str:
    """An exception as one short line, for a warning."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class MeasurementCache:
    """One JSON file per job, written atomically. An entry that cannot be read back (truncated,
    corrupt, or written by another version of measure) is a miss: the job is measured again and the
    entry rewritten, and :meth:`warnings` says so once, so a damaged cache costs time, never a run.
    A cache that cannot be written is only a warning too."""

    def __init__(self, directory: str):
        self.dir = directory
        self._unreadable: List[str] = []
        self._unwritable: List[str] = []
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot use {directory} as the measurement cache directory: {exc.strerror}; "
                              "give another with --cache DIR") from None

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key + ".json")

    def get(self, key: str, timeout_s: float, budget: Optional[int] = None) -> Optional[Measurement]:
        """The cached measurement if it stands for a run under ``timeout_s`` and ``budget``
        (instructions): both limits are left out of the key, so an entry is reused only when every
        call was ok and within them (a run with a censored call is measured again). Under a budget
        the wall clock is only a backstop, so then only the budget is checked."""
        path = self._path(key)
        try:
            with open(path, encoding="utf-8") as f:
                m = Measurement.from_dict(json.load(f), key)
        except FileNotFoundError:
            return None
        except Exception as exc:  # whatever is wrong with a cache entry, measuring again is the cure
            self._unreadable.append(f"{path}: {_why(exc)}")
            return None
        samples = [s for r in m.inputs for s in r.samples]
        if m.setup.status is not Status.OK or any(s.status is not Status.OK for s in samples):
            return None
        if budget is not None:
            if any(s.instructions is None or s.instructions > budget for s in samples):
                return None
        elif any((s.wall_ns or 0) > timeout_s * 1e9 for s in samples):
            return None
        return m

    def put(self, key: str, m: Measurement) -> None:
        path = self._path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_json_atomic(path, m.to_dict())
        except OSError as exc:
            self._unwritable.append(f"{path}: {exc.strerror}")

    def warnings(self) -> List[str]:
        """One line per kind of trouble this cache had in the run (none when it had none)."""
        out = []
        if self._unreadable:
            n = len(self._unreadable)
            out.append(f"{n} entr{'y' if n == 1 else 'ies'} of the measurement cache {self.dir} could not be read "
                       f"(truncated or corrupt; first: {self._unreadable[0]}): measured again and rewritten")
        if self._unwritable:
            n = len(self._unwritable)
            out.append(f"{n} measurement{'' if n == 1 else 's'} could not be written to the cache {self.dir} "
                       f"(first: {self._unwritable[0]}): a rerun measures {'it' if n == 1 else 'them'} again")
        return out


def _list_problem(x: Any, n: int, what: str, items: str) -> Optional[str]:
    if not isinstance(x, list):
        return f"{what} is {'missing' if x is None else 'a JSON ' + type(x).__name__}, not a list of {n} {items}"
    return None if len(x) == n else f"{what} has {len(x)} {items}, not {n}"


def read_cached_tests(path: str, shape: Dict[int, Sequence[int]]) -> Tuple[Optional[Dict[int, List[List[Any]]]],
                                                                          Optional[str]]:
    """Generated tests cached at ``path`` (a JSON object from problem index to its levels, each a list
    of encoded inputs), checked against ``shape``: per problem index, the number of tests of each level.

    Returns ``(tests, None)`` for a whole entry, ``(None, None)`` when there is none, and
    ``(None, why)`` when the file is truncated or corrupt: the tests are a pure function of the cache
    key, so the caller regenerates them and overwrites the file (atomically) instead of failing."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, _why(exc)
    if not isinstance(doc, dict):
        return None, f"a JSON {type(doc).__name__}, not an object of problems"
    tests: Dict[int, List[List[Any]]] = {}
    for index, counts in shape.items():
        levels = doc.get(str(index))
        why = _list_problem(levels, len(counts), f"problem {index}", "levels")
        for j, n in enumerate(counts):
            why = why or _list_problem(levels[j], n, f"level {j} of problem {index}", "tests")
        if why:
            return None, why
        tests[index] = levels
    return tests, None

