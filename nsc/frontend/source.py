"""Reading a C source file: bytes for the hash, text for everything else, and clear errors for files that are
missing, empty or not text at all."""

from __future__ import annotations

import os

from nsc.errors import NscError


def read_source(path: str) -> tuple[bytes, str]:
    """Return (bytes, text) of the file at `path`; NscError if it cannot be read, is empty, or is not UTF-8 text."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise NscError("no such file", path) from None
    except IsADirectoryError:
        raise NscError("is a directory, not a C source file", path) from None
    except OSError as e:
        raise NscError(f"cannot read file: {e.strerror or e}", path) from None

    if not data.strip():
        raise NscError("file is empty: expected C source code", path)
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise NscError("binary file (contains NUL bytes), not C source code", path, line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise NscError(f"not a UTF-8 text file (invalid byte 0x{data[e.start]:02x}), not C source code", path,
                       line) from None
    return data, text


def read_line(path: str, line: int, text: str | None = None) -> str:
    """Line `line` (1-based) of a file, or '' when unavailable; `text` is the file's content if already read."""
    if text is None:
        if not os.path.isfile(path):
            return ""
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""
