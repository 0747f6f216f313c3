"""Choosing the target function (NOTES.md section 2): ``-f NAME``; else the function marked
``#pragma nsc surrogate`` just before it; else the only non-static function other than ``main`` in the main
file; otherwise an error listing the candidates. Static and inline functions, and functions defined in the
user's headers, can be chosen by name."""

from __future__ import annotations

from pycparser import c_ast

from nsc.errors import NscError
from nsc.frontend.index import FileIndex
from nsc.frontend.pragmas import NscPragmas


def function_span(fn: c_ast.FuncDef) -> tuple[int, int]:
    """(first, last) source line of a function definition, from its nodes' coordinates."""
    lines = []
    stack = [fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node.coord is not None and node.coord.file == fn.coord.file:
            lines.append(node.coord.line)
        stack.extend(child for _, child in node.children())
    return min(lines), max(lines)


def select_function(index: FileIndex, pragmas: NscPragmas, name: str | None, path: str) -> c_ast.FuncDef:
    functions = index.function_definitions()
    names = [fn.decl.name for fn in functions]
    if name is not None:
        for fn in functions:
            if fn.decl.name == name:
                return fn
        entity = index.lookup(name)
        if entity is not None and entity.kind == "prototype" and not entity.library:
            raise NscError(f"function '{name}' is declared but not defined in the program", path)
        raise NscError(f"no function named '{name}' in {path} (functions defined: {_listing(names)})", path)

    main_functions = [fn for fn in functions if fn.coord.file == path]
    if not functions:
        raise NscError("no function definitions in the file", path)

    marked = _marked(main_functions, pragmas.surrogate)
    if len(marked) == 1:
        return marked[0]
    if len(marked) > 1:
        listing = ", ".join(f"{fn.decl.name} (line {fn.coord.line})" for fn in marked)
        raise NscError(f"several functions are marked '#pragma nsc surrogate': {listing}; choose one with -f NAME",
                       path)
    if pragmas.surrogate:
        line = pragmas.surrogate[0]
        raise NscError("'#pragma nsc surrogate' is not followed by a function definition", path, line, 1)

    candidates = [fn for fn in main_functions
                  if fn.decl.name != "main" and "static" not in (fn.decl.storage or [])]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NscError("no candidate function (only main or static functions); choose one with -f NAME "
                       f"(functions defined: {_listing(names)})", path)
    raise NscError(f"several candidate functions: {_listing([fn.decl.name for fn in candidates])}; choose one "
                   "with -f NAME or mark it with '#pragma nsc surrogate'", path)


def _marked(functions: list[c_ast.FuncDef], pragma_lines: list[int]) -> list[c_ast.FuncDef]:
    """For each `#pragma nsc surrogate`, the first function definition after it."""
    marked = []
    for line in pragma_lines:
        following = [fn for fn in functions if fn.coord.line > line]
        if following:
            fn = min(following, key=lambda f: f.coord.line)
            if fn not in marked:
                marked.append(fn)
    return marked


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "none"
