"""A surrogate file's bytes -> its checked metadata and weights: the one entry point both readers call
(`nsc_runtime.load`, and nsc's `onnx_io.load_surrogate`), so what one accepts the other accepts.

    protobuf.py  reads the metadata_props and the float32 initializers from the bytes
    metadata.py  checks every nsc.* field (the signature, history, hidden, extra, ...)
    weights.py   checks the initializers (names, shapes, finite values, floors)
and the signature's column counts and nsc.hidden against the weights. Depends on numpy only.
"""

from __future__ import annotations

from nsc_runtime.metadata import MetadataError, check_widths, decode_metadata
from nsc_runtime.protobuf import initializer_arrays, metadata_pairs
from nsc_runtime.weights import check_initializers, check_normalisation


class NotOnnx(ValueError):
    """The bytes are not an ONNX model at all (truncated, corrupt, another format)."""


def checked_surrogate(data: bytes) -> tuple[dict, dict, list[tuple[str, str]]]:
    """(metadata as decode_metadata returns it, initializers by name, the metadata_props as stored: (key, value)
    pairs in file order).

    NotOnnx for bytes that are not an ONNX model; MetadataError (whole one-line message) for anything else:
    not nsc's, a newer format, a damaged field, or weights that are not a valid surrogate's."""
    try:
        pairs = metadata_pairs(data)
    except ValueError:
        raise NotOnnx("not a valid ONNX model (truncated, corrupt or not ONNX)") from None
    meta = decode_metadata(pairs)
    try:
        arrays = initializer_arrays(data)
    except ValueError as e:
        raise MetadataError(f"damaged nsc surrogate ({e})", str(e)) from None
    check_consistent(meta, arrays)
    return meta, arrays, pairs


def check_consistent(meta: dict, arrays: dict) -> None:
    """MetadataError unless the initializers `arrays` (by name) are a valid surrogate's (weights.py) and agree with
    the checked metadata `meta`: the signature's column counts, nsc.hidden, and the input ranges the graph
    normalises by. Also what nsc checks before it writes a surrogate."""
    try:
        hidden = check_initializers(arrays, meta["activation"])
    except ValueError as e:
        raise MetadataError(f"damaged nsc surrogate ({e})", str(e)) from None
    check_widths(meta, arrays["in_shift"].shape[0], arrays["out_shift"].shape[0], hidden)
    inputs = meta["signature"]["inputs"]
    try:
        check_normalisation(arrays, [p["name"] for p in inputs], [p["lo"] for p in inputs], [p["hi"] for p in inputs])
    except ValueError as e:
        raise MetadataError(f"damaged nsc surrogate (nsc.signature: {e})", f"nsc.signature: {e}") from None
