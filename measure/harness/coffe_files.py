"""COFFE on its own files (``measure score coffe-files``): a level's folder of COFFE's dataset
(JohnnyPeng18/Coffe at 7979acb, ``datasets/function`` or ``datasets/file``) read unchanged, and
COFFE's model output files, scored as :class:`~measure.harness.coffe.CoffeAdapter` scores.

**Problems.** Both levels key every file by the problem's prompt (``data.json``'s ``final_prompt``),
in ``data.json``'s order (COFFE's order). The level is told by ``data.json``: function-level
instances name their ``entry_point``, file-level ones do not.

- *Function level* (398: 164 HumanEval, 234 MBPP): id ``HumanEval/N`` or ``Mbpp/N`` (``task_id``).
  The reference is COFFE's best ground truth (``best_solutions.json``: ``[program, False]``, the
  flag is COFFE's "reads stdin"), whose entry point COFFE has renamed ``solution``, the function
  COFFE calls, so the problems' entry is ``solution``. Tests: ``testcases.json``, ``{"input":
  [args...], "output": [value]}``, the arguments exactly as ``json`` reads them (what COFFE passes;
  an input written as a string is read with ``ast.literal_eval``, or run as trusted code when it is
  not a literal); the outputs compared are the reference's (COFFE checked its best ground truth
  against the stored ones). Perf inputs: ``stressful_testcases.json``, ``{"input": "<Python
  expression giving the argument list>", "output": null}``, each an :class:`InputCode` evaluated
  outside the count as COFFE evaluates it (``random`` seeded 1024 and in scope, int-to-str
  conversions up to 1,000,000 digits), never in the loader (some expand past 64 MiB).
- *File level* (358 stdin -> stdout programs from APPS and CodeContests): id the index in
  ``data.json`` ("0".."357"). The reference is the best ground truth (``[program, True]``), run
  as a script. No correctness tests are public (COFFE's ``testcases.json`` and ``solutions.json``
  for this level are not in its repository), so a sample is checked only on its stressful inputs'
  outputs, against the reference's, token by token (``compare="whitespace"``; COFFE compares
  text with spaces, newlines and brackets removed). Perf inputs: ``stressful_testcases.json``,
  ``generate_input()`` modules run as COFFE runs them (``random`` seeded 1024 first, fresh
  globals; what they print is discarded).

Every program runs after COFFE's process settings (``sys.set_int_max_str_digits(1000000)``,
``sys.setrecursionlimit(1000000)``, as the problem's ``prompt``): module setup at function level,
inside each counted run at file level (a constant few hundred instructions).

**Samples.** COFFE's model output file (``examples/function/GPT-4o.json``: prompt -> ``[[raw
output, ...], valid]``, or a single string): each output sanitised into the program COFFE runs
(:mod:`measure.harness.coffe_sanitize`); a prompt the file lacks, an output marked invalid, or one
COFFE's sanitiser drops becomes a program that fails (COFFE counts it as not efficient); prompts
of other problems are ignored, as COFFE ignores them. Or our plain samples file (a JSON object from
problem id to full programs, or a list in dataset order), e.g. the ground truths; a function-level
program may name its function as the problem does (``vowels_count``) or ``solution``.
"""
from __future__ import annotations

import ast
import hashlib
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import InputFileError
from ..jsonfile import read_json
from .coffe import CoffeAdapter
from .coffe_sanitize import ENTRY, coffe_program
from .inputs import InputCode
from .problems import Problem, load_samples as load_plain_samples
from .store import RECORD_FIELDS

FUNCTION, FILE = "function", "file"
SEED = 1024                 # COFFE: random.seed(1024) before every input and program
INT_DIGITS = 1_000_000      # COFFE: sys.set_int_max_str_digits(1000000)
RECURSION = 1_000_000       # COFFE: sys.setrecursionlimit(1000000)
FILES = {FUNCTION: ("data.json", "best_solutions.json", "testcases.json", "stressful_testcases.json"),
         FILE: ("data.json", "best_solutions.json", "stressful_testcases.json")}

#: the problems' prompt: COFFE's process settings, run before every program
SETTINGS = (f"import sys\nif hasattr(sys, 'set_int_max_str_digits'):  # Python >= 3.11 (and late 3.7-3.10 releases)\n"
            f"    sys.set_int_max_str_digits({INT_DIGITS})\nsys.setrecursionlimit({RECURSION})\n")

# A stressful test as COFFE makes it, one function of trusted input code: random seeded {seed},
# int-to-str conversions up to {digits} digits (restored after), then the test's own code.
_INPUT = '''\
import contextlib as _contextlib
import io as _io
import random as _random
import sys as _sys


def {name}():
    """{doc}"""
    limit = getattr(_sys, "set_int_max_str_digits", None)   # Python >= 3.11 (and late 3.7-3.10 releases)
    saved = _sys.get_int_max_str_digits() if limit else None
    if limit:
        limit({digits})
    try:
        _random.seed({seed})
{body}
    finally:
        if limit:
            limit(saved)
'''
_EXPRESSION = '''\
        return eval(compile({source!r}, "<COFFE stressful input>", "eval"), {{"random": _random}})'''
_MODULE = '''\
        scope = {{}}
        with _contextlib.redirect_stdout(_io.StringIO()):
            exec(compile({source!r}, "<COFFE generate_input>", "exec"), scope)
            return scope["generate_input"]()'''


def _coffe_input(name: str, doc: str, body: str, source: str) -> InputCode:
    return InputCode(_INPUT.format(name=name, doc=doc, body=body.format(source=source), seed=SEED, digits=INT_DIGITS),
                     name)


def stressful_input(expression: str) -> InputCode:
    """A function-level stressful test (the argument list's expression) as trusted input code."""
    return _coffe_input("coffe_input", "COFFE's stressful input: its expression evaluated as COFFE evaluates it "
                        "(random in scope).", _EXPRESSION, expression)


def generator_input(module: str) -> InputCode:
    """A file-level stressful test (a module defining ``generate_input()``, which returns the
    program's standard input) as trusted input code."""
    return _coffe_input("generate_input", "COFFE's generate_input() module run as COFFE runs it: in fresh globals, "
                        "what it prints discarded.", _MODULE, module)


# --- reading the folder --------------------------------------------------------------------------

def folder_sha256(folder: str) -> str:
    """One digest of the COFFE files a level's folder holds (names and contents)."""
    h = hashlib.sha256()
    for name in sorted({n for names in FILES.values() for n in names}):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                h.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def dataset_folder(path: str) -> str:
    """The level's folder of ``path``: the folder itself, or the folder of one of its files."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    if not os.path.isfile(os.path.join(folder, "data.json")):
        raise InputFileError(f"{path!r} is not a COFFE dataset folder (no data.json in {folder!r}): give COFFE's "
                             "datasets/function or datasets/file folder")
    return folder


def detect_level(folder: str, data: List[Any]) -> str:
    """"function" when every instance of ``data.json`` names its entry point, "file" when none does."""
    if not isinstance(data, list) or not data or not all(isinstance(x, dict) and "final_prompt" in x for x in data):
        raise InputFileError(f"{folder!r}/data.json is not COFFE's instance list (a JSON list of objects with a "
                             "'final_prompt'): give COFFE's datasets/function or datasets/file folder")
    named = sum("entry_point" in x for x in data)
    if named == len(data):
        return FUNCTION
    if named == 0:
        return FILE
    raise InputFileError(f"{folder!r}/data.json mixes function-level instances (with an 'entry_point', {named}) "
                         f"and file-level ones ({len(data) - named}): give one level's folder")


def _read(folder: str, name: str) -> Any:
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise InputFileError(f"COFFE's {name} is missing from {folder!r}: the folder needs "
                             "data.json, best_solutions.json, stressful_testcases.json (function level: testcases.json "
                             "too), unchanged from COFFE's datasets/<level>")
    return read_json(path, f"COFFE {name}")


def _lookup(table: Any, prompt: str, name: str, pid: str) -> Any:
    if not isinstance(table, dict) or prompt not in table:
        raise InputFileError(f"COFFE's {name} has no entry for problem {pid!r} (keyed by data.json's "
                             "final_prompt): the folder's files must come from the same COFFE release")
    return table[prompt]


def function_id(instance: Dict[str, Any]) -> str:
    """``HumanEval/N`` (COFFE's task_id) or ``Mbpp/N`` (MBPP's task number)."""
    tid = instance.get("task_id")
    return f"Mbpp/{tid}" if isinstance(tid, int) else str(tid)


def _reference(best: Any, pid: str, script: bool) -> str:
    if not (isinstance(best, list) and len(best) == 2 and isinstance(best[0], str)):
        raise InputFileError(f"COFFE's best_solutions.json, problem {pid!r}: expected [program, reads_stdin], got "
                             f"{type(best).__name__}")
    if bool(best[1]) != script:
        raise InputFileError(f"COFFE's best_solutions.json, problem {pid!r}: its best solution "
                             f"{'reads stdin' if best[1] else 'is a function'}, not a {'file' if script else 'function'}"
                             "-level program: give one level's folder unchanged")
    return best[0]


def _test_case(raw: Any, where: str) -> Any:
    """One correctness test's arguments: a list as read, or a string as a literal (else code)."""
    if not isinstance(raw, dict) or "input" not in raw:
        raise InputFileError(f"{where}: a COFFE test is an object with an 'input', got {type(raw).__name__}")
    args = raw["input"]
    if isinstance(args, str):
        try:
            args = ast.literal_eval(args)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return stressful_input(raw["input"])
    if not isinstance(args, (list, tuple)):
        raise InputFileError(f"{where}: a COFFE test's input is the list of the function's arguments, got "
                             f"{type(args).__name__}")
    return tuple(args)


def _stressful_case(raw: Any, where: str) -> Any:
    if not isinstance(raw, dict) or "input" not in raw:
        raise InputFileError(f"{where}: a COFFE stressful test is an object with an 'input' expression, got "
                             f"{type(raw).__name__}")
    if isinstance(raw["input"], str):
        return stressful_input(raw["input"])
    return _test_case(raw, where)


def _cases(table: Any, prompt: str, name: str, pid: str, make) -> Tuple[Any, ...]:
    raw = _lookup(table, prompt, name, pid)
    if not isinstance(raw, list):
        raise InputFileError(f"COFFE's {name}, problem {pid!r}: expected a list of tests, got {type(raw).__name__}")
    return tuple(make(c, f"COFFE's {name}, problem {pid!r}, test {i}") for i, c in enumerate(raw))


def load_function_level(folder: str, data: List[Dict[str, Any]]) -> List[Problem]:
    best, tests, stressful = (_read(folder, n) for n in ("best_solutions.json", "testcases.json",
                                                          "stressful_testcases.json"))
    out = []
    for inst in data:
        pid, prompt = function_id(inst), inst["final_prompt"]
        humaneval = inst.get("dataset") == "openai_humaneval"
        out.append(Problem(
            pid, ENTRY,
            _cases(tests, prompt, "testcases.json", pid, _test_case),
            _cases(stressful, prompt, "stressful_testcases.json", pid, _stressful_case),
            (_reference(_lookup(best, prompt, "best_solutions.json", pid), pid, script=False),),
            prompt=SETTINGS, kind="function",
            meta={"level": FUNCTION, "prompt": prompt, "entry_point": inst["entry_point"],
                  "source": inst.get("dataset"), "stub": inst.get("prompt") if humaneval else None}))
    return out


def load_file_level(folder: str, data: List[Dict[str, Any]]) -> List[Problem]:
    best, stressful = _read(folder, "best_solutions.json"), _read(folder, "stressful_testcases.json")

    def generator(raw: Any, where: str) -> InputCode:
        if not isinstance(raw, str):
            raise InputFileError(f"{where}: a file-level stressful test is a generate_input() module (a string), got "
                                 f"{type(raw).__name__}")
        return generator_input(raw)

    out = []
    for i, inst in enumerate(data):
        pid, prompt = str(i), inst["final_prompt"]
        out.append(Problem(
            pid, "", (), _cases(stressful, prompt, "stressful_testcases.json", pid, generator),
            (_reference(_lookup(best, prompt, "best_solutions.json", pid), pid, script=True),),
            prompt=SETTINGS, kind="script", compare="whitespace",
            meta={"level": FILE, "prompt": prompt, "source": inst.get("dataset")}))
    return out


def load(path: str) -> List[Problem]:
    """COFFE's problems of one level from its folder (or a file in it); every error names the
    file, the problem and the remedy. Ids must be unique."""
    folder = dataset_folder(path)
    data = _read(folder, "data.json")
    level = detect_level(folder, data)
    problems = load_function_level(folder, data) if level == FUNCTION else load_file_level(folder, data)
    seen = set()
    for p in problems:
        if p.id in seen:
            raise InputFileError(f"{folder!r}/data.json: problem id {p.id!r} appears twice: ids must be unique")
        seen.add(p.id)
    return problems


# --- samples -------------------------------------------------------------------------------------

def dropped(why: str) -> str:
    """The program that stands for an output COFFE does not run: it defines nothing, so it fails."""
    return f"# COFFE runs no program here: {why}\n"


def _is_output_file(data: Any) -> bool:
    """COFFE's model output format: prompt -> [outputs (a list of strings, or one string), valid]."""
    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, list) and len(v) == 2 and isinstance(v[0], (list, str)) and isinstance(v[1], bool)
        for v in data.values())


def program_of(raw: Any, problem: Problem) -> str:
    """One raw output as the program COFFE runs for ``problem`` (:func:`dropped` where it runs none)."""
    if not isinstance(raw, str):
        return dropped(f"the output is a {type(raw).__name__}, not text")
    meta = problem.meta
    if meta["level"] == FILE:
        code = coffe_program(raw, "", whole_program=True)
    else:
        code = coffe_program(raw, meta["entry_point"], meta["stub"])
    return dropped("COFFE's sanitiser finds no program in the output") if code is None else code


def output_samples(data: Dict[str, Any], problems: Sequence[Problem], path: str) -> Dict[str, List[str]]:
    """COFFE's model outputs (prompt -> [outputs, valid]) as each problem's programs."""
    if not any(p.meta["prompt"] in data for p in problems):
        level = problems[0].meta["level"] if problems else "?"
        raise InputFileError(f"{path!r}: none of its {len(data)} prompts is a prompt of this dataset ({level} level): "
                             "give the model outputs for the same level's prompts (prompts.json)")
    out: Dict[str, List[str]] = {}
    for p in problems:
        entry = data.get(p.meta["prompt"])
        if entry is None:
            out[p.id] = [dropped("the file has no output for this prompt")]
            continue
        outputs, valid = entry
        if not valid:
            out[p.id] = [dropped("the output is marked invalid")]
            continue
        outputs = [outputs] if isinstance(outputs, str) else outputs
        out[p.id] = [program_of(o, p) for o in outputs] or [dropped("the file has no output for this prompt")]
    return out


def named_entry(code: str, entry_point: str) -> str:
    """A plain sample defining the problem's function under its own name (and no ``solution``)
    gets ``solution = <name>`` appended, so it is called as COFFE calls it; others are unchanged."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return code
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    if ENTRY in names or entry_point not in names:
        return code
    return code + f"\n\n{ENTRY} = {entry_point}\n"


def load_samples(path: str, problems: Sequence[Problem]) -> Dict[str, List[str]]:
    """A model output file of COFFE's, COFFE's ``best_solutions.json`` (the ground truths as the
    samples: each problem's one program, run as it is), or a plain samples file (see the module
    docstring)."""
    data = read_json(path, "samples file")
    if os.path.basename(path) == "best_solutions.json" and isinstance(data, dict):
        return {p.id: [_reference(data[p.meta["prompt"]], p.id, p.meta["level"] == FILE)]
                for p in problems if p.meta["prompt"] in data}
    if _is_output_file(data) and not any(k in {p.id for p in problems} for k in data):
        return output_samples(data, problems, path)
    samples = load_plain_samples(path, [p.id for p in problems])
    by_id = {p.id: p for p in problems}
    return {pid: [named_entry(c, by_id[pid].meta["entry_point"]) if by_id[pid].meta["level"] == FUNCTION else c
                  for c in codes] for pid, codes in samples.items()}


class CoffeFilesAdapter(CoffeAdapter):
    """COFFE's efficient@k and speedup on COFFE's own files (``measure score coffe-files``)."""

    name = "coffe-files"
    title = "COFFE (its own files)"
    record_fields = RECORD_FIELDS["coffe"]

    help = ("COFFE on its own dataset folder and model output files: efficient@k and speedup against its best "
            "ground truths")
    dataset_help = ("COFFE's dataset folder of one level, unchanged: datasets/function or datasets/file "
                    "(data.json, best_solutions.json, stressful_testcases.json; function level: testcases.json)")
    samples_help = ("COFFE's model output file (prompt -> [raw outputs, valid], as examples/function/GPT-4o.json), "
                    "sanitised as COFFE does; or a JSON object from problem id (HumanEval/0, Mbpp/2; file level: the "
                    "index in data.json) to lists of full programs")

    def __init__(self, tie_tolerance: float = 0.0):
        super().__init__(tie_tolerance)
        self._digest: Optional[str] = None

    def params(self) -> Dict[str, Any]:
        # the records depend on every file of the folder, not only the one ``--dataset`` names
        return {**super().params(), "coffe_files_sha256": self._digest}

    def load(self, dataset: str) -> List[Problem]:
        self._digest = folder_sha256(dataset_folder(dataset))
        return load(dataset)

    def load_samples(self, path: str, problems: List[Any]) -> Dict[Any, List[str]]:
        return load_samples(path, problems)

    @staticmethod
    def parse_ids(text: str) -> List[Any]:
        """``--problems``: comma-separated ids (HumanEval/0,Mbpp/2; file level: 0,1,2)."""
        ids = [x.strip() for x in text.split(",") if x.strip()]
        if not ids:
            raise ValueError("give comma-separated problem ids, e.g. HumanEval/0,Mbpp/2 (file level: 0,1,2)")
        return ids


def evaluate(dataset: str, samples_path: str, results_path: str, problems: Optional[Sequence[str]] = None,
             tie_tolerance: float = 0.0, **options: Any) -> Dict[str, Any]:
    """Score a samples file against COFFE's folder; resumable through ``results_path`` (JSONL).
    Returns the score document (``schema: measure/score-coffe``); ``options`` are those of
    :func:`measure.harness.adapter.evaluate`."""
    from .adapter import evaluate as evaluate_with
    return evaluate_with(CoffeFilesAdapter(tie_tolerance), dataset, samples_path, results_path, problems, **options)
