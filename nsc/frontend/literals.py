"""Values of C numeric literals: integers (decimal, octal, hex, binary, with suffixes), floats (decimal and hex,
with suffixes) and character constants."""

from __future__ import annotations

_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, "'": 39,
                   '"': 34, "?": 63, "e": 27}


def int_value(text: str) -> int:
    """Value of an integer literal such as ``42``, ``0x1Fu``, ``017``, ``0b101``, ``10ULL``."""
    t = text.rstrip("uUlL").replace("'", "")
    lower = t.lower()
    if lower.startswith(("0x", "0b")):
        return int(t, 0)
    if len(t) > 1 and t.startswith("0"):
        return int(t, 8)
    return int(t)


def float_value(text: str) -> float:
    """Value of a floating literal such as ``1.5``, ``1e-3f``, ``.5L``, ``0x1.8p3``."""
    t = text.replace("'", "")
    lower = t.lower()
    if lower.startswith("0x"):
        return float.fromhex(t.rstrip("fFlL"))
    return float(t.rstrip("fFlL"))


def char_value(text: str) -> int:
    """Value of a character constant such as ``'a'``, ``'\\n'``, ``'\\x41'``, ``'\\101'`` (prefixes L/u/U ok)."""
    body = text[text.index("'") + 1: text.rindex("'")]
    if not body.startswith("\\"):
        return ord(body[0]) if body else 0
    esc = body[1:]
    if esc[:1] in ("x", "X"):
        return int(esc[1:], 16)
    if esc[:1].isdigit() and esc[:1] < "8":
        return int(esc, 8)
    if esc[:1] in ("u", "U"):
        return int(esc[1:], 16)
    return _SIMPLE_ESCAPES.get(esc[:1], ord(esc[:1]) if esc else 0)


def constant_value(kind: str, text: str) -> float | None:
    """Value of a pycparser Constant node (``kind`` is its ``type``: 'int', 'double', 'char', ...), or None for
    strings."""
    try:
        if kind == "string" or text.startswith(('"', 'L"', 'u"', 'U"', 'u8"')):
            return None
        if "char" in kind or text.endswith("'"):
            return float(char_value(text))
        if kind in ("float", "double", "long double"):
            return float_value(text)
        return float(int_value(text))
    except (ValueError, IndexError, OverflowError):
        return None
