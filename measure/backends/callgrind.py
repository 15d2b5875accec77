"""Reading callgrind's profile files: the region's total and its instructions per C function.

The format (valgrind's "Callgrind Format Specification"): ``fn=``/``ob=`` lines set the current
function and object (names compressed as ``(id) name`` the first time, ``(id)`` after); a cost
line (``<position> <Ir>``) adds to the current function's *self* cost, except the one line after
``calls=``, which is the inclusive cost of that call (counted again inside the callee). With
``--dump-instr=no --dump-line=no`` positions are single numbers; sub-position compression
(``+n``, ``-n``, ``*``) is accepted too.

Function keys are ``name [object]`` with the object's base name (paths differ between installs;
the base name does not); callgrind's recursion levels (``fn'2``) are pooled with the function.
Code without a symbol (a stripped binary: Debian's ``python3.11``) is named by callgrind after
its address. The address is kept where it is stable: in a
non-PIE executable, which always loads at its link address. In anything else the load base
depends on what was mapped before it, so such code is pooled as ``? [object]``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional

_COMPRESSED = re.compile(r"\((\d+)\)(?:\s+(.*))?$")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+$")
_RECURSION = re.compile(r"'\d+$")     # callgrind's name for a recursion level: fn'2


@dataclass(frozen=True)
class Dump:
    """One callgrind dump. trigger: the dump's reason (``Client Request: NAME`` gives NAME);
    total: the ``summary:`` (or ``totals:``) line, in instructions; functions: self cost per key."""

    trigger: Optional[str]
    total: Optional[int]
    functions: Dict[str, int]


@lru_cache(maxsize=256)
def _fixed_address(path: str) -> bool:
    """Whether ``path`` is an ELF executable linked at a fixed address (``ET_EXEC``)."""
    try:
        with open(path, "rb") as f:
            head = f.read(18)
    except OSError:
        return False
    if len(head) < 18 or head[:4] != b"\x7fELF":
        return False
    order = "little" if head[5] == 1 else "big"
    return int.from_bytes(head[16:18], order) == 2


def function_key(fn: str, ob: Optional[str]) -> str:
    """The stable key of a function: see the module docstring."""
    obj = ob or "?"
    fn = _RECURSION.sub("", fn)
    if _ADDRESS.match(fn) and not _fixed_address(obj):
        fn = "?"
    return f"{fn} [{os.path.basename(obj)}]"


def parse(data: bytes, *, functions: bool = True) -> Dump:
    """Parse one callgrind output file. ``functions=False`` reads only the trigger and the total."""
    text = data.decode("utf-8", "replace")
    trigger = total = None
    m = re.search(r"^desc:\s+Trigger: Client Request: (\S+)", text, re.M)
    if m:
        trigger = m.group(1)
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if m:
        total = int(m.group(1))
    if not functions:
        return Dump(trigger, total, {})
    names: Dict[str, Dict[str, str]] = {"fn": {}, "ob": {}}
    self_cost: Dict[tuple, int] = {}
    fn = ob = None
    after_calls = False

    def name(kind: str, rest: str) -> str:
        c = _COMPRESSED.match(rest)
        if not c:
            return rest
        if c.group(2) is not None:
            names[kind][c.group(1)] = c.group(2)
        return names[kind].get(c.group(1), "?")

    for line in text.splitlines():
        if not line:
            continue
        c = line[0]
        if c.isdigit() or c in "+-*":
            if after_calls:
                after_calls = False
                continue
            parts = line.split()
            if len(parts) >= 2:
                self_cost[(fn, ob)] = self_cost.get((fn, ob), 0) + int(parts[1])
            continue
        key, eq, rest = line.partition("=")
        if not eq:
            continue
        if key == "fn":
            fn = name("fn", rest)
        elif key == "ob":
            ob = name("ob", rest)
        elif key == "cfn":
            name("fn", rest)
        elif key == "cob":
            name("ob", rest)
        elif key == "calls":
            after_calls = True
    out: Dict[str, int] = {}
    for (f, o), v in self_cost.items():
        if v:
            k = function_key(f or "?", o)
            out[k] = out.get(k, 0) + v
    return Dump(trigger, total, out)
