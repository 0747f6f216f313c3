"""nsc.numtext: plain CSV cells parsed exactly as float() reads them, float32 at its shortest round-trip text (the
digits of numpy's repr), text columns joined into CSV rows."""

from __future__ import annotations

import random

import numpy as np
import pytest

from nsc import numtext


def texts(matrix: np.ndarray) -> list[str]:
    return [bytes(row[row != 0]).decode() for row in matrix]


# ----------------------------------------------------------------------------------------------- parse_plain

def random_cell(rng: random.Random) -> str:
    if rng.random() < 0.5:  # a number, cut anywhere (so '-', '.', '-.', '12.' and long digit runs come up)
        return repr(rng.uniform(-1e4, 1e4))[:rng.randint(1, 17)]
    return "".join(rng.choice("0123456789.-+e x") for _ in range(rng.randint(0, 18)))


def test_parse_plain_is_float_exactly_or_declines():
    """Every block it accepts reads as float() reads each cell, bit for bit (signs of zero too), with each cell's
    text; a block with anything else (a letter, a space, two dots, a sign inside, an empty cell) is None."""
    rng = random.Random(0)
    accepted = declined = 0
    for _ in range(5000):
        n_cols, n_rows = rng.randint(1, 4), rng.randint(1, 4)
        cells = [[random_cell(rng) for _ in range(n_cols)] for _ in range(n_rows)]
        columns = sorted(rng.sample(range(n_cols), rng.randint(1, n_cols)))
        block = ("\n".join(",".join(row) for row in cells) + "\n").encode()
        got = numtext.parse_plain(block, n_cols, columns, text=True)
        read = [[cells[i][c] for c in columns] for i in range(n_rows)]
        plain = all(len(c) <= 16 and c.lstrip("+-").replace(".", "", 1).isdigit() and "+" not in c[1:]
                    and "-" not in c[1:] for row in read for c in row)
        if got is None:
            declined += 1
            digits = [c.lstrip("+-").replace(".", "") for row in read for c in row]
            assert not plain or any(int(d) >= 2 ** 53 // 10 for d in digits), read  # (past exact doubles)
            continue
        accepted += 1
        assert plain, read
        values, cell_texts = got
        expected = np.array([[float(c) for c in row] for row in read])
        assert np.array_equal(values, expected) and np.array_equal(np.signbit(values), np.signbit(expected))
        assert [texts(t) for t in cell_texts] == [[row[j] for row in read] for j in range(len(columns))]
    assert accepted > 500 and declined > 500


def test_parse_plain_only_looks_at_the_columns_read():
    block = b"M0001,1.5,late note\nM0002,-2,x\n"
    values, cells = numtext.parse_plain(block, 3, [1], text=True)
    assert values.tolist() == [[1.5], [-2.0]] and texts(cells[0]) == ["1.5", "-2"]
    assert numtext.parse_plain(b"1,2\n3\n", 2, [0, 1]) is None  # ragged: the general reader names the line
    assert numtext.parse_plain(b"1,2\n\n3,4\n", 2, [0, 1]) is None  # a blank line: the general reader skips it
    assert numtext.parse_plain(b"12345678901234567,1\n", 2, [1]) is not None  # a long cell not read is fine


def test_parse_plain_digits_at_the_limits():
    cells = ["9007199254740991", "-0.0000000000001", "123456789012345.", ".5", "-.5", "+7", "-0", "0.1"]
    values, _ = numtext.parse_plain(("\n".join(cells) + "\n").encode(), 1, [0])
    assert values[:, 0].tolist() == [float(c) for c in cells] and np.signbit(values[6, 0])
    assert numtext.parse_plain(b"9007199254740993\n", 1, [0]) is None  # past 2^53: not exact by this path


# ----------------------------------------------------------------------------------------------- float32_text

def test_float32_text_is_numpys_shortest_and_reads_back():
    """Random bit patterns cover every exponent (subnormals and the scientific range too)."""
    bits = np.random.default_rng(0).integers(0, 2 ** 32, size=50_000, dtype=np.uint64).astype(np.uint32)
    y = bits.view(np.float32)
    y = y[np.isfinite(y)]
    for value, text in zip(y, texts(numtext.float32_text(y))):
        back = np.float32(float(text))
        assert back == value and np.signbit(back) == np.signbit(value), (value, text)
        ref = np.format_float_scientific(value, unique=True).split("e")[0].lstrip("-").replace(".", "")
        mine = text.split("e")[0].lstrip("-").replace(".", "")
        assert mine.strip("0") == ref.strip("0"), (value, text)  # numpy's digits, no more, no fewer


@pytest.mark.parametrize("value, text", [
    (0.05, "0.05"), (100, "100"), (-7.25e-3, "-0.00725"), (1 / 3, "0.33333334"), (1234.5, "1234.5"),
    (1e-4, "0.0001"), (9.99999e-5, "9.99999e-05"), (1e-5, "1e-05"), (123456789, "123456790"), (1e10, "10000000000"),
    (9.99e15, "9990000000000000"), (1e16, "1e+16"), (1.2345e20, "1.2345e+20"), (3e-14, "3e-14"), (1e14, "100000000000000"), (3.4028235e38, "3.4028235e+38"), (1.5e-45, "1e-45"),
    (0.0, "0"), (-0.0, "-0"), (np.inf, "inf"), (-np.inf, "-inf"), (np.nan, "nan"), (9.9999999, "10"),
])
def test_float32_text_layout(value, text):
    assert texts(numtext.float32_text(np.float32([value]))) == [text]


def test_float64_text_and_rows_text():
    assert texts(numtext.float64_text([0.1, 3.0, -2.5e-300, np.inf])) == ["0.1", "3", "-2.5e-300", "inf"]
    left = numtext.text_matrix([b"1", b"22"])
    right = np.array([[0, 0, 51], [0, 52, 52]], np.uint8)  # right-aligned "3", "44", as cells read from a file
    assert numtext.rows_text([left, right]) == b"1,3\n22,44\n"
    assert numtext.text_list(numtext.float32_text(np.float32([0.5, -2]))) == [b"0.5", b"-2"]
