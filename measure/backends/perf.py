"""The ``perf`` backend: hardware counters owned by the parent, attached to the worker.

The parent opens the group on the worker's pid before it execs (``inherit`` so that every
forked call is covered, disabled), and enables/disables it when the worker signals the edges of
a region. The candidate never holds a counter descriptor; seccomp denies it perf_event_open.
Counts of a forked call are folded into the parent's descriptors when that call exits, so the
group is read after the worker has reaped it. A region's count is the difference between two
cumulative reads: PERF_EVENT_IOC_RESET does not clear what exited children folded in.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..errors import PerfError
from ..native import Child, PerfGroup
from .base import Backend, Counts

DEFAULT_EVENTS = ("instructions", "cycles", "branches", "branch-misses", "task-clock")
FALLBACK_EVENTS = (DEFAULT_EVENTS, ("instructions", "task-clock"), ("instructions",))
_FIELD = {"instructions": "instructions", "cycles": "cycles", "branches": "branches",
          "branch-misses": "branch_misses", "task-clock": "task_clock_ns"}


class PerfBackend(Backend):
    """``events``: None picks the largest hardware group this CPU accepts; an explicit list (for
    example software events only, to exercise the protocol on a machine without a PMU) is used as is."""

    name = "perf"
    mode = "perf"
    deterministic = True
    min_rate = 1e8         # native CPython runs 1e9-1e10 instructions/s
    call_overhead_s = 1.0

    def __init__(self, events: Optional[Sequence[str]] = None):
        self.mode = "perf"
        self._explicit = tuple(events) if events else None
        self.events = self._explicit or DEFAULT_EVENTS

    def check(self) -> None:
        candidates = (self._explicit,) if self._explicit else FALLBACK_EVENTS
        last: Optional[PerfError] = None
        for events in candidates:
            try:
                PerfGroup.open(events, inherit=True).close()
            except PerfError as exc:
                last = exc
                continue
            self.events = events
            return
        assert last is not None
        raise last

    def region_start(self, child: Child) -> None:
        child.group.enable()

    def region_end(self, child: Child) -> None:
        child.group.disable()

    def _delta(self, child: Child):
        now = child.group.read()
        before, child.last_reading = child.last_reading, now
        return now if before is None else now.since(before)

    def read(self, child: Child, workdir: str, pid: int, region: str, *, functions: bool = False) -> Counts:
        reading = self._delta(child)
        v = reading.values if not reading.scaled else {k: round(x) for k, x in reading.estimates.items()}
        return Counts(scaled=reading.scaled, **{_FIELD[e]: int(v[e]) for e in reading.values if e in _FIELD})

    def discard(self, child: Child, workdir: str, pid: int) -> None:
        if child.group is not None and not child.group.closed:
            child.group.disable()
            self._delta(child)
