"""Reading and writing the JSON files measure is given or keeps."""
from __future__ import annotations

import gzip
import json
import os
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Tuple, Type, Union

from .errors import InputFileError

PathLike = Union[str, Path]


def read_json(path: PathLike, what: str) -> Any:
    """The parsed file; an InputFileError naming ``what`` and the path when it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} {str(path)!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputFileError(f"the {what} {str(path)!r} is not valid JSON: {exc}") from None


def read_records(path: PathLike, what: str) -> List[Tuple[int, Any]]:
    """(line number, parsed value) of every record of a benchmark's file: JSON Lines (one value per
    non-blank line) or one JSON array (item number for line), gzip-compressed when the name ends in
    ``.gz``. InputFileError naming ``what``, the path and the line when it cannot be read or parsed."""
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="\n") as f:
            text = f.read()
    except (OSError, EOFError) as exc:
        raise InputFileError(f"cannot read the {what} {path!r}: {getattr(exc, 'strerror', None) or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"the {what} {path!r} is not UTF-8 text: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            return list(enumerate(json.loads(text), 1))
        except ValueError as exc:
            raise InputFileError(f"the {what} {path!r} is not valid JSON: {exc}") from None
    out = []
    for n, line in enumerate(text.split("\n"), 1):   # a U+2028 or a CR inside a string is no line break
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except ValueError as exc:
                raise InputFileError(f"{path!r} line {n}: not a JSON record ({exc}); the {what} is a JSON array or "
                                     "one JSON object per line") from None
    return out


def write_json_atomic(path: PathLike, text_or_obj: Any) -> None:
    """Write to a temporary file beside ``path`` and rename it over: a crash never leaves half a
    file, and concurrent writers (processes or threads) never share a temporary file."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    text = text_or_obj if isinstance(text_or_obj, str) else json.dumps(text_or_obj)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


@lru_cache(maxsize=None)
def packaged_schema(name: str) -> Dict[str, Any]:
    """A JSON Schema shipped in ``measure/schema/`` (``name`` without the ``.json``)."""
    return json.loads(resources.files("measure").joinpath(f"schema/{name}.json").read_text("utf-8"))


def check_schema(doc: Any, name: str, what: str, remedy: str, error: Type[Exception] = InputFileError) -> None:
    """Validate ``doc`` against the packaged schema ``name``; on failure raise ``error`` saying
    ``what`` the document is not, where (its JSON path) and why, then ``remedy``."""
    import jsonschema
    try:
        jsonschema.validate(doc, packaged_schema(name))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise error(f"{what}: at {where}: {exc.message}. {remedy}") from None
