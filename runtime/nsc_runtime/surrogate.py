"""Load an nsc surrogate ONNX file into an onnxruntime session and predict with it (numpy + onnxruntime only).

The file contract is nsc's NOTES.md section 3: input ``x`` float32 [batch, n_in], output ``y`` float32
[batch, n_out], metadata_props ``nsc.format``, ``nsc.signature`` (JSON), ``nsc.history`` (JSON), ... , each
checked on load by metadata.py (the definition nsc shares).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import onnxruntime

from nsc_runtime.metadata import MetadataError, check_widths
from nsc_runtime.validate import NotOnnx, checked_surrogate

_CUDA = "CUDAExecutionProvider"
# Rows per onnxruntime call: the network's hidden activations for all rows at once took ~0.9 GB for 2M rows
# (`nsc run` on a 2M-row CSV peaked at 1.7 GB); in batches they stay a few MB, and a 64-wide layer's
# activations for 8192 rows (2 MB) stay in the cache, which is faster than one call for all rows.
BATCH_ROWS = 8192
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_LONG_ROWS = 64  # input rows side by side when reducing [n, n_in] per column (see Surrogate._inside)


def out_of_range(x: np.ndarray, names, lo: np.ndarray, hi: np.ndarray) -> str | None:
    """'N of M input rows lie outside the declared ranges (name: b below lo, a above hi; ...)' for rows x
    [n, n_in] with any input outside [lo, hi], else None."""
    below, above = (x < lo).sum(axis=0), (x > hi).sum(axis=0)
    if not (below.any() or above.any()):
        return None
    rows = int(((x < lo) | (x > hi)).any(axis=1).sum())
    parts = [f"{name}: {below[j]} below {lo[j]:g}, {above[j]} above {hi[j]:g}"
             for j, name in enumerate(names) if below[j] or above[j]]
    return f"{rows} of {x.shape[0]} input rows lie outside the declared ranges ({'; '.join(parts)})"


class SurrogateError(ValueError):
    """A surrogate file or a predict() input that cannot be used; the message says why."""


class RangeWarning(UserWarning):
    """Inputs outside the surrogate's declared ranges: its predictions there are extrapolations."""


def _providers(device: str) -> list[str]:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda":
        available = onnxruntime.get_available_providers()
        if _CUDA not in available:
            raise SurrogateError(
                "device 'cuda' needs onnxruntime's CUDAExecutionProvider (the onnxruntime-gpu package and a CUDA "
                f"GPU); this onnxruntime {onnxruntime.__version__} offers only: {', '.join(available)}")
        return [_CUDA]
    raise SurrogateError(f"unknown device {device!r} (choose 'cpu' or 'cuda')")


def load(path: str | os.PathLike, device: str = "cpu", threads: int | None = None) -> "Surrogate":
    """Load the surrogate in `path` for `device` ("cpu" or "cuda"), with `threads` intra-op threads (None:
    onnxruntime's default). Raises SurrogateError for anything that is not a usable nsc surrogate."""
    path = os.fspath(path)
    providers = _providers(device)
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise SurrogateError(f"threads must be a positive integer or None (got {threads!r})")
    if not os.path.exists(path):
        raise SurrogateError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise SurrogateError(f"{path}: not a file")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise SurrogateError(f"{path}: empty file, not an ONNX model")
    try:  # before onnxruntime: a newer format may use ops it cannot run, a damaged file predict nonsense
        metadata, _, _ = checked_surrogate(data)
    except (MetadataError, NotOnnx) as e:
        raise SurrogateError(f"{path}: {e}") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: a CPU-only fallback is detected below, not logged
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(data, sess_options=options, providers=providers)
    except Exception as e:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail, ...)
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SurrogateError(f"{path}: not a valid ONNX model (truncated, corrupt or not ONNX): "
                             f"{first_line[:200]}") from None
    if device == "cuda" and session.get_providers()[:1] != [_CUDA]:
        raise SurrogateError(f"{path}: onnxruntime could not start the CUDAExecutionProvider (CUDA or cuDNN "
                             f"libraries missing?); it offered {', '.join(session.get_providers())}")
    return Surrogate(session, path, device, metadata)


def _float64(data, what: str, not_numeric: str) -> np.ndarray:
    """`data` as a float64 array, refusing what a plain cast would silently change: masked values (the mask
    would be dropped), complex numbers (the imaginary part would be dropped), text, dates and other non-reals."""
    if isinstance(data, np.ma.MaskedArray):
        raise SurrogateError(f"{what}: masked arrays are not accepted (their masks would be ignored); pass a plain "
                             "array, with the masked values filled in (e.g. .filled(value)) or those rows removed")
    try:
        raw = np.asarray(data)
    except (TypeError, ValueError):  # ragged nested lists, ...
        raise SurrogateError(not_numeric) from None
    objects = list(raw.flat) if raw.dtype.kind == "O" else []
    if raw.dtype.kind == "c" or any(isinstance(v, (complex, np.complexfloating)) for v in objects):
        raise SurrogateError(f"{what}: complex values are not accepted (pass real numbers)")
    if raw.dtype.kind not in "biufO" or any(isinstance(v, (str, bytes)) for v in objects):
        raise SurrogateError(not_numeric)  # text, bytes, dates, records: not numbers
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a float128 beyond float64 becomes inf: refused later
            return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # objects that are not numbers (None, ...), ints beyond float64
        raise SurrogateError(not_numeric) from None


class Surrogate:
    """A loaded surrogate: column names, ranges, metadata, and `predict`. Made by `load`."""

    def __init__(self, session: onnxruntime.InferenceSession, path: str, device: str, metadata: dict):
        self.path, self.device, self._session = path, device, session
        self.metadata = metadata  # checked whole by decode_metadata: the names are unique, the ranges finite
        self.signature: dict = self.metadata["signature"]
        ports_in, ports_out = self.signature["inputs"], self.signature["outputs"]
        self.inputs: list[str] = [p["name"] for p in ports_in]
        self.outputs: list[str] = [p["name"] for p in ports_out]
        self.ranges: dict[str, tuple[float, float]] = {p["name"]: (float(p["lo"]), float(p["hi"])) for p in ports_in}
        self._lo = np.array([self.ranges[n][0] for n in self.inputs])
        self._hi = np.array([self.ranges[n][1] for n in self.inputs])
        # Inside finite ranges that fit float32, a value is finite and fits float32 too: one range test then
        # stands for all three checks of predict (see _inside).
        limit = float(np.finfo(np.float32).max)
        self._range_implies_valid = bool(np.all(np.isfinite(self._lo) & np.isfinite(self._hi)) and
                                         np.all(np.abs(self._lo) <= limit) and np.all(np.abs(self._hi) <= limit))
        self._bounds = list(zip(self._lo.tolist(), self._hi.tolist()))
        ins, outs = session.get_inputs(), session.get_outputs()
        if ([i.name for i in ins], [o.name for o in outs]) != (["x"], ["y"]) or len(ins[0].shape) != 2 or \
                len(outs[0].shape) != 2:
            raise SurrogateError(f"{path}: damaged nsc surrogate (the graph's input and output are not x and y "
                                 "[batch, columns])")
        try:
            check_widths(metadata, ins[0].shape[1], outs[0].shape[1])
        except MetadataError as e:
            raise SurrogateError(f"{path}: {e}") from None

    def __repr__(self) -> str:
        fn = self.signature.get("function", "?")
        return (f"<nsc_runtime.Surrogate {fn}({', '.join(self.inputs)}) -> ({', '.join(self.outputs)}) "
                f"on {self.device}>")

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def _rows(self, data) -> tuple[np.ndarray, bool]:
        """(x float64 [n, n_in], one_row?) from an array, a list, or a dict of columns. A 1-D array is one row,
        except for a one-input surrogate, where it can only be a column: n rows (and a scalar is one row)."""
        if isinstance(data, dict):
            return self._rows_from_columns(data), False
        x = _float64(data, "inputs", "inputs must be numeric (an array [n, n_in], one row [n_in], or a dict of "
                                     "columns)")
        if self.n_inputs == 1 and x.ndim <= 1:
            return x.reshape(-1, 1), x.ndim == 0
        if x.ndim == 1:
            if x.shape[0] != self.n_inputs:
                raise SurrogateError(f"one row needs {self.n_inputs} values ({', '.join(self.inputs)}); "
                                     f"got {x.shape[0]}")
            return x[None, :], True
        if x.ndim != 2:
            raise SurrogateError(f"inputs must be 1-D (one row) or 2-D [n, {self.n_inputs}]; got shape {x.shape}")
        if x.shape[1] != self.n_inputs:
            raise SurrogateError(f"inputs have {x.shape[1]} columns; this surrogate takes {self.n_inputs} "
                                 f"({', '.join(self.inputs)})")
        return x, False

    def _rows_from_columns(self, data: dict) -> np.ndarray:
        missing = [n for n in self.inputs if n not in data]
        unknown = [str(k) for k in data if k not in self.inputs]
        if missing or unknown:
            parts = ([f"missing input(s): {', '.join(missing)}"] if missing else []) + \
                    ([f"unknown input(s): {', '.join(unknown)}"] if unknown else [])
            raise SurrogateError(f"{'; '.join(parts)} (this surrogate takes {', '.join(self.inputs)})")
        columns = []
        for name in self.inputs:
            col = _float64(data[name], f"input {name}", f"input {name}: values must be numeric")
            if col.ndim > 1:
                raise SurrogateError(f"input {name}: a column must be a scalar or 1-D (got shape {col.shape})")
            columns.append(col)
        try:
            columns = np.broadcast_arrays(*[np.atleast_1d(c) for c in columns])
        except ValueError:
            lengths = sorted({c.size for c in columns if c.ndim == 1})
            raise SurrogateError(f"input columns have different lengths: {lengths}") from None
        return np.stack(columns, axis=1)

    def predict(self, data) -> np.ndarray:
        """Run the surrogate. `data`: [n, n_in] -> [n, n_out]; one row [n_in] -> [n_out]; dict name -> column
        (1-D arrays of one length, or scalars, broadcast) -> [n, n_out]. With one input, a 1-D [n] is n rows
        -> [n, n_out] and a scalar one row -> [n_out]. Returns float32 in program units. Raises SurrogateError
        for values that are not finite real numbers in float32; warns (RangeWarning, once per call) about inputs
        outside the declared ranges."""
        x, one_row = self._fast_rows(data)
        if x is not None and self._inside(x):  # the common case: float rows in range, checked in one pass
            x32 = x if x.dtype == np.float32 and x.flags.c_contiguous else np.ascontiguousarray(x, dtype=np.float32)
        else:
            x, one_row = self._rows(data)
            self._check_values(~np.isfinite(x), "NaN or Inf")
            with np.errstate(over="ignore"):  # overflow is reported below, not as a numpy RuntimeWarning
                x32 = x.astype(np.float32)
            self._check_values(np.isinf(x32), "values too large for float32",
                               f": the surrogate computes in float32, where |values| above "
                               f"{np.finfo(np.float32).max:.4g} become Inf")
            self._warn_out_of_range(x)
        n = x32.shape[0]
        if 0 < n <= BATCH_ROWS:
            y = self._session.run(["y"], {"x": x32})[0]
        else:
            y = np.empty((n, self.n_outputs), dtype=np.float32)
            for start in range(0, n, BATCH_ROWS):
                y[start:start + BATCH_ROWS] = self._session.run(["y"], {"x": x32[start:start + BATCH_ROWS]})[0]
        return y[0] if one_row else y

    def _fast_rows(self, data) -> tuple[np.ndarray | None, bool]:
        """(x [n, n_in], one_row?) for a plain float32/float64 ndarray of rows (or one row), which needs no
        conversion; (None, False) for anything else, which _rows converts and checks."""
        if type(data) is not np.ndarray or data.dtype not in _FAST_DTYPES:
            return None, False
        if data.ndim == 2 and data.shape[1] == self.n_inputs:
            return data, False
        if data.ndim == 1 and data.shape[0] == self.n_inputs and self.n_inputs > 1:
            return data[None, :], True
        return None, False

    def _inside(self, x: np.ndarray) -> bool:
        """Every value of x within the declared ranges (so finite and within float32: _range_implies_valid); NaN
        compares false. The per-column extremes come from long rows (`rows` input rows side by side): numpy's
        own axis-0 reduction of [n, n_in] runs an n_in-wide loop per row, as slow as the model on narrow inputs
        (145 us for 4096 x 5 floats, against 20 us this way)."""
        if not self._range_implies_valid:
            return False
        n, k = x.shape
        if n == 0:
            return True
        if n == 1:
            return all(lo <= v <= hi for v, (lo, hi) in zip(x[0].tolist(), self._bounds))
        rows = _LONG_ROWS if n <= 16 * BATCH_ROWS else 4 * _LONG_ROWS
        bulk = (n // rows) * rows if x.flags.c_contiguous else 0
        lows, highs = [], []
        if bulk:
            long_rows = x[:bulk].reshape(-1, rows * k)  # a view: each row holds `rows` consecutive input rows
            lows.append(long_rows.min(axis=0).reshape(rows, k).min(axis=0))
            highs.append(long_rows.max(axis=0).reshape(rows, k).max(axis=0))
        if bulk < n:
            lows.append(x[bulk:].min(axis=0))
            highs.append(x[bulk:].max(axis=0))
        low = lows[0] if len(lows) == 1 else np.minimum(*lows)
        high = highs[0] if len(highs) == 1 else np.maximum(*highs)
        return all(lo <= a and b <= hi for a, b, (lo, hi) in zip(low.tolist(), high.tolist(), self._bounds))

    def _check_values(self, bad: np.ndarray, what: str, note: str = "") -> None:
        """SurrogateError naming the columns and the first row where `bad` [n, n_in] holds."""
        if bad.any():
            cols = [self.inputs[j] for j in np.nonzero(bad.any(axis=0))[0]]
            row = int(np.nonzero(bad.any(axis=1))[0][0])
            raise SurrogateError(f"inputs contain {what} (columns: {', '.join(cols)}; first at row index {row}){note}")

    def _warn_out_of_range(self, x: np.ndarray) -> None:
        outside = out_of_range(x, self.inputs, self._lo, self._hi)
        if outside:
            warnings.warn(f"{outside}; predictions there are extrapolations", RangeWarning, stacklevel=3)
