"""EvalPerf-style scoring (Liu et al., COLM 2024) on a measure
problem set: each problem's ``references`` are the pool of correct solutions, its ``perf_inputs``
the performance-exercising input. (EvalPerf's own task file, scored against its stored scores:
:mod:`measure.harness.evalplus`.)

The pool is measured in the same session as the samples and clustered into efficiency levels
(``measure.scores.evalperf.cluster_levels``: base 0.10, the sqrt(10000 / a_i) term, slowest member
as representative, cumulative-percentage scores). A sample must pass the correctness tests (under
max(4 s, 4 x the slowest reference call), EvalPerf's limit, applied to wall time under the
backend); the first ``max_profile`` correct samples in order are profiled and score DPS / DPS_norm
against the levels; a broken profile (a timeout or error on the perf input) scores 0. A problem
with fewer than ``min_correct`` correct samples has no DPS (EvalPerf's defaults: 10 and 20).
Overall figures are means over problems that have one; pass@1 is over every problem.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigError
from ..fmt import number
from ..scores import pass_at_k
from ..scores.evalperf import cluster_levels, dps
from ..stats import mean
from .adapter import Evaluation, ProblemSetAdapter, ScoreDocument, evaluate as evaluate_with
from .problems import Problem, ReferencePool, Run

MIN_CORRECT = 10
MAX_PROFILE = 20
TIME_FACTOR = 4.0   # DEFAULT_GT_TIME_LIMIT_FACTOR
MIN_TIME_S = 4.0    # DEFAULT_MIN_TIME_LIMIT


def check_profile_limits(min_correct: int, max_profile: int) -> None:
    if min_correct < 1 or max_profile < min_correct:
        raise ConfigError(f"need 1 <= min_correct <= max_profile, got {min_correct} and {max_profile}: "
                          "lower --min-correct or raise --max-profile")


def add_profile_arguments(parser) -> None:
    parser.add_argument("--min-correct", type=int, default=MIN_CORRECT,
                        help=f"a problem needs this many correct samples to get a DPS (EvalPerf: {MIN_CORRECT})")
    parser.add_argument("--max-profile", type=int, default=MAX_PROFILE,
                        help=f"profile the first N correct samples (EvalPerf: {MAX_PROFILE})")


def dps_rows(by_problem: Dict[Any, List[Dict[str, Any]]], min_correct: int, max_profile: int,
             levels_of) -> List[Dict[str, Any]]:
    """Per problem: n, correct, profiled, levels, pass@1 and the mean DPS/DPS_norm of the first
    ``max_profile`` correct samples (None with fewer than ``min_correct`` correct)."""
    per = []
    for pid, recs in by_problem.items():
        correct = [r for r in recs if r["correct"]]
        profiled = correct[:max_profile]
        enough = len(correct) >= min_correct
        per.append({"problem": pid, "n": len(recs), "correct": len(correct), "profiled": len(profiled) if enough else 0,
                    "levels": levels_of(recs), "pass@1": pass_at_k(len(recs), len(correct), 1),
                    "dps": mean([r["dps"] for r in profiled]) if enough else None,
                    "dps_norm": mean([r["dps_norm"] for r in profiled]) if enough else None})
    return per


def dps_overall(per: List[Dict[str, Any]]) -> Dict[str, Any]:
    scored = [r for r in per if r["dps"] is not None]
    return {"pass@1": mean([r["pass@1"] for r in per]) if per else None,
            "dps": mean([r["dps"] for r in scored]) if scored else None,
            "dps_norm": mean([r["dps_norm"] for r in scored]) if scored else None,
            "problems_scored": len(scored)}


def dps_heading(title: str, doc: Dict[str, Any]) -> str:
    o = doc["overall"]
    return f"{title}  {doc['problems']} problems ({o['problems_scored']} with >= {doc['min_correct']} correct)"


def dps_columns(doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    head = ["problem", "n", "correct", "profiled", "levels", "pass@1", "DPS", "DPS_norm"]
    rows = [[str(r["problem"]), str(r["n"]), str(r["correct"]), str(r["profiled"]), str(r["levels"]),
             number(r["pass@1"]),
             number(r["dps"], ".2f"), number(r["dps_norm"], ".2f")] for r in doc["per_problem"]]
    o = doc["overall"]
    rows.append(["all", "", "", "", "", number(o["pass@1"]), number(o["dps"], ".2f"), number(o["dps_norm"], ".2f")])
    return head, rows


class DpsAdapter(ProblemSetAdapter):
    """EvalPerf's DPS and DPS_norm against a re-clustered pool (``measure score dps``)."""

    name = "dps"
    schema = "measure/score-dps"
    title = "EvalPerf DPS"
    time_factor = TIME_FACTOR
    min_wall_s = MIN_TIME_S

    help = "EvalPerf-style: DPS and DPS_norm against a clustered reference pool"

    @classmethod
    def add_arguments(cls, parser) -> None:
        add_profile_arguments(parser)

    @classmethod
    def from_args(cls, args) -> "DpsAdapter":
        return cls(args.min_correct, args.max_profile)

    def __init__(self, min_correct: int = MIN_CORRECT, max_profile: int = MAX_PROFILE):
        check_profile_limits(min_correct, max_profile)
        self.min_correct, self.max_profile = min_correct, max_profile

    def score_run(self, problem: Problem, pool: ReferencePool, run: Run) -> Dict[str, Any]:
        levels = cluster_levels(pool.costs)
        if not run.correct:
            return {"dps": None, "dps_norm": None, "level": None, "n_levels": len(levels.representatives)}
        d = dps(run.cost, levels)   # a broken profile (cost None) scores 0 at level -1
        return {"dps": d.dps, "dps_norm": d.dps_norm, "level": d.level, "n_levels": len(levels.representatives)}

    def summarize(self, ev: Evaluation) -> ScoreDocument:
        per = dps_rows(ev.records(), self.min_correct, self.max_profile, lambda recs: recs[0]["n_levels"])
        return ev.document(self, dps_overall(per), per, min_correct=self.min_correct, max_profile=self.max_profile)

    def columns(self, doc: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
        return dps_columns(doc)

    def heading(self, doc: Dict[str, Any]) -> str:
        return dps_heading(self.title, doc)


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             min_correct: int = MIN_CORRECT, max_profile: int = MAX_PROFILE, **options: Any) -> Dict[str, Any]:
    """Score a samples file against a problem set; resumable through ``results_path`` (JSONL).
    Returns the versioned score document (``schema: measure/score-dps``); ``options`` are those of
    :func:`measure.harness.adapter.evaluate`."""
    return evaluate_with(DpsAdapter(min_correct, max_profile), dataset, samples_path, results_path, problems,
                         **options)
