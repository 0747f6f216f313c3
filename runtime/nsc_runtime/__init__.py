"""nsc_runtime: run nsc neural surrogates (ONNX files made by `nsc compile` / `nsc finetune`) with onnxruntime.

It depends on numpy and onnxruntime only, so a deployment needs neither torch nor the nsc compiler.

Quick start::

    import numpy as np
    import nsc_runtime

    s = nsc_runtime.load("blackscholes.onnx")   # device="cpu" (default) or "cuda"; threads=None
    s.inputs        # ['spot', 'strike', 'rate', 'volatility', 'time']   input column names, in order
    s.outputs       # ['return']                                         output column names, in order
    s.ranges        # {'spot': (50.0, 150.0), ...}     declared input ranges (what it was trained on)
    s.metadata      # {'format': 1, 'compiler': ..., 'history': [...], 'signature': {...}, ...}

    y = s.predict(np.array([[100.0, 95.0, 0.05, 0.2, 1.0]]))  # 2-D [n, n_in] -> float32 [n, n_out]
    y = s.predict([100.0, 95.0, 0.05, 0.2, 1.0])              # 1-D, one row   -> float32 [n_out]
    y = s.predict({"spot": np.linspace(50, 150, 7),           # columns by name; scalars broadcast
                   "strike": 95.0, "rate": 0.05, "volatility": 0.2, "time": 1.0})  # -> float32 [n, n_out]

A 1-D array is one row, except for a surrogate with a single input: there it can only be a column, so
``predict(np.linspace(0, 1, 10))`` is 10 rows -> [10, n_out] (and a scalar is one row -> [n_out]).

Inputs and outputs are in the C program's own units (normalisation lives inside the ONNX graph).

Errors and warnings:

* `SurrogateError` (a ValueError) for a file that is missing, not ONNX, truncated, not made by nsc, made by a
  newer nsc (`nsc.format` above `SUPPORTED_FORMAT`), or whose metadata is not what nsc writes (an edited
  signature: a range bound that is text, two inputs with one name, lo above hi, counts the graph does not have;
  every field is checked on load by `nsc_runtime.validate`, the definition nsc itself uses); for inputs of the
  wrong width, unknown or missing column names; for complex, masked (fill them first) or other non-numeric inputs; for NaN, Inf or values too large
  for float32 (the surrogate computes in float32), naming the columns and the first row; and for
  ``device="cuda"`` when onnxruntime has no working CUDAExecutionProvider (install onnxruntime-gpu): it never
  falls back to the CPU silently.
* `RangeWarning` (a UserWarning), at most once per `predict` call, when inputs lie outside the declared ranges,
  with per-column counts: a surrogate is only trained inside its ranges, so such predictions are extrapolations.
  `out_of_range(x, names, lo, hi)` gives the same count as text (None when every row is inside).
"""

from nsc_runtime.metadata import SUPPORTED_FORMAT

__version__ = "0.1.0"
__all__ = ["load", "Surrogate", "SurrogateError", "RangeWarning", "SUPPORTED_FORMAT", "out_of_range",
           "__version__"]
_FROM_SURROGATE = ("load", "Surrogate", "SurrogateError", "RangeWarning", "out_of_range")


def __getattr__(name: str):
    # onnxruntime loads on first use (0.6 s): nsc imports nsc_runtime.metadata on paths that never predict (PEP 562)
    if name in _FROM_SURROGATE:
        from nsc_runtime import surrogate

        return getattr(surrogate, name)
    raise AttributeError(f"module 'nsc_runtime' has no attribute {name!r}")
