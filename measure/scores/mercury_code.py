"""Mercury's Beyond as Mercury's own code computes it, beside the paper's formula in
:mod:`measure.scores.mercury`.

The paper (and bigcode-evaluation-harness ``custom_metrics/beyond_eval.py``, ``compute_beyond_eval``)
clips the runtime to the references' range, so a value lies in [0, 1]. Mercury's repository computes
something else, and that is what wrote its published evaluation files (``data/*/*_eval*.json``,
field ``beyond_p``): Elfsong/Mercury ``src/evaluator.py``, ``DistributeWiseEvaluator.evaluate``, at
commit d712fa06b6bd2aab2246513b64242d00d25081e8 (lines 462-466; unchanged since c00f16e, 2024-01-24)::

    r = runtime if the run passed else +inf
    b = max(min(max_p - r, 1), 0) / (max_p - min_p)

It does not clip at the fastest reference, so a sample faster than every reference scores above 1
(341 of the 8,192 stored values do), and it caps ``max_p - r`` at 1 *in the runtime's unit*
(seconds there), so on a task whose references span more than a second a fast sample scores at most
1 / (max_p - min_p). The version before (commit f82b981947ab6990eb4b310d76281d76a2d7f41f, line 461,
which wrote ``data/openai/gpt-4-1106-preview_eval.json``) had no cap: ``max(max_p - r, 0) / (max_p - min_p)``
(``cap=None`` here). With the matching cap per file the two reproduce all 8,192 stored values exactly;
the paper's formula reproduces 7,755.

The cap is a quantity in the runtime's unit: 1.0 for seconds (Mercury's ``time.time()``), 1e9 for
nanoseconds; instruction counts have no seconds, so in counts pass ``cap=None``.

Beyond@k over these values is :func:`measure.scores.mercury.beyond_at_k` (the mean of the first k
samples' values, then the mean over tasks); it accepts values above 1.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

from .mercury import runtime_range

CAP_SECONDS = 1.0  # Mercury's literal ``min(beyond, 1)``, in its runtime unit (seconds)


def beyond_code(runtime: Optional[float], reference_runtimes: Sequence[float],
                cap: Optional[float] = CAP_SECONDS) -> float:
    """One sample's Beyond as Mercury's code computes it: ``max(min(max_p - r, cap), 0) / (max_p - min_p)``
    over the passing references' runtimes (min_p, max_p); ``cap=None`` leaves ``max_p - r`` uncapped.

    ``runtime``: the sample's cost in the references' unit; None or +inf for a sample that failed (it
    scores 0, as upstream's ``r = inf`` does). The value is >= 0; it exceeds 1 when the sample is faster
    than the fastest reference and the cap does not bind. Upstream divides by zero when
    max_p == min_p; here, as in :func:`measure.scores.mercury.beyond`, a sample at or below that runtime
    scores 1 and a slower one 0.
    """
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float))
                            or math.isnan(cap) or cap <= 0):
        raise ValueError(f"cap = {cap!r}: give a positive number in the runtimes' unit, or None for no cap")
    r, lo, hi = runtime_range(runtime, reference_runtimes, "beyond_code")
    if r is None:
        return 0.0
    if hi == lo:
        return 1.0 if r <= lo else 0.0
    gain = hi - r
    if cap is not None:
        gain = min(gain, cap)
    return max(gain, 0) / (hi - lo)
