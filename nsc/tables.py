"""Reading data files and input rows: CSV (read in blocks), NPZ and NPY, columns matched by name and checked;
and the inputs of `nsc sample --inputs` and `nsc run --inputs`: inline `NAME=VALUE` rows or a file, with the
text each value was given as.

CSV: a header row naming the columns, then one row per sample. Columns are matched by name, in any order; columns
not wanted are ignored with a warning, whatever they hold (an id, a note, quoted text); missing ones are an error
naming them. A file is read in blocks of lines, so memory follows the table of numbers, not the file's size:
a block of plain decimals goes through nsc.numtext (exact, a block at a time), any other block through
numpy.loadtxt (quoted fields, exponents, ...); a bad cell is then found and named by file, line and column.

NPZ: arrays `x` [n, n_in] and `y` [n, n_out] and the column names `inputs` and `outputs` as plain unicode arrays
(loaded with allow_pickle=False). An NPZ without the name arrays, and a 2-D `.npy`, are matched by position.

Neighbours: nsc.numtext (plain CSV blocks), nsc.data (writing files), nsc.toolchain (the commands that read).
"""

from __future__ import annotations

import codecs
import collections
import concurrent.futures
import csv
import io
import math
import os
import sys
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from nsc import numtext
from nsc.errors import NscError

FLOAT32_MAX = float(np.finfo(np.float32).max)  # surrogates compute in float32: larger values become Inf
BEYOND_FLOAT32 = f"beyond float32 (|x| <= {FLOAT32_MAX:.8g}), which the surrogate computes in"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
BLOCK_BYTES = 1 << 20  # CSV bytes parsed at a time: ~16k rows of 5 columns (their temporaries stay ~20 MB)
PARSE_THREADS = min(2, os.cpu_count() or 1)  # blocks parsed at once (as onnxruntime predicts on every core)


# ----------------------------------------------------------------------------------------------- CSV cells

def csv_number(cell: str) -> float:
    if "_" in cell or not cell.isascii():  # float() takes 1_000 and Arabic-Indic digits; C and numpy do not
        raise ValueError(cell)
    return float(cell)


def _csv_problem(body: bytes, names: list[str], path: str, numeric, check_columns, limit=None,
                 first_line: int = 2) -> NscError | None:
    """The first bad line of a block of CSV lines (slow, exact): wrong number of values, a non-number in one of
    the `numeric` columns (none: the widths alone), NaN/Inf (or |value| > limit) in one of check_columns (header
    indices). The block's first line is line `first_line` of the file."""
    for k, raw_line in enumerate(body.split(b"\n")):
        line = first_line + k
        text = raw_line.decode("utf-8", errors="replace").rstrip("\r")
        if not text.strip():
            continue
        cells = next(csv.reader([text])) if '"' in text else text.split(",")
        if len(cells) != len(names):
            return NscError(f"this row has {len(cells)} values but the header names {len(names)} columns",
                            path, line)
        if not numeric:  # the rows' widths alone
            continue
        col = 1
        for j, (name, cell) in enumerate(zip(names, cells)):
            where = col + len(cell) - len(cell.lstrip())
            col += len(cell) + 1
            if j not in numeric:
                continue
            try:
                value = csv_number(cell.strip())
            except ValueError:
                return NscError(f"column '{name}': '{cell.strip()}' is not a number", path, line, where)
            if j in check_columns and not math.isfinite(value):
                return NscError(f"column '{name}': {cell.strip()} is not a finite number", path, line, where)
            if j in check_columns and limit is not None and abs(value) > limit:
                return NscError(f"column '{name}': {cell.strip()} is {BEYOND_FLOAT32}", path, line, where)
    return None


@dataclass
class _Block:
    """Rows of a source: values float64 [k, n_read] (in `read` order), their text as asked (`blocks(text)`: the
    rows' lines, or one uint8 matrix per read column, or None), and how to find a bad cell exactly:
    locate(check_columns, limit) -> NscError | None, with check_columns positions in `read`."""

    values: np.ndarray
    texts: bytes | list[np.ndarray] | None
    locate: object = None


class _CsvSource:
    """A CSV file (or standard input) read in blocks of whole lines. header: every column name; read: the indices
    of the wanted columns in it, names: theirs; n_rows_max: at most this many data rows."""

    def __init__(self, path: str | None, wanted: set | None):
        self.display = "<stdin>" if path is None else path
        if path is None:
            self._stream, self._close = io.BytesIO(sys.stdin.buffer.read()), False
        else:
            try:
                self._stream, self._close = open(path, "rb"), True
            except OSError as e:
                raise NscError(f"cannot read the file: {e.strerror}", path) from None
        try:
            self._read_header(wanted)
        except BaseException:
            self.close()
            raise

    def _read_header(self, wanted) -> None:
        head = self._read(BLOCK_BYTES)
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8):]
        while b"\n" not in head and (more := self._read(BLOCK_BYTES)):
            head += more
        if not head.strip():  # (nothing but white space in the first block)
            raise NscError("the file is empty", self.display)
        if b"\0" in head[:65536]:
            raise NscError("not a CSV file (it contains binary data)", self.display)
        header, _, self._carry = head.partition(b"\n")
        try:
            header_text = header.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise NscError("not a CSV file (the first line is not UTF-8 text)", self.display, 1) from None
        names = [n.strip() for n in next(csv.reader([header_text]))]
        if len(names) == 1 and any(sep in names[0] for sep in ";\t"):
            sep = "a semicolon" if ";" in names[0] else "a tab"
            raise NscError(f"the header is one column '{names[0]}': columns must be separated by commas, not by "
                           f"{sep}", self.display, 1)
        if not names or any(not n for n in names):
            raise NscError("the header row has an empty column name", self.display, 1)
        seen = set()
        for n in names:
            if n in seen:
                raise NscError(f"column '{n}' appears twice in the header", self.display, 1)
            seen.add(n)
        self.header = names
        self.read = [j for j, n in enumerate(names) if wanted is None or n in wanted]
        self.names = [names[j] for j in self.read]
        self.n_rows_max = self._count_rows()

    def _read(self, n: int) -> bytes:
        try:
            return self._stream.read(n)
        except OSError as e:
            raise NscError(f"cannot read the file: {e.strerror}", self.display) from None

    def _count_rows(self) -> int:
        """Lines after the header, the last one counted whether or not a newline ends it: a bound on the data rows
        (exact but for blank lines), for arrays allocated once. The stream is rewound."""
        position = self._stream.tell()
        count, last = self._carry.count(b"\n"), self._carry[-1:]
        while block := self._read(BLOCK_BYTES):
            count, last = count + block.count(b"\n"), block[-1:]
        self._stream.seek(position)
        return count + (last not in (b"", b"\n"))

    def close(self) -> None:
        if self._close:
            self._stream.close()

    def blocks(self, text):
        """_Blocks of the data rows, in order (blank lines skipped); text: None, "cells" (each read column's cells)
        or "lines" (the rows' own lines, carriage returns and blank lines dropped). Blocks are parsed PARSE_THREADS
        at a time (numpy lets go of the GIL while it works), and read only as fast as they are used."""
        seen_data = False
        with concurrent.futures.ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
            pending = collections.deque()
            for block, first_line in self._raw_blocks():
                seen_data = True
                pending.append(pool.submit(self._parse, block, first_line, text))
                if len(pending) >= PARSE_THREADS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        if not seen_data:
            raise NscError("the file has a header row but no data rows", self.display)

    def _raw_blocks(self):
        """(block of whole lines with data, the file's line number of its first line), in order."""
        carry, finished, line = self._carry, False, 2
        while not finished:
            more = self._read(BLOCK_BYTES)
            if more:
                carry += more
                cut = carry.rfind(b"\n") + 1
                if cut == 0:
                    continue  # (a line longer than a block: read on)
                block, carry = carry[:cut], carry[cut:]
            else:  # the last block: trailing blank lines and spaces dropped, as a reader of a table expects
                block, finished = carry.rstrip(b"\r\n\t "), True
                if not block:
                    break
                block += b"\n"
            first_line, line = line, line + block.count(b"\n")
            if block.strip():
                yield block, first_line

    def _parse(self, block: bytes, first_line: int, text) -> _Block:
        names, read = self.header, self.read

        def locate(check_columns=(), limit=None):
            return _csv_problem(block, names, self.display, set(read), {read[c] for c in check_columns}, limit,
                                first_line)

        plain = block.replace(b"\r\n", b"\n") if b"\r" in block else block
        if b'"' not in plain:
            fast = numtext.parse_plain(plain, len(names), read, text == "cells")
            if fast is not None:  # (no blank lines there: a line a row)
                return _Block(fast[0], plain if text == "lines" else fast[1], locate)
        rows = [line for line in plain.split(b"\n") if line.strip()]  # (numpy skips empty lines only)
        body = b"\n".join(rows) + b"\n"
        partial = len(read) < len(names)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                values = np.loadtxt(io.BytesIO(body), delimiter=",", comments=None, dtype=np.float64, ndmin=2,
                                    quotechar='"', usecols=read if partial else None)
        except (ValueError, UserWarning) as e:
            raise locate() or NscError(f"cannot read the CSV data: {e}", self.display) from None
        if values.shape != (len(rows), len(read)):
            raise locate() or NscError(f"rows have {values.shape[1]} values but the header names {len(names)} "
                                       "columns", self.display)
        if partial and (ragged := _csv_problem(block, names, self.display, (), (), None, first_line)) is not None:
            raise ragged  # (numpy checks the width of the columns it reads only)
        texts = body if text == "lines" else _cell_texts(rows, read) if text == "cells" else None
        return _Block(values, texts, locate)


def _cell_texts(rows: list[bytes], read: list[int]) -> list[np.ndarray]:
    """The text of the read cells of CSV lines (quotes and surrounding spaces removed), one matrix per column."""
    lines = [row.decode("utf-8", errors="replace").rstrip("\r") for row in rows]
    cells = [next(csv.reader([line])) if '"' in line else line.split(",") for line in lines]
    return [numtext.text_matrix([c[j].strip().encode() for c in cells]) for j in read]


# ----------------------------------------------------------------------------------------------- NPZ / NPY

class _ArraySource:
    """An NPZ or NPY file: every row in one block. names (and header): None (match by position) or the name
    arrays'; x_width: the width of an unnamed NPZ's `x`; one_d: a .npy holding a 1-D array (one column)."""

    def __init__(self, path: str, data: np.ndarray, names, x_width=None, one_d=False, text_of=None):
        self.display, self.data, self.names, self.header = path, data, names, names
        self.x_width, self.one_d = x_width, one_d
        self.read = list(range(data.shape[1]))
        self.n_rows_max = data.shape[0]
        self._text_of = text_of  # column -> its values as text (from the stored type)

    def blocks(self, text):
        if self.data.shape[0] == 0:
            raise NscError("the file has no data rows", self.display)
        yield _Block(self.data, _Lazy(self._text_of) if text else None)

    def close(self) -> None:
        pass


class _Lazy:
    """texts[j] made when first asked for."""

    def __init__(self, make):
        self._make = make

    def __getitem__(self, j):
        return self._make(j)


def _numeric_2d(a: np.ndarray, path: str, what: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise NscError(f"{what} holds {a.dtype} values, not numbers", path)
    if a.ndim == 1:  # one column (the runtime's reading too where it has one input)
        a = a[:, None]
    if a.ndim != 2:
        raise NscError(f"{what} has shape {a.shape}; a 2-D table [rows, columns] is needed", path)
    return a


def _texts_by_type(arrays: list[np.ndarray]):
    """column -> text, for columns stored in binary: each value as its own type writes it (an int as an int, a
    float32 at float32's shortest, a double at a double's)."""
    columns = [(a, j) for a in arrays for j in range(a.shape[1])]

    def text_of(j):  # (made when asked for: a column not echoed costs nothing)
        a, k = columns[j]
        values = a[:, k]
        if values.dtype.kind in "biu":
            return numtext.text_matrix([str(int(v)).encode() for v in values.tolist()])
        if values.dtype == np.float32:
            return numtext.float32_text(values)
        return numtext.float64_text(values)
    return text_of


def _read_npz(path: str) -> _ArraySource:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise NscError(f"not a readable .npz file ({e})", path) from None
    if "x" not in arrays:
        raise NscError(f"the .npz file has no array 'x' (it has: {', '.join(sorted(arrays)) or 'nothing'})", path)
    parts, names = [], []
    for key, names_key in (("x", "inputs"), ("y", "outputs")):
        if key not in arrays:
            continue
        a = _numeric_2d(arrays[key], path, f"array '{key}'")
        parts.append(a)
        if names is not None and names_key in arrays:
            n = arrays[names_key]
            if n.dtype.kind != "U" or n.ndim != 1 or len(n) != a.shape[1]:
                raise NscError(f"array '{names_key}' must be {a.shape[1]} column names matching '{key}'", path)
            names.extend(str(v) for v in n)
        else:
            names = None  # match by position
    if len(parts) == 2 and parts[0].shape[0] != parts[1].shape[0]:
        raise NscError(f"arrays 'x' and 'y' have different numbers of rows ({parts[0].shape[0]} and "
                       f"{parts[1].shape[0]})", path)
    data = np.hstack([p.astype(np.float64, copy=False) for p in parts])
    if names is not None and len(set(names)) != len(names):
        raise NscError("the .npz column names are not unique", path)
    return _ArraySource(path, data, names, x_width=parts[0].shape[1], text_of=_texts_by_type(parts))


def _read_npy(path: str) -> _ArraySource:
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise NscError(f"not a readable .npy file ({e})", path) from None
    table = _numeric_2d(a, path, "the array")
    return _ArraySource(path, table.astype(np.float64, copy=False), None, one_d=a.ndim == 1,
                        text_of=_texts_by_type([table]))


def _open(path, wanted=None):
    """The source for `path`: CSV, NPZ or NPY, told apart by content (not by name); None or '-': CSV on standard
    input. wanted: the column names that will be used, the only ones a CSV's cells are parsed in (None: all)."""
    if path is None or os.fspath(path) == "-":
        return _CsvSource(None, wanted)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise NscError("is a directory, not a data file", path)
    try:
        with open(path, "rb") as f:
            start = f.read(8)
    except OSError as e:
        raise NscError(f"cannot read the file: {e.strerror}", path) from None
    if start.startswith(ZIP_MAGIC):
        return _read_npz(path)
    if start.startswith(NPY_MAGIC):
        return _read_npy(path)
    return _CsvSource(path, wanted)


# ----------------------------------------------------------------------------------------------- matching

def _positional_names(source, need: list[str], optional: list[str], path: str,
                      x_columns: int | None = None) -> list[str]:
    """Names for unnamed columns: the needed ones first, then the optional ones, by position. x_columns: how many
    of the needed ones are inputs, which an unnamed .npz must hold in 'x' (the rest in 'y'), exactly."""
    width = source.data.shape[1]
    if source.x_width is not None and x_columns is not None:
        y_width, outputs = width - source.x_width, need[x_columns:]
        if source.x_width != x_columns:
            raise NscError(f"array 'x' has {source.x_width} column{'s' if source.x_width != 1 else ''}, but the "
                           f"surrogate has {x_columns} input{'s' if x_columns != 1 else ''} "
                           f"({', '.join(need[:x_columns])})", path)
        if outputs and y_width != len(outputs):
            raise NscError(f"array 'y' has {y_width} column{'s' if y_width != 1 else ''}, but the surrogate has "
                           f"{len(outputs)} output{'s' if len(outputs) != 1 else ''} ({', '.join(outputs)})", path)
        return need[:x_columns] + (outputs or [f"y[{k}]" for k in range(y_width)])
    if source.x_width is not None and source.x_width == len(need) and width > len(need):
        extra = width - len(need)
        tail = optional[:extra] if extra == len(optional) else [f"y[{k}]" for k in range(extra)]
        return need + tail
    if width in (len(need), len(need) + len(optional)):
        return (need + optional)[:width]
    expected = f"{len(need)}" + (f" or {len(need) + len(optional)}" if optional else "")
    one_d = " (a 1-D array is one column: save a row as shape [1, n])" if source.one_d and width == 1 else ""
    raise NscError(f"the file has {width} unnamed column{'s' if width != 1 else ''}{one_d}, expected {expected} "
                   f"({', '.join(need + optional)})", path)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@dataclass
class Table:
    """Columns read from a file: groups (one array [n, len(names[g])] per group of names, in its dtype; the
    optional columns the file has are a last group), texts (the text of the columns asked for, nsc.numtext.RowTexts)
    and warnings."""

    groups: list[np.ndarray]
    names: list[list[str]]
    texts: numtext.RowTexts | None
    warnings: list[str]


def read_groups(path, groups, optional_columns=(), x_columns: int | None = None, float32: bool = False,
                dtype=np.float64, text: list[str] | None = None) -> Table:
    """The columns of a CSV, NPZ or NPY file, matched by name, as one array per group of names (a group holds
    needed names; optional_columns, those the file has, come as a last group). x_columns: how many of the needed
    names are inputs (an unnamed .npz's 'x'; `_positional_names`). float32: the values are for a surrogate,
    which computes in float32: a value beyond its range is an error (it would become Inf). dtype: of the arrays
    (float32 halves the memory of a large table, and values are checked before they are rounded to it). text:
    names (needed ones) whose text is wanted too, in this order: a CSV whose columns are just these, in this order,
    gives its own lines, any other file each column's cells.

    Columns the file has beyond those asked for are ignored with a warning, whatever they hold. Missing needed
    columns, non-numeric cells, NaN or Inf in a used column, zero rows, an empty file and ragged rows are
    NscErrors naming the file, line and column."""
    need = [n for group in groups for n in group]
    optional = [c for c in optional_columns if c not in need]
    source = _open(path, set(need + optional))
    try:
        return _read_source(source, groups, need, optional, x_columns, float32, dtype, text)
    finally:
        source.close()


def _read_source(source, groups, need, optional, x_columns, float32, dtype, text) -> Table:
    display = source.display
    names = source.names
    if names is None:
        names = _positional_names(source, need, optional, display, x_columns)
    header = source.header if source.header is not None else names
    index = {n: j for j, n in enumerate(names)}
    missing = [n for n in need if n not in index]
    if missing:
        message = f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
        if all(_is_number(n) for n in header):
            message += " (the first row must be a header naming the columns)"
        else:
            message += f" (the file has: {', '.join(header)})"
        raise NscError(message, display)
    present = [n for n in optional if n in index]
    groups = [list(g) for g in groups] + ([present] if present else [])
    used = [n for g in groups for n in g]
    extra = [n for n in header if n not in used]
    warn = [f"ignoring column{'s' if len(extra) > 1 else ''} not used: {', '.join(map(repr, extra))}"] \
        if extra else []
    cols = [index[n] for n in used]
    out = [np.empty((source.n_rows_max, len(g)), dtype=dtype) for g in groups]
    texts = numtext.RowTexts() if text is not None else None
    mode = None if text is None else "lines" if list(text) == list(header) and source.header is not None \
        else "cells"
    filled = 0
    for block in source.blocks(mode):
        values = block.values[:, cols]
        _check_values(values, used, cols, block, display, float32)
        k = values.shape[0]
        start = 0
        for g, array in zip(groups, out):
            array[filled:filled + k] = values[:, start:start + len(g)]
            start += len(g)
        if mode == "lines":
            texts.blocks.append((k, block.texts, None))
        elif mode == "cells":
            texts.blocks.append((k, None, [block.texts[index[n]] for n in text]))
        filled += k
    out = [array[:filled] for array in out]  # (blank lines: a few rows of the allocation unused)
    return Table(out, groups, texts, warn)


def _check_values(values, used, cols, block, display, float32) -> None:
    """NaN/Inf, or (float32) a value beyond float32, in a used column: an NscError at the exact cell."""
    finite = np.isfinite(values)
    if not finite.all():
        row, k = np.argwhere(~finite)[0]
        error = block.locate(cols) if block.locate is not None else None
        raise error or NscError(f"column '{used[k]}' row {row + 1}: {values[row, k]} is not a finite number",
                                display)
    if float32:
        big = np.abs(values) > FLOAT32_MAX
        if big.any():
            row, k = np.argwhere(big)[0]
            error = block.locate(cols, FLOAT32_MAX) if block.locate is not None else None
            raise error or NscError(f"column '{used[k]}' row {row + 1}: {values[row, k]:g} is {BEYOND_FLOAT32}",
                                    display)


def read_table(path, need_columns, optional_columns=(), x_columns: int | None = None,
               float32: bool = False) -> tuple[dict, list[str]]:
    """Columns of a CSV, NPZ or NPY file, matched by name: ({name: float64 [n]}, warnings): every need column,
    then the optional columns the file has, in the order given (see read_groups)."""
    table = read_groups(path, [list(need_columns)], optional_columns, x_columns, float32)
    return {n: group[:, j] for group, names in zip(table.groups, table.names) for j, n in enumerate(names)}, \
        table.warnings


def read_inputs(path, input_names, float32: bool = False) -> tuple[np.ndarray, list[str]]:
    """Input rows for `nsc sample --inputs` / `nsc run --inputs FILE` (float32: for a surrogate, `read_groups`):
    (x float64 [n, n_in], warnings)."""
    input_names = list(input_names)
    table = read_groups(path, [input_names], x_columns=len(input_names), float32=float32)
    return table.groups[0], table.warnings


def read_dataset(path, input_names, output_names) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Training data for `nsc finetune`: (x float32 [n, n_in], y float32 [n, n_out], warnings), read in blocks
    into float32 arrays allocated once (a 10M-row file takes its table of float32 numbers, not its text or a
    float64 copy); every value within float32."""
    input_names, output_names = list(input_names), list(output_names)
    table = read_groups(path, [input_names, output_names], x_columns=len(input_names), float32=True,
                        dtype=np.float32)
    return table.groups[0], table.groups[1], table.warnings


# ----------------------------------------------------------------------------------------------- input rows

@dataclass
class InputRows:
    """Input rows to run a program or a surrogate on: values float64 [n, n_in], the inputs' text as the user gave
    it (nsc.numtext.RowTexts; from a binary file: each stored type's shortest text), and where they came from (a
    path, '<stdin>', or '--inputs' for rows given inline)."""

    x: np.ndarray
    texts: numtext.RowTexts
    where: str

    def error(self, message: str) -> NscError:
        return NscError(f"--inputs: {message}") if self.where == "--inputs" else NscError(message, self.where)


def parse_inputs(spec, input_names, float32: bool = False, warn=None) -> InputRows:
    """`--inputs SPEC` of `nsc run` and `nsc sample`: "a=1,b=2" (rows separated by ';'), a CSV/NPZ/NPY file, or
    '-' (CSV on standard input). float32: for a surrogate (values beyond float32 are errors). File warnings go to
    warn(text) (default: standard error)."""
    input_names = [getattr(n, "name", n) for n in input_names]
    if spec is None or spec == "-" or os.path.exists(os.fspath(spec)):
        where = "<stdin>" if spec in (None, "-") else os.fspath(spec)
        table = read_groups(spec, [input_names], x_columns=len(input_names), float32=float32, text=input_names)
        for w in table.warnings:
            (warn or (lambda t: print(t, file=sys.stderr)))(f"{where}: warning: {w}")
        return InputRows(table.groups[0], table.texts, where)
    spec = os.fspath(spec)
    if "=" not in spec:
        raise NscError(f"--inputs '{spec}': no such file, and not of the form NAME=VALUE,NAME=VALUE")
    rows = [_parse_assignments(row, input_names, float32) for row in spec.split(";") if row.strip()]
    if not rows:
        raise NscError(f"--inputs '{spec}': no rows")
    x = np.array([[value for value, _ in row] for row in rows], dtype=np.float64)
    texts = [numtext.text_matrix([row[j][1].encode() for row in rows]) for j in range(len(input_names))]
    return InputRows(x, numtext.RowTexts([(len(rows), None, texts)]), "--inputs")


def _parse_assignments(row: str, input_names: list[str], float32: bool) -> list[tuple[float, str]]:
    values = {}
    for item in row.split(","):
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep:
            raise NscError(f"--inputs: '{item.strip()}' is not of the form NAME=VALUE")
        if name not in input_names:
            raise NscError(f"--inputs: unknown input '{name}' (the inputs are: {', '.join(input_names)})")
        if name in values:
            raise NscError(f"--inputs: input '{name}' is given twice")
        try:
            value = csv_number(text)
        except ValueError:
            raise NscError(f"--inputs: '{text}' (for '{name}') is not a number") from None
        if not math.isfinite(value):
            raise NscError(f"--inputs: '{text}' (for '{name}') is not a finite number")
        if float32 and abs(value) > FLOAT32_MAX:
            raise NscError(f"--inputs: '{text}' (for '{name}') is {BEYOND_FLOAT32}")
        values[name] = (value, text)
    missing = [n for n in input_names if n not in values]
    if missing:
        raise NscError(f"--inputs: missing value{'s' if len(missing) > 1 else ''} for {', '.join(missing)}")
    return [values[n] for n in input_names]


def check_integer_inputs(rows: InputRows, names, ctypes) -> None:
    """An integer input given a fraction, or a value its C type does not hold, is refused (by `nsc sample` and
    `nsc run` alike): C would truncate or wrap it, so the program (or the samples a surrogate learnt from) would
    see another value than the one written. ctypes: each input's C type (None where unknown)."""
    from nsc.frontend.program import INTEGER_LIMITS, INTEGER_TYPES

    x = rows.x
    for col, (name, ctype) in enumerate(zip(names, ctypes)):
        if ctype not in INTEGER_TYPES:
            continue
        bad = np.flatnonzero(x[:, col] != np.trunc(x[:, col]))
        if bad.size:
            value = float(x[bad[0], col])
            raise rows.error(f"input '{name}' is an integer ({ctype}), but row {bad[0] + 1} gives it {value!r} "
                             f"(the program would see {int(value)})")
        tmin, tmax = INTEGER_LIMITS.get(ctype, (-np.inf, np.inf))
        bad = np.flatnonzero((x[:, col] < tmin) | (x[:, col] > tmax))
        if bad.size:
            raise rows.error(f"input '{name}' is of type '{ctype}', which holds {tmin} to {tmax}, but row "
                             f"{bad[0] + 1} gives it {int(x[bad[0], col])}")
