"""A cheap profile of what a program executes: how many bytecodes its call runs.

Instructions per bytecode (IPB) separates work done by the interpreter loop (tens of
instructions per bytecode: arithmetic, calls, attribute access) from work done in C (thousands:
regex, json, sorting, list scans, big integers). Interpreter builds differ most exactly there
(Debian's CPython 3.11.2 runs a C-level list scan in 0.73x the instructions of pyenv's 3.11.7,
interpreter-loop code in about 0.93x), so the IPB model (:mod:`.model`) lets a platform's factor
depend on it.

The count is taken in the sandboxed worker of the measured interpreter (never in this process),
with ``sys.monitoring`` INSTRUCTION events on CPython >= 3.12 and ``sys.settrace`` opcode events
before (each platform's model uses only its own counts, so the two need not agree), under the
``time`` backend (native speed x the tracing cost: well under a second for a suite program).
Bytecodes of the module body are not counted.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from ..model import Config, Input, Program, Status
from ..run import measure
from ..errors import CalibrationError
from .programs import CalibrationProgram

_TRACER = '''
import sys as _sys


def _count(fn, args):
    n = [0]
    mon = getattr(_sys, "monitoring", None)
    if mon is not None:                      # 3.12+: settrace opcode events are unreliable there (0 on 3.12.1)
        tool = mon.PROFILER_ID

        def on_instruction(code, offset):
            n[0] += 1

        mon.use_tool_id(tool, "measure-bytecodes")
        mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
        mon.set_events(tool, mon.events.INSTRUCTION)
        try:
            fn(*args)
        finally:
            mon.set_events(tool, 0)
            mon.register_callback(tool, mon.events.INSTRUCTION, None)
            mon.free_tool_id(tool)
        return n[0]

    def tracer(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            n[0] += 1
        return tracer

    _sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        _sys.settrace(None)
    return n[0]
'''


def _wrap(named_sources: Sequence[tuple]) -> str:
    lines = [_TRACER, "_NS = {}\n"]
    for name, entry, source in named_sources:
        lines.append(f"_g = {{'__name__': {('candidate_' + name)!r}, '__builtins__': __builtins__}}\n"
                     f"exec(compile({source!r}, {('<' + name + '>')!r}, 'exec'), _g)\n_NS[{name!r}] = _g[{entry!r}]\n")
    lines.append("\n\ndef count_bytecodes(name, *args):\n    return _count(_NS[name], args)\n")
    return "".join(lines)


def _run(src: str, inputs: List[Input], python: Optional[str], timeout: float) -> List[int]:
    m = measure(Program(src, "count_bytecodes", "bytecodes"), inputs,
                Config(backend="time", python=python, repeat=1, timeout=timeout))
    if m.setup.status is not Status.OK:
        raise CalibrationError(f"counting bytecodes failed to load the programs ({m.setup.status.value}): "
                               f"{m.setup.message.strip()[-300:]}")
    out = []
    for r in m.inputs:
        if r.status is not Status.OK or not isinstance(r.output, int):
            raise CalibrationError(f"counting the bytecodes of {r.name or r.index} failed ({r.status.value}): "
                                   f"{(r.message or '').strip()[-300:]}")
        if r.output <= 0:
            raise CalibrationError(f"counting the bytecodes of {r.name or r.index} gave {r.output}: this interpreter's "
                                   "tracing hooks do not report instructions")
        out.append(r.output)
    return out


def count_suite(programs: Sequence[CalibrationProgram], python: Optional[str] = None,
                timeout: float = 600.0) -> Dict[str, int]:
    """program name -> bytecodes its call executes on ``python``."""
    src = _wrap([(p.name, p.entry, p.source) for p in programs])
    counts = _run(src, [Input((p.name,) + tuple(p.args), name=p.name) for p in programs], python, timeout)
    return {p.name: c for p, c in zip(programs, counts)}


def count_program(program: Program, inputs: Sequence, python: Optional[str] = None,
                  timeout: float = 600.0) -> List[int]:
    """Bytecodes executed by ``program.entry`` on each input (positional argument lists or Inputs)."""
    src = _wrap([("candidate", program.entry, program.source)])
    items = [Input(("candidate",) + tuple(x.args if isinstance(x, Input) else x)) for x in inputs]
    return _run(src, items, python, timeout)
