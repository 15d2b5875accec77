"""A raw LLM output turned into the program COFFE runs (COFFE's ``Extractor``, JohnnyPeng18/Coffe
at 7979acb: ``coffe/sanitize.py`` ``sanitize`` and ``CodeProcessor``, ``coffe/evaluator.py``
``Extractor.process_solution``), reimplemented step by step so that a model output file scores
the programs COFFE scores. Pure text functions; nothing here runs the code.

The steps, in COFFE's order (:func:`coffe_program`):

1. :func:`extract`: normalise the text (CRLF, ``\\_`` -> ``_``, ``if __name__`` -> ``if 1 or
   __name__``, keep what follows the last Llama ``<|end_header_id|>``). A whole program (file
   level) is the first fenced code block. A function: the fenced chunk that defines the entry
   point (MBPP problems have none: the first chunk with any ``def``), cut after the entry's body
   (COFFE drops the first unindented line that starts with ``if``, ``print`` or ``\"\"\"`` and
   everything after it, and other unindented lines except ``def``/``import``/``from``), keeping
   only the functions that parse.
2. :func:`complete_humaneval`: a HumanEval body without its ``def`` line gets the prompt's stub
   in front (its first line indented by four spaces).
3. :func:`rename_entry`: the entry point (or, without one, the last top-level function) renamed
   ``solution``, with every later reference to it, every class definition removed (COFFE's
   renaming visitor drops them), the program re-printed by ``ast.unparse`` (comments dropped);
   if every function is a method, the program is kept and a ``solution(*args)`` that calls the
   last class's last method on a fresh instance is appended (COFFE's version returns nothing). A
   program COFFE cannot process (no code left once imports and docstrings are removed, or it
   does not parse) is ``None``: COFFE drops it as uncompilable.

Checked against COFFE's own functions on both shipped model output files (796 outputs) and on
15,354 variants (other entry names, file level, mutated lines): identical text everywhere.
"""
from __future__ import annotations

import ast
import re
from typing import List, Optional, Tuple

ENTRY = "solution"       # the name COFFE calls
CUT_EXCEPTIONS = ("def ", "import ", "from ")
CUT_TAILS = ('"""', "if", "print")


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):   # ValueError: a NUL byte
        return False


def _normalise(raw: str) -> str:
    text = raw.replace("\r\n", "\n").replace("\\_", "_").replace("if __name__", "if 1 or __name__")
    marker = "<|end_header_id|>"
    return text.rsplit(marker, 1)[-1] if marker in text else text


def _first_block(text: str) -> str:
    """The first fenced block of a text that has a fence (file level)."""
    opened = text.split("```python\n")
    if len(opened) > 1:
        text = opened[1]
    elif len(text.split("```")) > 2:
        text = text.split("```")[1]
    return text.split("```")[0].strip()


def _indent_threes(code: str) -> str:
    """Lines indented by exactly three spaces get a fourth; every line ends with a newline."""
    return "".join((" " if len(line) - len(line.lstrip()) == 3 else "") + line + "\n" for line in code.splitlines())


def _cut_unindented(code: str, header: str) -> str:
    """COFFE's ``remove_unindented_lines`` (the ``header`` line itself, the first that starts with
    it, is always kept; COFFE cuts lines above it too)."""
    lines = code.splitlines()
    cut = set()
    seen_header = False
    for i, line in enumerate(lines):
        if not seen_header and line.startswith(header):
            seen_header = True
            continue
        if not line.strip() or line.startswith(CUT_EXCEPTIONS):
            continue
        if len(line) == len(line.lstrip()):
            cut.add(i)
        if line.rstrip().startswith(CUT_TAILS):
            cut.update(range(i, len(lines)))
            break
    return "\n".join(line for i, line in enumerate(lines) if i not in cut)


def extract(raw: str, entry: str, whole_program: bool = False) -> str:
    """Step 1: the code of one raw output (``entry``: the function's name, "" when the problem
    names none, as COFFE's MBPP problems; ``whole_program``: a file-level program, taken from its
    first fenced block when it has one)."""
    text = _normalise(raw)
    if whole_program and "```" in text:
        return _first_block(text)
    if text.endswith("```"):
        text = text[:-3]
    text = ("\n" + text).replace("\n```python\n", "\n```\n")
    header = "def " + entry
    if header in text:
        text = next(chunk for chunk in text.split("\n```\n") if header in chunk)
    else:
        text = text.split("```")[0]
    chunks = re.split(header + r"\s*\(", text)
    header += "("
    # each definition of the entry whose body (up to the next top-level def) has a return
    bodies = [c for c in chunks[1:] if "    return " in c.split("\ndef")[0]]
    code = _indent_threes(header + header.join(bodies)) if bodies else ""
    code = chunks[0] + _cut_unindented(code, header)
    # drop the functions that do not parse, except the entry's
    first, *functions = code.split("\ndef ")
    kept = [first] + [f for f in functions if f.strip().startswith((entry + " ", entry + "(")) or _parses("\ndef " + f)]
    return "\ndef ".join(kept).strip()


def complete_humaneval(code: str, stub: str) -> str:
    """Step 2 (HumanEval problems): a sanitised output that does not start with ``def`` or does not
    parse is taken as the body of the prompt's function ``stub``."""
    if code.startswith("def") and _parses(code):
        return code
    lines = code.splitlines()
    if lines:
        lines[0] = "    " + lines[0]
    return stub + "\n".join(lines)


# --- step 3 ------------------------------------------------------------------------------------------

class _Shape:
    """What COFFE's ``CodeVisitor`` sees in a program without its imports and docstrings."""

    def __init__(self, tree: ast.Module):
        self.classes: List[str] = []
        self.functions: List[Tuple[str, Optional[str]]] = []   # (name, class) in visit order
        self.top_functions: List[str] = []                       # functions seen outside any class
        self._cls: Optional[str] = None
        self.only_definitions = all(isinstance(s, (ast.FunctionDef, ast.ClassDef)) for s in tree.body)
        self._visit(tree)

    def _visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            self._cls = node.name
            self.classes.append(node.name)
            self._children(node)
            self._cls = None           # as COFFE: leaving any class, even a nested one, is "global"
            return
        if isinstance(node, ast.FunctionDef):
            self.functions.append((node.name, self._cls))
            if self._cls is None:
                self.top_functions.append(node.name)
        self._children(node)

    def _children(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self._visit(child)

    @property
    def all_methods(self) -> bool:
        return bool(self.classes) and bool(self.functions) and all(c is not None for _, c in self.functions)


_BODIES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.AsyncFor, ast.With,
           ast.AsyncWith, ast.Try) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


class _Strip(ast.NodeTransformer):
    """COFFE's ``CommentRemover``: imports and string statements removed; an emptied body of the
    statements above gets ``pass`` (other emptied blocks stay empty and fail to re-parse)."""

    def visit_Import(self, node):
        return None

    visit_ImportFrom = visit_Import

    def visit_Expr(self, node):
        self.generic_visit(node)
        return None if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) else node

    def generic_visit(self, node):
        super().generic_visit(node)
        if isinstance(node, _BODIES) and not node.body:
            node.body.append(ast.Pass())
        return node


class _Rename(ast.NodeTransformer):
    """Top-level definitions of ``name`` (outside classes) become ``solution``, and so does every
    ``Name`` visited after the first of them (COFFE's ``CodeProcessor``, in its visiting order).
    Every class definition is removed, as COFFE's does."""

    def __init__(self, name: str):
        self.name = name
        self.renaming = False
        self._in_class = False

    def visit_ClassDef(self, node):
        self._in_class = True
        self.generic_visit(node)
        self._in_class = False
        return None   # as COFFE's CodeProcessor (its visit_ClassDef returns nothing): the class is removed

    def visit_FunctionDef(self, node):
        if node.name == self.name and not self._in_class:
            self.renaming = True
            node.name = ENTRY
        self.generic_visit(node)
        return node

    def visit_Name(self, node):
        if self.renaming and node.id == self.name:
            node.id = ENTRY
        return node


def _call_method(cls: str, method: Optional[str]) -> ast.FunctionDef:
    if method is None:
        raise ValueError(f"class {cls} has no method")
    body = [ast.Assign(targets=[ast.Name("s", ast.Store())], value=ast.Call(ast.Name(cls, ast.Load()), [], [])),
            ast.Expr(ast.Call(ast.Attribute(ast.Name("s", ast.Load()), method, ast.Load()),
                              [ast.Starred(ast.Name("args", ast.Load()), ast.Load())], []))]
    args = ast.arguments(posonlyargs=[], args=[], vararg=ast.arg("args"), kwonlyargs=[], kw_defaults=[], defaults=[])
    node = ast.FunctionDef(name=ENTRY, args=args, body=body, decorator_list=[], returns=None)
    if "type_params" in ast.FunctionDef._fields:   # Python >= 3.12
        node.type_params = []
    return ast.fix_missing_locations(node)


def rename_entry(code: str, entry: Optional[str], force: bool = True) -> Optional[Tuple[str, bool]]:
    """Step 3: ``(program, is_script)``, or None where COFFE gives up on the output (see the module
    docstring). ``entry``: the function to rename (None: the last top-level function); ``force``
    (function level): rename even when the program has statements besides definitions; without
    it (file level) such a program is a script, returned unchanged."""
    try:
        stripped = _Strip().visit(ast.parse(code))
        text = ast.unparse(ast.fix_missing_locations(stripped)).strip()
        if not text:
            return None
        shape = _Shape(ast.parse(text))
        tree = ast.parse(code)
        if shape.all_methods:
            cls = shape.classes[-1]
            methods = [name for name, c in shape.functions if c == cls]
            tree.body.append(_call_method(cls, methods[-1] if methods else None))
            return ast.unparse(tree), False
        if not force and not (shape.top_functions and shape.only_definitions):
            return code, True
        name = entry if entry else (shape.top_functions[-1] if shape.top_functions else None)
        if name is not None:
            tree = _Rename(name).visit(tree)
        return ast.unparse(tree), False
    except Exception:   # as COFFE: whatever fails here (parsing, unparsing) drops the output
        return None


def coffe_program(raw: str, entry: str, humaneval_stub: Optional[str] = None,
                  whole_program: bool = False) -> Optional[str]:
    """The program COFFE runs for one raw output, or None where COFFE drops it (it cannot be
    processed). Function level: ``entry`` is the problem's entry point, ``humaneval_stub`` the
    HumanEval prompt (None for MBPP: COFFE sanitises MBPP outputs without an entry name but
    renames its entry point). File level (``whole_program``): the program as COFFE runs it."""
    if whole_program:
        result = rename_entry(extract(raw, "", whole_program=True), None, force=False)
    else:
        code = extract(raw, entry if humaneval_stub is not None else "")
        if humaneval_stub is not None:
            code = complete_humaneval(code, humaneval_stub)
        result = rename_entry(code, entry, force=True)
    return None if result is None else result[0]
