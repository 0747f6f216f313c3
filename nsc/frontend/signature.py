"""The target function's signature (NOTES.md section 2): its parameters as the harness passes them, its input
columns and its output columns (ranges are added by ranges.py).

  * numeric scalar parameters (typedefs resolved to program.SCALAR_TYPES) are inputs, by name;
  * ``const T a[N]`` and ``const T *a`` with ``#pragma nsc shape a N`` are N inputs ``a[0]``..``a[N-1]``;
  * outputs: the return value (``return``), then each non-const pointer/array parameter the function writes;
    one it also reads is an input as well, and its output column is primed (``p'``, ``s[0]'``: the value after
    the call, as x' in state-space notation) so that every column name of a signature is unique;
  * extent of a pointer: ``#pragma nsc shape``, else the declared array size, else the constant indices the
    function uses (``out[0]``, ``out[1]`` -> 2); a pointer used only as ``*p`` is the scalar column ``p``;
  * struct/union and function-pointer parameters, pointers to pointers, multi-dimensional arrays and variadic
    or K&R-style functions are errors naming the parameter and its line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pycparser import c_ast

from nsc.errors import NscError
from nsc.frontend import c_types
from nsc.frontend.access import Access
from nsc.frontend.consteval import int_constant
from nsc.frontend.index import FileIndex
from nsc.frontend.pragmas import ShapePragma
from nsc.frontend.program import SCALAR_TYPES, Param, Port


@dataclass
class SignatureParts:
    """The target's parameters and columns before ranges are attached."""

    return_ctype: str | None
    params: list[Param]
    inputs: list[Port]
    outputs: list[Port]
    param_coords: dict[str, tuple[int, int]]   # parameter name -> (line, col)


def _error(message: str, node: c_ast.Node) -> NscError:
    c = _name_coord(node)
    return NscError(message, c.file if c else None, c.line if c else None, c.column if c else None)


def build_signature(fn: c_ast.FuncDef, index: FileIndex, access: dict[str, Access],
                    shapes: list[ShapePragma]) -> SignatureParts:
    name = fn.decl.name
    ftype = fn.decl.type
    if fn.param_decls:
        raise _error(f"old-style (K&R) parameter declarations of '{name}' are not supported", fn.decl)
    rtype = c_types.resolve(ftype.type, index)
    if rtype.kind == "void":
        return_ctype = None
    elif rtype.kind == "scalar" and rtype.name in SCALAR_TYPES:
        return_ctype = rtype.name
    else:
        raise _error(f"function '{name}' returns {_what(rtype)}, which is not supported: return a number "
                     "or write results through pointer parameters", fn.decl)

    raw = ftype.args.params if ftype.args is not None else []
    if any(isinstance(p, c_ast.EllipsisParam) for p in raw):
        raise _error(f"variadic function '{name}' is not supported", fn.decl)
    if len(raw) == 1 and isinstance(raw[0], (c_ast.Typename, c_ast.Decl)) and \
            c_types.resolve(raw[0].type, index).kind == "void" and not getattr(raw[0], "name", None):
        raw = []  # f(void)

    shape_of = {s.name: s for s in shapes}  # the last pragma for a name wins
    params, inputs, outputs = [], [], []
    coords = {}
    for position, decl in enumerate(raw, 1):
        if not isinstance(decl, c_ast.Decl) or not decl.name:
            raise _error(f"parameter {position} of '{name}' has no name", decl)
        c = _name_coord(decl)
        coords[decl.name] = (c.line, c.column) if c else (None, None)
        param, ins, outs = _parameter(decl, index, access.get(decl.name), shape_of.get(decl.name))
        params.append(param)
        inputs += ins
        outputs += outs
    if return_ctype is not None:
        outputs.insert(0, Port("return", "return", None, return_ctype))
    if not outputs:
        raise _error(f"function '{name}' has no outputs: it returns void and writes through no pointer "
                     "parameter", fn.decl)
    if not inputs:
        raise _error(f"function '{name}' has no inputs: a surrogate needs at least one numeric parameter",
                     fn.decl)
    _check_unique(inputs + outputs, fn.decl)
    return SignatureParts(return_ctype, params, inputs, outputs, coords)


def _check_unique(ports: list[Port], decl: c_ast.Node) -> None:
    """Columns are matched by name (CSV, NPZ, --inputs, JSON), so two ports with one name would be ambiguous."""
    seen = set()
    for port in ports:
        if port.name in seen:
            raise _error(f"two columns of '{decl.name}' are both named '{port.name}'; rename a parameter", decl)
        seen.add(port.name)


def _name_coord(node: c_ast.Node):
    """Where a declaration's name is written (pycparser places a pointer declaration at its '*')."""
    inner = node
    while isinstance(inner, (c_ast.Decl, c_ast.PtrDecl, c_ast.ArrayDecl, c_ast.FuncDecl)):
        inner = inner.type
    if isinstance(inner, c_ast.TypeDecl) and inner.declname == getattr(node, "name", None) and inner.coord:
        return inner.coord
    return node.coord


def _what(t: c_types.CType) -> str:
    if t.kind in ("struct", "union"):
        return f"a {t.spelled()}"
    if t.kind == "pointer":
        return "a pointer"
    return f"'{t.spelled()}'"


def _parameter(decl: c_ast.Decl, index: FileIndex, acc: Access | None, shape: ShapePragma | None):
    """(Param, input ports, output ports) of one parameter."""
    name = decl.name
    t = c_types.resolve(decl.type, index)
    if t.kind == "scalar" and t.name in SCALAR_TYPES:
        if shape is not None:
            raise NscError(f"'#pragma nsc shape' names '{name}', which is not a pointer", None, shape.line,
                           shape.col)
        return Param(name, t.name), [Port(name, name, None, t.name)], []
    if t.kind in ("struct", "union"):
        raise _error(f"{t.kind} parameter '{name}' ({t.spelled()}) is not supported; pass its fields as "
                     "separate parameters", decl)
    if t.kind == "function" or (t.kind == "pointer" and t.target.kind == "function"):
        raise _error(f"function-pointer parameter '{name}' is not supported", decl)
    if t.kind not in ("pointer", "array"):
        raise _error(f"parameter '{name}' has type '{t.spelled()}', which is not supported", decl)

    elem = t.target
    if elem.kind == "array":
        raise _error(f"multi-dimensional array parameter '{name}' is not supported; pass a flat array", decl)
    if elem.kind == "pointer":
        raise _error(f"pointer-to-pointer parameter '{name}' is not supported", decl)
    if elem.kind in ("struct", "union"):
        raise _error(f"parameter '{name}' points to a {elem.spelled()}, which is not supported; pass its fields "
                     "as separate parameters", decl)
    if elem.kind == "function":
        raise _error(f"function-pointer parameter '{name}' is not supported", decl)
    if elem.kind != "scalar" or elem.name not in SCALAR_TYPES:
        raise _error(f"parameter '{name}' points to '{elem.spelled()}', which is not a numeric type", decl)

    acc = acc or Access()
    declared = int_constant(t.dim, index) if t.kind == "array" and t.dim is not None else None
    if t.kind == "array" and t.dim is not None and declared is None and shape is None:
        raise _error(f"size of array parameter '{name}' is not a constant; add '#pragma nsc shape {name} N'", decl)
    scalar_pointer = False
    if shape is not None:
        if declared is not None and declared != shape.size:
            raise NscError(f"'#pragma nsc shape {name} {shape.size}' disagrees with its declared size {declared}",
                           decl.coord.file, shape.line, shape.col)
        size = shape.size
    elif declared is not None:
        size = declared
    elif acc.indices is not None:
        if not acc.indices:
            size = 1  # never touched: the harness still passes a valid element
            scalar_pointer = True
        elif not acc.subscripted and acc.indices == {0}:
            size, scalar_pointer = 1, True
        else:
            size = max(acc.indices) + 1
    else:
        raise _error(f"the number of elements of '{name}' is unknown (it is indexed with a variable or its "
                     f"address escapes); add '#pragma nsc shape {name} N'", decl)
    if acc.indices:
        bad = [i for i in sorted(acc.indices) if not 0 <= i < size]
        if bad:
            raise _error(f"'{name}' is accessed at index {bad[0]}, outside its {size} element(s)", decl)

    const = elem.const
    reads = const or acc.reads
    writes = (not const) and acc.writes
    param = Param(name, elem.name, size, t.kind == "pointer", const, reads, writes)
    if scalar_pointer:
        ports = [Port(name, name, None, elem.name)]
    else:
        ports = [Port(f"{name}[{i}]", name, i, elem.name) for i in range(size)]
    outs = [replace(p, name=p.name + "'") for p in ports] if reads else ports  # after the call: p'
    return param, (ports if reads else []), (outs if writes else [])
