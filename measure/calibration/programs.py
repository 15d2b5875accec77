"""The calibration suite and held-out program sets: loading, and each program as a measured Program.

A program file is plain Python with four constants read without executing it (``ast.literal_eval``):
``KIND`` (the kind of work, for per-kind factors), ``ENTRY`` (the function), ``ARGS`` (its fixed
positional arguments) and optionally ``REQUIRES`` (importable modules it needs, e.g. ``("numpy",)``)
and ``REFERENCE`` (for held-out candidates: the name of the reference solution of the same task).

The suite ships inside the package as ``measure/calibration/suite/*.py`` (package data, so it
works from a wheel). Each program is measured on its own (its own worker, its module body the
``setup``): a program's count must not depend on which other programs were measured with it,
and in one bundle it did (regex -0.9 %, range_list +2.2 % measured as a subset, issue 16).
"""
from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from ..errors import InputFileError
from ..model import Input, Program

SUITE_VERSION = 2  # bump when a suite program or its arguments change: profiles of other versions are refused


@dataclass(frozen=True)
class CalibrationProgram:
    """One program of a suite: its source, entry point, fixed arguments and kind of work."""

    name: str
    source: str
    entry: str
    args: Tuple
    kind: str
    requires: Tuple[str, ...] = ()
    reference: Optional[str] = None
    doc: str = ""

    @property
    def digest(self) -> str:
        """sha256 prefix of the source: a profile records it so a changed program is noticed."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:12]


def _constant(tree: ast.Module, name: str, path: str, default=None, required: bool = True):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                raise InputFileError(f"{path}: {name} must be a literal (a string, number or tuple)") from None
    if required:
        raise InputFileError(f"{path}: the calibration program defines no {name}: add e.g. {name} = ...")
    return default


def parse_program(name: str, source: str, path: str = "<program>") -> CalibrationProgram:
    """Read a program's constants without running it. Raises InputFileError when one is missing."""
    try:
        tree = ast.parse(source, path)
    except SyntaxError as exc:
        raise InputFileError(f"{path}: not valid Python: {exc}") from None
    args = _constant(tree, "ARGS", path)
    if not isinstance(args, tuple):
        raise InputFileError(f"{path}: ARGS must be a tuple of positional arguments, e.g. ARGS = (1000,)")
    return CalibrationProgram(
        name=name, source=source, entry=_constant(tree, "ENTRY", path), args=args,
        kind=_constant(tree, "KIND", path), requires=tuple(_constant(tree, "REQUIRES", path, (), False)),
        reference=_constant(tree, "REFERENCE", path, None, False), doc=(ast.get_docstring(tree) or "").strip())


#: The held-out programs shipped with measure (package data): what ``measure calibrate --validate``
#: checks a profile on when no ``--heldout`` is given.
HELDOUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heldout")


def load_directory(path: str | Path) -> List[CalibrationProgram]:
    """Every ``*.py`` in ``path`` (sorted by name) as a program. InputFileError when there is none."""
    d = Path(path)
    files = sorted(p for p in d.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise InputFileError(f"no calibration programs (*.py) in {str(d)!r}")
    return [parse_program(p.stem, p.read_text(encoding="utf-8"), str(p)) for p in files]


def suite() -> List[CalibrationProgram]:
    """The shipped calibration suite (package data ``measure/calibration/suite/*.py``)."""
    root = resources.files("measure.calibration").joinpath("suite")
    progs = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py") and not entry.name.startswith("_"):
            progs.append(parse_program(entry.name[:-3], entry.read_text(encoding="utf-8"),
                                       f"measure/calibration/suite/{entry.name}"))
    if not progs:
        raise InputFileError("the installed measure package has no calibration suite "
                             "(measure/calibration/suite/*.py): reinstall measure")
    return progs


def select(programs: Sequence[CalibrationProgram], names: Optional[Sequence[str]]) -> List[CalibrationProgram]:
    """The programs named (all when ``names`` is None). InputFileError for an unknown name."""
    if names is None:
        return list(programs)
    by = {p.name: p for p in programs}
    unknown = [n for n in names if n not in by]
    if unknown:
        raise InputFileError(f"unknown calibration program(s) {', '.join(unknown)}: choose from {', '.join(by)}")
    return [by[n] for n in names]


def as_program(p: CalibrationProgram) -> Tuple[Program, Input]:
    """The Program that measures ``p`` alone, and its one Input (named after it)."""
    return Program(p.source, p.entry, p.name), Input(tuple(p.args), name=p.name)
