"""`nsc emit-c`: a surrogate as one dependency-free C99 file and its header (no malloc; not even libm unless
guarded with an error predictor).

    emit_c(loaded, name=None, model="", guard=False, max_error=None) -> (c_text, h_text)

What the C holds: the function NAME with the original C signature (default `<function>_surrogate`), NAME_batch
over row-major float arrays, the weights as static const arrays, the signature, ranges and certificate as a
comment and as constants, and, guarded, a check of the inputs against the ranges (and, where `nsc check --guard`
trained one, of an error predictor's output against a threshold) that falls back to the original function, with
counters. kernels.py holds the fixed C (vector kernels, exp), c_source.py the model's part; nsc/surrogate/ the
weights, certificate and guard records read here; toolchain.emit_c_file writes the files.
"""

from __future__ import annotations

import re

from nsc.errors import NscError
from nsc.frontend.preprocess import C_KEYWORDS

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME = 63  # C99 guarantees 63 significant characters of an internal identifier


def check_name(name: str, function: str, guard: bool) -> None:
    """NscError unless `name` can name the emitted function: a C identifier, not a keyword, not reserved (nsc_
    and __), and not the original function's name when the guard must call that one."""
    if not _IDENTIFIER.match(name) or len(name) > MAX_NAME - len("_output_names"):
        raise NscError(f"--name '{name}' is not a C identifier of at most {MAX_NAME - len('_output_names')} "
                       "characters")
    if name in C_KEYWORDS or name.startswith(("nsc_", "NSC_", "__")) or re.match(r"^_[A-Z]", name):
        raise NscError(f"--name '{name}' is a C keyword or a reserved name")
    if guard and name == function:
        raise NscError(f"--name '{name}' is the original function's name, which the guard calls for its "
                       "fallback: give the surrogate another name")


def emit_c(loaded, name: str | None = None, model: str = "", guard: bool = False, max_error: float | None = None,
           header_name: str | None = None) -> tuple[str, str]:
    """The C source and header of the surrogate `loaded` (onnx_io.LoadedSurrogate). guard: check inputs against
    the declared ranges and fall back to the original function; max_error: also use the error predictor stored
    by `nsc check --guard`, falling back where the predicted error (in units of each output's standard deviation)
    exceeds it. header_name: how the source includes the header (default NAME.h). NscError for a bad name, a
    threshold without a guard or without a predictor, or a predictor trained for other weights."""
    from nsc.emit import c_source
    from nsc.frontend.program import Signature
    from nsc.surrogate import certificate, guard as guard_record

    signature = Signature.from_json(loaded.signature_json)
    name = name or f"{signature.function}_surrogate"
    check_name(name, signature.function, guard)
    spec = c_source.EmitSpec(loaded.params, signature, name, model, guard=guard)
    cert = certificate.read(loaded.metadata)
    spec.certificate = cert
    spec.certified, spec.status = certificate.status(cert, loaded.params)
    if max_error is not None:
        if not guard:
            raise NscError("--max-error needs --guard (it is the guard's threshold)")
        if not max_error > 0:
            raise NscError(f"--max-error must be positive (got {max_error:g})")
        record = guard_record.read(loaded.metadata)
        if record is None:
            raise NscError("this surrogate has no error predictor: train one with `nsc check --guard MODEL PROG.c`, "
                           "or guard on the ranges alone (without --max-error)")
        if record["weights_sha256"] != certificate.weights_sha256(loaded.params):
            raise NscError("the error predictor was trained for other weights (the surrogate changed since `nsc "
                           "check --guard`): run it again")
        spec.predictor = guard_record.predictor_params(record)
        spec.max_error = float(max_error)
        spec.error_scale = [record["error_scale"][n] for n in signature.output_names]
    return c_source.source(spec, header_name or f"{name}.h"), c_source.header(spec)
