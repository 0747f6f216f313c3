"""Writing data files: samples as CSV or NPZ, predictions as CSV, JSON or NPZ, through nsc/outputs.py.

CSV: a header row naming the columns (inputs then outputs, names from the Signature), then one row per sample.
Samples (doubles the program computed) are written with '%.17g', which reads back to the same float64 bit for
bit. Predictions echo each input as it was given (its text, from a CSV or inline) and write each float32 output
at its shortest text that reads back to the same float32 (nsc.numtext), a block of rows at a time.

NPZ: arrays `x` [n, n_in] and `y` [n, n_out] (float64) and the column names `inputs` and `outputs` as plain
unicode arrays (so the file loads with allow_pickle=False).

Every file is written through nsc/outputs.py (a regular file replaced atomically, a device or FIFO written
through): a reader never sees a partial file, and a failed write leaves the previous file as it was. Reading is nsc.tables.
"""

from __future__ import annotations

import collections
import concurrent.futures
import csv
import hashlib
import io
import json
import math
import os
import sys

import numpy as np

from nsc import numtext
from nsc.errors import NscError
from nsc.outputs import open_output
from nsc.tables import FLOAT32_MAX

CSV_CHUNK_ROWS = numtext.CHUNK_ROWS  # rows formatted at a time

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


def _prediction_csv(names, x, y, input_texts):
    """The CSV of inputs (their own text, or x at its shortest) and outputs (their shortest float32 text), a piece
    of rows at a time; the next piece is formatted in a second thread while this one is written (numpy lets go of
    the GIL while it works)."""
    yield _csv_header(names).encode()
    if input_texts is None:
        input_texts = numtext.RowTexts([(x.shape[0], None, [_LazyColumn(x, j) for j in range(x.shape[1])])])

    def piece_csv(start, end, lines, cells):
        return numtext.csv_with(lines, cells, [numtext.float32_text(y[start:end, j]) for j in range(y.shape[1])])

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        pending = collections.deque()
        for piece in input_texts.pieces():
            pending.append(pool.submit(piece_csv, *piece))
            if len(pending) >= 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _LazyColumn:
    """A column of x as text, formatted a slice at a time (x[first:last, j] at its shortest)."""

    def __init__(self, x, j):
        self.x, self.j = x, j

    def __getitem__(self, rows: slice):
        return numtext.float64_text(self.x[rows, self.j])


def _prediction_json(names, x, y):
    """A list of {name: value} rows (non-finite values as null), json.dumps of every row, in chunks: inputs as
    the doubles they were read as, outputs as their shortest float32 text read as a number."""
    yield "["
    for start in range(0, x.shape[0], CSV_CHUNK_ROWS):
        end = min(start + CSV_CHUNK_ROWS, x.shape[0])
        outputs = [[float(t) for t in numtext.text_list(numtext.float32_text(y[start:end, j]))]
                   for j in range(y.shape[1])]
        rows = [dict(zip(names, (v if math.isfinite(v) else None for v in (*xi, *yi))))
                for xi, yi in zip(x[start:end].tolist(), zip(*outputs) if outputs else [()] * (end - start))]
        yield (", " if start else "") + json.dumps(rows)[1:-1]
    yield "]\n"


def write_predictions(x, y, input_names, output_names, fmt: str = "csv", output=None, input_texts=None) -> None:
    """Inputs and predicted outputs to `output` (.npz by its name, else CSV or JSON by `fmt`; nsc/outputs.py),
    or to standard output (None or '-'), streamed in blocks: 2M rows never become one string. y: the surrogate's
    float32 predictions; input_texts: the inputs' text as given (nsc.numtext.RowTexts, from nsc.tables.InputRows),
    echoed as it is in CSV (None: x written at its shortest)."""
    input_names, output_names = list(input_names), list(output_names)
    x, _ = _as_table(x, np.zeros((len(x), len(output_names))), input_names, output_names)
    y = np.asarray(y, dtype=np.float32).reshape(len(x), len(output_names))
    if output is not None and os.fspath(output).lower().endswith(".npz"):
        write_samples(output, input_names, output_names, x, y.astype(np.float64))
        return
    if fmt not in ("csv", "json"):
        raise NscError(f"unknown output format '{fmt}' (use csv or json)")
    names = input_names + output_names
    binary = fmt == "csv"
    chunks = _prediction_csv(names, x, y, input_texts) if binary else _prediction_json(names, x, y)
    if output is None or os.fspath(output) == "-":
        stream = sys.stdout.buffer if binary else sys.stdout
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()
        return
    with open_output(output, "wb" if binary else "w") as f:
        for chunk in chunks:
            f.write(chunk)


def file_sha256(path) -> str:
    try:
        with open(path, "rb") as f:
            return _digest(f)
    except OSError as e:
        raise NscError(f"cannot read the file: {e.strerror}", os.fspath(path)) from None


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
