"""The ``time`` backend: task-clock (CPU time) and wall time of the region. Never deterministic:
compare timings only through the statistics layer.

Where software perf events work, task-clock comes from a ``task-clock`` counter that the parent
owns and enables at the region's edges (the perf protocol, so threads the candidate starts are
included and the wait for the parent is not). Elsewhere the worker reads its thread's CPU clock.
(The process CPU clock is useless here: with RLIMIT_CPU set, Linux updates it only at ticks.)
"""
from ..errors import PerfError
from .perf import PerfBackend


class TimeBackend(PerfBackend):
    name = "time"
    deterministic = False
    min_rate = None  # counts no instructions

    def __init__(self):
        super().__init__(events=("task-clock",))

    def check(self) -> None:
        try:
            super().check()
            self.mode = "perf"
        except PerfError:
            self.mode = "time"
            self.events = ()
