"""The front-end's entry: one C file, read, preprocessed, parsed and indexed (`_Unit`), then one `Program` per
target function (`load_program`, `load_programs`). The passes it calls are the package's other modules (see
nsc/frontend/__init__.py); nsc/toolchain.py calls it, and may start the preprocessor early (`preprocessed=`).
"""

from __future__ import annotations

import hashlib

from nsc.errors import NscError
from nsc.recursion import deep
from nsc.frontend.access import AccessAnalyzer
from nsc.frontend.canonical import canonical_exts
from nsc.frontend.checks import check_reached
from nsc.frontend.index import FileIndex
from nsc.frontend.parse import parse
from nsc.frontend.pragmas import read_pragmas
from nsc.frontend.preprocess import Preprocessing, preprocess
from nsc.frontend.program import Program, Signature
from nsc.frontend.ranges import apply_ranges, check_duplicate_ranges, check_pragma_names
from nsc.frontend.reach import reach
from nsc.frontend.select import function_span, select_function
from nsc.frontend.signature import build_signature
from nsc.frontend.source import read_source
from nsc.frontend.state import random_calls, written_state
from nsc.frontend.tokens import tokens_of

__all__ = ["load_program", "load_programs"]


@deep
def load_program(path, function: str | None = None, ranges: dict | None = None, default_range=None,
                 include_dirs=(), defines=(), preprocessed: Preprocessing | None = None) -> Program:
    """Read, check and describe the C program at `path`.

    function:      the target's name (-f); None: the `#pragma nsc surrogate` one or the only candidate.
    ranges:        name -> (lo, hi) from the command line (``x``, ``a`` or ``a[2]``); wins over pragmas.
    default_range: (lo, hi) for inputs without any range, or None (then a missing range is an error).
    include_dirs:  -I directories.
    defines:       -D macros: "NAME", "NAME=VALUE" or (name, value) pairs.
    preprocessed:  the preprocessor already started on this file with these -I and -D (start_preprocessing).
    """
    return _Unit(path, include_dirs, defines, preprocessed).program(function, ranges, default_range)


@deep
def load_programs(path, functions, ranges: dict | None = None, default_range=None, include_dirs=(),
                  defines=()) -> dict[str, Program | NscError]:
    """Several target functions of one file, which is read, preprocessed and parsed once (for corpora).

    Returns name -> Program, or the NscError that target alone raised; errors of the file as a whole
    (unreadable, missing header, syntax error) are raised.
    """
    unit = _Unit(path, include_dirs, defines)
    out: dict[str, Program | NscError] = {}
    for name in functions:
        try:
            out[name] = unit.program(name, ranges, default_range)
        except NscError as e:
            out[name] = e
    return out


class _Unit:
    """One C file, read, preprocessed, parsed and indexed: the part shared by all its target functions."""

    def __init__(self, path, include_dirs=(), defines=(), preprocessed: Preprocessing | None = None):
        self.path = str(path)
        self.include_dirs = tuple(str(d) for d in include_dirs)
        self.defines = tuple(_define_pair(d) for d in defines)
        self.data, self.text = read_source(self.path)
        self.pp = preprocess(self.path, self.include_dirs, self.defines, preprocessed)
        self.ast = parse(self.pp, self.text)
        self.pragmas = read_pragmas(self.pp, self.text)
        self.index = FileIndex(self.ast)
        self.parameter_names = parameter_names(self.index, self.path)
        self.main_spans = sorted(function_span(fn) for fn in self.index.function_definitions()
                                 if fn.coord.file == self.path)
        check_duplicate_ranges(self.pragmas, self.main_spans, self.path)

    def program(self, function: str | None, ranges: dict | None, default_range) -> Program:
        index, path = self.index, self.path
        target = select_function(index, self.pragmas, function, path)
        reached = reach(target, index)
        check_reached(reached, index)
        access = AccessAnalyzer(index, reached.resolutions).summary(target)
        parts = build_signature(target, index, access, self.pragmas.shapes)
        check_pragma_names(self.pragmas, self.parameter_names, parts.inputs, path)
        inputs = apply_ranges(parts.inputs, self.pragmas, self._pragma_lines(target), ranges, default_range,
                              parts.param_coords, path)
        state, statics = written_state(reached, index)
        signature = Signature(target.decl.name, parts.return_ctype, tuple(parts.params), tuple(inputs),
                              tuple(parts.outputs), tuple(state))
        exts = canonical_exts(reached, index)
        return Program(path=path, source=self.text, sha256=hashlib.sha256(self.data).hexdigest(),
                       signature=signature, include_dirs=self.include_dirs, defines=self.defines,
                       headers=self.pp.headers, tokens=tokens_of(exts), code=tuple(exts),
                       notes=_state_notes(state, statics, random_calls(reached)))

    def _pragma_lines(self, target) -> tuple[int, int]:
        """Lines whose range pragmas belong to the target: after the end of the previous function of the main
        file, up to the target's last line."""
        first, last = function_span(target)
        previous_end = 0
        if target.coord.file == self.path:
            previous_end = max([end for start, end in self.main_spans if end < first], default=0)
        return previous_end + 1, last


def _state_notes(state: list[str], statics: list, randoms: list[str]) -> tuple[str, ...]:
    notes = []
    if randoms:
        notes.append(f"the function calls {', '.join(f'{r}()' for r in randoms)}: outputs differ from call to call for "
                     "the same inputs, and a surrogate learns their average")
    if state:
        notes.append(f"the function writes file-scope state ({', '.join(state)}); each sample is one call from "
                     "the program's initial state, as a surrogate models it")
    for name, coord in statics:
        notes.append(f"the function writes the static local '{name}' (line {coord.line}), which nsc cannot reset: "
                     "a sample may depend on the calls before it")
    return tuple(notes)


def _define_pair(define) -> tuple[str, str]:
    if isinstance(define, (tuple, list)) and len(define) == 2:
        return str(define[0]), str(define[1])
    text = str(define)
    name, sep, value = text.partition("=")
    if not name.strip().isidentifier():
        raise NscError(f"bad -D '{text}': expected NAME or NAME=VALUE")
    return name.strip(), value if sep else "1"


def parameter_names(index: FileIndex, path: str) -> set[str]:
    """Parameter names of every function defined in the program (what a range or shape pragma may name)."""
    names = set()
    for fn in index.function_definitions():
        args = fn.decl.type.args
        for p in args.params if args is not None else []:
            if getattr(p, "name", None):
                names.add(p.name)
    return names
