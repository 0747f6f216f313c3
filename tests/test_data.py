"""Data files: exact round trips, matching columns by name, and a clear error for every bad file."""

from __future__ import annotations

import io
import json
import os
import sys

import numpy as np
import pytest

from nsc import data, tables
from nsc.errors import NscError

INPUTS = ["x", "n", "a[0]", "a[1]"]
OUTPUTS = ["return", "out[0]"]


def sample_table(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(-1e3, 1e3, n), rng.integers(-5, 6, n), rng.normal(size=n) * 1e-300,
                         rng.uniform(0, 1, n)])
    y = np.column_stack([rng.normal(size=n) * 1e30, np.full(n, 0.1)])  # (finetune data: within float32)
    return x, y


@pytest.mark.parametrize("name", ["s.csv", "s.npz"])
def test_round_trip_is_exact(tmp_path, name):
    x, y = sample_table()
    path = tmp_path / name
    data.write_samples(path, INPUTS, OUTPUTS, x, y)
    columns, warnings = tables.read_table(path, INPUTS + OUTPUTS)
    assert warnings == []
    np.testing.assert_array_equal(np.column_stack([columns[n] for n in INPUTS]), x)  # bit for bit
    np.testing.assert_array_equal(np.column_stack([columns[n] for n in OUTPUTS]), y)
    x32, y32, _ = tables.read_dataset(path, INPUTS, OUTPUTS)  # fine-tuning data: float32, rounded once
    assert x32.dtype == y32.dtype == np.float32
    np.testing.assert_array_equal(x32, x.astype(np.float32))
    np.testing.assert_array_equal(y32, y.astype(np.float32))


def test_csv_layout(tmp_path):
    path = tmp_path / "s.csv"
    data.write_samples(path, ["x", "n"], ["return"], np.array([[0.5, 3.0], [-1.25, -2.0]]), np.array([[1.0], [0.1]]))
    assert path.read_text() == "x,n,return\n0.5,3,1\n-1.25,-2,0.10000000000000001\n"


def test_npz_layout_loads_without_pickle(tmp_path):
    x, y = sample_table(10)
    path = tmp_path / "s.npz"
    data.write_samples(path, INPUTS, OUTPUTS, x, y)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["inputs", "outputs", "x", "y"]
        assert z["inputs"].dtype.kind == "U" and z["inputs"].tolist() == INPUTS
        assert z["outputs"].tolist() == OUTPUTS
        np.testing.assert_array_equal(z["x"], x)


def test_columns_matched_by_name_in_any_order_extra_ignored_with_warning(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("out[0],junk,a[1],return,x,a[0],n\n1,9,2,3,4,5,6\n7,9,8,9,10,11,12\n")
    x, y, warnings = tables.read_dataset(path, INPUTS, OUTPUTS)
    np.testing.assert_array_equal(x, [[4, 6, 5, 2], [10, 12, 11, 8]])
    np.testing.assert_array_equal(y, [[3, 1], [9, 7]])
    assert warnings == ["ignoring column not used: 'junk'"]


def test_read_table_optional_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("b,a\n1,2\n")
    cols, _ = tables.read_table(path, ["a"], optional_columns=["b", "c"])
    assert list(cols) == ["a", "b"] and cols["b"].tolist() == [1.0]


def test_crlf_bom_quoted_header_and_blank_tail(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b'\xef\xbb\xbf"x", n\r\n1.5, 2\r\n-3e2,4\r\n\r\n\n')
    x, warnings = tables.read_inputs(path, ["x", "n"])
    np.testing.assert_array_equal(x, [[1.5, 2], [-300, 4]])


def test_large_csv_reads(tmp_path):
    x, y = sample_table(100_000, seed=1)
    path = tmp_path / "big.csv"
    data.write_samples(path, INPUTS, OUTPUTS, x, y)
    x2, y2, _ = tables.read_dataset(path, INPUTS, OUTPUTS)
    np.testing.assert_array_equal(x2, x.astype(np.float32))
    np.testing.assert_array_equal(y2, y.astype(np.float32))
    x2, _ = tables.read_inputs(path, INPUTS)
    np.testing.assert_array_equal(x2, x)


IN4, OUT2 = ["x", "n", "x2", "x3"], ["y1", "y2"]


def test_unused_columns_may_hold_text_and_fields_may_be_quoted(tmp_path):
    """An id, a timestamp or a note column was an error ('M0000' is not a number), and so was a quoted number,
    as Python's csv.QUOTE_ALL or a spreadsheet writes it."""
    path = tmp_path / "obs.csv"
    path.write_text('meter,"x","n",note,x2,x3,y1,y2\n"M0001","0.5","3",ok,1,"2",0.25,0.5\n'
                    'M0002,-1.5,4,"late, estimated",1e3,4,-0.5,1\n')
    x, y, warn = tables.read_dataset(path, IN4, OUT2)
    np.testing.assert_array_equal(x, [[0.5, 3, 1, 2], [-1.5, 4, 1e3, 4]])
    np.testing.assert_array_equal(y, [[0.25, 0.5], [-0.5, 1]])
    assert warn == ["ignoring columns not used: 'meter', 'note'"]
    path.write_text("meter,x,n,x2,x3,y1,y2\nM1,1,2,3,4,5,6\nM2,1,2,3,4,5\n")  # ragged, in any column
    with pytest.raises(NscError, match=r"obs\.csv:3: error: this row has 6 values but the header names 7"):
        tables.read_dataset(path, IN4, OUT2)
    path.write_text("meter,y1\nM1,2\n")  # the missing columns are named, with every column the file has
    with pytest.raises(NscError, match=r"missing columns 'x', 'n', 'x2', 'x3', 'y2' \(the file has: meter, y1\)"):
        tables.read_dataset(path, IN4, OUT2)


@pytest.mark.parametrize("cell, message", [
    ("1e39", r"obs\.csv:3:9: error: column 'y1': 1e39 is beyond float32 \(\|x\| <= 3.4028235e\+38\)"),
    ("\u0661\u0660", r"obs\.csv:3:9: error: column 'y1': '\u0661\u0660' is not a number"),
])
def test_finetune_data_beyond_float32_or_in_other_digits_is_located(tmp_path, cell, message):
    """A value beyond float32 ended in a traceback from NaN weights (an output) or NaN losses (an input);
    Arabic-Indic digits gave numpy's message with mojibake and no line."""
    path = tmp_path / "obs.csv"
    path.write_text(f"x,n,x2,x3,y1,y2\n1,2,3,4,5,6\n1,2,3,4,{cell},6\n")
    with pytest.raises(NscError, match=message):
        tables.read_dataset(path, IN4, OUT2)
    x, _ = tables.read_inputs(path, ["x", "n"])  # a program's inputs are doubles: no float32 limit there
    assert x.shape == (2, 2)


# ------------------------------------------------------------------------------------------- bad CSV files

@pytest.mark.parametrize("text, message", [
    ("", r"d\.csv: error: the file is empty"),
    ("   \n\n", r"d\.csv: error: the file is empty"),
    ("x,n\n", r"d\.csv: error: the file has a header row but no data rows"),
    ("x,n\n1,2\n3\n", r"d\.csv:3: error: this row has 1 values but the header names 2 columns"),
    ("x,n\n1,2,3\n", r"d\.csv:2: error: this row has 3 values but the header names 2 columns"),
    ("x,n\n1,2\n3,abc\n", r"d\.csv:3:3: error: column 'n': 'abc' is not a number"),
    ("x,n\n1,\n", r"d\.csv:2:3: error: column 'n': '' is not a number"),
    ("x,n\n1, \n", r"d\.csv:2:3: error: column 'n': '' is not a number"),
    ("x,n\n1,2\n5,6\nnan,1\n", r"d\.csv:4:1: error: column 'x': nan is not a finite number"),
    ("x,n\n1,-inf\n", r"d\.csv:2:3: error: column 'n': -inf is not a finite number"),
    ("x,x\n1,2\n", r"d\.csv:1: error: column 'x' appears twice in the header"),
    ("x,,n\n1,2,3\n", r"d\.csv:1: error: the header row has an empty column name"),
    ("x,m\n1,2\n", r"d\.csv: error: missing column 'n' \(the file has: x, m\)"),
    ("q\n1\n", r"d\.csv: error: missing columns 'x', 'n' \(the file has: q\)"),
    ("1,2\n3,4\n", r"missing columns 'x', 'n' \(the first row must be a header naming the columns\)"),
])
def test_bad_csv(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(NscError, match=f"^{message}$" if message.startswith("d") else message):
        tables.read_inputs("d.csv", ["x", "n"])


def test_nan_in_an_ignored_column_is_fine(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,note\n1,nan\n")
    x, warnings = tables.read_inputs(path, ["x"])
    assert x.tolist() == [[1.0]] and warnings == ["ignoring column not used: 'note'"]


def test_binary_and_missing_files(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"\x7fELF\x02\x01\x00\x00binary")
    with pytest.raises(NscError, match="not a CSV file"):
        tables.read_inputs(path, ["x"])
    with pytest.raises(NscError, match="No such file"):
        tables.read_inputs(tmp_path / "absent.csv", ["x"])


# ------------------------------------------------------------------------------------------- npz / npy

def test_npz_without_names_matches_by_position(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([[1.0, 2.0]]), y=np.array([[3.0]]))
    x, y, _ = tables.read_dataset(path, ["a", "b"], ["return"])
    assert x.tolist() == [[1, 2]] and y.tolist() == [[3]]
    x, warnings = tables.read_inputs(path, ["a", "b"])
    assert x.tolist() == [[1, 2]] and warnings == ["ignoring column not used: 'y[0]'"]


def test_npz_without_names_keeps_x_and_y_apart(tmp_path):
    """An unnamed x with one column too many is an error, not a shift of x's last column into the outputs."""
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([[1.0, 2.0, 777.0]]), y=np.array([[5.0]]))
    with pytest.raises(NscError, match=r"array 'x' has 3 columns, but the surrogate has 2 inputs \(a, b\)"):
        tables.read_dataset(path, ["a", "b"], ["return"])
    with pytest.raises(NscError, match="array 'x' has 3 columns"):
        tables.read_inputs(path, ["a", "b"])
    np.savez(path, x=np.array([[1.0, 2.0]]), y=np.array([[5.0, 6.0]]))
    with pytest.raises(NscError, match=r"array 'y' has 2 columns, but the surrogate has 1 output \(return\)"):
        tables.read_dataset(path, ["a", "b"], ["return"])


def test_npz_bad_cases(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([["a"]], dtype=object))
    with pytest.raises(NscError, match=r"d\.npz: error: not a readable \.npz file"):
        tables.read_inputs(path, ["a"])
    np.savez(path, z=np.zeros((2, 2)))
    with pytest.raises(NscError, match="has no array 'x'"):
        tables.read_inputs(path, ["a"])
    np.savez(path, x=np.zeros((0, 2)))
    with pytest.raises(NscError, match="no data rows"):
        tables.read_inputs(path, ["a", "b"])
    np.savez(path, x=np.array([[1.0, np.nan]]), inputs=np.array(["a", "b"]))
    with pytest.raises(NscError, match="column 'b' row 1: nan is not a finite number"):
        tables.read_inputs(path, ["a", "b"])
    path.write_bytes(b"PK\x03\x04truncated")
    with pytest.raises(NscError, match="not a readable .npz file"):
        tables.read_inputs(path, ["a"])


def test_npy_inputs_and_wrong_width(tmp_path):
    path = tmp_path / "in.npy"
    np.save(path, np.array([[1, 2], [3, 4]], dtype=np.int32))
    x, _ = tables.read_inputs(path, ["a", "b"])
    assert x.dtype == np.float64 and x.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(NscError, match="the file has 2 unnamed columns, expected 3 \\(a, b, c\\)"):
        tables.read_inputs(path, ["a", "b", "c"])
    np.save(path, np.array([1.0, 2.0]))  # a 1-D array is a column, and the message says how to give a row
    assert tables.read_inputs(path, ["a"])[0].tolist() == [[1.0], [2.0]]
    with pytest.raises(NscError, match=r"has 1 unnamed column \(a 1-D array is one column: save a row as shape "):
        tables.read_inputs(path, ["a", "b"])


# ------------------------------------------------------------------------------------------- run inputs

def test_parse_inputs_assignments(tmp_path):
    assert tables.parse_inputs("b=2, a=1.5", ["a", "b"]).x.tolist() == [[1.5, 2.0]]
    assert tables.parse_inputs("a=1,b=2;a=3,b=4", ["a", "b"]).x.tolist() == [[1, 2], [3, 4]]
    for spec, message in [("a=1", "missing value for b"), ("a=1,b=2,c=3", "unknown input 'c'"),
                          ("a=1,b=x", "'x' \\(for 'b'\\) is not a number"), ("a=1,a=2,b=3", "given twice"),
                          ("a=nan,b=1", "not a finite number"), ("nofile.csv", "no such file")]:
        with pytest.raises(NscError, match=message):
            tables.parse_inputs(spec, ["a", "b"])


def test_parse_inputs_file_and_stdin(tmp_path, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text("b,a,c\n1,2,3\n")
    seen = []
    assert tables.parse_inputs(str(path), ["a", "b"], warn=seen.append).x.tolist() == [[2, 1]]
    assert seen == [f"{path}: warning: ignoring column not used: 'c'"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a,b\n5,6\n")))
    assert tables.parse_inputs("-", ["a", "b"]).x.tolist() == [[5, 6]]


# ------------------------------------------------------------------------------------------- atomic writes

def test_missing_directory_is_an_error_and_nothing_is_written(tmp_path):
    with pytest.raises(NscError, match="directory .* does not exist"):
        data.write_samples(tmp_path / "no" / "s.csv", ["x"], ["y"], np.zeros((1, 1)), np.zeros((1, 1)))
    assert os.listdir(tmp_path) == []


def test_write_predictions(tmp_path, capsys, monkeypatch):
    x, y = np.array([[1.0, 2.0]]), np.array([[0.5]])
    data.write_predictions(x, y, ["a", "b"], ["r"])
    assert capsys.readouterr().out == "a,b,r\n1,2,0.5\n"
    data.write_predictions(x, y, ["a", "b"], ["r"], fmt="json")
    assert capsys.readouterr().out == '[{"a": 1.0, "b": 2.0, "r": 0.5}]\n'
    out = tmp_path / "p.csv"
    data.write_predictions(x, y, ["a", "b"], ["r"], output=out)
    assert out.read_text() == "a,b,r\n1,2,0.5\n"
    # streamed in chunks, the text is json.dumps of every row, NaN as null, and the CSV is every row
    monkeypatch.setattr(data, "CSV_CHUNK_ROWS", 3)
    x = np.arange(14.0).reshape(7, 2)
    y = np.array([[0.5], [np.nan], [1.0], [2.0], [np.inf], [3.0], [4.0]])
    data.write_predictions(x, y, ["a", "b"], ["r"], fmt="json", output=out)
    expected = [{"a": a, "b": b, "r": r if np.isfinite(r) else None} for (a, b), (r,) in zip(x.tolist(), y.tolist())]
    assert out.read_text() == json.dumps(expected) + "\n"
    data.write_predictions(x[:0], y[:0], ["a", "b"], ["r"], fmt="json", output=tmp_path / "empty.json")
    assert (tmp_path / "empty.json").read_text() == "[]\n"
    data.write_predictions(x, y, ["a", "b"], ["r"], output=out)
    assert out.read_text().splitlines()[1:] == [",".join(f"{v:.17g}" for v in row) for row in np.c_[x, y]]


def test_file_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert data.file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_dataset_is_read_in_blocks_into_float32(tmp_path, monkeypatch):
    """nsc finetune on a 10M-row CSV held 2 GB: the whole file's bytes, then float64 tables, then copies. It now
    reads a block of lines at a time into float32 arrays allocated once (tracemalloc sees numpy's memory)."""
    import tracemalloc

    x, y = sample_table(20_000, seed=3)
    path = tmp_path / "big.csv"
    data.write_samples(path, INPUTS, OUTPUTS, x, y)  # 17 digits a value: ~2.4 MB of text (read whole before: ~3x)
    monkeypatch.setattr(tables, "BLOCK_BYTES", 1 << 16)
    tracemalloc.start()
    try:
        x32, y32, _ = tables.read_dataset(path, INPUTS, OUTPUTS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x32.dtype == y32.dtype == np.float32 and x32.flags.c_contiguous and y32.flags.c_contiguous
    np.testing.assert_array_equal(x32, x.astype(np.float32))
    assert peak < x32.nbytes + y32.nbytes + (2 << 20), peak  # the float32 table, and the blocks in flight


def test_blocks_meet_in_the_middle_of_nothing(tmp_path, monkeypatch):
    """Blocks end at line ends, whatever the block size; errors keep the file's line numbers."""
    monkeypatch.setattr(tables, "BLOCK_BYTES", 7)
    path = tmp_path / "d.csv"
    path.write_text("x,n\n1.5,2\n\n-3,4\n5,6\n7,8")
    x, _ = tables.read_inputs(path, ["x", "n"])
    assert x.tolist() == [[1.5, 2], [-3, 4], [5, 6], [7, 8]]
    path.write_text("x,n\n1.5,2\n\n-3,4\n5,oops\n7,8\n")
    with pytest.raises(NscError, match=r"d\.csv:5:3: error: column 'n': 'oops' is not a number"):
        tables.read_inputs(path, ["x", "n"])
