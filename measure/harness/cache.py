"""Measurements cached by what determines them: program source, inputs, backend, platform, the
worker's code, limits.

A deterministic backend gives the same counts for the same key, so a reference measured once is
reused by every sample and every rerun (and a sample identical to its reference is not measured
again). Time-backend results are not cached: they are samples of a distribution."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, List, Optional

from ..model import Config, Measurement, PlatformKey, Status
from ..jsonfile import write_json_atomic
from ..results import from_dict, to_dict
from ..sandbox.files import worker_hash


def job_key(source: str, encoded_inputs: List[Any], config: Config, platform: PlatformKey) -> str:
    h = hashlib.sha256()
    for part in (source, json.dumps(encoded_inputs, sort_keys=True), platform.backend, platform.isa,
                 platform.cpu_model, platform.python_build, platform.engine_version, worker_hash(),
                 json.dumps([config.repeat, config.warmup, config.memory, config.output_limit,
                             config.stop_on_failure])):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class MeasurementCache:
    def __init__(self, directory: str):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key + ".json")

    def get(self, key: str, timeout_s: float) -> Optional[Measurement]:
        """The cached measurement if it stands for a run under ``timeout_s``: the wall-clock limit
        is left out of the key, so an entry is reused only when every call was ok and within it
        (a run with a censored call is measured again)."""
        try:
            with open(self._path(key), encoding="utf-8") as f:
                m = from_dict(json.load(f), key)
        except (OSError, ValueError):
            return None
        samples = [s for r in m.inputs for s in r.samples]
        if m.setup.status is not Status.OK or any(s.status is not Status.OK for s in samples):
            return None
        if any((s.wall_ns or 0) > timeout_s * 1e9 for s in samples):
            return None
        return m

    def put(self, key: str, m: Measurement) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_json_atomic(path, to_dict(m))


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "measure")
