"""One evaluation loop for every benchmark: the :class:`Adapter` protocol, the score document,
and :func:`evaluate`.

An adapter says how to read its benchmark's files (:meth:`Adapter.load`), how to measure a
problem's references (:meth:`Adapter.prepare`), how to score one sample against them
(:meth:`Adapter.score`) and how to summarise the records (:meth:`Adapter.summarize`).
:func:`evaluate` does the rest the same way for all of them: the measuring session (backend,
platform, cache), the resumable results file (one JSONL record per sample, appended as it
completes), problems in parallel on local threads or as Ray tasks, and problems whose reference
fails, or whose input code does: recorded, excluded from the scores with a note and a count
(``strict``: fatal).

Problem-set adapters (:class:`ProblemSetAdapter`) measure the references' costs and outputs with
:func:`~measure.harness.problems.measure_references` and need only :meth:`~ProblemSetAdapter.
score_run` (the sample's fields) and a summary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError, InputGenerationFailed, ReferenceFailed
from ..platform import resolve_interpreter
from .problems import Problem, ReferencePool, Run, load_problem_set, load_samples, make_checker, \
    measure_references, run_program
from .runner import Session, file_sha256, pending_samples, progress_bar, run_pending
from .store import EXCLUDED, Check


@dataclass
class ScoreDocument:
    """What ``measure score NAME --json`` prints: versioned (``schema``, ``version``), with the
    platform that measured it, one row per scored problem, the overall figures, the problems left
    out because a reference or an input's code failed (``excluded``: problem and why), how many
    jobs were measured or answered from the cache, warnings, and the adapter's parameters
    (top-level fields)."""

    schema: str
    backend: str
    platform: str
    overall: Dict[str, Any]
    per_problem: List[Dict[str, Any]]
    jobs: Dict[str, int]
    warnings: List[str]
    excluded: List[Dict[str, Any]] = field(default_factory=list)
    params: Dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": self.schema, "version": self.version, "backend": self.backend, "platform": self.platform,
                "problems": len(self.per_problem), **self.params, "overall": self.overall,
                "per_problem": self.per_problem, "excluded": self.excluded, "jobs": self.jobs,
                "warnings": self.warnings}


@dataclass
class Evaluation:
    """A finished (or resumed) run: what an adapter's summary reads. ``problems``: those scored
    (in order), ``excluded``: problem id -> why it was left out."""

    problems: List[Any]
    samples: Dict[Any, List[str]]
    store: Any          # ResultStore
    session: Session
    warnings: List[str]
    excluded: Dict[Any, str] = field(default_factory=dict)

    def records(self) -> Dict[Any, List[Dict[str, Any]]]:
        """Each scored problem's sample records in sample order."""
        recs: Dict[Any, Dict[int, Dict[str, Any]]] = {}
        for r in self.store:
            if r.get("sample") != EXCLUDED:
                recs.setdefault(r["problem"], {})[r["sample"]] = r
        return {p: [recs[p][s] for s in range(len(self.samples[p]))] for p in (pid_of(x) for x in self.problems)}

    def document(self, adapter: "Adapter", overall: Dict[str, Any], per_problem: List[Dict[str, Any]],
                 **params: Any) -> ScoreDocument:
        """The score document of this run with the adapter's figures."""
        s = self.session
        return ScoreDocument(adapter.schema, s.backend.name, s.platform.label(), overall, per_problem,
                             {"measured": s.measured, "from_cache": s.cached}, list(self.warnings),
                             [{"problem": p, "reason": why} for p, why in self.excluded.items()], params)


def pid_of(problem: Any) -> Any:
    return problem.id


class Adapter:
    """A benchmark's adapter (subclass it). Class attributes: ``name`` (the command's name),
    ``schema`` (of its score document), ``time_repeat`` and ``aggregate`` (on the time backend,
    runs per input and how they become one cost; a deterministic backend counts each call once).
    Instances must be picklable: a Ray task carries its adapter to the node."""

    name: str = ""
    schema: str = ""
    title: str = ""
    time_repeat: int = 1
    aggregate: Optional[Callable[[Sequence[float]], float]] = None
    #: fields every sample record must have for the summary (name -> check), validated on resume;
    #: None: those registered under the adapter's name in measure.harness.store.RECORD_FIELDS
    record_fields: Optional[Dict[str, Check]] = None

    def load(self, dataset: str) -> List[Any]:
        """The benchmark's problems (objects with an ``id``) from its own file."""
        raise NotImplementedError

    def default_subset(self, problems: List[Any]) -> List[Any]:
        """Problem ids scored when the user names none: all of them."""
        return [pid_of(p) for p in problems]

    def load_samples(self, path: str, problems: List[Any]) -> Dict[Any, List[str]]:
        return load_samples(path, [pid_of(p) for p in problems])

    def params(self) -> Dict[str, Any]:
        """What the records depend on besides the files and the platform, kept in the results
        file's header: a rerun with other values is refused instead of mixing records."""
        return {}

    def setup(self, problems: List[Any], session: Session, cache_dir: Optional[str], warnings: List[str]) -> None:
        """Once before the loop, with the problems to score (ENAMEL generates their tests here)."""

    def prepare(self, session: Session, problem: Any) -> Any:
        """Measure the problem's references; raise ReferenceFailed when one fails."""
        raise NotImplementedError

    def score(self, session: Session, problem: Any, prepared: Any, code: str) -> Dict[str, Any]:
        """One sample's record fields (the loop adds key, problem, sample and platform)."""
        raise NotImplementedError

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        raise NotImplementedError

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        """The CLI's table of a score document: header and rows (the last one ``all``)."""
        raise NotImplementedError

    def heading(self, doc: Dict[str, Any]) -> str:
        """The CLI's first line before the platform: the benchmark and what was scored."""
        return f"{self.title}  {doc['problems']} problems"

    # the command line (``measure score NAME``)
    help: str = ""
    dataset_help: str = "problem-set JSON (measure/problems, version 1)"
    samples_help: str = "JSON list per problem (or object from problem id) of full programs"

    @classmethod
    def add_arguments(cls, parser) -> None:
        """The adapter's own options."""

    @classmethod
    def from_args(cls, args) -> "Adapter":
        """The adapter configured by the command's options."""
        return cls()

    @staticmethod
    def parse_ids(text: str) -> List[Any]:
        """``--problems``: comma-separated problem ids."""
        ids = [x.strip() for x in text.split(",") if x.strip()]
        if not ids:
            raise ValueError("give comma-separated problem ids, e.g. count_primes,dedupe")
        return ids


class ProblemSetAdapter(Adapter):
    """An adapter whose problems are :class:`~measure.harness.problems.Problem` s: references
    measured for their costs and outputs, each sample run on the same tests and perf inputs.
    ``time_factor``/``min_wall_s``: a sample's wall-clock limit per call (the benchmark's own)."""

    time_factor: float = 4.0
    min_wall_s: float = 4.0

    def load(self, dataset: str) -> List[Problem]:
        return load_problem_set(dataset)

    def prepare(self, session: Session, problem: Problem) -> Tuple[ReferencePool, Any]:
        checker = make_checker(problem)
        return measure_references(session, problem, checker, self.time_factor, self.min_wall_s), checker

    def score(self, session: Session, problem: Problem, prepared: Tuple[ReferencePool, Any],
              code: str) -> Dict[str, Any]:
        pool, checker = prepared
        run = run_program(session, problem, code, pool.wall_limit_s, pool.expected, checker, pool.perf_expected)
        return {"correct": run.correct, "status": run.status, "cost": run.cost, **self.score_run(problem, pool, run)}

    def score_run(self, problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
        """The adapter's own fields of one sample's record."""
        return {}


def evaluate(adapter: Adapter, dataset: str, samples_path: str, results_path: str,
             problems: Optional[Sequence[Any]] = None, backend: str = "auto", python: Optional[str] = None,
             jobs: Optional[int] = None, cache_dir: Optional[str] = None, progress: bool = True,
             ray: Optional[str] = None, strict: bool = False) -> Dict[str, Any]:
    """Score a samples file with ``adapter``; resumable through ``results_path`` (JSONL).

    Every problem's references are measured in the session (on the node, with ``ray``) that
    measures its samples. A problem whose reference fails is recorded in the results file and
    left out of the scores, named in the document's ``excluded`` (``strict``: ReferenceFailed
    instead). ``ray``: the address of a Ray cluster ("auto": the one this machine belongs to),
    one task per problem (:mod:`measure.scaleout`); None: ``jobs`` threads here (default: the
    core count). Returns the score document as a dict."""
    from ..backends import select_backend
    from .cache import MeasurementCache
    from .store import ResultStore

    all_problems = adapter.load(dataset)
    by_id = {pid_of(p): p for p in all_problems}
    samples = adapter.load_samples(samples_path, all_problems)
    subset = adapter.default_subset(all_problems) if problems is None else list(problems)
    for pid in subset:
        if pid not in by_id:
            ids = list(by_id)
            raise InputFileError(f"problem {pid!r} is not in {dataset!r} (its ids: {', '.join(map(str, ids[:10]))}"
                                 f"{', ...' if len(ids) > 10 else ''})")
        if pid not in samples:
            raise InputFileError(f"{samples_path!r} has no samples for problem {pid!r}")
    interp = resolve_interpreter(python)
    chosen, warns = select_backend(backend, interp.executable)
    cache = MeasurementCache(cache_dir) if cache_dir else None
    kw = {} if chosen.deterministic or adapter.aggregate is None else {"aggregate": adapter.aggregate}
    session = Session(chosen, python, cache, repeat=1 if chosen.deterministic else adapter.time_repeat, **kw)
    header = {"adapter": adapter.name, "dataset_sha256": file_sha256(dataset),
              "samples_sha256": file_sha256(samples_path), "platform": session.platform.label(),
              "backend": chosen.name, **adapter.params()}
    store = ResultStore(results_path, header, adapter.record_fields)
    excluded = {r["problem"]: r["reason"] for r in store if r.get("sample") == EXCLUDED}
    pending = pending_samples(store, ((pid, s) for pid in subset if pid not in excluded
                                      for s in range(len(samples[pid]))))
    warnings = list(warns)
    adapter.setup([by_id[pid] for pid in subset], session, cache_dir, warnings)

    if ray is not None:
        from ..scaleout import ray_map
        spec = {"backend": chosen.name, "python": python, "cache_dir": cache_dir, "repeat": session.repeat,
                "aggregate": session.aggregate}
        bar = progress_bar(sum(len(v) for v in pending.values()), progress)
        try:
            items = [(by_id[pid], pending[pid], samples[pid]) for pid in pending]
            for _, recs in ray_map(partial(_score_on_node, adapter, spec, strict), items, address=ray):
                for rec in recs:
                    _record(store, rec, excluded)
                    bar.update(0 if rec.get("sample") == EXCLUDED else 1)
        finally:
            bar.close()
    else:
        def score_problem(pid: Any, todo: List[int]):
            for rec in _score_problem(adapter, session, by_id[pid], todo, samples[pid], strict):
                if rec.get("sample") == EXCLUDED:
                    excluded[pid] = rec["reason"]
                yield rec

        run_pending(store, pending, score_problem, jobs, progress)
    scored = [by_id[pid] for pid in subset if pid not in excluded]
    ev = Evaluation(scored, samples, store, session, warnings + (cache.warnings() if cache else []),
                    {pid: excluded[pid] for pid in subset if pid in excluded})
    if ev.excluded:
        ev.warnings.append(f"{len(ev.excluded)} problem(s) left out of the scores (a reference, or the code making "
                           "an input, failed): "
                           + "; ".join(f"{p}: {why}" for p, why in list(ev.excluded.items())[:5])
                           + " (--strict makes this an error)")
    return adapter.summarize(ev).to_dict()


def _record(store, rec: Dict[str, Any], excluded: Dict[Any, str]) -> None:
    store.append(rec)
    if rec.get("sample") == EXCLUDED:
        excluded[rec["problem"]] = rec["reason"]


def _score_problem(adapter: Adapter, session: Session, problem: Any, todo: List[int], samples: List[str],
                   strict: bool):
    """The records of ``problem``'s samples ``todo``, its references measured in this session
    first (so a sample and what it is scored against share one platform, which each record
    names); or the one record that excludes the problem when a reference fails."""
    pid = pid_of(problem)
    try:
        prepared = adapter.prepare(session, problem)
        for s in todo:
            yield {"key": f"{pid}/{s}", "problem": pid, "sample": s, "platform": session.platform.label(),
                   **adapter.score(session, problem, prepared, samples[s])}
    except (ReferenceFailed, InputGenerationFailed) as exc:
        if strict:
            raise
        # the problem's samples recorded so far stay in the file; the summary leaves them out
        yield {"key": f"{pid}/{EXCLUDED}", "problem": pid, "sample": EXCLUDED, "reason": str(exc)}


def _score_on_node(adapter: Adapter, spec: Dict[str, Any], strict: bool, item) -> List[Dict[str, Any]]:
    """One Ray task: a problem scored on whichever node runs it. The task carries the adapter, the
    problem and its samples (a node needs none of the driver's files); the node checks its own
    backend and uses its own interpreter (``spec["python"]``, a path that must exist there) and cache."""
    from ..backends import select_backend
    from .cache import MeasurementCache
    problem, todo, samples = item
    interp = resolve_interpreter(spec["python"])
    chosen, _ = select_backend(spec["backend"], interp.executable)
    cache = MeasurementCache(spec["cache_dir"]) if spec["cache_dir"] else None
    session = Session(chosen, spec["python"], cache, repeat=spec["repeat"], aggregate=spec["aggregate"])
    return list(_score_problem(adapter, session, problem, todo, samples, strict))

