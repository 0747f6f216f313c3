"""The few reads of an ONNX file's protobuf bytes nsc needs, in protobuf's wire format, without protobuf: the
metadata_props (so a file's origin and format are known before onnxruntime parses it) and the float32
initializers (so the weights are checked, weights.py, before anything runs them).

Field numbers are onnx.proto's: ModelProto.graph 7, .metadata_props 14 (key 1, value 2); GraphProto.initializer 5;
TensorProto.dims 1, .data_type 2, .float_data 4, .name 8, .raw_data 9, .data_location 14. Used by surrogate.py
and by nsc's onnx_io.py (the same reading on both sides).
"""

from __future__ import annotations

import numpy as np

_FLOAT = 1  # TensorProto.FLOAT
_EXTERNAL = 1  # TensorProto.EXTERNAL


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data: bytes):
    """(field number, wire type, value) of a protobuf message; ValueError for bytes that are not one."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1 or wire == 5:
            size = 8 if wire == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated")
        yield number, wire, value


def metadata_pairs(data: bytes) -> list[tuple[str, str]]:
    """ModelProto.metadata_props as (key, value) pairs, in file order. ValueError if the bytes are not a model."""
    pairs = []
    saw_graph = False
    for number, wire, value in fields(data):
        saw_graph |= number == 7 and wire == 2
        if number == 14 and wire == 2:
            entry = {n: v for n, w, v in fields(value) if w == 2}
            pairs.append((entry.get(1, b"").decode("utf-8", "replace"), entry.get(2, b"").decode("utf-8", "replace")))
    if not saw_graph:
        raise ValueError("no graph")
    return pairs


def read_metadata_props(data: bytes) -> dict[str, str]:
    """`metadata_pairs` as a dict (a key given twice: the last)."""
    return dict(metadata_pairs(data))


def initializer_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The graph's initializers by name, as float32 arrays of their shapes. ValueError naming the initializer for
    one that is not float32 stored in the file, whose values do not fill its shape, or whose name comes twice."""
    arrays: dict[str, np.ndarray] = {}
    graphs = [value for number, wire, value in fields(data) if number == 7 and wire == 2]
    for graph in graphs[-1:]:  # (protobuf merges repeated messages; nsc writes one graph)
        for number, wire, tensor in fields(graph):
            if number == 5 and wire == 2:
                name, array = _tensor(tensor)
                if name in arrays:
                    raise ValueError(f"initializer {name!r} given twice")
                arrays[name] = array
    return arrays


def _tensor(data: bytes) -> tuple[str, np.ndarray]:
    dims, data_type, name, raw, floats, location = [], 0, "", None, [], 0
    for number, wire, value in fields(data):
        if number == 1:
            dims += _varints(value) if wire == 2 else [value]
        elif number == 2 and wire == 0:
            data_type = value
        elif number == 4:
            floats.append(value)
        elif number == 8 and wire == 2:
            name = value.decode("utf-8", "replace")
        elif number == 9 and wire == 2:
            raw = value
        elif number == 14 and wire == 0:
            location = value
    shown = repr(name[:40])
    if data_type != _FLOAT or location == _EXTERNAL:
        raise ValueError(f"initializers must be float32, stored in the file ({shown} is not)")
    if any(d >= 2 ** 31 for d in dims):  # (a negative dimension reads as a huge varint)
        raise ValueError(f"initializer {shown} has a negative or huge dimension")
    size = int(np.prod(dims, dtype=np.int64))
    values = raw if raw is not None else b"".join(floats)
    if len(values) != 4 * size:
        raise ValueError(f"initializer {shown} has the wrong number of bytes for its shape {tuple(dims)}")
    return name, np.frombuffer(values, dtype="<f4").astype(np.float32).reshape(dims)


def _varints(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(value)
    return out
