"""Append-only JSONL results: one record per completed unit of work, flushed and fsynced."""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterator, List

from ..errors import InputFileError


class ResultStore:
    """The first line is a header describing the run; a rerun must present the same header.

    A line cut short by a kill (the last one) is ignored and overwritten; any other malformed line
    is an error, since silently dropping results would change scores."""

    def __init__(self, path: str, header: Dict[str, Any]):
        self.path = path
        self._lock = threading.Lock()
        self.records: List[Dict[str, Any]] = []
        if os.path.exists(path) and os.path.getsize(path) > 0:
            self._load(header)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps({"header": header}, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def _load(self, header: Dict[str, Any]) -> None:
        with open(self.path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        if tail.strip():  # a record cut short by a kill: drop it, it will be redone
            with open(self.path, "r+b") as f:
                f.truncate(len(data) - len(tail))
        try:
            first = json.loads(complete[0])
        except (ValueError, IndexError):
            raise InputFileError(f"{self.path} is not a measure results file (no header line): "
                                 "give another --results path") from None
        if first.get("header") != header:
            diff = sorted(k for k in set(header) | set(first.get("header", {}))
                          if header.get(k) != first.get("header", {}).get(k))
            raise InputFileError(f"{self.path} holds results of a different run (differs in: {', '.join(diff)}); "
                                 "give another --results path, or delete the file to start over")
        for n, line in enumerate(complete[1:], start=2):
            if not line.strip():
                continue
            try:
                self.records.append(json.loads(line))
            except ValueError:
                raise InputFileError(f"{self.path} line {n} is not valid JSON: the file was edited or "
                                     "corrupted; delete it to start over") from None

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
