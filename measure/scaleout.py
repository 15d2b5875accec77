"""Scale-out on Ray (the ``ray`` extra): the same work as a local thread pool, as Ray tasks across
the nodes of a cluster, which is what RL frameworks (verl, OpenRLHF) already run on.

:func:`ray_map` runs ``fn(item)`` for every item as one Ray task and yields ``(item, result)`` in
completion order. A task whose node dies is run again on another node by Ray (``max_retries``);
a task never returns half a result, so whatever the caller records per completed task (the
harness appends records to its resumable results file) stays consistent. ``fn`` must be
picklable by Ray (a module-level function, or a ``functools.partial`` of one): it rebuilds what
it needs on its node.

Counts are compared only within one platform: the harness sends one problem per task (its
reference and all its samples measured on one node), and every record carries the PlatformKey
of the node that measured it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional, Tuple

from .extras import require

#: Ray runs a task again this many times when its node (or worker process) dies.
MAX_RETRIES = 3


def connect(address: Optional[str] = None):
    """Join the Ray cluster at ``address`` ("auto": the one this machine belongs to; None: start a
    local one), once per process. Returns the ``ray`` module."""
    ray = require("ray", "scale-out on Ray (--ray)")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 ignore_reinit_error=True, configure_logging=False)
    return ray


def remote(fn: Callable[..., Any], address: Optional[str] = None, num_cpus: float = 1.0):
    """``fn`` as a Ray remote function on the cluster at ``address``: ``num_cpus`` per task (a node
    runs as many at once as it has cores), run again on another node when its node dies (up to
    :data:`MAX_RETRIES` times), never retried for an exception of its own."""
    return connect(address).remote(num_cpus=num_cpus, max_retries=MAX_RETRIES, retry_exceptions=False)(fn)


def ray_map(fn: Callable[[Any], Any], items: Iterable[Any], *, address: Optional[str] = None,
            num_cpus: float = 1.0) -> Iterator[Tuple[Any, Any]]:
    """``(item, fn(item))`` for every item, each computed as a Ray task (``num_cpus`` per task,
    so a node runs as many at once as it has cores), yielded as each completes. A task that
    raises re-raises here (a measurement's infrastructure error); a task whose node died is
    retried elsewhere, up to :data:`MAX_RETRIES` times."""
    task = remote(_call, address, num_cpus)
    ray = connect(address)
    refs = {task.remote(fn, item): item for item in items}
    while refs:
        done, _ = ray.wait(list(refs), num_returns=1)
        ref = done[0]
        item = refs.pop(ref)
        yield item, ray.get(ref)


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)
