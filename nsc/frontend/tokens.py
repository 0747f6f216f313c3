"""Canonical tokens: the canonical form of the reached code (canonical.py) printed by pycparser's CGenerator
(minimal parentheses) and re-read by pycparser's lexer.

Each lexer token becomes a `Token` with its text, except:
  * numeric and character literals -> ``Token("<num>", value)`` (``1.0``, ``1.``, ``0x1p0`` are all 1.0);
  * string literals -> ``Token("<str>")``;
  * an initialiser list cut short by canonical.py -> its first 16 elements, then ``Token("<more>", n)`` where
    n is the full number of elements of that list.
Printing from the AST makes the stream independent of layout, comments, redundant parentheses and names.
"""

from __future__ import annotations

from pycparser import c_ast, c_generator, c_lexer

from nsc.frontend.canonical import MORE_MARKER
from nsc.frontend.literals import char_value, float_value, int_value
from nsc.frontend.program import Token


def tokens_of(exts: list[c_ast.Node]) -> tuple[Token, ...]:
    text = c_generator.CGenerator(reduce_parentheses=True).visit(c_ast.FileAST(list(exts)))
    return tuple(_lex(text))


def _lex(text: str):
    def error(msg, line, column):
        raise ValueError(f"canonical text does not lex: {msg} at {line}:{column}")

    lexer = c_lexer.CLexer(error, lambda: None, lambda: None, lambda name: False)
    lexer.input(text, "<canonical>")
    while True:
        tok = lexer.token()
        if tok is None:
            return
        kind, value = tok.type, tok.value
        if kind.startswith("INT_CONST"):
            yield Token("<num>", float(char_value(value) if kind == "INT_CONST_CHAR" else int_value(value)))
        elif kind in ("FLOAT_CONST", "HEX_FLOAT_CONST"):
            yield Token("<num>", float_value(value))
        elif kind.endswith("CHAR_CONST"):
            yield Token("<num>", float(char_value(value)))
        elif kind.endswith("STRING_LITERAL"):
            yield Token("<str>")
        elif kind == "ID" and value.startswith(MORE_MARKER):
            yield Token("<more>", float(value[len(MORE_MARKER):]))
        else:
            yield Token(value)
