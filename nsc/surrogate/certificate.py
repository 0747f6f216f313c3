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

A model file is untrusted input: every field is checked on load (nsc_runtime.records, for nsc and nsc_runtime
alike, so a tampered certificate is a one-line "damaged nsc surrogate" error). `status` says whether the
certificate still holds: not once the weights change (fine-tuning keeps the metadata) or the program's text changes.

Neighbours: nsc/check.py measures the figures; onnx_io reads and writes the field; toolchain shows it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from nsc_runtime.records import CERTIFICATE_VERSION, check_certificate

from nsc.surrogate.params import SurrogateParams

KEY = "certificate"  # the metadata key (nsc.certificate in the file)
VERSION = CERTIFICATE_VERSION


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


def parse(text: str, input_names, output_names) -> dict:
    """The certificate in `text`, checked field by field against the surrogate's columns; ValueError (one line,
    naming the field) for anything else. The checks are nsc_runtime's (records.py), which both readers apply on
    load."""
    try:
        cert = json.loads(text)
    except ValueError:
        raise ValueError("nsc.certificate is not valid JSON") from None
    return check_certificate(cert, input_names, output_names)


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
