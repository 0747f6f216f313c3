"""The Python API's argument checks (nsc/toolchain.py): a wrong type is an NscError naming the argument and what it
takes, never a silent reinterpretation (``include_dirs="include"`` read as the directories i, n, c, ...) or a
traceback from deep inside. The command line's options arrive already typed by click; these checks are for
callers of the library.

Each function returns the argument in the form the toolchain uses.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping

from nsc.errors import NscError


def _shown(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def path(value, name: str, optional: bool = False) -> str | None:
    """A file path: a str or an os.PathLike (None too, where `optional`)."""
    if value is None and optional:
        return None
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        text = os.fspath(value)
        if isinstance(text, str) and text:
            return text
    raise NscError(f"{name} must be a file path (a str or os.PathLike){' or None' if optional else ''}, not "
                   f"{_shown(value)}")


def paths(value, name: str) -> list[str]:
    """A list (or tuple) of file paths; one path alone is an error, as it would be read letter by letter."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise NscError(f"{name} must be a list of paths, not one {type(value).__name__}: write {name}=[{value!r}]")
    if not isinstance(value, (list, tuple)):
        raise NscError(f"{name} must be a list of paths, not {_shown(value)}")
    return [path(v, f"each of {name}") for v in value]


def text(value, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise NscError(f"{name} must be a str{' or None' if optional else ''}, not {_shown(value)}")
    return value


def choice(value, name: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise NscError(f"{name} must be one of {', '.join(map(repr, choices))}, not {_shown(value)}")
    return value


def integer(value, name: str, minimum: int | None = None) -> int:
    """An int (not a bool, not 3.5, which would silently become 3), at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (minimum is not None and value < minimum):
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}" if minimum is not None else \
            "an integer"
        raise NscError(f"{name} must be {wanted} (got {value!r})")
    return int(value)


def number(value, name: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value or \
            (positive and not value > 0) or abs(value) == float("inf"):
        raise NscError(f"{name} must be a finite{' positive' if positive else ''} number (got {value!r})")
    return float(value)


def flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise NscError(f"{name} must be True or False, not {_shown(value)}")
    return value


def callback(value, name: str):
    if not callable(value):
        raise NscError(f"{name} must be a function taking one str, not {_shown(value)}")
    return value


def ranges(value) -> list[str] | dict:
    """Input ranges: a list of "NAME=LO:HI" (one alone is a str), or a dict NAME -> (LO, HI)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        for key, bounds in value.items():
            if not isinstance(key, str) or not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or not all(
                    isinstance(b, numbers.Real) and not isinstance(b, bool) for b in bounds):
                raise NscError(f"ranges: a dict's items are NAME: (LO, HI), numbers; not {key!r}: {bounds!r}")
        return dict(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, str) for r in value):
        raise NscError(f"ranges must be a list of 'NAME=LO:HI' strings or a dict NAME -> (LO, HI), not "
                       f"{_shown(value)}")
    return list(value)


def default_range(value) -> str | tuple | None:
    """None, "LO:HI", or a pair of numbers."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(b, numbers.Real) and not isinstance(b, bool) for b in value):
        return tuple(value)
    raise NscError(f"default_range must be 'LO:HI' or a pair (LO, HI), not {_shown(value)}")


def defines(value) -> list:
    """-D macros: a list of "NAME" / "NAME=VALUE" strings or (NAME, VALUE) pairs, or a dict NAME -> VALUE."""
    if isinstance(value, str):
        raise NscError(f"defines must be a list of 'NAME=VALUE' strings, not one str: write defines=[{value!r}]")
    if isinstance(value, Mapping):
        value = [(k, v) for k, v in value.items()]
    if not isinstance(value, (list, tuple)):
        raise NscError(f"defines must be a list of 'NAME=VALUE' strings or a dict, not {_shown(value)}")
    for d in value:
        pair = isinstance(d, (tuple, list)) and len(d) == 2 and isinstance(d[0], str) and \
            isinstance(d[1], (str, int, float)) and not isinstance(d[1], bool)
        if not (isinstance(d, str) or pair):
            raise NscError(f"defines: each is 'NAME', 'NAME=VALUE' or a pair (NAME, VALUE), not {_shown(d)}")
    return [d if isinstance(d, str) else f"{d[0]}={d[1]}" for d in value]


def program_options(function, ranges_, default_range_, include_dirs, defines_) -> dict:
    """The options of every function that reads a C program (see toolchain.load_program), checked."""
    return dict(function=text(function, "function", optional=True), ranges=ranges(ranges_),
                default_range=default_range(default_range_), include_dirs=paths(include_dirs, "include_dirs"),
                defines=defines(defines_))
