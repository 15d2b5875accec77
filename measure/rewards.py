"""Rewards for reinforcement learning: how efficient a generated solution is, in [0, 1],
relative to reference solutions, and wrappers with the call signatures of TRL and verl.

The mathematics is one pure function, :func:`efficiency_reward`:

    reward = 0                                   the candidate failed (any status but ok, or no count)
    reward = floor + (1 - floor) * s(c)          the candidate is correct, c its instruction count

    s(c) = 1                                     c <= b
    s(c) = 2 ** (-ln(c / b) / ln(h))             c > b

where b is the best (smallest) reference count and h the *half ratio*: the count ratio c / b at
which s = 1/2, by default max(w / b, 2) with w the worst (largest) reference count. So a candidate
as fast as the best reference scores 1, one as slow as the slowest reference scores
floor + (1 - floor) / 2 (0.55 with the default floor 0.1) unless the references lie within a
factor 2 of each other, every further factor h slower halves the part above the floor, and
every correct candidate scores more than every failed one:

    failure (0) < correct, slower than every reference < ... < as fast as the best reference (1)

The end-to-end part measures a completion with :func:`measure.measure` (one call: extract the
code, run every test in the sandbox, sum the counts) and never raises on anything the candidate
does: a syntax error, a missing function, a wrong answer, an exception, ``os._exit``, an
infinite loop, a flood of output are all statuses, hence reward 0. Problems of the machine or of
the dataset (no deterministic backend, a malformed test list, references counted on another
platform) raise, naming the fix. docs/statistics-and-scores.md, "Rewards for RL".
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import BackendUnavailable, ConfigError, PlatformMismatch, ReferenceFailed
from .model import Config, Input, Measurement, Program, Status
from .run import measure

#: The default floor: the reward of a correct candidate infinitely slower than the references.
FLOOR = 0.1
#: The smallest default half ratio: references closer together than this factor (or a single
#: reference) still give s = 1/2 only at this many times the best count.
MIN_HALF_RATIO = 2.0
#: The default instruction budget per counted call, as a multiple of the slowest reference's
#: total count: a call that counts more is a timeout (reward 0), deterministically.
BUDGET_FACTOR = 10.0


# --------------------------------------------------------------------------------------------
# The mathematics (pure)

def _positive_count(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 \
            or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        raise ValueError(f"{what} = {v!r}: an instruction count must be a finite number > 0")
    return v


def half_ratio_of(reference_counts: Sequence[float], half_ratio: Optional[float] = None) -> float:
    """The count ratio c / best at which s = 1/2: ``half_ratio`` when given (> 1), else
    max(worst / best, MIN_HALF_RATIO) over ``reference_counts`` (one reference, or references all
    equal, give MIN_HALF_RATIO = 2). Raises ValueError for an empty or non-positive list."""
    refs = _references(reference_counts)
    if half_ratio is not None:
        if isinstance(half_ratio, bool) or not isinstance(half_ratio, (int, float)) \
                or not (1.0 < half_ratio < math.inf):
            raise ValueError(f"half_ratio must be a finite number > 1 (the count ratio to the best reference at "
                             f"which the reward's slope part is 1/2), got {half_ratio!r}")
        return float(half_ratio)
    return max(max(refs) / min(refs), MIN_HALF_RATIO)


def _references(reference_counts: Sequence[float]) -> List[float]:
    if isinstance(reference_counts, (str, bytes)) or not isinstance(reference_counts, Sequence) \
            or len(reference_counts) == 0:
        raise ValueError(f"reference_counts = {reference_counts!r}: give the instruction counts of at least one "
                         "reference solution, measured on the same tests under the same backend and interpreter "
                         "(measure.rewards.make_problem does it)")
    return [_positive_count(v, f"reference_counts[{i}]") for i, v in enumerate(reference_counts)]


def speed_score(count: float, reference_counts: Sequence[float], half_ratio: Optional[float] = None) -> float:
    """s in (0, 1]: 1 when ``count`` <= the best reference count b, else
    2 ** (-x / ln h) = exp(-x ln 2 / ln h) with x = ln(count / b) and h = :func:`half_ratio_of`.

    Unit: counts are instructions (any unit, as long as candidate and references share it); s is
    dimensionless. Smoothness: continuous everywhere, infinitely differentiable for count != b; at
    count = b the slope in x jumps from 0 to -ln 2 / ln h, so a candidate slightly slower than the
    best reference already loses reward (a C1 form would make the first few percent free).
    Multiplicative: s(b * r1 * r2) = s(b * r1) * s(b * r2). Edge cases: s underflows to 0 only past
    count / b = h ** 1074, far beyond any count a machine produces."""
    c = _positive_count(count, "count")
    b = min(_references(reference_counts))
    h = half_ratio_of(reference_counts, half_ratio)
    if c <= b:
        return 1.0
    return math.exp(-(math.log(c) - math.log(b)) * math.log(2.0) / math.log(h))


def efficiency_reward(count: Optional[float], status: Union[Status, str], reference_counts: Sequence[float], *,
                      floor: float = FLOOR, half_ratio: Optional[float] = None) -> float:
    """The efficiency reward in [0, 1] of one candidate.

    0.0 when ``status`` is not ok or ``count`` is None (or +inf: censored); otherwise
    ``floor + (1 - floor) * s`` with s = :func:`speed_score` (count, reference_counts, half_ratio).

    Ordering: every failure (0) < every correct candidate (> floor, for count / best below about
    h ** 50, where the float rounds to floor) < ... < a candidate as fast as the best reference or
    faster (1.0, not more: the reward is bounded). With the defaults a candidate as slow as the
    slowest reference scores 0.55 when the references span a factor 2 or more.

    Raises ValueError for no reference counts, a non-positive or non-finite reference count, a
    non-positive count on an ok status, a floor outside (0, 1), a half_ratio <= 1 or an unknown status.
    """
    if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not (0.0 < floor < 1.0):
        raise ValueError(f"floor must be in (0, 1) (the reward of a correct but very slow candidate; 0 is "
                         f"kept for failures), got {floor!r}")
    try:
        status = Status(status)
    except ValueError:
        raise ValueError(f"unknown status {status!r}: give a measure.Status or one of "
                         f"{', '.join(s.value for s in Status)}") from None
    half_ratio_of(reference_counts, half_ratio)  # validate the references even for a failure
    if status is not Status.OK or count is None or (isinstance(count, float) and count == math.inf):
        return 0.0
    return floor + (1.0 - floor) * speed_score(count, reference_counts, half_ratio)


# --------------------------------------------------------------------------------------------
# Completions to code (pure)

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n", re.MULTILINE)
_PYTHON_TAGS = ("python", "python3", "py", "py3")


def _fenced_blocks(text: str) -> List[Tuple[str, str]]:
    """(language tag, body) of each fenced block, in order; an unclosed last fence (a truncated
    completion) runs to the end of the text."""
    blocks = []
    pos = 0
    while True:
        m = _FENCE.search(text, pos)
        if m is None:
            return blocks
        fence, tag = m.group(1), m.group(2).lower()
        close = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.MULTILINE)
        end = close.search(text, m.end())
        if end is None:
            blocks.append((tag, text[m.end():]))
            return blocks
        blocks.append((tag, text[m.end():end.start()]))
        pos = end.end()


def completion_text(completion: Any) -> str:
    """The text of a completion: a string as it is; TRL's conversational format (a list of
    message dicts) the content of its last ``assistant`` message (or of its last message when
    none has that role), a content given as a list of parts ({"type": "text", "text": ...}) joined;
    a single message dict its content. Anything else: ""."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, Mapping)]
        if not messages:
            return ""
        assistant = [m for m in messages if m.get("role") == "assistant"]
        content = (assistant or messages)[-1].get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):
            return "".join(p.get("text", "") if isinstance(p, Mapping) else p if isinstance(p, str) else ""
                           for p in content)
    return ""


def extract_code(completion: Any, entry: Optional[str] = None) -> str:
    """The Python source in a completion (see :func:`completion_text` for the formats).

    With fenced blocks (```python ... ```): of the blocks tagged python, python3, py or py3
    (else of the untagged ones), the last that defines ``def entry(`` (when ``entry`` is given),
    else the last one. The last, because models write their final answer after drafts and
    reasoning, as open-r1's code reward does. A completion without fences is taken whole. No
    text at all gives ""."""
    text = completion_text(completion)
    blocks = _fenced_blocks(text)
    if not blocks:
        return text
    python = [body for tag, body in blocks if tag in _PYTHON_TAGS] or [body for tag, body in blocks if not tag]
    if not python:
        return ""
    if entry:
        defines = re.compile(r"^\s*(async\s+)?def\s+" + re.escape(entry) + r"\s*\(", re.MULTILINE)
        with_entry = [body for body in python if defines.search(body)]
        if with_entry:
            return with_entry[-1]
    return python[-1]


# --------------------------------------------------------------------------------------------
# Problems: what a reward needs to know (JSON-able, so that it fits a dataset column)

@dataclass(frozen=True)
class Problem:
    """One problem: the function to call, its tests and its references' counts.

    tests: (args, expected) pairs, args the list of positional arguments: every test must pass.
    perf_tests: further (args, expected) pairs whose counts make the cost; None: the cost is the
        sum over ``tests``. Expected outputs may be None in perf_tests: unchecked.
    reference_counts: the cost of each reference solution, measured by :func:`make_problem` on
        these tests (same backend, interpreter and Config).
    platform: the :meth:`~measure.PlatformKey.label` the references were counted under ("": not
        checked); a candidate counted under another raises PlatformMismatch.
    """

    entry_point: str
    tests: Tuple[Tuple[Tuple[Any, ...], Any], ...]
    reference_counts: Tuple[float, ...]
    perf_tests: Optional[Tuple[Tuple[Tuple[Any, ...], Any], ...]] = None
    platform: str = ""

    def inputs(self) -> List[Input]:
        """The correctness tests, then the performance tests, as measure Inputs."""
        out = [Input(args, expected, name=f"test{i}") for i, (args, expected) in enumerate(self.tests)]
        for i, (args, expected) in enumerate(self.perf_tests or ()):
            out.append(Input(args, name=f"perf{i}") if expected is None else Input(args, expected, name=f"perf{i}"))
        return out

    def cost_indices(self) -> range:
        """The indices (into :meth:`inputs`) whose counts sum to the cost."""
        n = len(self.tests)
        return range(n, n + len(self.perf_tests)) if self.perf_tests else range(n)

    def to_json(self) -> str:
        """The JSON text of this problem: verl's ``ground_truth``, or TRL's ``problem`` column."""
        doc: Dict[str, Any] = {"entry_point": self.entry_point, "tests": [[list(a), e] for a, e in self.tests],
                               "reference_counts": list(self.reference_counts)}
        if self.perf_tests:
            doc["perf_tests"] = [[list(a), e] for a, e in self.perf_tests]
        if self.platform:
            doc["platform"] = self.platform
        return json.dumps(doc)


def _plain(x: Any) -> Any:
    """numpy arrays and scalars (as verl's parquet rows carry them) to lists and numbers."""
    tolist = getattr(x, "tolist", None)
    return tolist() if callable(tolist) and not isinstance(x, (str, bytes)) else x


def _tests(value: Any, what: str, may_be_empty: bool) -> Tuple[Tuple[Tuple[Any, ...], Any], ...]:
    value = _plain(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{what} is a string but not JSON ({exc}): give a JSON list of [args, expected] "
                             "pairs, e.g. [[[3], 6], [[10], 55]]") from None
    if not isinstance(value, (list, tuple)) or (not value and not may_be_empty):
        raise ValueError(f"{what} = {value!r:.200}: give a non-empty list of [args, expected] pairs, args the "
                         "list of positional arguments, e.g. [[[3], 6], [[10], 55]]")
    out = []
    for i, t in enumerate(value):
        t = _plain(t)
        if not isinstance(t, (list, tuple)) or len(t) != 2 or not isinstance(_plain(t[0]), (list, tuple)):
            raise ValueError(f"{what}[{i}] = {t!r:.200}: each test is [args, expected] with args a list of "
                             "positional arguments, e.g. [[3], 6] for f(3) == 6")
        out.append((tuple(_plain(t[0])), _plain(t[1])))
    return tuple(out)


def parse_problem(spec: Any) -> Problem:
    """A :class:`Problem` from a dict or its JSON text:

        {"entry_point": "f", "tests": [[[3], 6], ...], "reference_counts": [1234, 5678],
         "perf_tests": [[[10000], null], ...],          (optional)
         "platform": "qemu/x86_64/cpython-3.11.7@..."}  (optional)

    A Problem is returned as it is. Raises ValueError naming the missing or malformed field."""
    if isinstance(spec, Problem):
        return spec
    if isinstance(spec, (str, bytes)):
        try:
            spec = json.loads(spec)
        except ValueError as exc:
            raise ValueError(f"the problem is a string but not JSON ({exc}): give a JSON object with "
                             "entry_point, tests and reference_counts") from None
    if not isinstance(spec, Mapping):
        raise ValueError(f"the problem = {spec!r:.200} must be a dict (or its JSON text) with entry_point, tests "
                         "and reference_counts")
    missing = [k for k in ("entry_point", "tests", "reference_counts") if spec.get(k) is None]
    if missing:
        raise ValueError(f"the problem lacks {', '.join(missing)}: give entry_point (the function's name), tests "
                         "([args, expected] pairs) and reference_counts (make_problem measures them)")
    entry = spec["entry_point"]
    if not isinstance(entry, str) or not entry.isidentifier():
        raise ValueError(f"entry_point = {entry!r}: give the name of the function to call")
    refs = _plain(spec["reference_counts"])
    if isinstance(refs, str):
        refs = json.loads(refs)
    refs = tuple(_references(list(refs) if isinstance(refs, (list, tuple)) else refs))
    perf = spec.get("perf_tests")
    platform = spec.get("platform") or ""
    if not isinstance(platform, str):
        raise ValueError(f"platform = {platform!r}: give the PlatformKey label of the references, or leave it out")
    return Problem(entry, _tests(spec["tests"], "tests", False), refs,
                   None if perf is None else _tests(perf, "perf_tests", True) or None, platform)


# --------------------------------------------------------------------------------------------
# Measuring

def json_equal(output: Any, expected: Any) -> bool:
    """The default checker: equality after turning tuples into lists (JSON has no tuples, so a
    candidate returning (1, 2) for an expected [1, 2] is right)."""
    def norm(x):
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        return x
    try:
        return bool(norm(output) == norm(expected))
    except Exception:
        return False


def default_config(**changes: Any) -> Config:
    """The rewards' Config: backend ``auto``, one counted call per input (the deterministic
    backends repeat exactly), a 10 s wall-clock timeout, stop at the first failure (its reward
    is 0 whatever follows), tuples equal to lists; ``changes`` override any field."""
    base = dict(backend="auto", repeat=1, timeout=10.0, stop_on_failure=True, checker=json_equal)
    base.update(changes)
    return Config(**base)


def _check_backend(config: Config) -> None:
    if config.backend == "time":
        raise ConfigError("rewards compare instruction counts, and the time backend counts none: choose "
                          "backend='auto', 'qemu', 'valgrind' or 'perf'")


def measurement_cost(m: Measurement, problem: Problem) -> Optional[int]:
    """The candidate's cost: the sum of the median instruction counts of the problem's cost inputs
    (:meth:`Problem.cost_indices`) when the setup and every input are ok, else None."""
    n = len(problem.tests) + len(problem.perf_tests or ())
    if not m.ok or len(m.inputs) != n:
        return None
    total = 0.0
    for i in problem.cost_indices():
        s = m.inputs[i].instructions
        if s is None:
            return None
        total += s.median
    return int(round(total))


def _measure(source: str, problem: Problem, config: Config, name: str) -> Measurement:
    m = measure(Program(source, problem.entry_point, name), problem.inputs(), config)
    if m.backend == "time":
        raise BackendUnavailable("backend 'auto' fell back to the time backend, which counts no instructions: "
                                 "install QEMU user mode or valgrind (`apt-get install qemu-user valgrind`), see "
                                 "`measure doctor`, or run on a machine with a PMU")
    return m


def make_problem(entry_point: str, tests: Any, references: Sequence[str], *, perf_tests: Any = None,
                 config: Optional[Config] = None) -> Problem:
    """Measure each reference solution's source on the tests and return the :class:`Problem`
    with their counts and the platform label (``problem.to_json()`` is a dataset's column).
    Raises ReferenceFailed when a reference does not pass its own tests."""
    config = config or default_config()
    _check_backend(config)
    draft = Problem(entry_point, _tests(tests, "tests", False), (1,),
                    None if perf_tests is None else _tests(perf_tests, "perf_tests", True) or None)
    if not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise ValueError(f"entry_point = {entry_point!r}: give the name of the function to call")
    counts, platform = [], ""
    for i, source in enumerate(references):
        m = _measure(source, draft, config, f"reference{i}")
        cost = measurement_cost(m, draft)
        if cost is None:
            bad = next((r for r in m.inputs if r.status is not Status.OK), None)
            why = m.setup.message if m.setup.status is not Status.OK else (
                f"input {bad.index}: {bad.status}: {bad.message}" if bad else "an input was not measured")
            raise ReferenceFailed(f"reference #{i} does not pass its own tests ({why:.300}): fix the reference "
                                  "or its tests")
        counts.append(cost)
        platform = m.platform.label()
    return dataclasses.replace(draft, reference_counts=tuple(counts), platform=platform)


@dataclass(frozen=True)
class RewardResult:
    """One completion's reward, with why: ``status`` ok only when every test passed, ``cost``
    the summed count (None on failure), ``message`` the first failure's message."""

    reward: float
    status: Status
    cost: Optional[int] = None
    message: str = ""


def _budgeted(config: Config, problem: Problem, budget_factor: Optional[float]) -> Config:
    if config.budget is not None or budget_factor is None:
        return config
    if isinstance(budget_factor, bool) or not isinstance(budget_factor, (int, float)) or budget_factor <= 0:
        raise ValueError(f"budget_factor must be a number > 0 or None, got {budget_factor!r}")
    return dataclasses.replace(config, budget=max(1, int(budget_factor * max(problem.reference_counts))))


def evaluate_completion(completion: Any, problem: Any, *, config: Optional[Config] = None,
                        budget_factor: Optional[float] = BUDGET_FACTOR, floor: float = FLOOR,
                        half_ratio: Optional[float] = None) -> RewardResult:
    """Measure one completion on a problem and give its :class:`RewardResult`.

    The code is :func:`extract_code` (completion, entry point); it runs under ``config``
    (:func:`default_config` when None) with an instruction budget per counted call of
    ``budget_factor`` x the slowest reference's cost, unless the config has a budget (None: none).
    Every test must pass; the cost is :func:`measurement_cost`; the reward
    :func:`efficiency_reward`. A failure of the candidate of any kind is a reward of 0, never an
    exception; the machine's problems (BackendUnavailable, ...) and the dataset's (ValueError,
    PlatformMismatch) raise."""
    problem = parse_problem(problem)
    config = _budgeted(config or default_config(), problem, budget_factor)
    _check_backend(config)
    efficiency_reward(None, Status.ERROR, problem.reference_counts, floor=floor, half_ratio=half_ratio)  # validate
    try:
        code = extract_code(completion, problem.entry_point)
    except Exception as exc:  # a completion of an unforeseen shape is the candidate's failure
        return RewardResult(0.0, Status.ERROR, None, f"no code could be read from the completion: {exc!r:.200}")
    if not code.strip():
        return RewardResult(0.0, Status.ERROR, None, "the completion holds no code")
    m = _measure(code, problem, config, "candidate")
    if problem.platform and m.platform.label() != problem.platform:
        raise PlatformMismatch(f"the references were counted under {problem.platform} and the candidate under "
                               f"{m.platform.label()}: measure the references here (make_problem) or choose "
                               "the backend and interpreter they were counted with")
    cost = measurement_cost(m, problem)
    if cost is None:
        if m.setup.status is not Status.OK:
            return RewardResult(0.0, m.setup.status, None, m.setup.message)
        bad = next((r for r in m.inputs if r.status is not Status.OK), None)
        if bad is None:
            return RewardResult(0.0, Status.ERROR, None, "an input was not measured")
        return RewardResult(0.0, bad.status, None, f"input {bad.index}: {bad.message}")
    reward = efficiency_reward(cost, Status.OK, problem.reference_counts, floor=floor, half_ratio=half_ratio)
    return RewardResult(reward, Status.OK, cost, "")


def score_completion(completion: Any, problem: Any, **settings: Any) -> float:
    """:func:`evaluate_completion`'s reward alone."""
    return evaluate_completion(completion, problem, **settings).reward


# --------------------------------------------------------------------------------------------
# TRL

#: The dataset columns the TRL reward reads; every other keyword (prompts, completion_ids,
#: trainer_state, other columns) is ignored.
TRL_COLUMNS = ("problem", "entry_point", "tests", "reference_counts", "perf_tests", "platform")


def trl_reward(*, config: Optional[Config] = None, budget_factor: Optional[float] = BUDGET_FACTOR,
               floor: float = FLOOR, half_ratio: Optional[float] = None, max_workers: Optional[int] = None,
               name: str = "efficiency_reward") -> Callable[..., List[Optional[float]]]:
    """A reward function for TRL's GRPOTrainer (``reward_funcs=[trl_reward()]``).

    TRL calls it as ``reward_fn(prompts=..., completions=..., completion_ids=..., trainer_state=...,
    **columns)``, each dataset column a list with one value per completion. It reads either a
    ``problem`` column (:meth:`Problem.to_json` text, or the dict) or the columns ``entry_point``,
    ``tests`` (a list of [args, expected] pairs, or its JSON text: Arrow stores the JSON text
    best), ``reference_counts`` and optionally ``perf_tests`` and ``platform``. It returns one
    float in [0, 1] per completion, or None for a row whose problem is None (TRL's convention for
    "this reward does not apply": a mixed dataset's non-code rows). Completions are measured on
    ``max_workers`` threads (None: the CPU count); identical code for one problem is measured once.
    ``__name__`` is ``name``: TRL logs the reward under it."""

    def reward_fn(completions: Sequence[Any], **kwargs: Any) -> List[Optional[float]]:
        n = len(completions)

        def column(key: str) -> Optional[List[Any]]:
            value = kwargs.get(key)
            if value is None:
                return None
            value = _plain(value)
            if not isinstance(value, (list, tuple)) or len(value) != n:
                raise ValueError(f"the {key!r} column has {len(value) if isinstance(value, (list, tuple)) else 'no'} "
                                 f"values for {n} completions: TRL passes one value per completion")
            return list(value)

        problems: List[Optional[Problem]]
        if column("problem") is not None:
            problems = [None if p is None else parse_problem(p) for p in column("problem")]
        else:
            cols = {k: column(k) for k in ("entry_point", "tests", "reference_counts", "perf_tests", "platform")}
            if cols["entry_point"] is None:
                raise ValueError("the efficiency reward needs a 'problem' column (Problem.to_json()) or the columns "
                                 "'entry_point', 'tests' and 'reference_counts' in the dataset")
            problems = []
            for i in range(n):
                if cols["entry_point"][i] is None:
                    problems.append(None)
                    continue
                problems.append(parse_problem({k: (v[i] if v is not None else None) for k, v in cols.items()}))
        keys: Dict[Tuple[str, str], int] = {}  # identical code for one problem: measured once
        jobs: List[Tuple[Any, Problem]] = []
        where: List[Optional[int]] = []
        for completion, problem in zip(completions, problems):
            if problem is None:
                where.append(None)
                continue
            try:
                key = (extract_code(completion, problem.entry_point), repr(problem))
            except Exception:
                key = (repr(completion), repr(problem))
            if key not in keys:
                keys[key] = len(jobs)
                jobs.append((completion, problem))
            where.append(keys[key])

        def one(job):
            return evaluate_completion(job[0], job[1], config=config, budget_factor=budget_factor, floor=floor,
                                       half_ratio=half_ratio).reward

        workers = max(1, min(len(jobs), max_workers or os.cpu_count() or 1))
        if workers == 1:
            rewards = [one(j) for j in jobs]
        else:
            with ThreadPoolExecutor(workers) as pool:
                rewards = list(pool.map(one, jobs))
        return [None if w is None else float(rewards[w]) for w in where]

    reward_fn.__name__ = name
    reward_fn.__qualname__ = name
    return reward_fn


# --------------------------------------------------------------------------------------------
# verl

def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Optional[dict] = None, *,
                  backend: Optional[str] = None, timeout: Optional[float] = None,
                  budget_factor: Optional[float] = BUDGET_FACTOR, floor: float = FLOOR,
                  half_ratio: Optional[float] = None, config: Optional[Config] = None) -> float:
    """verl's custom reward function (``custom_reward_function.path`` a file that imports it,
    ``custom_reward_function.name=compute_score``).

    verl's reward managers call ``compute_score(data_source=..., solution_str=..., ground_truth=...,
    extra_info=...)``; ``ground_truth`` (the dataset's ``reward_model.ground_truth``) is a
    :class:`Problem`'s JSON text (:meth:`Problem.to_json`) or the dict, numpy arrays allowed.
    ``data_source`` and ``extra_info`` are not used. The keyword-only settings come from verl's
    ``custom_reward_function.reward_kwargs``, which it merges into the call: ``backend`` and
    ``timeout`` change :func:`default_config`, ``config`` replaces it. Returns a float in [0, 1];
    the candidate's failures are 0.0, never an exception."""
    if config is None:
        changes: Dict[str, Any] = {}
        if backend is not None:
            changes["backend"] = backend
        if timeout is not None:
            changes["timeout"] = float(timeout)
        config = default_config(**changes)
    return float(evaluate_completion(solution_str, ground_truth, config=config, budget_factor=budget_factor,
                                     floor=floor, half_ratio=half_ratio).reward)
