"""Canonical tokens: the canonical form of the reached code (canonical.py) printed by pycparser's CGenerator
(minimal parentheses) and re-read by the small lexer below.

Each lexer token becomes a `Token` with its text, except:
  * numeric and character literals -> ``Token("<num>", value)`` (``1.0``, ``1.``, ``0x1p0`` are all 1.0);
  * string literals -> ``Token("<str>")``;
  * an initialiser list cut short by canonical.py -> its first 16 elements, then ``Token("<more>", n)`` where
    n is the full number of elements of that list.
Printing from the AST makes the stream independent of layout, comments, redundant parentheses and names.

The lexer is ours, not pycparser's: pycparser's CLexer is not part of its public API (its constructor changed
between 3.0 and 3.12). It only has to read CGenerator's output, which is well-formed C with no comments or
directives; tests/test_frontend.py pins the token stream of every example (the trained compiler reads it).
"""

from __future__ import annotations

import re

from pycparser import c_ast, c_generator

from nsc.frontend.canonical import MORE_MARKER, cut_initialisers
from nsc.frontend.literals import char_value, float_value, int_value
from nsc.frontend.program import Token


def tokens_of(exts: list[c_ast.Node]) -> tuple[Token, ...]:
    text = _Unindented(reduce_parentheses=True).visit(c_ast.FileAST(cut_initialisers(exts)))
    return tuple(_lex(text))


class _Unindented(c_generator.CGenerator):
    """CGenerator without indentation, which tokens do not see: indenting n nested blocks writes n^2 blanks
    (10000 nested blocks: 100 M of them)."""

    def _make_indent(self) -> str:
        return ""


_PUNCTUATORS = ("...", "<<=", ">>=", "++", "--", "->", "&&", "||", "<<", ">>", "<=", ">=", "==", "!=", "*=", "/=",
                "%=", "+=", "-=", "&=", "|=", "^=", "=", "+", "-", "*", "/", "%", "|", "&", "~", "^", "!", "<", ">",
                "?", "(", ")", "[", "]", "{", "}", ",", ".", ";", ":")
_LEXEME = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>(?:u8|[LuU])?"(?:[^"\\\n]|\\.)*")
  | (?P<char>(?:u8|[LuU])?'(?:[^'\\\n]|\\.)*')
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
  | (?P<word>[A-Za-z_$][0-9A-Za-z_$]*)
  | (?P<punct>""" + "|".join(re.escape(p) for p in _PUNCTUATORS) + ")", re.VERBOSE)


def _lex(text: str):
    at = 0
    while at < len(text):
        m = _LEXEME.match(text, at)
        if m is None:
            raise ValueError(f"canonical text does not lex at offset {at}: {text[at:at + 20]!r}")
        at = m.end()
        kind, value = m.lastgroup, m.group()
        if kind == "space":
            continue
        if kind == "number":
            yield Token("<num>", _number_value(value))
        elif kind == "char":
            yield Token("<num>", float(char_value(value)))
        elif kind == "string":
            yield Token("<str>")
        elif kind == "word" and value.startswith(MORE_MARKER):
            yield Token("<more>", float(value[len(MORE_MARKER):]))
        else:
            yield Token(value)


def _number_value(text: str) -> float:
    lower = text.lower()
    is_float = ("." in lower or "p" in lower) if lower.startswith("0x") else ("." in lower or "e" in lower)
    return float_value(text) if is_float else float(int_value(text))
