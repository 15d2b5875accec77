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
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .._version import __version__
from ..jsonfile import check_schema, packaged_schema, read_json, write_json_atomic
from ..model import PlatformKey
from .collect import Collection, ProgramCounts
from ..errors import ProfileError
from .model import CrossValidation, Fit, FunctionModel, IPBModel, mean_abs_log, rms_log
from .programs import SUITE_VERSION

SCHEMA_VERSION = 1
REFERENCE_FILE = "reference-profile.json"
#: The reference platform (documented in docs/calibration.md): pyenv CPython 3.11.7 under valgrind on x86_64.
REFERENCE_DESCRIPTION = "CPython 3.11.7 (pyenv build) under valgrind, x86_64"


@dataclass(frozen=True)
class StoredCV:
    """A leave-one-program-out cross-validation as a profile stores it: the summaries of the
    signed relative ``errors`` (program -> error, e.g. 0.03 = 3 %)."""

    median: float
    p90: float
    worst: float
    rms_log: float
    mean_abs_log: float
    errors: Dict[str, float]

    @classmethod
    def from_cv(cls, cv: CrossValidation) -> "StoredCV":
        return cls(cv.median, cv.p90, cv.worst, rms_log(cv), mean_abs_log(cv), dict(cv.errors))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "StoredCV":
        return cls(d["median"], d["p90"], d["worst"], d["rms_log"], d["mean_abs_log"], dict(d["errors"]))

    def to_dict(self) -> Dict[str, Any]:
        return {"median": self.median, "p90": self.p90, "worst": self.worst, "rms_log": self.rms_log,
                "mean_abs_log": self.mean_abs_log, "errors": self.errors}


def _cv(d: Optional[Mapping[str, Any]]) -> Optional[StoredCV]:
    return None if d is None else StoredCV.from_dict(d)


@dataclass(frozen=True)
class ProfileFit:
    """The ``fit`` section of a profile: the platform against the reference, as stored.

    ``factor`` with its ``confidence`` interval ``ci`` and bootstrap ``log_se``; ``interaction_sd``
    (log units) the per-program floor on agreement; ``alternatives`` the factor by the other
    methods; ``lopo``, ``ipb_lopo``, ``functions_lopo`` the cross-validations of the platform factor,
    the IPB model and the function model; ``model`` the one normalisation uses; ``kind_factors``
    kind -> (factor, n programs); ``skipped`` the programs left out, ``programs`` those fitted.
    The optional sections default to what a profile without them means (the reference's own fit)."""

    method: str
    factor: float
    ci: Tuple[float, float]
    confidence: float
    log_se: float
    n_programs: int
    interaction_sd: float
    model: str = "factor"
    alternatives: Dict[str, float] = field(default_factory=dict)
    mixedlm_interaction_sd: Optional[float] = None
    lopo: Optional[StoredCV] = None
    kind_factors: Dict[str, Tuple[float, int]] = field(default_factory=dict)
    ipb: Optional[IPBModel] = None
    ipb_lopo: Optional[StoredCV] = None
    ipb_pays: bool = False
    functions: Optional[FunctionModel] = None
    functions_lopo: Optional[StoredCV] = None
    skipped: Tuple[str, ...] = ()
    programs: Tuple[str, ...] = ()

    @classmethod
    def from_fit(cls, fit: Fit, skipped: Sequence[str]) -> "ProfileFit":
        """The stored form of a model's fit (``skipped``: the programs left out of it). The function
        model is kept as stored (coefficients to 6 digits), so a profile acts the same before and
        after a save."""
        f = fit.factor
        return cls(method=fit.method, model=fit.model, factor=f.value, ci=(f.low, f.high), confidence=f.confidence,
                   log_se=f.log_se, n_programs=fit.n_programs, interaction_sd=fit.interaction_sd,
                   alternatives=dict(fit.alternatives), mixedlm_interaction_sd=fit.mixedlm_interaction_sd,
                   lopo=StoredCV.from_cv(fit.lopo), kind_factors=dict(fit.kind_factors), ipb=fit.ipb,
                   ipb_lopo=None if fit.ipb_lopo is None else StoredCV.from_cv(fit.ipb_lopo), ipb_pays=fit.ipb_pays,
                   functions=None if fit.functions is None else FunctionModel.from_dict(fit.functions.to_dict()),
                   functions_lopo=None if fit.functions_lopo is None else StoredCV.from_cv(fit.functions_lopo),
                   skipped=tuple(skipped), programs=tuple(fit.common))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProfileFit":
        """From a profile's ``fit`` section (already checked against the schema)."""
        low, high = d["ci"]
        return cls(method=d["method"], model=d.get("model", "factor"), factor=float(d["factor"]),
                   ci=(float(low), float(high)), confidence=float(d["confidence"]), log_se=float(d["log_se"]),
                   n_programs=d["n_programs"], interaction_sd=float(d["interaction_sd"]),
                   alternatives=dict(d.get("alternatives", {})),
                   mixedlm_interaction_sd=d.get("mixedlm_interaction_sd"), lopo=_cv(d.get("lopo")),
                   kind_factors={k: (v["factor"], v["n"]) for k, v in d.get("kind_factors", {}).items()},
                   ipb=None if d.get("ipb") is None else IPBModel.from_dict(d["ipb"]),
                   ipb_lopo=_cv(d.get("ipb_lopo")), ipb_pays=d.get("ipb_pays", False),
                   functions=None if d.get("functions") is None else FunctionModel.from_dict(d["functions"]),
                   functions_lopo=_cv(d.get("functions_lopo")), skipped=tuple(d.get("skipped", ())),
                   programs=tuple(d.get("programs", ())))

    def to_dict(self) -> Dict[str, Any]:
        """The ``fit`` section of a profile's JSON."""
        return {"method": self.method, "model": self.model, "factor": self.factor, "ci": list(self.ci),
                "confidence": self.confidence, "log_se": self.log_se, "n_programs": self.n_programs,
                "interaction_sd": self.interaction_sd, "alternatives": self.alternatives,
                "mixedlm_interaction_sd": self.mixedlm_interaction_sd,
                "lopo": None if self.lopo is None else self.lopo.to_dict(),
                "kind_factors": {k: {"factor": f, "n": n} for k, (f, n) in self.kind_factors.items()},
                "ipb": None if self.ipb is None else self.ipb.to_dict(),
                "ipb_lopo": None if self.ipb_lopo is None else self.ipb_lopo.to_dict(), "ipb_pays": self.ipb_pays,
                "functions": None if self.functions is None else self.functions.to_dict(),
                "functions_lopo": None if self.functions_lopo is None else self.functions_lopo.to_dict(),
                "skipped": list(self.skipped), "programs": list(self.programs)}

    @property
    def used_lopo(self) -> Optional[StoredCV]:
        """The cross-validation of the model normalisation uses (``model``)."""
        return {"factor": self.lopo, "ipb": self.ipb_lopo, "functions": self.functions_lopo}[self.model]


@dataclass(frozen=True)
class Profile:
    """One platform's calibration. ``reference`` is None for the reference platform itself."""

    platform: PlatformKey
    metric: str
    programs: Dict[str, ProgramCounts]
    fit: ProfileFit
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
        return self.fit.factor

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
                "reference": self.reference, "fit": self.fit.to_dict(), "validation": self.validation}


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
    return Profile(platform=PlatformKey(**doc["platform"]), metric=doc["metric"], programs=progs,
                   fit=ProfileFit.from_dict(doc["fit"]), config=doc["config"], reference=doc.get("reference"),
                   engine_version=doc["engine_version"], suite_version=doc["suite_version"], created=doc["created"],
                   validation=doc.get("validation"))


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


def identity_fit(n_programs: int) -> ProfileFit:
    """The fit of the reference platform against itself: factor 1, no uncertainty."""
    return ProfileFit(method="identity", factor=1.0, ci=(1.0, 1.0), confidence=0.95, log_se=0.0,
                      n_programs=n_programs, interaction_sd=0.0)


def from_collection(c: Collection, fit: ProfileFit, reference: Optional[Profile]) -> Profile:
    """A profile from a measured collection and its fit (``reference`` None: this is the reference)."""
    ref = None if reference is None else {"platform": asdict(reference.platform), "metric": reference.metric,
                                          "counts": reference.counts}
    return Profile(platform=c.platform, metric=c.metric, programs=c.programs, fit=fit, config=c.config,
                   reference=ref, created=now())
