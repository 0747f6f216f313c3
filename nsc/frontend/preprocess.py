"""Preprocessing: run the system C preprocessor with nsc's stand-in headers and make its output parseable.

pycparser reads preprocessed ISO C but not glibc's headers (GNU extensions everywhere), so we run
``cc -E -nostdinc`` with our own small stand-ins for the standard C headers (``include/*.h``: the same names,
types and exact constant values, declarations only) and force-include ``include/_nsc_gnu.h``, which defines away
GNU spellings (``__attribute__``, ``__inline__``, ``__restrict`` ...). The stand-ins are only for parsing: the
native harness compiles the original file against the real system headers.

The macro ``__NSC_PARSE__`` is defined while nsc parses, so a program can hide code nsc cannot parse.

From cc's output (``-dD`` keeps ``#define`` lines in place) we keep:
  * the text for pycparser, with every directive except line markers blanked (so line numbers stay right and
    ``#pragma omp ...`` or ``#pragma once`` can never upset the parser);
  * the ``#pragma`` lines of the main file with their line numbers (nsc pragmas are read from these, so a pragma
    inside ``#if 0`` is ignored, as a compiler would);
  * object-like macros, to evaluate pragma arguments such as ``M_PI`` or ``N`` (the file's, its headers' and
    ``-D`` ones; not cc's predefined ones);
  * the headers read (from the line markers): the user's headers only, not nsc's stand-ins, which are part of
    nsc rather than of the program (``nsc compile -MD`` lists what ``make`` should watch).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field

from nsc.background import Background
from nsc.errors import NscError
from nsc.frontend.source import read_line

INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
GNU_SPELLINGS = os.path.join(INCLUDE_DIR, "_nsc_gnu.h")
STANDARD_HEADERS = tuple(sorted(n for n in os.listdir(INCLUDE_DIR) if n.endswith(".h") and not n.startswith("_")))

_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"((?:\s+\d+)*)\s*$')
_DIRECTIVE = re.compile(r"^\s*#\s*(\w*)\s*(.*)$")
_DEFINE = re.compile(r"^(\w+)(\()?\s*(.*)$")
_CC_DIAGNOSTIC = re.compile(r"^(.*?):(\d+):(?:(\d+):)?\s*(?:fatal )?error:\s*(.*)$")
_MISSING_HEADER = re.compile(r"^(?:'([^']+)' file not found|([^:]+): No such file or directory)$")


@dataclass(frozen=True)
class PragmaLine:
    """One ``#pragma`` line of the main file: its line number and the text after ``#pragma``."""

    line: int
    text: str


@dataclass
class Preprocessed:
    """What the preprocessor made of one C file (see the module docstring)."""

    path: str                            # the main file, as named on the command line
    text: str                            # input for pycparser (line markers kept, other directives blanked)
    headers: tuple[str, ...] = ()        # the user's headers read, in order of first use, spelled as cc found them
    pragmas: tuple[PragmaLine, ...] = ()
    macros: dict[str, str] = field(default_factory=dict)  # object-like macros: name -> replacement text

    def output_line(self, file: str, line: int) -> str:
        """The preprocessed text of (file, line), used to map pycparser's columns back to the source."""
        current, number, found = None, 0, ""
        for text in self.text.split("\n"):
            marker = _MARKER.match(text)
            if marker:
                current, number = _unescape(marker.group(2)), int(marker.group(1))
                continue
            if current == file and number == line:
                found = text  # the last one: cc's predefined-macro lines (blanked) may precede the real one
            number += 1
        return found


def compiler_command() -> list[str]:
    """The C compiler to run: $CC if set (it may carry arguments), else ``cc``."""
    return shlex.split(os.environ.get("CC", "") or "cc")


@dataclass(frozen=True)
class Preprocessing:
    """The preprocessor started on one file with its -I and -D (start_preprocessing); preprocess collects it."""

    arguments: tuple                     # (path, include_dirs, defines), as preprocess takes them
    running: Background                  # its output, or its NscError


def start_preprocessing(path: str, include_dirs=(), defines=()) -> Preprocessing:
    """Start preprocessing `path` on another thread, so cc runs while nsc goes on (its imports, its parser)."""
    arguments = _arguments(path, include_dirs, defines)
    return Preprocessing(arguments, Background(_preprocessor_output, *arguments, name="nsc-preprocess"))


def preprocess(path: str, include_dirs=(), defines=(), started: Preprocessing | None = None) -> Preprocessed:
    """Preprocess the C file at `path`; `defines` are (name, value) pairs. NscError on preprocessor errors.
    started: the same preprocessing, already started (start_preprocessing with these arguments)."""
    arguments = _arguments(path, include_dirs, defines)
    if started is not None and started.arguments != arguments:
        raise ValueError(f"preprocess{arguments}: started as preprocess{started.arguments}")
    output = started.running.result() if started is not None else _preprocessor_output(*arguments)
    return _scan(output, path)


def _arguments(path, include_dirs, defines) -> tuple:
    return str(path), tuple(str(d) for d in include_dirs), tuple((str(n), str(v)) for n, v in defines)


def _preprocessor_output(path: str, include_dirs: tuple, defines: tuple) -> str:
    cmd = compiler_command() + ["-E", "-dD", "-x", "c", "-w", "-nostdinc"]
    for d in include_dirs:
        cmd += ["-I", d]
    cmd += ["-isystem", INCLUDE_DIR, "-include", GNU_SPELLINGS, "-D__NSC_PARSE__=1"]
    for name, value in defines:
        cmd.append(f"-D{name}={value}")
    cmd.append(path)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60)
    except FileNotFoundError:
        raise NscError(f"cannot run the C preprocessor '{cmd[0]}': not found (install a C compiler or set CC)")
    except subprocess.TimeoutExpired:
        raise NscError("the C preprocessor did not finish within 60 s", path) from None
    if proc.returncode != 0:
        raise _preprocessor_error(proc.stderr, path)
    return proc.stdout


def _scan(output: str, path: str) -> Preprocessed:
    """Split cc's output into parser text, main-file pragmas, object-like macros and headers read."""
    lines = output.split("\n")
    headers: list[str] = []
    pragmas: list[PragmaLine] = []
    macros: dict[str, str] = {}
    stand_in_lines: list[int] = []
    main_file = None
    current, number, in_stand_in, in_builtin = None, 0, False, False
    for i, text in enumerate(lines):
        if not text.startswith("#"):
            if in_stand_in and text.strip():
                stand_in_lines.append(i)
            number += 1
            continue
        if in_builtin and text.startswith("#define"):  # cc's predefined macros: hundreds, none needed
            lines[i] = ""
            continue
        marker = _MARKER.match(text)
        if marker:
            current, number = _unescape(marker.group(2)), int(marker.group(1))
            # cc's own macros ("<built-in>") are skipped; -D ones ("<command-line>", clang: "<command line>")
            # are kept, so a range pragma can name them as it can a #define of the file.
            in_builtin = current.startswith("<") and not current.startswith("<command")
            if current.startswith("<"):
                lines[i] = ""
            in_stand_in = _is_stand_in(current)
            if main_file is None:
                main_file = current
            if "1" in marker.group(3).split() and _is_user_header(current, main_file):
                # spelled as cc found it (relative where -I and the source are), as cc -MD writes depfiles
                if not any(os.path.samefile(current, h) for h in headers if os.path.exists(h)):
                    headers.append(current)
            continue
        directive = _DIRECTIVE.match(text)
        name, rest = (directive.group(1), directive.group(2)) if directive else ("", "")
        if name == "pragma" and current == main_file:
            pragmas.append(PragmaLine(number, rest.strip()))
        elif name == "define":
            parts = _DEFINE.match(rest)
            if parts and not parts.group(2):
                macros[parts.group(1)] = parts.group(3).strip()
            elif parts:
                macros.pop(parts.group(1), None)
        elif name == "undef":
            macros.pop(rest.strip(), None)
        lines[i] = ""  # every other directive: blank, keeping the line count
        number += 1
    _prune_stand_ins(lines, stand_in_lines)
    return Preprocessed(path, "\n".join(lines), tuple(headers), tuple(pragmas), macros)


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Alignas _Alignof _Atomic _Bool _Complex _Noreturn _Static_assert _Thread_local""".split())


def _prune_stand_ins(lines: list[str], stand_in_lines: list[int]) -> None:
    """Blank the stand-in declarations the program does not use (in place).

    Parsing all of math.h's 200 prototypes would cost more than everything else together. The stand-ins hold
    one declaration per line, so a line is kept when it names an identifier the program uses, or one a kept
    line uses (its parameter types), to a fixed point.
    """
    stand_in = set(stand_in_lines)
    used = set()
    for i, text in enumerate(lines):
        if i not in stand_in and text and not text.startswith("#"):
            used.update(_IDENTIFIER.findall(text))
    used -= C_KEYWORDS
    pending = {i: set(_IDENTIFIER.findall(lines[i])) - C_KEYWORDS for i in stand_in_lines}
    changed = True
    while changed:
        changed = False
        for i, names in list(pending.items()):
            if names & used:
                used |= names
                del pending[i]
                changed = True
    for i in pending:
        lines[i] = ""


def _is_user_header(name: str, main_file: str | None) -> bool:
    return name != main_file and not name.startswith("<") and not _is_stand_in(name)


def _is_stand_in(name: str | None) -> bool:
    return bool(name) and not name.startswith("<") and os.path.dirname(os.path.abspath(name)) == INCLUDE_DIR


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def _preprocessor_error(stderr: str, path: str) -> NscError:
    """The first error of cc's output as an NscError, with missing headers worded like clang does."""
    for line in stderr.splitlines():
        m = _CC_DIAGNOSTIC.match(line.strip())
        if not m:
            continue
        file, line_no, col, message = m.group(1), int(m.group(2)), m.group(3), m.group(4).strip()
        col = int(col) if col else None
        missing = _MISSING_HEADER.match(message)
        if missing:
            header = missing.group(1) or missing.group(2)
            message = f"'{header}' file not found"
            if "<" in read_line(file, line_no) and "/" not in header:
                message += (" (nsc parses with its own stand-ins for the standard C headers: "
                            + ", ".join(h for h in STANDARD_HEADERS) + ")")
        return NscError(message, file, line_no, col)
    detail = stderr.strip().splitlines()
    return NscError("the C preprocessor failed" + (f": {detail[-1]}" if detail else ""), path)
