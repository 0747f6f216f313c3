"""The one exception type nsc raises for user errors, formatted like a compiler's diagnostics."""

from __future__ import annotations


class NscError(Exception):
    """A user-facing error: bad input, a failing program, a missing file.

    str() gives a compiler-style line: ``prog.c:12:7: error: message`` (the location parts that are known),
    or ``error: message`` when there is no location. The CLI prints it and exits 1; it never shows a traceback.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def location(self) -> str:
        parts = [str(p) for p in (self.path, self.line, self.col) if p is not None]
        return ":".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: error: {self.message}" if loc else f"error: {self.message}"
