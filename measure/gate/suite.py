"""Benchmark suites as plain files, for code measured outside pytest.

A suite is a TOML file (or the same structure in JSON)::

    [defaults]                 # optional; each key can be overridden per benchmark where it makes sense
    backend = "auto"           # auto, perf, valgrind or time
    repeat = 3                 # counted calls per process
    processes = 1              # worker processes (the time backend needs 2 or more; 20 by default)
    tolerance = 0.01           # the gate's tolerance for these benchmarks (time: the minimum effect)

    [[benchmark]]
    name = "parse.small"       # unique; the key in result files, expectations and history
    source = "src/parse.py"    # relative to the suite file
    entry = "parse"            # the function measured
    args = ["a,b,c"]           # its positional arguments (JSON-like values)
    tolerance = 0.02           # optional, this benchmark only

``measure gate --suite FILE --save RUN.json`` measures it; ``--suite FILE --baseline BASE.json``
measures and gates in one step. TOML needs Python >= 3.11 (tomllib) or the ``tomli`` package;
JSON works everywhere.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

from ..errors import InputFileError
from ..model import Program
from .bench import BenchSpec, RunOptions

_BENCH_KEYS = {"name", "source", "entry", "args", "tolerance"}
_DEFAULT_KEYS = {"backend", "repeat", "processes", "tolerance", "python", "timeout"}


def _parse(path: Path) -> Dict[str, Any]:
    src = repr(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read the suite file {src}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise InputFileError(f"the suite file {src} is not valid JSON: {exc}") from None
    else:
        try:
            import tomllib as toml  # Python >= 3.11
        except ImportError:
            try:
                import tomli as toml  # type: ignore
            except ImportError:
                raise InputFileError(f"reading the TOML suite {src} needs Python >= 3.11 or `pip install tomli`; "
                                     "or write the suite as JSON (same structure)") from None
        try:
            doc = toml.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputFileError(f"the suite file {src} is not valid TOML: {exc}") from None
    if not isinstance(doc, dict):
        raise InputFileError(f"the suite file {src} must be a table with [[benchmark]] entries")
    return doc


def load_suite(path: Union[str, Path]) -> Tuple[List[BenchSpec], RunOptions, Dict[str, Any]]:
    """The benchmarks of a suite file, its run options, and its raw defaults. Errors name the entry."""
    path = Path(path)
    src = repr(str(path))
    doc = _parse(path)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - _DEFAULT_KEYS:
        raise InputFileError(f"{src}: [defaults] may hold {', '.join(sorted(_DEFAULT_KEYS))}; "
                             f"got {sorted(set(defaults) - _DEFAULT_KEYS) if isinstance(defaults, dict) else defaults!r}")
    entries = doc.get("benchmark")
    if not isinstance(entries, list) or not entries:
        raise InputFileError(f"{src} defines no benchmarks: add [[benchmark]] tables with name, source, entry, args")
    base = path.parent
    specs: List[BenchSpec] = []
    sources: Dict[Path, str] = {}
    for i, e in enumerate(entries):
        where = f"{src} benchmark #{i + 1}"
        if not isinstance(e, dict):
            raise InputFileError(f"{where} must be a table")
        unknown = set(e) - _BENCH_KEYS
        missing = {"name", "source", "entry"} - set(e)
        if unknown or missing:
            raise InputFileError(f"{where} ({e.get('name', '?')}): "
                                 + (f"unknown keys {sorted(unknown)}; " if unknown else "")
                                 + (f"missing keys {sorted(missing)}; " if missing else "")
                                 + f"allowed: {', '.join(sorted(_BENCH_KEYS))}")
        args = e.get("args", [])
        if not isinstance(args, list):
            raise InputFileError(f"{where} ({e['name']}): 'args' must be a list of positional arguments")
        tol = e.get("tolerance", defaults.get("tolerance"))
        if tol is not None and not (isinstance(tol, (int, float)) and 0 <= tol < 1):
            raise InputFileError(f"{where} ({e['name']}): tolerance must be a fraction in [0, 1), e.g. 0.01")
        file = (base / str(e["source"])).resolve()
        if file not in sources:
            try:
                sources[file] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputFileError(f"{where} ({e['name']}): cannot read the source {str(file)!r}: {exc}") from None
        specs.append(BenchSpec(str(e["name"]), Program(sources[file], str(e["entry"]), file.stem), tuple(args),
                               None if tol is None else float(tol)))
    try:
        d = RunOptions()   # the defaults of every front end (this file, `measure gate`, the pytest plugin)
        options = RunOptions(backend=defaults.get("backend", d.backend), repeat=defaults.get("repeat", d.repeat),
                             processes=defaults.get("processes", d.processes), python=defaults.get("python", d.python),
                             timeout=float(defaults.get("timeout", d.timeout)))
    except (TypeError, ValueError) as exc:
        raise InputFileError(f"{src}: [defaults] has a value of the wrong type: {exc}") from None
    return specs, options, defaults
