"""Numbers as text, a block of rows at a time with numpy: the fast half of reading and writing CSV.

- `parse_plain`: the cells of a block of CSV lines as float64, bit for bit what float() gives, when every cell
  read is a plain decimal (`[-+]digits[.digits]`, at most 16 characters: what people and most tools write);
  None otherwise, and the caller reads the block the general way (numpy.loadtxt in nsc.tables), which also
  finds and names a bad cell. Optionally each cell's own text, for `nsc run` to echo the inputs as given.
- `float32_text`: the shortest text that reads back (as a double, then rounded to float32, as nsc and numpy read
  CSV) to the same float32: the digits of numpy's repr of a float32 (`0.05`, `1.2345679e+08`).
- `rows_text`: columns of texts joined into CSV rows; `lines_with`: CSV lines with more columns appended;
  `RowTexts`: the text of table rows, block by block, as one of the two (a file's own lines, or cells).

Texts travel as uint8 matrices [rows, width], one text per row, padded with NUL bytes anywhere (a cell read
from a file sits at the right, a formatted number at the left): `rows_text` drops the NULs. A text never holds
a NUL of its own (no number does, and a CSV cell with one is not a number).

Why not Python's float() and '%r' per value: at ~0.3 us a value they cost `nsc run` on 1M rows more than the
network's prediction (issue 17); these are ~20 numpy operations over a block instead. Neighbours: nsc.tables
reads files with `parse_plain`, nsc.data writes predictions with `float32_text` and `rows_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

_U = np.uint64
_ONES = _U(0xFFFFFFFFFFFFFFFF)
_BYTE_SUM = _U(0x0101010101010101)  # x * this >> 56: the sum of x's bytes (each small)
_BYTES_AFTER = _U(0x0706050403020100)  # x * this >> 56: for one 1-byte at byte k of x, 7 - k (bytes after it)
WINDOW = 16  # the longest cell the fast path reads: two 8-byte words
# masks keeping the last L bytes of a 16-byte window (little-endian: byte 15 is the top byte of the second word)
_KEEP_HI = np.array([_ONES << _U(8 * (16 - n)) if n > 8 else _U(0) for n in range(WINDOW + 1)], dtype=_U)
_KEEP_LO = np.array([_ONES << _U(8 * (8 - min(n, 8))) if n else _U(0) for n in range(WINDOW + 1)], dtype=_U)
_POW10_INT = np.array([10 ** k for k in range(WINDOW)], dtype=_U)
_POW10 = 10.0 ** np.arange(WINDOW)  # exact: every 10^k below 2^53 is a double
_EXACT = _U(2 ** 53)  # integers below this are doubles exactly (Clinger's fast path: m / 10^f rounds once)


def _eight_digits(v: np.ndarray) -> np.ndarray:
    """The integer of 8 decimal digits held one per byte (values 0-9, the first in the lowest byte), by three
    multiplications (the SWAR method of simdjson, Lemire 2018); uint64 arithmetic wraps, as the method needs."""
    v = (v * _U(2561)) >> _U(8)
    v = ((v & _U(0x00FF00FF00FF00FF)) * _U(6553601)) >> _U(16)
    return ((v & _U(0x0000FFFF0000FFFF)) * _U(42949672960001)) >> _U(32)


def _words(array: np.ndarray) -> np.ndarray:
    """`array` (uint8, contiguous) read as little-endian uint64 starting at every byte (an unaligned view)."""
    return np.ndarray((array.size - 7,), dtype="<u8", buffer=array, strides=(1,))


def parse_plain(block: bytes, n_cols: int, columns: Sequence[int], text: bool = False):
    """Columns `columns` of a block of CSV lines (each ending in a newline; no carriage returns, no quotes) as
    (float64 [rows, len(columns)], texts), texts being each column's cells as uint8 [rows, 16] (None unless
    `text`); or None when a line does not have n_cols cells, or a cell read is not a plain decimal of at most 16
    characters, or its digits are past a double's exact integers. Cells of the other columns are not looked at."""
    buf = bytes(WINDOW) + block  # every cell then has a whole 16-byte window ending at its last byte
    a = np.frombuffer(buf, np.uint8)
    newline = a == 10
    ends = np.flatnonzero(newline | (a == 44))  # the separator after each cell
    n_rows = ends.size // n_cols
    if ends.size == 0 or ends.size % n_cols or np.count_nonzero(newline) != n_rows \
            or not newline[ends[n_cols - 1::n_cols]].all():
        return None  # ragged rows (or a blank line): the general reader says which line
    starts = np.empty_like(ends)
    starts[0], starts[1:] = WINDOW, ends[:-1] + 1
    columns = list(columns)
    ends = ends.reshape(n_rows, n_cols)[:, columns].ravel()
    lengths = ends - starts.reshape(n_rows, n_cols)[:, columns].ravel()
    if ends.size == 0 or lengths.min() < 1 or lengths.max() > WINDOW:
        return None
    # one code per byte, so that one 16-byte window per cell tells everything: a digit its value (0-9), a dot
    # 0x10, any other byte 0x20; the low nibbles are then the digits, with a 0 where the dot is
    code = np.minimum(a - np.uint8(48), np.uint8(0x20))  # digits 0-9, every other byte 0x20 ...
    code -= (a == 46).view(np.uint8) << 4  # ... but a dot 0x10
    keep_hi, keep_lo = _KEEP_HI[lengths], _KEEP_LO[lengths]
    words = _words(code)
    hi, lo = words[ends - WINDOW] & keep_hi, words[ends - 8] & keep_lo  # bytes 0-7 and 8-15 of each window
    low_bits = _U(0x0101010101010101)
    dot_hi, dot_lo = (hi >> _U(4)) & low_bits, (lo >> _U(4)) & low_bits
    dots_hi = (dot_hi * _BYTE_SUM) >> _U(56)
    n_dots = (dots_hi + ((dot_lo * _BYTE_SUM) >> _U(56))).astype(np.int64)
    n_other = ((((hi >> _U(5)) & low_bits) * _BYTE_SUM >> _U(56))
               + (((lo >> _U(5)) & low_bits) * _BYTE_SUM >> _U(56))).astype(np.int64)
    first = a[ends - lengths]
    minus = first == 45
    sign = minus | (first == 43)
    # the only bytes that are not digits: one dot at most, and a sign in front
    plain = (n_other == sign) & (n_dots <= 1) & (lengths > n_other + n_dots)
    after_dot = ((dot_lo * _BYTES_AFTER) >> _U(56)) + ((dot_hi * _BYTES_AFTER) >> _U(56)) + dots_hi * _U(8)
    after_dot = np.minimum(after_dot, _U(WINDOW - 1)).astype(np.intp)  # (garbage where two dots: not plain)
    nibbles = _U(0x0F0F0F0F0F0F0F0F)
    with_dot = _eight_digits(hi & nibbles) * _U(100_000_000) + _eight_digits(lo & nibbles)  # the dot as a 0
    fraction = with_dot % _POW10_INT[after_dot]
    m = np.where(n_dots > 0, (with_dot - fraction) // _U(10) + fraction, with_dot)
    plain &= with_dot < _EXACT
    if not plain.all():
        return None
    values = m.astype(np.float64) / _POW10[after_dot]  # one correctly rounded division: what float() gives
    np.negative(values, out=values, where=minus)
    texts = None
    if text:
        words = _words(a)
        cells = np.empty((ends.size, 2), _U)
        cells[:, 0] = words[ends - WINDOW] & keep_hi
        cells[:, 1] = words[ends - 8] & keep_lo
        cells = cells.view(np.uint8).reshape(n_rows, len(columns), WINDOW)
        texts = [cells[:, j] for j in range(len(columns))]
    return values.reshape(n_rows, len(columns)), texts


# ----------------------------------------------------------------------------------------------- float32 -> text

_E_MIN, _E_MAX = -46, 39  # decimal exponents of float32 values, with a margin
_P10 = 10.0 ** np.arange(_E_MIN - 9, _E_MAX + 2)  # _P10[k - _E_MIN + 9] = 10^k (a double)
_CLINGER = 22  # 10^k is a double for |k| <= 22: D * 10^k or D / 10^-k then rounds once, as strtod does


def _pow10(k: np.ndarray) -> np.ndarray:
    return _P10[k - (_E_MIN - 9)]


def _decimal(digits: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The double nearest to digits * 10^k (|k| <= 22: one correctly rounded operation, as strtod)."""
    scale = _pow10(np.abs(k))
    return np.where(k >= 0, digits * scale, digits / scale)


def _shortest(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, k) with D * 10^k the shortest decimal (fewest digits D) that reads back to y (float32 > 0 and finite;
    a = y as float64), for values whose exponents keep the test exact (|k| <= 22)."""
    e10 = np.floor(np.log10(a)).astype(np.int64)
    e10 -= a < _pow10(e10)  # log10 may round across a power of ten
    e10 += a >= _pow10(e10 + 1)
    # fewest digits: p digits reading back implies p + 1 do, and most float32 values (a network's outputs) need
    # 8 or 7, so try 8, then 7, ... on the values that still read back (9 digits always do)
    p = np.full(a.shape, 9, np.int64)
    rows = np.arange(a.size)
    for digits_tried in range(8, 0, -1):
        k = e10[rows] - digits_tried + 1
        digits = np.rint(a[rows] * _pow10(-k))  # (a 10^-k that is not a double only nudges a tie: the test decides)
        rows = rows[_decimal(digits, k).astype(np.float32) == y[rows]]
        if rows.size == 0:
            break
        p[rows] = digits_tried
    k = e10 - p + 1
    digits = np.rint(a * _pow10(-k))
    for _ in range(2):  # 9.9999 -> "10" with 1 digit: drop the zero (at most once more after that)
        zero = (digits % 10 == 0) & (digits > 0)
        digits = np.where(zero, digits / 10, digits)
        k = k + zero
    return digits, k


def _template(n_digits: int, k: int) -> tuple[list[int], bytes]:
    """The text of an n-digit integer D times 10^k as (columns of D's right-aligned digits, or -1 for a fixed
    character; the fixed characters in order): positional for 1e-4 <= |v| < 1e16 (as Python's repr), else
    scientific with two exponent digits (as numpy's repr of a float32)."""
    digits = list(range(10 - n_digits, 10))  # D's digits, most significant first, in a 10-column matrix
    exponent = k + n_digits - 1
    if exponent < -4 or exponent >= 16:
        tail = f"e{'-' if exponent < 0 else '+'}{abs(exponent):02d}".encode()
        body = digits[:1] + ([-1] if n_digits > 1 else []) + digits[1:] + [-1] * len(tail)
        return body, (b"." if n_digits > 1 else b"") + tail
    if k >= 0:
        return digits + [-1] * k, b"0" * k
    if n_digits + k > 0:
        return digits[:n_digits + k] + [-1] + digits[n_digits + k:], b"."
    zeros = -(n_digits + k)
    return [-1] * (2 + zeros) + digits, b"0." + b"0" * zeros


def _layout(digits: np.ndarray, k: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """uint8 [n, w]: the texts of -/+ digits * 10^k (digits: integers below 10^10, no trailing zero), left-aligned.
    Rows are laid out by group of (digit count, k): a column of numbers has a few dozen such groups."""
    d = digits.astype(np.uint32)  # (below 10^10 ... and in fact below 10^9 + 1: 9 digits at most)
    columns = np.empty((d.size, 10), np.uint8)
    for c in range(10):
        columns[:, c] = (d // np.uint32(10 ** (9 - c))) % np.uint32(10) + np.uint32(48)
    n_digits = np.searchsorted(_POW10[:10], digits, side="right")
    shape = ((k.astype(np.int64) + 64) * 16 + n_digits).astype(np.uint16)  # (|k| < 64, n_digits < 16)
    counts = np.bincount(shape)
    kinds = np.flatnonzero(counts)
    bounds = np.concatenate([[0], np.cumsum(counts[kinds])])
    order = np.argsort(shape, kind="stable")  # a radix sort for 16-bit keys
    layouts = [_template(int(c % 16), int(c // 16 - 64)) for c in kinds]
    out = np.zeros((d.size, 1 + max((len(cols) for cols, _ in layouts), default=0)), np.uint8)
    out[:, 0] = np.where(negative, 45, 0)
    for g, (cols, fixed) in enumerate(layouts):
        rows = order[bounds[g]:bounds[g + 1]]
        cols = np.array(cols)
        text = np.take(columns, rows, axis=0).take(np.maximum(cols, 0), axis=1)
        text[:, cols < 0] = np.frombuffer(fixed, np.uint8)
        out[rows, 1:1 + cols.size] = text
    return out


def _special_text(values: np.ndarray) -> list[bytes]:
    return [b"nan" if np.isnan(v) else (b"inf" if v > 0 else b"-inf") if np.isinf(v) else
            (b"-0" if np.signbit(v) else b"0") if v == 0 else
            np.format_float_positional(v, unique=True, trim="-").encode() if 1e-4 <= abs(v) < 1e16 else
            np.format_float_scientific(v, unique=True, trim="-", exp_digits=2).encode()
            for v in values]


def float32_text(values) -> np.ndarray:
    """Each float32 of `values` (any shape, read flat) as its shortest text, uint8 [n, width], NUL-padded:
    the fewest significant digits that read back (as a double, then float32) to the same float32, positional
    for 1e-4 <= |v| < 1e16 (`0.05`, `1234.5`, `100`), else scientific (`1e-05`, `3.4028235e+38`); `nan`, `inf`,
    `-inf`, `0`, `-0`."""
    y = np.ascontiguousarray(values, dtype=np.float32).ravel()
    with np.errstate(invalid="ignore"):  # (signalling NaNs)
        a = np.abs(y).astype(np.float64)
    usual = np.isfinite(a) & (a > 0)
    usual &= (a >= 1e-14) & (a < 1e22)  # |k| <= 22 for every digit count (1 to 9): the exact path
    rows = np.flatnonzero(usual)
    digits, k = _shortest(a[rows], np.abs(y[rows]))
    text = _layout(digits, k, np.signbit(y[rows]))
    rest = np.flatnonzero(~usual)
    if rest.size == 0 and rows.size == y.size:
        return text
    others = _special_text(y[rest].astype(np.float32))
    width = max(text.shape[1], max(len(t) for t in others))
    out = np.zeros((y.size, width), np.uint8)
    out[rows, :text.shape[1]] = text
    out[rest] = text_matrix(others, width)
    return out


def _shortest_repr(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def float64_text(values) -> np.ndarray:
    """Doubles as their shortest round-trip text (Python's repr, without a trailing '.0'; 'nan', 'inf'), at
    Python's speed (~0.3 us a value): for inputs that came in a binary file."""
    return text_matrix([_shortest_repr(v).encode() for v in np.asarray(values, np.float64).ravel().tolist()])


def text_matrix(texts: Sequence[bytes], width: int | None = None) -> np.ndarray:
    """Byte strings as a NUL-padded uint8 matrix [len(texts), width] (width: the longest, by default)."""
    width = max((len(t) for t in texts), default=0) if width is None else width
    if not texts:
        return np.zeros((0, width), np.uint8)
    return np.array(texts, dtype=f"S{max(width, 1)}").view(np.uint8).reshape(len(texts), max(width, 1))


def text_list(column: np.ndarray) -> list[bytes]:
    """The texts of a text matrix as byte strings."""
    if column.shape[1] == 0:
        return [b""] * column.shape[0]
    return [t.replace(b"\0", b"") for t in np.ascontiguousarray(column).view(f"S{column.shape[1]}").ravel().tolist()]


def rows_text(columns: Sequence[np.ndarray]) -> bytes:
    """CSV rows from text columns (uint8 [n, w_j] each): the texts of a row joined by ',', a newline after it."""
    n = columns[0].shape[0]
    pieces = []
    for j, column in enumerate(columns):
        pieces.append(column)
        pieces.append(np.full((n, 1), 44 if j + 1 < len(columns) else 10, np.uint8))
    table = np.concatenate(pieces, axis=1)
    return table[table != 0].tobytes()


def lines_with(lines: bytes, columns: Sequence[np.ndarray]) -> bytes:
    """CSV lines (each ending in a newline, one a row of `columns`) with the columns' texts appended to each:
    `line,c1,c2`. The lines are copied whole (bytes.join), not a byte at a time."""
    if not columns:
        return lines
    n = columns[0].shape[0]
    pieces = []
    for column in columns:
        pieces += [np.full((n, 1), 44, np.uint8), column]
    pieces.append(np.full((n, 1), 10, np.uint8))
    table = np.concatenate(pieces, axis=1)
    tails = table[table != 0].tobytes().splitlines(keepends=True)
    heads = lines.split(b"\n")[:-1]
    if len(heads) != n:
        raise ValueError(f"{len(heads)} lines for {n} rows")
    both = [b""] * (2 * n)
    both[0::2], both[1::2] = heads, tails
    return b"".join(both)


@dataclass
class RowTexts:
    """The text of consecutive table rows, block by block: a block is (rows, lines, cells) with lines the rows' own
    CSV lines (bytes, each ending in a newline) or None, and cells then one text matrix a column. CSV text for
    the rows with more columns appended: `csv_with` of each of its `pieces`."""

    blocks: list[tuple[int, bytes | None, list[np.ndarray] | None]] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return sum(n for n, _, _ in self.blocks)

    def pieces(self):
        """(start, end, lines, cells) of consecutive rows [start, end): a lines block whole, a cells block
        CHUNK_ROWS rows at a time (cells then sliced to those rows)."""
        start = 0
        for n, lines, cells in self.blocks:
            if lines is not None:
                yield start, start + n, lines, None
            else:
                for first in range(0, n, CHUNK_ROWS):
                    last = min(first + CHUNK_ROWS, n)
                    yield start + first, start + last, None, [c[first:last] for c in cells]
            start += n


def csv_with(lines: bytes | None, cells: list[np.ndarray] | None, columns: Sequence[np.ndarray]) -> bytes:
    """CSV rows of a RowTexts piece (its lines, or its cells) with the text columns `columns` appended."""
    return lines_with(lines, columns) if lines is not None else rows_text(list(cells) + list(columns))


CHUNK_ROWS = 65536  # rows formatted at a time where the rows come as cells
