"""Input ranges: from ``--range NAME=LO:HI`` (the command line wins), ``#pragma nsc range NAME LO HI``, or
``--default-range LO:HI``; a missing range is an error naming the input.

A range for an array parameter covers all its elements; one for an element (``a[2]``) covers that element and
wins over the parameter's. ``_Bool`` inputs default to [0, 1]. Integer inputs keep LO and HI as given (the
sampler draws integers in [ceil(LO), floor(HI)]).

When a file holds several functions with range pragmas for the same name, the pragma written with the target
(inside it, or after the previous function definition and before it) wins; otherwise the last one in the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from nsc.errors import NscError
from nsc.frontend import arith
from nsc.frontend.pragmas import NscPragmas, RangePragma
from nsc.frontend.program import Port

_OPTION = re.compile(r"^\s*([A-Za-z_]\w*(?:\[\d+\])?)\s*=\s*(.+)$")


def parse_bounds(text: str, what: str = "range") -> tuple[float, float]:
    """``"LO:HI"`` -> (lo, hi) floats with LO < HI; NscError otherwise. LO/HI: numbers like -3.5 or 1e3."""
    parts = text.split(":")
    if len(parts) != 2:
        raise NscError(f"bad {what} '{text}': expected LO:HI, e.g. 0:1 or -3.5:1e3")
    try:
        lo, hi = (arith.evaluate(p) for p in parts)
    except ValueError as e:
        raise NscError(f"bad {what} '{text}': {e}") from None
    if not lo < hi:
        raise NscError(f"bad {what} '{text}': LO ({parts[0].strip()}) must be less than HI ({parts[1].strip()})")
    return lo, hi


def parse_range_option(text: str) -> tuple[str, tuple[float, float]]:
    """``"a=0:1"`` -> ("a", (0.0, 1.0)); also ``"a[2]=-1:1"``. NscError on bad syntax or LO >= HI."""
    m = _OPTION.match(text)
    if not m:
        raise NscError(f"bad --range '{text}': expected NAME=LO:HI, e.g. x=0:1 or a[2]=-1:1")
    return m.group(1), parse_bounds(m.group(2), f"--range '{text}'")


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

    result, missing = [], []
    for port in inputs:
        bounds = None
        for source in (cli, chosen):
            bounds = source.get(port.name) or source.get(port.param)
            if bounds is not None:
                break
        if bounds is None and port.ctype == "_Bool":
            bounds = (0.0, 1.0)
        if bounds is None:
            bounds = default
        if bounds is None:
            if port.param not in missing:
                missing.append(port.param)
            result.append(port)
            continue
        result.append(replace(port, lo=float(bounds[0]), hi=float(bounds[1])))
    if missing:
        raise _missing_error(missing, param_coords, path)
    return result


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


def _choose_pragmas(found: list[RangePragma], target_lines: tuple[int, int]) -> dict[str, tuple[float, float]]:
    first, last = target_lines
    chosen: dict[str, RangePragma] = {}
    attached: dict[str, RangePragma] = {}
    for p in found:
        chosen[p.name] = p
        if first <= p.line <= last:
            attached[p.name] = p
    chosen.update(attached)
    return {name: (p.lo, p.hi) for name, p in chosen.items()}


def _missing_error(missing: list[str], param_coords: dict, path: str) -> NscError:
    line, col = param_coords.get(missing[0], (None, None))
    if len(missing) == 1:
        name = missing[0]
        message = (f"no range for input '{name}'; add '#pragma nsc range {name} LO HI' or pass "
                   f"--range {name}=LO:HI")
    else:
        names = ", ".join(f"'{n}'" for n in missing)
        message = (f"no range for inputs {names}; add '#pragma nsc range NAME LO HI' for each or pass "
                   f"--range NAME=LO:HI (or --default-range LO:HI)")
    return NscError(message, path, line, col)


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
