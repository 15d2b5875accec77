"""The score adapters ``measure score NAME`` knows: name -> ``module:class``, imported when used."""
from __future__ import annotations

import importlib
from typing import Dict, List

ADAPTERS: Dict[str, str] = {
    "enamel": "measure.harness.enamel:EnamelAdapter",
    "dps": "measure.harness.evalperf:DpsAdapter",
    "coffe": "measure.harness.coffe:CoffeAdapter",
    "coffe-files": "measure.harness.coffe_files:CoffeFilesAdapter",
    "evalperf": "measure.harness.evalplus:EvalPlusAdapter",
    "effibench": "measure.harness.effibench:EffiBenchAdapter",
    "mercury": "measure.harness.mercury:MercuryAdapter",
    "pie": "measure.harness.pairs:PieAdapter",
    "ecco": "measure.harness.pairs:EccoAdapter",
}


def names() -> List[str]:
    return list(ADAPTERS)


def adapter_class(name: str) -> type:
    """The adapter class registered as ``name`` (KeyError for an unknown name)."""
    module, cls = ADAPTERS[name].split(":")
    return getattr(importlib.import_module(module), cls)
