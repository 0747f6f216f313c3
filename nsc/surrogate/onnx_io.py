"""A surrogate's ONNX form (NOTES.md section 3): params + signature + metadata <-> ONNX. Written with numpy and
`onnx_wire` (the bytes, without protobuf: `nsc compile` must not pay for importing it), read with onnx's protobuf
classes (`onnx_proto`, without `import onnx`).

The graph, built by hand so every node is visible (x and y in the program's own units):

    u = Div(Sub(x, in_shift), in_scale)
    h = act(Gemm(u, w0, b0, transB=1)); ...              # silu: Mul(z, Sigmoid(z)); relu: Relu; tanh: Tanh;
                                                         # with per-unit floors (params.py): Max(z, f0)
    v = Gemm(h, wK, bK, transB=1)                        # last layer, no activation
    y = Add(Mul(v, out_scale), out_shift)

Initializer names are stable (tools and tests rely on them): ``in_shift``, ``in_scale``, ``w0``, ``b0``, ...,
``w{K}``, ``b{K}`` (K = number of hidden layers), ``out_scale``, ``out_shift``, and ``f0``..``f{K-1}`` after them
where the surrogate has floors; all float32, weights in torch
Linear layout [fan_out, fan_in]. Input ``x`` float32 [batch, n_in], output ``y`` float32 [batch, n_out].

metadata_props (all strings): ``nsc.format`` ("1"), ``nsc.signature`` (Signature JSON), ``nsc.source_sha256``,
``nsc.compiler``, ``nsc.history`` (JSON list of dicts), ``nsc.out_calibrated`` ("true"/"false"),
``nsc.activation``, ``nsc.hidden`` (JSON list of widths), ``nsc.extra`` (JSON of params.extra, only if non-empty),
plus any further free string fields the caller passes (``nsc.<key>``); two of them, ``nsc.certificate`` (what
`nsc check` measured: surrogate/certificate.py) and ``nsc.guard`` (its error predictor: surrogate/guard.py), are
JSON records, checked on load like the rest.

Every field is checked, on load and before every save, by nsc_runtime.metadata: the one definition of valid
metadata, which the runtime applies too (a file is untrusted input: an edited signature is a one-line error
naming the field, never a traceback or a wrong answer).

The `metadata` dict callers pass to `to_onnx` and get back from `load_surrogate` holds only the free fields:
``source_sha256`` (str), ``compiler`` (str), ``history`` (list of dicts) and other str-valued keys. The fields
derived from the weights (format, signature, out_calibrated, activation, hidden, extra) are written from
`params`/`signature_json` and read back into them, so `to_onnx(*load_surrogate(p))` rebuilds the same model.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from nsc_runtime.metadata import MetadataError, decode_metadata
from nsc_runtime.validate import NotOnnx, check_consistent, checked_surrogate
from nsc_runtime.weights import initializer_names, layer_count  # noqa: F401 - initializer_names: re-exported

from nsc.errors import NscError
from nsc.surrogate import onnx_wire
from nsc.surrogate.params import SurrogateParams

FORMAT_VERSION = 1  # version of the ONNX contract; nsc_runtime.SUPPORTED_FORMAT must agree
OPSET = 17  # every op used exists unchanged since well before opset 17; onnxruntime >= 1.13 runs it
IR_VERSION = 8  # readable by onnxruntime >= 1.10 (the newest onnx would stamp a version older runtimes reject)
INPUT_NAME, OUTPUT_NAME = "x", "y"
PREFIX = "nsc."
DERIVED_KEYS = ("format", "signature", "out_calibrated", "activation", "hidden", "extra")
_KEY_RE = re.compile(r"^[a-z0-9_]+$")


@dataclass
class LoadedSurrogate:
    """What a surrogate ONNX file holds: the weights, the signature (JSON dict) and the free metadata fields."""

    params: SurrogateParams
    signature_json: dict
    metadata: dict


# ------------------------------------------------------------------------------------------------ the graph


def _activation_nodes(activation: str, z: str, h: str, i: int, floors: bool = False) -> list[bytes]:
    node = onnx_wire.node
    if floors:
        return [node("Max", [z, f"f{i}"], [h], f"layer{i}_floor")]
    if activation == "silu":
        s = f"s{i}"
        return [node("Sigmoid", [z], [s], f"layer{i}_sigmoid"), node("Mul", [z, s], [h], f"layer{i}_silu")]
    if activation == "relu":
        return [node("Relu", [z], [h], f"layer{i}_relu")]
    if activation == "tanh":
        return [node("Tanh", [z], [h], f"layer{i}_tanh")]
    raise ValueError(f"unknown activation {activation!r}")


def _graph_nodes(n_layers: int, activation: str, floors: bool = False) -> list[bytes]:
    """The graph's NodeProtos, encoded."""
    node = onnx_wire.node
    nodes = [node("Sub", [INPUT_NAME, "in_shift"], ["x_centred"], "input_sub"),
             node("Div", ["x_centred", "in_scale"], ["u"], "input_div")]
    h = "u"
    for i in range(n_layers):
        z = f"z{i}" if i < n_layers - 1 else "v"
        nodes.append(node("Gemm", [h, f"w{i}", f"b{i}"], [z], f"layer{i}_gemm", transB=1))
        if i < n_layers - 1:
            nodes += _activation_nodes(activation, z, f"h{i}", i, floors)
            h = f"h{i}"
    nodes += [node("Mul", ["v", "out_scale"], ["y_scaled"], "output_mul"),
              node("Add", ["y_scaled", "out_shift"], [OUTPUT_NAME], "output_add")]
    return nodes


def _metadata_props(params: SurrogateParams, signature_json: dict, metadata: dict) -> dict[str, str]:
    for key in ("compiler", "source_sha256"):
        if not isinstance(metadata.get(key), str):
            raise ValueError(f"surrogate metadata needs a string {key!r}")
    history = metadata.get("history", [])
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise ValueError("surrogate metadata 'history' must be a list of dicts")
    props = {
        "format": str(FORMAT_VERSION),
        "signature": json.dumps(signature_json, separators=(",", ":")),
        "source_sha256": metadata["source_sha256"],
        "compiler": metadata["compiler"],
        "history": json.dumps(history, separators=(",", ":")),
        "out_calibrated": "true" if params.out_calibrated else "false",
        "activation": params.activation,
        "hidden": json.dumps(list(params.hidden)),
    }
    if params.extra:
        props["extra"] = json.dumps(params.extra, separators=(",", ":"), sort_keys=True)
    for key, value in metadata.items():
        if key in props and key not in DERIVED_KEYS:
            continue
        if key in DERIVED_KEYS:
            raise ValueError(f"metadata key {key!r} is derived from the weights; do not pass it")
        if not _KEY_RE.match(key) or not isinstance(value, str):
            raise ValueError(f"metadata key {key!r}: keys are [a-z0-9_]+ and values strings")
        props[key] = value
    props = {PREFIX + k: v for k, v in props.items()}
    try:  # what is written is what every reader accepts: the same checks as on load
        check_consistent(decode_metadata(props), params.named_arrays())
    except MetadataError as e:
        raise ValueError(f"invalid surrogate metadata ({e.detail})") from None
    return props


def surrogate_bytes(params: SurrogateParams, signature_json: dict, metadata: dict) -> bytes:
    """The surrogate's ONNX model, serialised. Raises ValueError on inconsistent weights, signature or metadata."""
    params = params.astype32()
    params.validate()
    n_inputs, n_outputs = len(signature_json.get("inputs", [])), len(signature_json.get("outputs", []))
    if (n_inputs, n_outputs) != (params.n_in, params.n_out):
        raise ValueError(f"signature has {n_inputs} inputs / {n_outputs} outputs, weights have "
                         f"{params.n_in} / {params.n_out}")
    n_layers = len(params.weights)
    floors = params.floors is not None
    return onnx_wire.model(
        ir_version=IR_VERSION, opset=OPSET, producer_name="nsc", producer_version=_nsc_version(),
        graph_name=f"nsc_surrogate_{signature_json.get('function', 'f')}",
        graph_doc="nsc neural surrogate: x and y in the program's own units (NOTES.md section 3)",
        nodes=_graph_nodes(n_layers, params.activation, floors),
        initializers=[onnx_wire.float_tensor(name, a) for name, a in params.named_arrays().items()],
        inputs=[onnx_wire.float_matrix_info(INPUT_NAME, params.n_in)],
        outputs=[onnx_wire.float_matrix_info(OUTPUT_NAME, params.n_out)],
        metadata=_metadata_props(params, signature_json, metadata))


def to_onnx(params: SurrogateParams, signature_json: dict, metadata: dict):
    """The surrogate's ONNX model as an onnx ModelProto (`surrogate_bytes`, parsed)."""
    from nsc.surrogate.onnx_proto import ModelProto

    return ModelProto.FromString(surrogate_bytes(params, signature_json, metadata))


def _nsc_version() -> str:
    from nsc import __version__
    return __version__


def append_history(metadata: dict, entry: dict) -> dict:
    """A copy of `metadata` with `entry` (a JSON-serialisable dict) appended to its history."""
    if not isinstance(entry, dict):
        raise ValueError("a history entry is a dict")
    json.dumps(entry)  # fail here, not at save time, if it cannot be stored
    out = dict(metadata)
    out["history"] = [*metadata.get("history", []), dict(entry)]
    return out


def save_onnx(model, path: str | os.PathLike) -> None:
    """Write `model` (a ModelProto or its bytes) to `path` by nsc/outputs.py's rules: a regular file is replaced
    atomically (the previous file stays untouched on any failure, Ctrl-C included), a device or FIFO is written
    through; a missing directory or an unwritable location raises NscError."""
    from nsc.outputs import write_output

    write_output(path, model if isinstance(model, bytes) else model.SerializeToString())


def read_model(path: str | os.PathLike):
    """Parse an ONNX file into a ModelProto, with NscErrors for a missing file and for bytes that are not an ONNX
    model."""
    path = os.fspath(path)
    return _parse_model(_read_bytes(path), path)


def _read_bytes(path: str) -> bytes:
    if not os.path.exists(path):
        raise NscError("no such file", path)
    if not os.path.isfile(path):
        raise NscError("not a file", path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise NscError(f"cannot read file: {e.strerror}", path) from None
    if not data:
        raise NscError("empty file: not an ONNX model", path)
    return data


def _parse_model(data: bytes, path: str):
    from nsc.surrogate.onnx_proto import ModelProto

    model = ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError and friends: any parse failure means the same to the user
        raise NscError("not an ONNX model, or the file is truncated or corrupt (cannot be parsed)", path) from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise NscError("not an ONNX model (no graph / IR version in the file)", path)
    return model


def load_surrogate(path: str | os.PathLike) -> LoadedSurrogate:
    """Read a surrogate written by `to_onnx`/`save_onnx`. Exact: the arrays come back bit for bit.

    NscErrors (naming the file) for: a missing path or a directory, an empty/truncated/corrupt file, a file that
    is not ONNX, ONNX not made by nsc (no ``nsc.format``), a newer ``nsc.format``, and a damaged nsc graph.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    model = _parse_model(data, path)
    try:  # the checks nsc_runtime.load makes, by the same code
        meta, inits, pairs = checked_surrogate(data)
        return _decode(model, meta, inits, pairs)
    except (MetadataError, NotOnnx) as e:  # its message is whole: "damaged nsc surrogate (nsc.signature: ...)"
        raise NscError(str(e), path) from None
    except ValueError as e:
        raise NscError(f"damaged nsc surrogate ({e})", path) from None


def _decode(model, meta: dict, inits: dict, pairs: list[tuple[str, str]]) -> LoadedSurrogate:
    """The surrogate of a file whose metadata and weights `checked_surrogate` has checked (the free fields, the
    certificate and guard records among them, stay as the text stored); its graph must be the one nsc builds for
    them."""
    n_layers, floors = layer_count(inits), "f0" in inits
    params = SurrogateParams(
        inits["in_shift"], inits["in_scale"], [inits[f"w{i}"] for i in range(n_layers)],
        [inits[f"b{i}"] for i in range(n_layers)], inits["out_scale"], inits["out_shift"],
        meta["activation"], meta["out_calibrated"], meta["extra"],
        [inits[f"f{i}"] for i in range(n_layers - 1)] if floors else None)
    metadata = {"source_sha256": meta["source_sha256"], "compiler": meta["compiler"], "history": meta["history"]}
    for key, value in pairs:
        short = key[len(PREFIX):]
        if key.startswith(PREFIX) and short not in DERIVED_KEYS and short not in metadata:
            metadata[short] = value
    from nsc.surrogate.onnx_proto import NodeProto

    if list(model.graph.node) != [NodeProto.FromString(n) for n in _graph_nodes(n_layers, meta["activation"], floors)]:
        raise ValueError("the graph is not the one nsc builds for these weights")
    return LoadedSurrogate(params, meta["signature"], metadata)
