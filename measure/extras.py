"""Optional dependencies. The core (measure(), the sandbox, the backends, statistics and scores)
needs cffi, numpy, scipy, jsonschema and tqdm; what only one application uses is an extra of its
own, and a missing one is a :class:`~measure.errors.MissingExtra` naming the command that
installs it.

| extra       | packages              | used by                                         |
|-------------|-----------------------|-------------------------------------------------|
| calibrate   | statsmodels, pandas   | ``measure calibrate`` (the fits)                |
| plot        | matplotlib            | ``measure calibrate --plot``                    |
| pandas      | pandas                | ``Measurement.to_dataframe()``                  |
| pyperf      | pyperf                | ``--pyperf``, ``Measurement.to_pyperf()``       |
| history     | ruptures              | ``measure history show`` (change points)        |
| enamel      | enam                  | ``measure score enamel`` (ENAMEL's test inputs) |
| all         | every one above       |                                                 |
| ray         | ray                   | ``--ray``, ``Evaluator(ray=...)`` (not in all)  |
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtra

EXTRA_OF = {"statsmodels": "calibrate", "pandas": "pandas", "matplotlib": "plot", "pyperf": "pyperf",
            "ruptures": "history", "enam": "enamel", "ray": "ray"}


def install_hint(package: str) -> str:
    """The command that installs ``package``'s extra."""
    return f"pip install 'measure-engine[{EXTRA_OF.get(package, 'all')}]'"


def require(module: str, what: str) -> ModuleType:
    """``module`` (a dotted name) imported, or MissingExtra saying that ``what`` needs it and how to
    install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingExtra(f"{what} needs the optional package {top!r}, which is not installed here ({exc}). "
                           f"Remedy: {install_hint(top)} (or 'measure-engine[all]')") from None
