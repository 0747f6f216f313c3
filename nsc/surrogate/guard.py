"""A surrogate's error predictor: the `nsc.guard` metadata field that `nsc check --guard` writes and a guarded
`nsc emit-c --max-error T` compiles into the C (as Rumba predicts an accelerator's error in hardware).

The predictor is a small MLP in the surrogate format (params.py) from the surrogate's inputs to the log of its
error, where the error of one input row is max over outputs of |surrogate - program| / the output's standard
deviation (`error_scale`, measured by the check). A calibration margin, the largest amount by which the trained
net under-predicted the log error on calibration rows it never trained on, is already added to its output shift,
so on those rows the prediction is never below the truth: a row whose prediction is at most log(T) had an error
at most T there. JSON in one metadata string:

    {"version": 1, "weights_sha256": "<the surrogate's>", "error_scale": {"return": 12.3, ...},
     "margin": 0.8, "n_train": 7000, "n_calibration": 3000, "seed": 1000003,
     "predictor": {"activation": "relu", "in_shift": [...], "in_scale": [...], "weights": [[[...]], ...],
                   "biases": [[...], ...], "out_scale": [s], "out_shift": [t]}}

Untrusted like all metadata: checked on load, by nsc and nsc_runtime alike (nsc_runtime.records). Neighbours:
nsc/check.py trains it, nsc/emit reads it.
"""

from __future__ import annotations

import json

import numpy as np

from nsc_runtime.records import GUARD_VERSION, MAX_GUARD_UNITS, check_guard

from nsc.surrogate.params import SurrogateParams

KEY = "guard"
VERSION = GUARD_VERSION
MAX_UNITS = MAX_GUARD_UNITS  # a predictor is small: it runs beside the surrogate on every call


def record(predictor: SurrogateParams, weights_sha256: str, error_scale: dict, margin: float, n_train: int,
           n_calibration: int, seed: int) -> str:
    """The metadata string for a trained predictor (margin already in its output shift)."""
    p = predictor.astype32()
    return json.dumps({
        "version": VERSION, "weights_sha256": weights_sha256,
        "error_scale": {k: float(v) for k, v in error_scale.items()}, "margin": float(margin),
        "n_train": int(n_train), "n_calibration": int(n_calibration), "seed": int(seed),
        "predictor": {"activation": p.activation, "in_shift": p.in_shift.tolist(), "in_scale": p.in_scale.tolist(),
                      "weights": [w.tolist() for w in p.weights], "biases": [b.tolist() for b in p.biases],
                      "out_scale": p.out_scale.tolist(), "out_shift": p.out_shift.tolist()},
    }, separators=(",", ":"))


def predictor_params(rec: dict) -> SurrogateParams:
    """The predictor of a parsed record as SurrogateParams (ValueError if its arrays do not make one)."""
    p = rec["predictor"]
    f = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    try:
        params = SurrogateParams(f(p["in_shift"]), f(p["in_scale"]), [f(w) for w in p["weights"]],
                                 [f(b) for b in p["biases"]], f(p["out_scale"]), f(p["out_shift"]),
                                 p["activation"], True)
    except (TypeError, ValueError, KeyError):
        raise ValueError("nsc.guard: the predictor's arrays are not numeric arrays") from None
    params.validate()
    return params


def parse(text: str, input_names, output_names) -> dict:
    """The record in `text`, checked against the surrogate's columns; ValueError (one line) otherwise. The checks
    are nsc_runtime's (records.py), which both readers apply on load."""
    try:
        rec = json.loads(text)
    except ValueError:
        raise ValueError("nsc.guard is not valid JSON") from None
    return check_guard(rec, input_names, output_names)


def read(metadata: dict) -> dict | None:
    """The record in a loaded surrogate's metadata (checked when the file was loaded), or None."""
    return json.loads(metadata[KEY]) if KEY in metadata else None
