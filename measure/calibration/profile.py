"""Platform profiles: versioned JSON (``measure/schema/calibration-1.json``).

A profile holds the PlatformKey it was measured on, the engine and suite versions, every
program's values (per process), and the fitted factor relative to the reference platform with
its confidence interval, the interaction SD and the cross-validated errors. The reference
platform's own profile ships with the package (``reference_profile()``); its factor is 1.

Compatibility rules (each violation is a :class:`ProfileError` naming the remedy): a profile is
used only with the engine version and suite version that made it, and only for results whose
PlatformKey equals its platform on every field but ``kernel`` (a kernel update does not change
user-space instruction counts; a different CPU, interpreter build, backend or engine does).
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .._version import __version__
from ..jsonfile import check_schema, packaged_schema, read_json, write_json_atomic
from ..model import PlatformKey
from .collect import Collection, ProgramCounts
from ..errors import ProfileError
from .programs import SUITE_VERSION

SCHEMA_VERSION = 1
REFERENCE_FILE = "reference-profile.json"
#: The reference platform (documented in docs/calibration.md): pyenv CPython 3.11.7 under valgrind on x86_64.
REFERENCE_DESCRIPTION = "CPython 3.11.7 (pyenv build) under valgrind, x86_64"


@dataclass(frozen=True)
class Profile:
    """One platform's calibration. ``reference`` is None for the reference platform itself."""

    platform: PlatformKey
    metric: str
    programs: Dict[str, ProgramCounts]
    fit: Dict[str, Any]
    config: Dict[str, Any] = field(default_factory=dict)
    reference: Optional[Dict[str, Any]] = None
    engine_version: str = __version__
    suite_version: int = SUITE_VERSION
    created: str = ""
    validation: Optional[Dict[str, Any]] = None

    @property
    def is_reference(self) -> bool:
        return self.reference is None

    @property
    def factor(self) -> float:
        """Units of this platform per reference unit (1 for the reference)."""
        return float(self.fit["factor"])

    @property
    def counts(self) -> Dict[str, float]:
        """program -> count (median of per-process medians) for the programs that ran."""
        return {n: c.count for n, c in self.programs.items() if c.status == "ok" and c.count}

    @property
    def per_process(self) -> Dict[str, List[float]]:
        return {n: c.per_process for n, c in self.programs.items() if c.status == "ok" and c.values}

    def matches(self, key: PlatformKey) -> bool:
        """Whether results under ``key`` may be normalised with this profile."""
        return key.comparable_to(self.platform)

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": "measure/calibration-profile", "version": SCHEMA_VERSION,
                "engine_version": self.engine_version, "suite_version": self.suite_version, "created": self.created,
                "metric": self.metric, "platform": asdict(self.platform), "config": self.config,
                "programs": {n: {k: v for k, v in asdict(c).items() if k != "name"} for n, c in self.programs.items()},
                "reference": self.reference, "fit": self.fit, "validation": self.validation}


def schema() -> Dict[str, Any]:
    return packaged_schema(f"calibration-{SCHEMA_VERSION}")


def from_dict(doc: Any, source: str = "<profile>") -> Profile:
    """Validate and rebuild. ProfileError names the field, or the version that does not match."""
    if isinstance(doc, dict) and doc.get("schema") == "measure/calibration-profile" and doc.get("version") != SCHEMA_VERSION:
        raise ProfileError(f"{source} is a calibration profile of format version {doc.get('version')!r}; this measure "
                           f"reads version {SCHEMA_VERSION}: recalibrate with `measure calibrate`")
    check_schema(doc, f"calibration-{SCHEMA_VERSION}", f"{source} is not a measure calibration profile (version {SCHEMA_VERSION})",
                 "Make one with `measure calibrate --out FILE`.", ProfileError)
    progs = {n: ProgramCounts(name=n, kind=c["kind"], digest=c["digest"], status=c["status"], values=c["values"],
                              output=c.get("output", ""), reason=c.get("reason", ""), bytecodes=c.get("bytecodes"),
                              functions=c.get("functions"))
             for n, c in doc["programs"].items()}
    return Profile(platform=PlatformKey(**doc["platform"]), metric=doc["metric"], programs=progs, fit=doc["fit"],
                   config=doc["config"], reference=doc.get("reference"), engine_version=doc["engine_version"],
                   suite_version=doc["suite_version"], created=doc["created"], validation=doc.get("validation"))


def check_compatible(p: Profile, source: str = "the profile") -> Profile:
    """ProfileError unless ``p`` was made by this engine version and suite version."""
    if p.engine_version != __version__:
        raise ProfileError(f"{source} was made by measure {p.engine_version}; this is measure {__version__}, whose "
                           "counts may differ: recalibrate with `measure calibrate` (and use the reference profile "
                           "shipped with this version)")
    if p.suite_version != SUITE_VERSION:
        raise ProfileError(f"{source} measured calibration suite version {p.suite_version}; this measure ships version "
                           f"{SUITE_VERSION}: recalibrate with `measure calibrate`")
    return p


def load(path: Union[str, Path], *, check: bool = True) -> Profile:
    """Read a profile file (ProfileError when malformed or, with ``check``, incompatible)."""
    p = from_dict(read_json(path, "calibration profile"), repr(str(path)))
    return check_compatible(p, f"the profile {str(path)!r}") if check else p


def save(p: Profile, path: Union[str, Path]) -> None:
    """Atomic write: a crash never leaves half a profile."""
    write_json_atomic(path, json.dumps(p.to_dict(), indent=1, allow_nan=False))


def reference_profile() -> Profile:
    """The shipped profile of the reference platform (see REFERENCE_DESCRIPTION)."""
    res = resources.files("measure.calibration").joinpath(REFERENCE_FILE)
    if not res.is_file():
        raise ProfileError("this installation has no reference profile (measure/calibration/reference-profile.json): "
                           "reinstall measure")
    doc = json.loads(res.read_text("utf-8"))
    return check_compatible(from_dict(doc, "the shipped reference profile"), "the shipped reference profile")


PROFILES_DIR = "profiles"


def shipped_profiles() -> List[Profile]:
    """The reference profile and every other profile shipped with this version
    (``measure/calibration/profiles/*.json``, each regenerated by the command docs/calibration.md names):
    used whenever no profile given by the caller matches a platform."""
    out = [reference_profile()]
    folder = resources.files("measure.calibration").joinpath(PROFILES_DIR)
    if folder.is_dir():
        for res in sorted(folder.iterdir(), key=lambda r: r.name):
            if res.name.endswith(".json"):
                doc = json.loads(res.read_text("utf-8"))
                out.append(check_compatible(from_dict(doc, f"the shipped profile {res.name}"),
                                            f"the shipped profile {res.name}"))
    return out


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def identity_fit(n_programs: int) -> Dict[str, Any]:
    """The fit of the reference platform against itself: factor 1, no uncertainty."""
    return {"method": "identity", "factor": 1.0, "ci": [1.0, 1.0], "confidence": 0.95, "log_se": 0.0,
            "n_programs": n_programs, "interaction_sd": 0.0, "alternatives": {}, "mixedlm_interaction_sd": None,
            "lopo": None, "kind_factors": {}, "ipb": None, "ipb_lopo": None, "ipb_pays": False, "model": "factor",
            "functions": None, "functions_lopo": None, "skipped": [],
            "programs": []}


def from_collection(c: Collection, fit: Dict[str, Any], reference: Optional[Profile]) -> Profile:
    """A profile from a measured collection and its fit (``reference`` None: this is the reference)."""
    ref = None if reference is None else {"platform": asdict(reference.platform), "metric": reference.metric,
                                          "counts": reference.counts}
    return Profile(platform=c.platform, metric=c.metric, programs=c.programs, fit=fit, config=c.config,
                   reference=ref, created=now())
