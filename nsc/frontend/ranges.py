"""Input ranges: from ``--range NAME=LO:HI`` (the command line wins), ``#pragma nsc range NAME LO HI``, or
``--default-range LO:HI``; a missing range is an error naming the input.

A range for an array parameter covers all its elements; one for an element (``a[2]``) covers that element and
wins over the parameter's. ``_Bool`` inputs default to [0, 1]. Integer inputs keep LO and HI as given (the
sampler draws integers in [ceil(LO), floor(HI)]).

When a file holds several functions with range pragmas for the same name, the pragma written with the target
(inside it, or after the previous function definition and before it) wins; otherwise the last one in the file.
Two pragmas for one name written with the same function are an error unless they agree.

A range must be finite and fit the input's C type: an integer type's values (LP64: ``unsigned char`` 0..255,
``int`` -2^31..2^31-1, ``long`` 64 bits, ``_Bool`` 0..1; for integers the sampled [ceil(LO), floor(HI)]),
and for every input float32, in which the surrogate holds it (|LO|, |HI| <= 3.4028235e38, ``float``'s limit).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import replace

from nsc.errors import NscError
from nsc.frontend import arith
from nsc.frontend.pragmas import NscPragmas, RangePragma, non_finite_name
from nsc.frontend.program import Port
from nsc_runtime.metadata import range_fit

_OPTION = re.compile(r"^\s*([A-Za-z_]\w*(?:\[\d+\])?)\s*=\s*(.+)$")



def parse_bounds(text: str, what: str = "range") -> tuple[float, float]:
    """``"LO:HI"`` -> (lo, hi) floats with LO < HI; NscError otherwise. LO/HI: finite numbers like -3.5 or 1e3."""
    return _bounds(text, f"bad {what} '{text}'")


def _bounds(text: str, bad: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise NscError(f"{bad}: expected LO:HI, e.g. 0:1 or -3.5:1e3")
    try:
        lo, hi = (arith.evaluate(p) for p in parts)
    except ValueError as e:
        infinite = next((n for n in map(non_finite_name, parts) if n is not None), None)
        if infinite is not None:
            raise NscError(f"{bad}: '{infinite}' is not finite: a range must be finite") from None
        raise NscError(f"{bad}: {e}") from None
    if not lo < hi:
        raise NscError(f"{bad}: LO ({parts[0].strip()}) must be less than HI ({parts[1].strip()})")
    return lo, hi


def parse_range_option(text: str) -> tuple[str, tuple[float, float]]:
    """``"a=0:1"`` -> ("a", (0.0, 1.0)); also ``"a[2]=-1:1"``. NscError on bad syntax or LO >= HI."""
    m = _OPTION.match(text)
    if not m:
        raise NscError(f"bad --range '{text}': expected NAME=LO:HI, e.g. x=0:1 or a[2]=-1:1")
    return m.group(1), _bounds(m.group(2), f"bad --range '{text}'")


def apply_ranges(inputs: list[Port], pragmas: NscPragmas, target_lines: tuple[int, int],
                 ranges: dict | None, default_range, param_coords: dict, path: str) -> list[Port]:
    """Give every input port its (lo, hi); NscError naming the inputs left without one.

    target_lines: (first, last) source lines that count as "written with the target" for pragmas.
    param_coords: parameter name -> (line, col) of its declaration, for the missing-range message.
    """
    cli = {}
    for name, bounds in (ranges or {}).items():
        cli[name] = _checked_bounds(bounds, f"--range {name}")
    default = _checked_bounds(default_range, "--default-range") if default_range is not None else None
    _check_cli_names(cli, inputs)
    chosen = _choose_pragmas(pragmas.ranges, target_lines)

    result, missing, covered = [], [], {}
    for port in inputs:
        bounds, origin = None, None
        key = next((k for k in (port.name, port.param) if k in cli), None)
        if key is not None:
            bounds, origin = cli[key], ("--range", key)
        else:
            pragma = chosen.get(port.name) or chosen.get(port.param)
            if pragma is not None:
                bounds, origin = (pragma.lo, pragma.hi), pragma
        if bounds is None and port.ctype == "_Bool":
            bounds, origin = (0.0, 1.0), ("_Bool", port.name)
        if bounds is None and default is not None:
            bounds, origin = default, ("--default-range", port.name)
        if bounds is None:
            if port.param not in missing:
                missing.append(port.param)
            result.append(port)
            continue
        own = origin.name if isinstance(origin, RangePragma) else origin[1] if origin[0] == "--range" else None
        if port.index is not None and own == port.name:  # an element's own range (a[2])
            covered.setdefault(port.param, []).append(port.name)
        _check_fits(port, float(bounds[0]), float(bounds[1]), origin, path)
        result.append(replace(port, lo=float(bounds[0]), hi=float(bounds[1])))
    if missing:
        raise _missing_error(missing, param_coords, path, result, covered)
    return result


def _check_fits(port: Port, lo: float, hi: float, origin, path: str) -> None:
    """NscError unless [lo, hi] fits the port's C type and float32 (see the module docstring; the rule is
    nsc_runtime's, which checks the ranges of every surrogate it loads), located at the pragma's bound, or naming
    the command-line option."""
    low_bad, high_bad, why = range_fit(port.name, port.ctype, lo, hi)
    if not (low_bad or high_bad):
        return
    if isinstance(origin, RangePragma):
        col = (origin.lo_col if low_bad else origin.hi_col) or origin.col
        raise NscError(f"range {_num(lo)} to {_num(hi)} of '{port.name}' {why}", path, origin.line, col)
    option, key = origin
    if option == "--range":
        raise NscError(f"--range {key}={_num(lo)}:{_num(hi)}: range of '{key}' {why}")
    raise NscError(f"{option} {_num(lo)}:{_num(hi)}: range of input '{port.name}' {why}")


def _num(v: float) -> str:
    """A bound as the user may have written it: 5000000000, 2.5, 1e+300 (never rounded)."""
    if v == int(v) and abs(v) < 1e20:
        return str(int(v))
    return f"{v:g}" if float(f"{v:g}") == v else repr(v)


def _checked_bounds(bounds, what: str) -> tuple[float, float]:
    try:
        lo, hi = float(bounds[0]), float(bounds[1])
    except (TypeError, ValueError, IndexError):
        raise NscError(f"bad {what}: expected (LO, HI), got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise NscError(f"bad {what}: LO and HI must be finite numbers")
    if not lo < hi:
        raise NscError(f"bad {what}: LO ({lo:g}) must be less than HI ({hi:g})")
    return lo, hi


def _check_cli_names(cli: dict, inputs: list[Port]) -> None:
    known = {p.name for p in inputs} | {p.param for p in inputs}
    unknown = [n for n in cli if n not in known]
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        listed = ", ".join(dict.fromkeys(p.param for p in inputs)) or "none"
        raise NscError(f"--range names {names}, which is not an input (inputs: {listed})")


def _choose_pragmas(found: list[RangePragma], target_lines: tuple[int, int]) -> dict[str, RangePragma]:
    first, last = target_lines
    chosen: dict[str, RangePragma] = {}
    attached: dict[str, RangePragma] = {}
    for p in found:
        chosen[p.name] = p
        if first <= p.line <= last:
            attached[p.name] = p
    chosen.update(attached)
    return chosen


def _missing_error(missing: list[str], param_coords: dict, path: str, result: list[Port],
                   covered: dict[str, list[str]]) -> NscError:
    line, col = param_coords.get(missing[0], (None, None))
    if len(missing) == 1 and missing[0] in covered:
        name = missing[0]
        without = ", ".join(p.name for p in result if p.param == name and p.lo is None)
        ranged = ", ".join(f"'{n}'" for n in covered[name])
        message = (f"no range for {without}: only {ranged} of array '{name}' has one, and a range for an element "
                   f"covers only that element; a range for the array covers every element: add "
                   f"'#pragma nsc range {name} LO HI' or pass --range {name}=LO:HI")
    elif len(missing) == 1:
        name = missing[0]
        message = (f"no range for input '{name}'; add '#pragma nsc range {name} LO HI' or pass "
                   f"--range {name}=LO:HI")
    else:
        names = ", ".join(f"'{n}'" for n in missing)
        message = (f"no range for inputs {names}; add '#pragma nsc range NAME LO HI' for each or pass "
                   f"--range NAME=LO:HI (or --default-range LO:HI)")
    return NscError(message, path, line, col)


def check_duplicate_ranges(pragmas: NscPragmas, function_spans, path: str) -> None:
    """NscError at the second of two range pragmas for one name written with the same function (after the
    previous definition, up to the end of this one) that disagree; agreeing ones are harmless."""
    ends = sorted(end for _start, end in function_spans)
    seen: dict[tuple[int, str], RangePragma] = {}
    for p in pragmas.ranges:
        first = seen.setdefault((bisect_left(ends, p.line), p.name), p)
        if first is not p and (first.lo, first.hi) != (p.lo, p.hi):
            raise NscError(f"conflicting ranges for '{p.name}': {_num(p.lo)} to {_num(p.hi)} here, "
                           f"{_num(first.lo)} to {_num(first.hi)} at line {first.line}; keep one", path, p.line,
                           p.col)


def check_pragma_names(pragmas: NscPragmas, parameter_names: set[str], inputs: list[Port], path: str) -> None:
    """Range/shape pragmas must name a parameter of some function in the file, and elements of the target's
    array inputs must exist; NscError at the pragma otherwise."""
    element_names = {p.name for p in inputs}
    target_params = {p.param for p in inputs}
    for p in list(pragmas.ranges) + list(pragmas.shapes):
        base = p.name.split("[")[0]
        kind = "range" if isinstance(p, RangePragma) else "shape"
        if base not in parameter_names:
            raise NscError(f"'#pragma nsc {kind}' names '{base}', which is not a parameter of any function",
                           path, p.line, p.col)
        if "[" in p.name and base in target_params and p.name not in element_names:
            size = sum(1 for q in inputs if q.param == base)
            raise NscError(f"'#pragma nsc range' names '{p.name}', but '{base}' has {size} element(s)",
                           path, p.line, p.col)
