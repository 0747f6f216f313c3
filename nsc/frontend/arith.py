"""Evaluating the small numeric expressions allowed in ``#pragma nsc`` arguments and ``--range`` bounds.

Accepted: C numeric literals (``-3.5``, ``1e3``, ``0x10``, ``2.0f``), object-like macros such as ``M_PI`` or
``N`` (expanded from the program's ``#define``s and nsc's stand-in headers), ``+ - * /``, unary minus and
parentheses: ``-M_PI/2``, ``(2*M_PI)``. Nothing else (no function calls, no names Python would know).
"""

from __future__ import annotations

import ast
import math
import re

from nsc.frontend.literals import char_value, float_value, int_value

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F.]+(?:[pP][+-]?\d+)?[fFlLuU]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFlLuU]*)"
    r"|(?P<char>'(?:[^'\\]|\\.)+')|(?P<name>[A-Za-z_]\w*)|(?P<op>[-+*/()]))"
)

_CAST = re.compile(r"\(\s*(?:const\s+)?(?:long\s+double|double|float|int|long|unsigned)\s*\)")


def split_arguments(text: str) -> list[str]:
    """Split pragma arguments on blanks outside parentheses: ``a (1 + 2) M_PI`` -> ['a', '(1 + 2)', 'M_PI']."""
    args, depth, current = [], 0, ""
    for ch in text:
        if ch.isspace() and depth == 0:
            if current:
                args.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        current += ch
    if current:
        args.append(current)
    return args


def evaluate(text: str, macros: dict[str, str] | None = None) -> float:
    """Evaluate a numeric expression; ValueError with a short reason if it is not one."""
    python = _to_python(text, macros or {}, 0)
    try:
        tree = ast.parse(python, mode="eval")
    except SyntaxError:
        raise ValueError(f"'{text}' is not a number or a constant expression") from None
    value = _eval(tree.body, text)
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is not a finite number")
    return value


def _to_python(text: str, macros: dict[str, str], depth: int) -> str:
    """Rewrite a C expression into Python source with literals as plain decimals and macros expanded."""
    if depth > 32:
        raise ValueError("macro expansion too deep")
    out, pos = [], 0
    text = _CAST.sub(" ", text).strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"'{text}' is not a number or a constant expression")
        pos = m.end()
        if m.group("num"):
            out.append(repr(_literal(m.group("num"))))
        elif m.group("char"):
            out.append(str(char_value(m.group("char"))))
        elif m.group("name"):
            name = m.group("name")
            if name not in macros:
                raise ValueError(f"'{name}' is not a number or a known constant macro")
            out.append("(" + _to_python(macros[name], macros, depth + 1) + ")")
        else:
            out.append(m.group("op"))
    return " ".join(out)


def _literal(text: str) -> float:
    lower = text.lower()
    is_hex = lower.startswith("0x")
    is_float = ("." in text or "p" in lower) if is_hex else ("." in text or "e" in lower)
    if is_float:
        return float_value(text)
    return float(int_value(text))


def _eval(node, text: str) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, text)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        a, b = _eval(node.left, text), _eval(node.right, text)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if b == 0:
            raise ValueError(f"division by zero in '{text}'")
        return a / b
    raise ValueError(f"'{text}' is not a number or a constant expression")
