"""Append-only JSONL results: one record per completed unit of work, flushed and fsynced."""
from __future__ import annotations

import json
import math
import os
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..errors import InputFileError


def _count(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


Check = Tuple[Callable[[Any], bool], str]   # a predicate on a field's value, and what it must be
_INDEX: Check = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer")
_ID: Check = (lambda v: isinstance(v, str) and v != "", "a problem id (a string)")
_BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
_NUMBER: Check = (_count, "a finite non-negative number")
_NUMBER_OR_NULL: Check = (lambda v: v is None or _count(v), "a finite non-negative number or null")

EXCLUDED = "excluded"  # the "sample" of a problem's exclusion record (key "<problem>/excluded")

# What each adapter's summary reads from a record (the header's "adapter" names the adapter): a record
# without one of these, or with a value of the wrong kind, would crash the summary or change a score.
RECORD_FIELDS: Dict[str, Dict[str, Check]] = {
    "enamel": {"problem": _INDEX, "sample": _INDEX, "passed": _BOOL, "score": _NUMBER},
    "coffe": {"problem": _ID, "sample": _INDEX, "correct": _BOOL, "efficient": _BOOL, "cost": _NUMBER_OR_NULL,
              "best_ground_truth_cost": _NUMBER},
    "dps": {"problem": _ID, "sample": _INDEX, "correct": _BOOL, "dps": _NUMBER_OR_NULL,
                 "dps_norm": _NUMBER_OR_NULL, "n_levels": _INDEX},
}


def _show(value: Any) -> str:
    """A value as it appears in the file, cut short: messages stay on one line."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def record_problem(record: Any, fields: Dict[str, Check]) -> Optional[str]:
    """What is wrong with one record (None when it is sound)."""
    if not isinstance(record, dict):
        return f"the record is {_show(record)}, not a JSON object"
    key = record.get("key")
    if "key" not in record:
        return 'the record has no "key" field'
    if not isinstance(key, str) or not key:
        return f'its "key" is {_show(key)}, not a "problem/sample" string'
    if record.get("sample") == EXCLUDED:   # a problem left out: a reference or an input's code failed
        if not isinstance(record.get("reason"), str) or key != f"{record.get('problem')}/{EXCLUDED}":
            return f'the exclusion record {_show(key)} needs its "problem" and a "reason" string'
        return None
    for name, (ok, what) in fields.items():
        if name not in record:
            return f'the record of {key} has no "{name}" field'
        if not ok(record[name]):
            return f'the record of {key} has "{name}": {_show(record[name])}, not {what}'
    if "problem" in fields and key != f"{record['problem']}/{record['sample']}":
        return (f'its "key" {_show(key)} does not match its problem {_show(record["problem"])} '
                f'and sample {record["sample"]}')
    return None


class ResultStore:
    """The first line is a header describing the run; a rerun must present the same header.

    A line cut short by a kill (the last one) is ignored and overwritten; any other malformed line
    is an error, since silently dropping results would change scores. The whole file is checked
    before anything is written to it: on an error it is left exactly as it was."""

    def __init__(self, path: str, header: Dict[str, Any], fields: Optional[Dict[str, Check]] = None):
        self.path = path
        self._lock = threading.Lock()
        self.records: List[Dict[str, Any]] = []
        self._fields = fields if fields is not None else RECORD_FIELDS.get(header.get("adapter"), {})
        head = (json.dumps({"header": header}, sort_keys=True) + "\n").encode("utf-8")
        try:
            data = b""
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
            if data and not (b"\n" not in data and head.startswith(data)):
                self._load(data, header)
            else:  # a new file, or only the start of this run's own header (the first write was killed)
                with open(path, "wb") as f:
                    f.write(head)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as exc:
            raise InputFileError(f"cannot use {path} as the results file: {exc.strerror}; "
                                 "give another --results path") from None

    def _bad(self, problems: List[Tuple[int, str]]) -> InputFileError:
        (n, what), more = problems[0], [str(m) for m, _ in problems[1:]]
        also = ""
        if more:
            also = f" (also line{'s' if len(more) > 1 else ''} {', '.join(more[:5])}{', ...' if len(more) > 5 else ''})"
        these = "those lines to measure their samples" if more else "that line to measure its sample"
        return InputFileError(f"{self.path} line {n}: {what}{also}; the file was edited or damaged. Delete {these} "
                              "again on the next run (the other results are kept), or delete the file to start over")

    def _load(self, data: bytes, header: Dict[str, Any]) -> None:
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        try:
            first = json.loads(complete[0]) if complete else None
        except ValueError:
            first = None
        if not isinstance(first, dict) or not isinstance(first.get("header"), dict):
            raise InputFileError(f"{self.path} is not a measure results file (no header line): "
                                 "give another --results path")
        if first["header"] != header:
            diff = sorted(k for k in set(header) | set(first["header"])
                          if header.get(k) != first["header"].get(k))
            raise InputFileError(f"{self.path} holds results of a different run (differs in: {', '.join(diff)}); "
                                 "give another --results path, or delete the file to start over")
        cut_short = False
        problems: List[Tuple[int, str]] = []
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if n == len(lines) and line.lstrip().startswith(b"{"):  # the last line, without its newline
                    cut_short = True   # a record cut short by a kill: dropped below, it will be redone
                else:
                    problems.append((n, "the line is not valid JSON"))
                continue
            what = record_problem(record, self._fields)
            if what:
                problems.append((n, what))
            else:
                self.records.append(record)
        if problems:
            raise self._bad(problems)
        if tail.strip():
            with open(self.path, "r+b") as f:
                if cut_short:
                    f.truncate(len(data) - len(tail))
                else:  # a whole last record without its newline: end the line before appending
                    f.seek(0, os.SEEK_END)
                    f.write(b"\n")
                f.flush()
                os.fsync(f.fileno())

    def keys(self) -> set:
        return {r["key"] for r in self.records}

    def append(self, record: Dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, allow_nan=False) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self.records.append(record)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(list(self.records))
