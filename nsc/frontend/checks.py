"""Checks on the reached code: constructs a surrogate cannot stand for, and names that do not exist.

  * I/O and process control (``printf``, ``fopen``, ``stdout``, ``exit``, ``system``, ``time`` ...): a surrogate
    maps numbers to numbers. ``malloc``/``free`` and the rest of the C library are fine.
  * recursion, direct or mutual, among the reached functions.
  * calls to functions that are declared but never defined, and names declared nowhere.
Each error names the construct and its line:col.
"""

from __future__ import annotations

import os

from pycparser import c_ast

from nsc.errors import NscError
from nsc.frontend.index import FileIndex
from nsc.frontend.reach import Reached

# Besides everything <stdio.h> declares: calls that leave the process, talk to it, or read the clock.
PROCESS_CALLS = frozenset({
    "exit", "abort", "_Exit", "quick_exit", "atexit", "at_quick_exit", "system", "getenv",
    "time", "clock", "mktime", "localtime", "gmtime",
})
PREDEFINED_NAMES = frozenset({"__func__", "__FUNCTION__", "__PRETTY_FUNCTION__"})


def check_reached(reached: Reached, index: FileIndex) -> None:
    for ext in reached.exts:
        for ref in reached.resolution(ext).free():
            _check_ref(ref, index)
    _check_recursion(reached, index)


def _error(message: str, node: c_ast.Node) -> NscError:
    coord = node.coord
    return NscError(message, coord.file if coord else None, coord.line if coord else None,
                    coord.column if coord else None)


def _check_ref(ref, index: FileIndex) -> None:
    name = ref.name
    if " " in name:  # a struct/union/enum tag: an incomplete type is fine
        return
    entity = index.lookup(name)
    if entity is None:
        if name.startswith("__builtin_") or name in PREDEFINED_NAMES:
            return
        if ref.is_call:
            raise _error(f"call to undeclared function '{name}'", ref.node)
        raise _error(f"use of undeclared identifier '{name}'", ref.node)
    if entity.library:
        is_stdio = os.path.basename(entity.node.coord.file) == "stdio.h"
        is_call_or_var = ref.is_call or entity.kind == "variable"
        if is_stdio and is_call_or_var and entity.kind != "typedef":
            raise _error(f"'{name}' does I/O, which a surrogate cannot do; move it out of the function "
                         "(or call the function from a main that does the I/O)", ref.node)
        if ref.is_call and name in PROCESS_CALLS:
            raise _error(f"call to '{name}' is not supported: a surrogate's code must be a pure computation",
                         ref.node)
        return
    if ref.is_call and entity.kind == "prototype":
        raise _error(f"function '{name}' is declared but not defined in the program", ref.node)


def _check_recursion(reached: Reached, index: FileIndex) -> None:
    """Depth-first search for a cycle in the call graph of the reached functions."""
    calls: dict[str, list] = {}
    for fn in reached.functions:
        calls[fn.decl.name] = [ref for ref in reached.resolution(fn).free()
                               if ref.is_call and ref.name in {f.decl.name for f in reached.functions}]
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        path.append(name)
        for ref in calls.get(name, []):
            if ref.name in path:
                cycle = path[path.index(ref.name):] + [ref.name]
                what = f"'{name}' calls itself" if len(cycle) == 2 else " -> ".join(cycle)
                raise _error(f"recursion is not supported: {what}", ref.node)
            if ref.name not in done:
                visit(ref.name)
        path.pop()
        done.add(name)

    visit(reached.target.decl.name)
