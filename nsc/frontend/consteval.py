"""Integer constant expressions: array sizes like ``N``, ``2 * N + 1``, ``sizeof(double) * 3`` or an enum constant.

Macros are already expanded by the preprocessor; enum constants and file-scope ``const`` integers with constant
initialisers are looked up in the file index. Arithmetic follows C (division truncates toward zero).
"""

from __future__ import annotations

from pycparser import c_ast

from nsc.frontend import c_types
from nsc.frontend.literals import char_value, int_value


def int_constant(expr, index, _depth: int = 0) -> int | None:
    """The value of an integer constant expression, or None if it is not one we can evaluate."""
    if expr is None or _depth > 100:
        return None
    ev = lambda e: int_constant(e, index, _depth + 1)  # noqa: E731
    if isinstance(expr, c_ast.Constant):
        try:
            if expr.type == "char" or expr.value.endswith("'"):
                return char_value(expr.value)
            if expr.type in ("float", "double", "long double", "string"):
                return None
            return int_value(expr.value)
        except (ValueError, IndexError):
            return None
    if isinstance(expr, c_ast.ID):
        return _named_constant(expr.name, index, _depth)
    if isinstance(expr, c_ast.UnaryOp):
        if expr.op == "sizeof":
            return _sizeof(expr.expr, index)
        v = ev(expr.expr)
        if v is None:
            return None
        return {"-": -v, "+": v, "~": ~v, "!": int(not v)}.get(expr.op)
    if isinstance(expr, c_ast.BinaryOp):
        a, b = ev(expr.left), ev(expr.right)
        if a is None or b is None:
            return None
        return _binary(expr.op, a, b)
    if isinstance(expr, c_ast.TernaryOp):
        c = ev(expr.cond)
        if c is None:
            return None
        return ev(expr.iftrue if c else expr.iffalse)
    if isinstance(expr, c_ast.Cast):
        t = c_types.resolve(expr.to_type, index)
        if t.kind != "scalar" or t.name in ("float", "double", "long double"):
            return None
        return ev(expr.expr)
    return None


def _binary(op: str, a: int, b: int) -> int | None:
    if op in ("/", "%"):
        if b == 0:
            return None
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    ops = {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "<<": lambda: a << b if b >= 0 else None,
        ">>": lambda: a >> b if b >= 0 else None, "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "&&": lambda: int(bool(a and b)), "||": lambda: int(bool(a or b)), "<": lambda: int(a < b),
        ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b), "==": lambda: int(a == b),
        "!=": lambda: int(a != b),
    }
    f = ops.get(op)
    return f() if f else None


def _named_constant(name: str, index, depth: int) -> int | None:
    entity = index.lookup(name) if index is not None else None
    if entity is None:
        return None
    if entity.kind == "enumerator":
        return enumerator_value(entity.node, index, depth)
    if entity.kind == "variable":
        decl = entity.node
        t = c_types.resolve(decl.type, index)
        if t.kind == "scalar" and t.const and decl.init is not None and not isinstance(decl.init, c_ast.InitList):
            return int_constant(decl.init, index, depth + 1)
    return None


def enumerator_value(enumerator: c_ast.Enumerator, index, depth: int = 0) -> int | None:
    """Value of an enum constant: its explicit value, or one more than the previous one."""
    enum = index.enum_of(enumerator)
    if enum is None:
        return None
    value = -1
    for e in enum.values.enumerators:
        if e.value is not None:
            value = int_constant(e.value, index, depth + 1)
            if value is None:
                return None
        else:
            value += 1
        if e is enumerator:
            return value
    return None


def _sizeof(operand, index) -> int | None:
    if isinstance(operand, c_ast.Typename):
        return _size(c_types.resolve(operand, index), index)
    return None


def _size(t: c_types.CType, index) -> int | None:
    if t.kind == "scalar":
        return c_types.SCALAR_SIZES.get(t.name)
    if t.kind == "pointer":
        return c_types.POINTER_SIZE
    if t.kind == "array":
        n = int_constant(t.dim, index)
        elem = _size(t.target, index)
        return n * elem if n is not None and elem is not None else None
    return None
