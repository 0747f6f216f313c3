"""A surrogate's accuracy certificate: the `nsc.certificate` metadata field that `nsc check` writes.

The certificate records what the real program and the surrogate did on fresh inputs: per output the error
figures of nsc.evaluate.error_figures, the share of input rows outside the surrogate's declared ranges, and
what makes the figures reproducible and still valid: the program file and the sha256 of its bytes, the function,
N and the seed, and the sha256 of the surrogate's weights (`weights_sha256`). It is JSON in one metadata string:

    {"version": 1, "program": "examples/blackscholes.c", "program_sha256": "<64 hex>", "function": "f",
     "n": 10000, "seed": 1000003, "time": "...", "weights_sha256": "<64 hex>",
     "outside_ranges": 0.0, "outside_by_input": {"x": 0.0, ...}, "sampled_ranges": {"x": [lo, hi], ...},
     "outputs": {"return": {"rmse": ..., "rel_rmse": ..., "abs_p50": ..., "abs_p99": ..., "abs_max": ...,
                            "rel_p50": ..., "rel_p99": ..., "rel_max": ..., "relative_floor": ...}, ...}}

A model file is untrusted input: `parse` checks every field (onnx_io.load_surrogate calls it, so a tampered
certificate is a one-line "damaged nsc surrogate" error). `status` says whether the certificate still holds:
not once the weights change (fine-tuning keeps the metadata) or the program's text changes.

Neighbours: nsc/check.py measures the figures; onnx_io reads and writes the field; toolchain shows it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

import numpy as np

from nsc.surrogate.params import SurrogateParams

KEY = "certificate"  # the metadata key (nsc.certificate in the file)
VERSION = 1
FIGURES = ("rmse", "rel_rmse", "abs_p50", "abs_p99", "abs_max", "rel_p50", "rel_p99", "rel_max", "relative_floor")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def weights_sha256(params: SurrogateParams) -> str:
    """sha256 of the float32 weights in graph order and the activation: changes whenever the maths does."""
    p = params.astype32()
    h = hashlib.sha256(p.activation.encode())
    arrays = [p.in_shift, p.in_scale, *[a for wb in zip(p.weights, p.biases) for a in wb], p.out_scale,
              p.out_shift, *(p.floors or [])]
    for a in arrays:
        h.update(np.asarray(a, dtype="<f4").tobytes())
        h.update(str(a.shape).encode())
    return h.hexdigest()


def dumps(certificate: dict) -> str:
    return json.dumps(certificate, separators=(",", ":"))


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


def parse(text: str, input_names, output_names) -> dict:
    """The certificate in `text`, checked field by field against the surrogate's columns; ValueError (one line,
    naming the field) for anything else."""
    try:
        cert = json.loads(text)
    except ValueError:
        raise ValueError("nsc.certificate is not valid JSON") from None
    if not isinstance(cert, dict):
        raise ValueError("nsc.certificate is not a JSON object")
    version = cert.get("version")
    if version != VERSION:
        raise ValueError(f"nsc.certificate has version {version!r}; this nsc reads version {VERSION}")
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


def read(metadata: dict) -> dict | None:
    """The certificate in a loaded surrogate's metadata (checked when the file was loaded), or None."""
    return json.loads(metadata[KEY]) if KEY in metadata else None


def status(cert: dict | None, params: SurrogateParams, program_path: str | None = None) -> tuple[bool, str]:
    """(certified, why) for a parsed certificate (or None) of a surrogate with weights `params`.

    The program compared is `program_path`, else the file the certificate names, where it exists (relative to
    the working directory, as it was given to `nsc check`): a program whose text changed since the check leaves
    the model uncertified; one that cannot be found is said so, and the certificate still stands."""
    if cert is None:
        return False, "uncertified: `nsc check MODEL PROG.c` has not measured it"
    if cert["weights_sha256"] != weights_sha256(params):
        return False, "uncertified: the weights changed since `nsc check` measured them (fine-tuned?)"
    path = program_path or cert["program"]
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return True, f"certified against {cert['program']} (sha256 {cert['program_sha256'][:12]}; not found here " \
                     "to compare)"
    if digest != cert["program_sha256"]:
        return False, f"uncertified: {path} changed since `nsc check` measured the surrogate against it"
    return True, f"certified against {path} (sha256 {digest[:12]}, unchanged)"
