"""How a program is entered: a function, a method of a LeetCode-style class, or a whole script.

The sandbox calls one function per counted call; the other two forms are that function, written
around the candidate's source (:meth:`measure.Program.method`, :meth:`measure.Program.script`):

- **method**: ``Class().method(*args)``, a fresh instance per call (as Mercury and EffiBench call
  ``Solution``). The wrapper binds the class and checks the method when the module body runs, so a
  source without them fails its setup with a NameError or AttributeError that names them.
- **script**: the program's text compiled in the module body (setup: parsing is not counted) and
  run per call as ``__main__`` with the call's argument as its standard input, through the file
  descriptors as well as ``sys.stdin``/``sys.stdout`` (``input()``, ``sys.stdin.buffer``,
  ``open(0)``, ``print``, ``os.write(1, ...)`` all work). The call returns everything written to
  standard output, as text (UTF-8, undecodable bytes replaced). ``sys.exit(0)``/``exit()`` end the
  run normally; another exit status is an ``error``. Both files live in the call's own working
  directory (a tmpfs of :attr:`Config.disk` bytes), so input plus output must fit in it. Counted:
  the whole run of the script plus writing its input file and reading its output back (a few
  thousand instructions, the same for every program given the same input), not the interpreter's
  start-up, which is the same for every program on a platform.
"""
from __future__ import annotations

import keyword

SCRIPT_ENTRY = "__measure_script__"
METHOD_ENTRY = "__measure_method__"

_METHOD = '''

def {entry}(*args, _cls={cls}, _method={cls}.{method}):
    return getattr(_cls(), {method!r})(*args)
'''

_SCRIPT = '''\
import io as _measure_io, os as _measure_os, sys as _measure_sys
_measure_code = compile({source!r}, {filename!r}, "exec", dont_inherit=True)


def {entry}(stdin):
    os, sys = _measure_os, _measure_sys
    data = stdin.encode("utf-8") if type(stdin) is str else bytes(stdin)
    with open("stdin.txt", "wb") as f:
        f.write(data)
    saved = os.dup(0), os.dup(1), sys.stdin, sys.stdout
    fd = os.open("stdin.txt", os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    fd = os.open("stdout.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.close(fd)
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    status = 0
    try:
        exec(_measure_code, {{"__name__": "__main__", "__builtins__": __builtins__}})
    except SystemExit as e:
        status = e.code
    finally:
        for stream in (sys.stdout, sys.__stdout__):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os.dup2(saved[0], 0)
        os.dup2(saved[1], 1)
        sys.stdin, sys.stdout = saved[2], saved[3]
    if status not in (None, 0):
        raise RuntimeError("the program exited with status %r" % (status,))
    with open("stdout.txt", "rb") as f:
        return f.read().decode("utf-8", "replace")
'''


def _identifier(name: str, what: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{what} {name!r} is not a Python identifier")
    return name


def method_source(source: str, cls: str, method: str) -> str:
    """``source`` followed by :data:`METHOD_ENTRY`, which calls ``cls().method(*args)``."""
    return source + _METHOD.format(entry=METHOD_ENTRY, cls=_identifier(cls, "class name"),
                                   method=_identifier(method, "method name"))


def script_source(source: str, filename: str = "program.py") -> str:
    """A module whose :data:`SCRIPT_ENTRY` runs ``source`` as a script (see the module docstring)."""
    return _SCRIPT.format(source=source, filename=filename, entry=SCRIPT_ENTRY)
