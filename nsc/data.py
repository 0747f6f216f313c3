"""Data files: samples and predictions as CSV or NPZ, inputs as CSV/NPZ/NPY.

CSV: a header row naming the columns (inputs then outputs, names from the Signature), then one row per sample.
Values are written with '%.17g', which reads back to the same float64 bit for bit. Readers match columns by
name, in any order; extra columns are ignored with a warning; missing ones are an error naming them.

NPZ: arrays `x` [n, n_in] and `y` [n, n_out] (float64) and the column names `inputs` and `outputs` as plain
unicode arrays (so the file loads with allow_pickle=False). An NPZ without the name arrays, and a 2-D `.npy`,
are matched by position.

Every file is written through nsc/outputs.py (a regular file replaced atomically, a device or FIFO written
through): a reader never sees a partial file, and a failed write leaves the previous file as it was.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import os
import sys
import warnings
import zipfile

import numpy as np

from nsc.errors import NscError
from nsc.outputs import open_output

CSV_CHUNK_ROWS = 65536
FLOAT32_MAX = float(np.finfo(np.float32).max)  # surrogates compute in float32: larger values become Inf
_BEYOND_FLOAT32 = f"beyond float32 (|x| <= {FLOAT32_MAX:.8g}), which the surrogate computes in"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"

# ----------------------------------------------------------------------------------------------- writing

def _digest(f) -> str:
    """sha256 of an open binary file, read in chunks."""
    h = hashlib.sha256()
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def _csv_header(names) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(list(names))
    return out.getvalue()


def csv_chunks(names, data: np.ndarray):
    """The CSV text of a header and a float table, in chunks (so 1M rows never become one giant string)."""
    data = np.asarray(data, dtype=np.float64)
    yield _csv_header(names)
    if data.shape[0] == 0:
        return
    row_format = ",".join(["%.17g"] * data.shape[1]) + "\n"
    for start in range(0, data.shape[0], CSV_CHUNK_ROWS):
        chunk = data[start: start + CSV_CHUNK_ROWS]
        yield (row_format * chunk.shape[0]) % tuple(chunk.ravel().tolist())


def _as_table(x, y, input_names, output_names) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1) if len(x) else np.zeros((0, len(input_names)))
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1) if len(y) else np.zeros((0, len(output_names)))
    if x.shape != (len(x), len(input_names)) or y.shape != (len(x), len(output_names)):
        raise ValueError(f"x {x.shape} / y {y.shape} do not match {len(input_names)} input and "
                         f"{len(output_names)} output names")
    return x, y


def write_samples(path, input_names, output_names, x, y) -> None:
    """Samples to `path`: .npz (arrays x, y, inputs, outputs) or CSV (any other name); None or '-': CSV on
    standard output."""
    input_names, output_names = list(input_names), list(output_names)
    x, y = _as_table(x, y, input_names, output_names)
    if path is None or os.fspath(path) == "-":
        for chunk in csv_chunks(input_names + output_names, np.hstack([x, y])):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    if os.fspath(path).lower().endswith(".npz"):
        with open_output(path, "wb") as f:
            np.savez(f, x=x, y=y, inputs=np.array(input_names, dtype=str), outputs=np.array(output_names, dtype=str))
        return
    with open_output(path, "w") as f:
        for chunk in csv_chunks(input_names + output_names, np.hstack([x, y])):
            f.write(chunk)


def json_chunks(names, data: np.ndarray):
    """A float table as the JSON text of a list of {name: value} rows (non-finite values as null), in chunks:
    json.dumps(rows) + newline, without holding every row's dict or the whole text at once."""
    names = list(names)
    data = np.asarray(data, dtype=np.float64)
    yield "["
    for start in range(0, data.shape[0], CSV_CHUNK_ROWS):
        rows = [dict(zip(names, (v if math.isfinite(v) else None for v in row)))
                for row in data[start: start + CSV_CHUNK_ROWS].tolist()]
        yield (", " if start else "") + json.dumps(rows)[1:-1]
    yield "]\n"


def write_predictions(x, y, input_names, output_names, fmt: str = "csv", output=None) -> None:
    """Inputs and predicted outputs to `output` (.npz by its name, else CSV or JSON by `fmt`, written atomically),
    or to standard output (None or '-'), streamed in chunks: 2M rows never become one string."""
    input_names, output_names = list(input_names), list(output_names)
    x, y = _as_table(x, y, input_names, output_names)
    if output is not None and os.fspath(output).lower().endswith(".npz"):
        write_samples(output, input_names, output_names, x, y)
        return
    if fmt not in ("csv", "json"):
        raise NscError(f"unknown output format '{fmt}' (use csv or json)")
    chunks = (csv_chunks if fmt == "csv" else json_chunks)(input_names + output_names, np.hstack([x, y]))
    if output is None or os.fspath(output) == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with open_output(output, "w") as f:
        for chunk in chunks:
            f.write(chunk)


def file_sha256(path) -> str:
    try:
        with open(path, "rb") as f:
            return _digest(f)
    except OSError as e:
        raise NscError(f"cannot read the file: {e.strerror}", os.fspath(path)) from None


# ----------------------------------------------------------------------------------------------- reading

class _Raw:
    """A file's numbers before matching: names (None for unnamed npz/npy), a 2-D float64 array, and for an
    unnamed npz the width of its `x` part. header: every column a CSV names; ignored: those left unread (not
    wanted: text, ids, notes); locate(check_columns, limit): the exact NscError for the first bad cell, or None."""

    def __init__(self, names, data: np.ndarray, x_width: int | None = None, locate=None, header=None, ignored=()):
        self.names, self.data, self.x_width = names, data, x_width
        self.locate = locate
        self.header = header if header is not None else names  # every column the file names, read or not
        self.ignored = list(ignored)
        self.one_d = False  # a .npy holding a 1-D array (read as one column)


def _csv_number(cell: str) -> float:
    if "_" in cell or not cell.isascii():  # float() takes 1_000 and Arabic-Indic digits; C and numpy do not
        raise ValueError(cell)
    return float(cell)


def _csv_problem(body: bytes, names: list[str], path: str, numeric, check_columns, limit=None) -> NscError | None:
    """The first bad line of a CSV body (slow, exact): wrong number of values, a non-number in one of the
    `numeric` columns (none: the widths alone), NaN/Inf (or |value| > limit) in one of check_columns (header
    indices). Lines are numbered from 2 (line 1 is the header)."""
    for k, raw_line in enumerate(body.split(b"\n")):
        line = k + 2
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
                value = _csv_number(cell.strip())
            except ValueError:
                return NscError(f"column '{name}': '{cell.strip()}' is not a number", path, line, where)
            if j in check_columns and not math.isfinite(value):
                return NscError(f"column '{name}': {cell.strip()} is not a finite number", path, line, where)
            if j in check_columns and limit is not None and abs(value) > limit:
                return NscError(f"column '{name}': {cell.strip()} is {_BEYOND_FLOAT32}", path, line, where)
    return None


def _read_csv(raw: bytes, path: str, wanted=None) -> _Raw:
    """A CSV's columns; wanted: the names that will be used (None: all). Other columns are not parsed, so an
    id or a note column may hold text. Fields may be quoted ("1.5")."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if not raw.strip():
        raise NscError("the file is empty", path)
    if b"\0" in raw[:65536]:
        raise NscError("not a CSV file (it contains binary data)", path)
    head, _, body = raw.partition(b"\n")
    try:
        header = head.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise NscError("not a CSV file (the first line is not UTF-8 text)", path, 1) from None
    names = [n.strip() for n in next(csv.reader([header]))]
    if len(names) == 1 and any(sep in names[0] for sep in ";\t"):
        sep = "a semicolon" if ";" in names[0] else "a tab"
        raise NscError(f"the header is one column '{names[0]}': columns must be separated by commas, not by {sep}",
                       path, 1)
    if not names or any(not n for n in names):
        raise NscError("the header row has an empty column name", path, 1)
    seen = set()
    for n in names:
        if n in seen:
            raise NscError(f"column '{n}' appears twice in the header", path, 1)
        seen.add(n)
    body = body.rstrip(b"\r\n\t ")
    if not body.strip():
        raise NscError("the file has a header row but no data rows", path)
    read = [j for j, n in enumerate(names) if wanted is None or n in wanted]
    if not read:  # none of the columns wanted (a header of numbers, the wrong file): read_table says which
        return _Raw([], np.zeros((0, 0)), header=names, ignored=names)
    partial = len(read) < len(names)

    def problem(check_columns=(), limit=None):
        return _csv_problem(body, names, path, set(read), {read[c] for c in check_columns}, limit)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = np.loadtxt(io.BytesIO(body), delimiter=",", comments=None, dtype=np.float64, ndmin=2,
                              quotechar='"', usecols=read if partial else None)
    except (ValueError, UserWarning) as e:
        raise problem() or NscError(f"cannot read the CSV data: {e}", path) from None
    if data.shape[1] != len(read):
        raise problem() or NscError(f"rows have {data.shape[1]} values but the header names {len(names)} columns",
                                    path)
    if partial and (ragged := _csv_problem(body, names, path, numeric=(), check_columns=())) is not None:
        raise ragged  # (numpy checks the width of the columns it reads only)
    return _Raw([names[j] for j in read], data, locate=problem, header=names,
                ignored=[n for j, n in enumerate(names) if j not in set(read)])


def _read_npz(path: str) -> _Raw:
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
    data = np.hstack(parts) if len(parts) == 2 else parts[0]
    if names is not None and len(set(names)) != len(names):
        raise NscError("the .npz column names are not unique", path)
    return _Raw(names, data, x_width=parts[0].shape[1])


def _numeric_2d(a: np.ndarray, path: str, what: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise NscError(f"{what} holds {a.dtype} values, not numbers", path)
    if a.ndim == 1:  # one column (the runtime's reading too where it has one input)
        a = a[:, None]
    if a.ndim != 2:
        raise NscError(f"{what} has shape {a.shape}; a 2-D table [rows, columns] is needed", path)
    return a.astype(np.float64, copy=False)


def _read_npy(path: str) -> _Raw:
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise NscError(f"not a readable .npy file ({e})", path) from None
    raw = _Raw(None, _numeric_2d(a, path, "the array"))
    raw.one_d = a.ndim == 1
    return raw


def _load(path, wanted=None) -> _Raw:
    """Read CSV, NPZ or NPY, told apart by content (not by name); '-' reads CSV from standard input. wanted:
    the column names that will be used, the only ones a CSV's cells are parsed in (None: all)."""
    if path is None or os.fspath(path) == "-":
        return _read_csv(sys.stdin.buffer.read(), "<stdin>", wanted)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise NscError("is a directory, not a data file", path)
    try:
        with open(path, "rb") as f:
            start = f.read(8)
            if start.startswith(ZIP_MAGIC):
                return _read_npz(path)
            if start.startswith(NPY_MAGIC):
                return _read_npy(path)
            return _read_csv(start + f.read(), path, wanted)
    except OSError as e:
        raise NscError(f"cannot read the file: {e.strerror}", path) from None


def _positional_names(raw: _Raw, need: list[str], optional: list[str], path: str,
                      x_columns: int | None = None) -> list[str]:
    """Names for unnamed columns: the needed ones first, then the optional ones, by position. x_columns: how many
    of the needed ones are inputs, which an unnamed .npz must hold in 'x' (the rest in 'y'), exactly."""
    width = raw.data.shape[1]
    if raw.x_width is not None and x_columns is not None:
        y_width, outputs = width - raw.x_width, need[x_columns:]
        if raw.x_width != x_columns:
            raise NscError(f"array 'x' has {raw.x_width} column{'s' if raw.x_width != 1 else ''}, but the surrogate "
                           f"has {x_columns} input{'s' if x_columns != 1 else ''} ({', '.join(need[:x_columns])})",
                           path)
        if outputs and y_width != len(outputs):
            raise NscError(f"array 'y' has {y_width} column{'s' if y_width != 1 else ''}, but the surrogate has "
                           f"{len(outputs)} output{'s' if len(outputs) != 1 else ''} ({', '.join(outputs)})", path)
        return need[:x_columns] + (outputs or [f"y[{k}]" for k in range(y_width)])
    if raw.x_width is not None and raw.x_width == len(need) and width > len(need):
        extra = width - len(need)
        tail = optional[:extra] if extra == len(optional) else [f"y[{k}]" for k in range(extra)]
        return need + tail
    if width in (len(need), len(need) + len(optional)):
        return (need + optional)[:width]
    expected = f"{len(need)}" + (f" or {len(need) + len(optional)}" if optional else "")
    one_d = " (a 1-D array is one column: save a row as shape [1, n])" if raw.one_d and width == 1 else ""
    raise NscError(f"the file has {width} unnamed column{'s' if width != 1 else ''}{one_d}, expected {expected} "
                   f"({', '.join(need + optional)})", path)


def read_table(path, need_columns, optional_columns=(), x_columns: int | None = None,
               float32: bool = False) -> tuple[dict, list[str]]:
    """Columns of a CSV, NPZ or NPY file, matched by name: ({name: float64 [n]}, warnings). x_columns: how many
    of need_columns are inputs (an unnamed .npz's 'x'; `_positional_names`). float32: the values are for a
    surrogate, which computes in float32: a value beyond its range is an error (it would become Inf).

    The dict holds every need column, then the optional columns the file has, in the order given. Columns
    the file has beyond those are ignored with a warning, whatever they hold. Missing need columns,
    non-numeric cells, NaN or Inf in a used column, zero rows, an empty file and ragged rows are NscErrors
    naming the file, line and column.
    """
    need, optional = list(need_columns), [c for c in optional_columns if c not in need_columns]
    display = "<stdin>" if path is None or os.fspath(path) == "-" else os.fspath(path)
    raw = _load(path, set(need + optional))
    warn = []
    names = raw.names if raw.names is not None else _positional_names(raw, need, optional, display, x_columns)
    index = {n: j for j, n in enumerate(names)}
    missing = [n for n in need if n not in index]
    if missing:
        header = raw.header if raw.header is not None else names
        message = f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
        if all(_is_number(n) for n in header):
            message += " (the first row must be a header naming the columns)"
        else:
            message += f" (the file has: {', '.join(header)})"
        raise NscError(message, display)
    used = need + [n for n in optional if n in index]
    extra = raw.ignored + [n for n in names if n not in used]
    if extra:
        warn.append(f"ignoring column{'s' if len(extra) > 1 else ''} not used: {', '.join(map(repr, extra))}")
    if raw.data.shape[0] == 0:
        raise NscError("the file has no data rows", display)
    cols = [index[n] for n in used]
    finite = np.isfinite(raw.data[:, cols])
    if not finite.all():
        row, k = np.argwhere(~finite)[0]
        if raw.locate is not None:
            error = raw.locate(cols)
            if error is not None:
                raise error
        raise NscError(f"column '{used[k]}' row {row + 1}: {raw.data[row, cols[k]]} is not a finite number",
                       display)
    big = np.abs(raw.data[:, cols]) > FLOAT32_MAX if float32 else np.zeros((0, 0), bool)
    if big.any():
        row, k = np.argwhere(big)[0]
        if raw.locate is not None:
            error = raw.locate(cols, FLOAT32_MAX)
            if error is not None:
                raise error
        raise NscError(f"column '{used[k]}' row {row + 1}: {raw.data[row, cols[k]]:g} is {_BEYOND_FLOAT32}",
                       display)
    return {n: raw.data[:, index[n]] for n in used}, warn


def beyond_float32(values: np.ndarray, names) -> str | None:
    """'N of M rows have ... beyond float32 (up to V, in column C)' when some |value| exceeds float32's range,
    which surrogates compute in (finetune refuses such data, eval could only report NaN); else None."""
    big = np.abs(np.asarray(values, dtype=np.float64)) > FLOAT32_MAX
    if not big.any():
        return None
    rows, (row, col) = int(big.any(axis=1).sum()), np.unravel_index(np.argmax(np.where(big, np.abs(values), 0)),
                                                                    big.shape)
    return (f"{rows} of {len(values)} rows have values beyond float32 (|x| <= {FLOAT32_MAX:.8g}; up to "
            f"{float(values[row, col]):.3g}, in column '{list(names)[col]}'), which surrogates compute in")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _matrix(columns: dict, names) -> np.ndarray:
    if not names:
        n = len(next(iter(columns.values()))) if columns else 0
        return np.zeros((n, 0))
    return np.column_stack([columns[n] for n in names]).astype(np.float64, copy=False)


def read_inputs(path, input_names, float32: bool = False) -> tuple[np.ndarray, list[str]]:
    """Input rows for `nsc sample --inputs` / `nsc run --inputs FILE` (float32: for a surrogate, `read_table`):
    (x float64 [n, n_in], warnings)."""
    input_names = list(input_names)
    columns, warn = read_table(path, input_names, x_columns=len(input_names), float32=float32)
    return _matrix(columns, input_names), warn


def read_dataset(path, input_names, output_names) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Training data for `nsc finetune`: (x [n, n_in], y [n, n_out], warnings); every value within float32."""
    input_names, output_names = list(input_names), list(output_names)
    columns, warn = read_table(path, input_names + output_names, x_columns=len(input_names), float32=True)
    return _matrix(columns, input_names), _matrix(columns, output_names), warn


def parse_run_inputs(spec, input_names, warn=None) -> np.ndarray:
    """`nsc run --inputs SPEC`: "a=1,b=2" (rows separated by ';'), a CSV/NPZ/NPY file, or '-' (CSV on standard
    input). Returns float64 [n, n_in]; file warnings go to warn(text) (default: standard error)."""
    input_names = [getattr(n, "name", n) for n in input_names]
    if spec is None or spec == "-" or os.path.exists(spec):
        x, warnings_ = read_inputs(spec, input_names, float32=True)
        for w in warnings_:
            (warn or (lambda t: print(t, file=sys.stderr)))(
                f"{'<stdin>' if spec in (None, '-') else spec}: warning: {w}")
        return x
    if "=" not in spec:
        raise NscError(f"--inputs '{spec}': no such file, and not of the form NAME=VALUE,NAME=VALUE")
    return np.array([_parse_assignments(row, input_names) for row in spec.split(";") if row.strip()])


def _parse_assignments(row: str, input_names: list[str]) -> list[float]:
    values = {}
    for item in row.split(","):
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise NscError(f"--inputs: '{item.strip()}' is not of the form NAME=VALUE")
        if name not in input_names:
            raise NscError(f"--inputs: unknown input '{name}' (the inputs are: {', '.join(input_names)})")
        if name in values:
            raise NscError(f"--inputs: input '{name}' is given twice")
        try:
            value = _csv_number(text.strip())
        except ValueError:
            raise NscError(f"--inputs: '{text.strip()}' (for '{name}') is not a number") from None
        if not math.isfinite(value):
            raise NscError(f"--inputs: '{text.strip()}' (for '{name}') is not a finite number")
        if abs(value) > FLOAT32_MAX:
            raise NscError(f"--inputs: '{text.strip()}' (for '{name}') is {_BEYOND_FLOAT32}")
        values[name] = value
    missing = [n for n in input_names if n not in values]
    if missing:
        raise NscError(f"--inputs: missing value{'s' if len(missing) > 1 else ''} for {', '.join(missing)}")
    return [values[n] for n in input_names]
