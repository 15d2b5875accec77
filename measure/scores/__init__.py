"""The field's efficiency metrics as pure functions, each following its authors' code
(docs/statistics-and-scores.md gives the sources). Timeouts are right-censored everywhere: pass None
(or inf) for a censored cost, never a made-up number.

Importable as ``measure.scores``: ``from measure.scores import eff_at_k, pass_at_k``.
"""
from . import coffe, ecco, effibench, effibench_counts, enamel, evalperf, evalplus_dps, mercury, mercury_code, pie, utility
from .passk import eff_at_k, pass_at_k

__all__ = ["pass_at_k", "eff_at_k", "enamel", "evalperf", "coffe", "effibench", "effibench_counts", "evalplus_dps", "mercury", "mercury_code", "ecco", "pie", "utility"]
