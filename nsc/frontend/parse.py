"""Parsing: preprocessed text -> pycparser AST, with syntax errors located in the original source.

pycparser's coordinates follow cc's line markers, so the file and line are the original ones; the column is a
column of cc's output, which collapses runs of blanks and expands macros. We map it back by finding the same
token (the same occurrence of it) in the original line.
"""

from __future__ import annotations

import re
import threading

from pycparser import c_ast, c_parser

from nsc.errors import NscError
from nsc.frontend.preprocess import Preprocessed
from nsc.frontend.source import read_line
from nsc.recursion import check_nesting, deep, nesting_error


class _SyntaxError(Exception):
    def __init__(self, message: str, file: str | None, line: int | None, col: int | None):
        super().__init__(message)
        self.message, self.file, self.line, self.col = message, file, line, col


class _Parser(c_parser.CParser):
    """pycparser's parser, raising located errors: some of its errors name only the file, so we place them
    at the token where parsing stopped."""

    def _parse_error(self, msg, coord):
        token = None
        if not isinstance(coord, c_parser.Coord):
            token, at_end = self._stop_token()
            coord = self._tok_coord(token) if token is not None else None
            if at_end:
                msg, token = "At end of input", None
        file = coord.file if coord is not None else None
        line = coord.line if coord is not None else None
        col = coord.column if coord is not None else None
        raise _SyntaxError(_describe(msg, token), file, line, col)

    def _lex_on_rbrace_func(self):
        if len(self._scope_stack) <= 1:  # pycparser would fail an assertion on a '}' that closes nothing
            lexer = self.clex
            col = getattr(lexer, "_pos", 0) - getattr(lexer, "_line_start", 0)
            raise _SyntaxError("syntax error: unmatched '}'", lexer.filename, getattr(lexer, "_lineno", None),
                               col or None)
        super()._lex_on_rbrace_func()

    def _stop_token(self):
        """(token where parsing stopped, whether that is the end of the input: then the last token read)."""
        stream = getattr(self, "_tokens", None)
        if stream is None:
            return None, False
        token = stream.peek()
        if token is None:
            consumed = [t for t in stream._buffer if t is not None]
            return (consumed[-1] if consumed else None), True
        return token, False


def _describe(msg: str, token) -> str:
    if msg.startswith("before: "):
        return f"syntax error before '{msg[len('before: '):]}'"
    if msg == "At end of input":
        return "syntax error: unexpected end of input"
    text = msg[:1].lower() + msg[1:]
    if token is not None and msg.startswith("Invalid"):
        text += f" before '{token.value}'"
    return f"syntax error: {text}"


_LOCAL = threading.local()


def parser() -> _Parser:
    """One parser per thread, reused (pycparser 3's recursive-descent parser has no tables to build, and a
    parser keeps state while it runs, so threads must not share one)."""
    if not hasattr(_LOCAL, "parser"):
        _LOCAL.parser = _Parser()
    return _LOCAL.parser


@deep
def parse(pp: Preprocessed, source_text: str) -> c_ast.FileAST:
    """Parse preprocessed text; NscError pointing at the original file:line:col on a syntax error."""
    try:
        tree = parser().parse(pp.text, pp.path)
    except _SyntaxError as e:
        col, message = e.col, e.message
        if e.file and e.line and col:
            original = read_line(e.file, e.line, source_text if e.file == pp.path else None)
            output = pp.output_line(e.file, e.line)
            col = original_column(output, original, col)
            if _TYPEOF.search(output):  # (it was a bare "syntax error before 'y'")
                message = "'typeof' is not supported (nsc parses ISO C with pycparser): write the type out"
                found = _TYPEOF.search(original or "")
                col = found.start() + 1 if found else col
            if original and col > len(original.rstrip("\n")):  # a column inside a macro's expansion
                col = None
        raise NscError(message, e.file or pp.path, e.line, col) from None
    except c_parser.ParseError as e:  # an error pycparser raised without going through _parse_error
        m = re.match(r"^(.*?):(\d+)(?::(\d+))?:\s*(.*)$", str(e))
        if m:
            raise NscError(f"syntax error: {m.group(4)}", m.group(1), int(m.group(2)),
                           int(m.group(3)) if m.group(3) else None) from None
        raise NscError(f"syntax error: {e}", pp.path) from None
    except RecursionError:  # (parsing spends at most 10 frames a level: this is beyond MAX_NESTING)
        token, _ = parser()._stop_token()
        raise nesting_error(pp.path, parser()._tok_coord(token) if token is not None else None) from None
    except AssertionError:  # pycparser's internal consistency checks, reached only by malformed input
        raise NscError("syntax error", pp.path) from None
    check_nesting(tree, pp.path)
    return tree


_WORD = re.compile(r"[A-Za-z_0-9.]+")
_TYPEOF = re.compile(r"\b(?:__typeof__|__typeof|typeof)\b")


def original_column(output_line: str, original_line: str, col: int) -> int:
    """Map a 1-based column of cc's output line to the same token's column in the original line."""
    if not original_line or output_line == original_line:
        return col
    at = col - 1
    word = _WORD.match(output_line, at)
    token = word.group(0) if word else output_line[at:at + 1]
    if not token.strip():
        return col
    pattern = re.escape(token)
    if word:
        pattern = rf"(?<![A-Za-z_0-9.]){pattern}(?![A-Za-z_0-9.])"
    k = sum(1 for m in re.finditer(pattern, output_line) if m.start() < at)
    found = [m.start() for m in re.finditer(pattern, original_line)]
    if k < len(found):
        return found[k] + 1
    return col
