"""The C front-end: C file -> `Program` (NOTES.md section 2).

    read (source.py) -> preprocess with stand-in headers (preprocess.py) -> parse (parse.py)
    -> nsc pragmas (pragmas.py) -> choose the target (select.py) -> what it reaches (reach.py, names.py)
    -> checks (checks.py) -> pointer use (access.py) -> signature (signature.py) + ranges (ranges.py)
    -> canonical tokens (canonical.py, tokens.py)

Public API: `load_program`, `parse_range_option`, `parse_bounds`. Every user error is an NscError.
"""

from __future__ import annotations

import hashlib

from nsc.errors import NscError
from nsc.frontend.access import AccessAnalyzer
from nsc.frontend.canonical import canonical_exts
from nsc.frontend.checks import check_reached
from nsc.frontend.index import FileIndex
from nsc.frontend.parse import parse
from nsc.frontend.pragmas import read_pragmas
from nsc.frontend.preprocess import preprocess
from nsc.frontend.program import Program, Signature
from nsc.frontend.ranges import apply_ranges, check_pragma_names, parse_bounds, parse_range_option
from nsc.frontend.reach import reach
from nsc.frontend.select import function_span, select_function
from nsc.frontend.signature import build_signature
from nsc.frontend.source import read_source
from nsc.frontend.tokens import tokens_of

__all__ = ["load_program", "parse_range_option", "parse_bounds"]


def load_program(path, function: str | None = None, ranges: dict | None = None, default_range=None,
                 include_dirs=(), defines=()) -> Program:
    """Read, check and describe the C program at `path`.

    function:      the target's name (-f); None: the `#pragma nsc surrogate` one or the only candidate.
    ranges:        name -> (lo, hi) from the command line (``x``, ``a`` or ``a[2]``); wins over pragmas.
    default_range: (lo, hi) for inputs without any range, or None (then a missing range is an error).
    include_dirs:  -I directories.
    defines:       -D macros: "NAME", "NAME=VALUE" or (name, value) pairs.
    """
    path = str(path)
    include_dirs = tuple(str(d) for d in include_dirs)
    defines = tuple(_define_pair(d) for d in defines)
    data, text = read_source(path)

    pp = preprocess(path, include_dirs, defines)
    ast = parse(pp, text)
    pragmas = read_pragmas(pp, text)
    index = FileIndex(ast)
    target = select_function(index, pragmas, function, path)

    reached = reach(target, index)
    check_reached(reached, index)
    access = AccessAnalyzer(index, reached.resolutions).summary(target)
    parts = build_signature(target, index, access, pragmas.shapes)

    check_pragma_names(pragmas, _parameter_names(index, path), parts.inputs, path)
    inputs = apply_ranges(parts.inputs, pragmas, _pragma_lines(index, target, path), ranges, default_range,
                          parts.param_coords, path)
    signature = Signature(target.decl.name, parts.return_ctype, tuple(parts.params), tuple(inputs),
                          tuple(parts.outputs))
    tokens = tokens_of(canonical_exts(reached, index))
    return Program(path=path, source=text, sha256=hashlib.sha256(data).hexdigest(), signature=signature,
                   include_dirs=include_dirs, defines=defines, headers=pp.headers, tokens=tokens)


def _define_pair(define) -> tuple[str, str]:
    if isinstance(define, (tuple, list)) and len(define) == 2:
        return str(define[0]), str(define[1])
    text = str(define)
    name, sep, value = text.partition("=")
    if not name.strip() or not name.strip().replace("_", "a").isalnum():
        raise NscError(f"bad -D '{text}': expected NAME or NAME=VALUE")
    return name.strip(), value if sep else "1"


def _parameter_names(index: FileIndex, path: str) -> set[str]:
    """Parameter names of every function defined in the main file (what a range pragma may name)."""
    names = set()
    for fn in index.function_definitions():
        args = fn.decl.type.args
        for p in args.params if args is not None else []:
            if getattr(p, "name", None):
                names.add(p.name)
    return names


def _pragma_lines(index: FileIndex, target, path: str) -> tuple[int, int]:
    """Lines whose range pragmas belong to the target: after the previous function of the main file, up to the
    target's last line."""
    first, last = function_span(target)
    previous_end = 0
    if target.coord.file == path:
        for fn in index.function_definitions():
            if fn.coord.file == path and fn.coord.line < target.coord.line:
                previous_end = max(previous_end, function_span(fn)[1])
    return previous_end + 1, last
