"""The two records `nsc check` may store in a surrogate's metadata, and what makes each valid: `nsc.certificate`
(the error figures it measured against the real program) and `nsc.guard` (an error predictor). One definition,
applied on load by metadata.py for nsc_runtime and for nsc alike; what the records mean, and how nsc makes and
reads them, is nsc's (nsc/surrogate/certificate.py, nsc/surrogate/guard.py).

Each check takes the decoded JSON and the surrogate's column names and raises ValueError, one line naming the
field (``nsc.certificate: n is 0, not an integer >= 1``).
"""

from __future__ import annotations

import math
import re

import numpy as np

from nsc_runtime.weights import ACTIVATIONS, check_initializers, initializer_names

CERTIFICATE_VERSION = 1
FIGURES = ("rmse", "rel_rmse", "abs_p50", "abs_p99", "abs_max", "rel_p50", "rel_p99", "rel_max", "relative_floor")
GUARD_VERSION = 1
MAX_GUARD_UNITS = 256  # a predictor is small: it runs beside the surrogate on every call
_SHA = re.compile(r"^[0-9a-f]{64}$")


# ------------------------------------------------------------------------------------------------ the certificate

def _number(value, what: str, lo: float = 0.0, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueError(f"nsc.certificate: {what} is {value!r}, not a number in [{lo:g}, {hi:g}]")
    return float(value)


def _integer(value, what: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"nsc.certificate: {what} is {value!r}, not an integer >= {lo}")
    return value


def _string(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"nsc.certificate: {what} is not a non-empty string")
    return value


def check_certificate(cert, input_names, output_names) -> dict:
    """The decoded nsc.certificate, checked field by field against the surrogate's columns."""
    if not isinstance(cert, dict):
        raise ValueError("nsc.certificate is not a JSON object")
    version = cert.get("version")
    if version != CERTIFICATE_VERSION:
        raise ValueError(f"nsc.certificate has version {version!r}; this nsc reads version {CERTIFICATE_VERSION}")
    for key in ("program", "function", "time"):
        _string(cert.get(key), key)
    for key in ("program_sha256", "weights_sha256"):
        if not isinstance(cert.get(key), str) or not _SHA.match(cert[key]):
            raise ValueError(f"nsc.certificate: {key} is not a sha256 (64 hex digits)")
    _integer(cert.get("n"), "n", 1)
    _integer(cert.get("seed"), "seed", 0)
    _number(cert.get("outside_ranges"), "outside_ranges", 0.0, 1.0)
    _columns(cert.get("outside_by_input"), "outside_by_input", input_names,
             lambda v, what: _number(v, what, 0.0, 1.0))
    _columns(cert.get("sampled_ranges"), "sampled_ranges", input_names, _interval)
    _columns(cert.get("outputs"), "outputs", output_names, _figures)
    return cert


def _columns(value, what: str, names, check) -> None:
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise ValueError(f"nsc.certificate: {what} does not name exactly the surrogate's columns")
    for name in names:
        check(value[name], f"{what}[{name!r}]")


def _interval(value, what: str) -> None:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"nsc.certificate: {what} is not [lo, hi]")
    lo, hi = (_number(v, what, -math.inf, math.inf) for v in value)
    if not lo <= hi:
        raise ValueError(f"nsc.certificate: {what} has lo > hi")


def _figures(value, what: str) -> None:
    if not isinstance(value, dict) or sorted(value) != sorted(FIGURES):
        raise ValueError(f"nsc.certificate: {what} does not hold exactly the figures {', '.join(FIGURES)}")
    for key in FIGURES:
        _number(value[key], f"{what}.{key}")


# ------------------------------------------------------------------------------------------------ the guard

def guard_arrays(rec: dict) -> tuple[dict, str]:
    """(the predictor's arrays under their initializer names, its activation); ValueError if they are not
    numeric arrays."""
    p = rec["predictor"]
    try:
        weights, biases = p["weights"], p["biases"]
        if not isinstance(weights, list) or not isinstance(biases, list) or len(weights) != len(biases) or \
                not weights:
            raise ValueError
        arrays = [p["in_shift"], p["in_scale"], *[a for wb in zip(weights, biases) for a in wb], p["out_scale"],
                  p["out_shift"]]
        named = {name: np.asarray(a, dtype=np.float32) for name, a in zip(initializer_names(len(weights)), arrays)}
    except (TypeError, ValueError, KeyError):
        raise ValueError("nsc.guard: the predictor's arrays are not numeric arrays") from None
    return named, p.get("activation")


def check_guard(rec, input_names, output_names) -> dict:
    """The decoded nsc.guard, checked against the surrogate's columns: its predictor a valid MLP (weights.py) from
    the inputs to one value, no layer wider than MAX_GUARD_UNITS."""
    if not isinstance(rec, dict) or rec.get("version") != GUARD_VERSION:
        raise ValueError(f"nsc.guard is not a version {GUARD_VERSION} error predictor")
    if not isinstance(rec.get("weights_sha256"), str) or len(rec["weights_sha256"]) != 64:
        raise ValueError("nsc.guard: weights_sha256 is not a sha256")
    scale = rec.get("error_scale")
    if not isinstance(scale, dict) or sorted(scale) != sorted(output_names) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            for v in scale.values()):
        raise ValueError("nsc.guard: error_scale must give each output a positive number")
    for key in ("n_train", "n_calibration", "seed"):
        if isinstance(rec.get(key), bool) or not isinstance(rec.get(key), int) or rec[key] < 0:
            raise ValueError(f"nsc.guard: {key} is not a non-negative integer")
    if isinstance(rec.get("margin"), bool) or not isinstance(rec.get("margin"), (int, float)) or \
            not math.isfinite(rec["margin"]):
        raise ValueError("nsc.guard: margin is not a number")
    if not isinstance(rec.get("predictor"), dict):
        raise ValueError("nsc.guard: no predictor")
    arrays, activation = guard_arrays(rec)
    if activation not in ACTIVATIONS:
        raise ValueError(f"nsc.guard: predictor: unknown activation {activation!r}")
    try:
        hidden = check_initializers(arrays, activation)
    except ValueError as e:
        raise ValueError(f"nsc.guard: predictor: {e}") from None
    n_in, n_out = arrays["in_shift"].shape[0], arrays["out_shift"].shape[0]
    if n_in != len(input_names) or n_out != 1:
        raise ValueError(f"nsc.guard: the predictor maps {n_in} inputs to {n_out} values, not {len(input_names)} "
                         "to 1")
    if any(w > MAX_GUARD_UNITS for w in hidden):
        raise ValueError(f"nsc.guard: the predictor has a layer wider than {MAX_GUARD_UNITS} units")
    return rec
