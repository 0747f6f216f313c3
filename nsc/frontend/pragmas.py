"""nsc's pragmas, read from the main file's ``#pragma`` lines (as the preprocessor left them, so ones inside
``#if 0`` do not count; pragmas in headers are ignored):

    #pragma nsc surrogate              the next function definition is the target
    #pragma nsc range NAME LO HI       sampling range of an input (NAME: a parameter, or one element ``a[2]``);
                                       LO and HI finite (inf/nan, e.g. ``INFINITY``, are errors)
    #pragma nsc shape NAME N           a pointer parameter points to N elements

LO, HI and N are numbers or constant expressions over object-like macros (see arith.py), each written without
blanks or inside parentheses. Other pragmas (``omp``, ``GCC``, ``once``, ...) are not nsc's business.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from nsc.errors import NscError
from nsc.frontend import arith
from nsc.frontend.preprocess import Preprocessed
from nsc.frontend.source import read_line

_NAME = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class RangePragma:
    name: str          # "x" or "a[2]"
    lo: float
    hi: float
    line: int
    col: int
    lo_col: int = 0    # columns of LO and HI (0: unknown), for diagnostics about one bound
    hi_col: int = 0


@dataclass(frozen=True)
class ShapePragma:
    name: str
    size: int
    line: int
    col: int


@dataclass
class NscPragmas:
    surrogate: list[int] = field(default_factory=list)          # line numbers of `#pragma nsc surrogate`
    ranges: list[RangePragma] = field(default_factory=list)
    shapes: list[ShapePragma] = field(default_factory=list)


def read_pragmas(pp: Preprocessed, source_text: str) -> NscPragmas:
    """Parse the nsc pragmas of the main file; NscError (at the pragma) for malformed ones."""
    found = NscPragmas()
    for pragma in pp.pragmas:
        words = pragma.text.split(None, 2)
        if not words or words[0] != "nsc":
            continue
        line_text = read_line(pp.path, pragma.line, source_text)
        at = _Locator(pp.path, pragma.line, line_text)
        if len(words) < 2:
            raise at.error("'#pragma nsc' needs a kind: surrogate, range or shape", "nsc")
        kind = words[1]
        args = arith.split_arguments(words[2]) if len(words) > 2 else []
        if kind == "surrogate":
            if args:
                raise at.error(f"'#pragma nsc surrogate' takes no arguments (got '{' '.join(args)}')", args[0])
            found.surrogate.append(pragma.line)
        elif kind == "range":
            if len(args) != 3:
                raise at.error("expected '#pragma nsc range NAME LO HI'", kind)
            name = _check_name(args[0], at)
            lo, hi = (_number(a, pp.macros, at, "a range") for a in args[1:])
            if not lo < hi:
                raise at.error(f"empty range for '{name}': LO ({args[1]}) must be less than HI ({args[2]})", args[1])
            found.ranges.append(RangePragma(name, lo, hi, pragma.line, at.col(args[0]), at.col(args[1]),
                                            at.col(args[2])))
        elif kind == "shape":
            if len(args) != 2:
                raise at.error("expected '#pragma nsc shape NAME N'", kind)
            name = _check_name(args[0], at)
            if "[" in name:
                raise at.error(f"'#pragma nsc shape' names a parameter, not an element ('{name}')", args[0])
            size = _number(args[1], pp.macros, at, "a shape")
            if size != int(size) or size < 1:
                raise at.error(f"shape of '{name}' must be a positive integer (got {args[1]})", args[1])
            found.shapes.append(ShapePragma(name, int(size), pragma.line, at.col(args[0])))
        else:
            raise at.error(f"unknown nsc pragma '{kind}' (expected surrogate, range or shape)", kind)
    return found


class _Locator:
    """Columns of pragma arguments in the source line, for diagnostics."""

    def __init__(self, path: str, line: int, text: str):
        self.path, self.line, self.text = path, line, text

    def col(self, word: str) -> int:
        start = max(self.text.find("nsc"), 0)
        m = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w.])").search(self.text, start)
        at = m.start() if m else self.text.find("#")
        return at + 1 if at >= 0 else 1

    def error(self, message: str, word: str) -> NscError:
        return NscError(message, self.path, self.line, self.col(word))


def _check_name(text: str, at: _Locator) -> str:
    if not _NAME.match(text):
        raise at.error(f"'{text}' is not a parameter name or an element like 'a[2]'", text)
    return text


def _number(text: str, macros: dict[str, str], at: _Locator, what: str) -> float:
    try:
        return arith.evaluate(text, macros)
    except ValueError as e:
        infinite = non_finite_name(text, macros)
        if infinite is not None:
            raise at.error(f"'{infinite}' is not finite: {what} must be a finite number", text) from None
        raise at.error(str(e), text) from None


# Names that stand for inf or nan: C's macros (also when <math.h> is not included) and the builtins nsc's
# stand-in math.h expands them to; and the spellings Python or a shell user might try on the command line.
_NON_FINITE = re.compile(r"^(?:INFINITY|NAN|HUGE_VAL[FL]?|__builtin_(?:inf|huge_val|nan)\w*|inf|infinity|nan)$",
                         re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_]\w*")
_LITERAL = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")   # decimal with an exponent: 1e400


def non_finite_name(text: str, macros: dict[str, str] | None = None) -> str | None:
    """The word in `text` (as written) that stands for inf or nan, directly or through macros, or a literal too
    large for a double (1e400); else None."""
    macros = macros or {}
    for literal in _LITERAL.findall(text):
        if math.isinf(float(literal)):
            return literal

    def reaches(word: str, depth: int) -> bool:
        if _NON_FINITE.match(word):
            return True
        if depth > 32 or word not in macros:
            return False
        return any(reaches(w, depth + 1) for w in _WORD.findall(macros[word]))

    for word in _WORD.findall(re.sub(r"\b\d\w*", " ", text)):  # (not the e or f of a literal like 1e3f)
        if reaches(word, 0):
            return word
    return None
