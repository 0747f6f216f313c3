"""nsc_runtime: run nsc neural surrogates (ONNX files made by `nsc compile` / `nsc finetune`) with onnxruntime.

It depends on numpy and onnxruntime only, so a deployment needs neither torch nor the nsc compiler.

Quick start::

    import numpy as np
    import nsc_runtime

    s = nsc_runtime.load("blackscholes.onnx")        # device="cpu" (default) or "cuda"; threads=None
    s.inputs        # ['S', 'K', 'r', 'sigma', 't']        input column names, in order
    s.outputs       # ['return']                            output column names, in order
    s.ranges        # {'S': (10.0, 100.0), ...}             declared input ranges (what it was trained on)
    s.metadata      # {'format': 1, 'compiler': ..., 'history': [...], 'signature': {...}, ...}

    y = s.predict(np.array([[50.0, 55.0, 0.05, 0.2, 1.0]]))   # 2-D [n, n_in] -> float32 [n, n_out]
    y = s.predict([50.0, 55.0, 0.05, 0.2, 1.0])               # 1-D, one row   -> float32 [n_out]
    y = s.predict({"S": np.linspace(10, 100, 7), "K": 55.0,   # columns by name; scalars broadcast
                   "r": 0.05, "sigma": 0.2, "t": 1.0})        #                -> float32 [n, n_out]

Inputs and outputs are in the C program's own units (normalisation lives inside the ONNX graph).

Errors and warnings:

* `SurrogateError` (a ValueError) for a file that is missing, not ONNX, truncated, not made by nsc, or made by a
  newer nsc (`nsc.format` above `SUPPORTED_FORMAT`); for inputs of the wrong width, unknown or missing column
  names, non-numeric or non-finite values; and for ``device="cuda"`` when onnxruntime has no working
  CUDAExecutionProvider (install onnxruntime-gpu): it never falls back to the CPU silently.
* `RangeWarning` (a UserWarning), at most once per `predict` call, when inputs lie outside the declared ranges,
  with per-column counts: a surrogate is only trained inside its ranges, so such predictions are extrapolations.
"""

from nsc_runtime.surrogate import SUPPORTED_FORMAT, RangeWarning, Surrogate, SurrogateError, load

__version__ = "0.1.0"
__all__ = ["load", "Surrogate", "SurrogateError", "RangeWarning", "SUPPORTED_FORMAT", "__version__"]
