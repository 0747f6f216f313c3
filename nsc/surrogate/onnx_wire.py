"""A surrogate's ONNX bytes written straight in protobuf's wire format, so that `nsc compile` imports no protobuf.

Importing protobuf and onnx's message classes costs ~12 ms of an `nsc compile` run of ~245 ms
(bench/bench_compile.py), to write a file of a fixed, small shape: a dozen nodes, float32 initializers, two
value infos and string metadata. This module encodes those messages and no others. The field numbers are
onnx.proto's (proto2, so repeated integers are not packed); tests/test_surrogate.py checks every number below
against the installed onnx package's descriptors, and whole models against ones built with onnx.helper. Reading
surrogates still goes through protobuf (onnx_io.read_model).

Fields are written in field-number order, as protobuf itself serialises them.
"""

from __future__ import annotations

import numpy as np

# field numbers, per message (onnx.proto): the only fields nsc writes
FIELDS = {
    "ModelProto": {"ir_version": 1, "producer_name": 2, "producer_version": 3, "graph": 7, "opset_import": 8,
                   "metadata_props": 14},
    "OperatorSetIdProto": {"domain": 1, "version": 2},
    "StringStringEntryProto": {"key": 1, "value": 2},
    "GraphProto": {"node": 1, "name": 2, "initializer": 5, "doc_string": 10, "input": 11, "output": 12},
    "NodeProto": {"input": 1, "output": 2, "name": 3, "op_type": 4, "attribute": 5},
    "AttributeProto": {"name": 1, "i": 3, "type": 20},
    "TensorProto": {"dims": 1, "data_type": 2, "name": 8, "raw_data": 9},
    "ValueInfoProto": {"name": 1, "type": 2},
    "TypeProto": {"tensor_type": 1},
    "TypeProto.Tensor": {"elem_type": 1, "shape": 2},
    "TensorShapeProto": {"dim": 1},
    "TensorShapeProto.Dimension": {"dim_value": 1, "dim_param": 2},
}
ENUMS = {"AttributeProto.INT": 2, "TensorProto.FLOAT": 1}

_VARINT, _LENGTH_DELIMITED = 0, 2


def _varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("nsc writes no negative integers")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _int(message: str, field: str, value: int) -> bytes:
    return _varint(FIELDS[message][field] << 3 | _VARINT) + _varint(int(value))


def _bytes(message: str, field: str, data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _varint(FIELDS[message][field] << 3 | _LENGTH_DELIMITED) + _varint(len(data)) + data


def node(op_type: str, inputs: list[str], outputs: list[str], name: str, **int_attributes: int) -> bytes:
    """A NodeProto with integer attributes (sorted by name)."""
    out = [_bytes("NodeProto", "input", s) for s in inputs] + [_bytes("NodeProto", "output", s) for s in outputs]
    out += [_bytes("NodeProto", "name", name), _bytes("NodeProto", "op_type", op_type)]
    for key, value in sorted(int_attributes.items()):
        attribute = (_bytes("AttributeProto", "name", key) + _int("AttributeProto", "i", value)
                     + _int("AttributeProto", "type", ENUMS["AttributeProto.INT"]))
        out.append(_bytes("NodeProto", "attribute", attribute))
    return b"".join(out)


def float_tensor(name: str, array: np.ndarray) -> bytes:
    """A float32 TensorProto, its values as little-endian raw bytes (as onnx.numpy_helper.from_array stores them)."""
    array = np.ascontiguousarray(array, dtype="<f4")
    return b"".join([*(_int("TensorProto", "dims", d) for d in array.shape),
                     _int("TensorProto", "data_type", ENUMS["TensorProto.FLOAT"]),
                     _bytes("TensorProto", "name", name), _bytes("TensorProto", "raw_data", array.tobytes())])


def float_matrix_info(name: str, width: int) -> bytes:
    """A ValueInfoProto of a float32 [batch, width] graph input or output."""
    dims = (_bytes("TensorShapeProto", "dim", _bytes("TensorShapeProto.Dimension", "dim_param", "batch"))
            + _bytes("TensorShapeProto", "dim", _int("TensorShapeProto.Dimension", "dim_value", width)))
    tensor_type = (_int("TypeProto.Tensor", "elem_type", ENUMS["TensorProto.FLOAT"])
                   + _bytes("TypeProto.Tensor", "shape", dims))
    return _bytes("ValueInfoProto", "name", name) + _bytes("ValueInfoProto", "type",
                                                           _bytes("TypeProto", "tensor_type", tensor_type))


def model(*, ir_version: int, opset: int, producer_name: str, producer_version: str, graph_name: str,
          graph_doc: str, nodes: list[bytes], initializers: list[bytes], inputs: list[bytes], outputs: list[bytes],
          metadata: dict[str, str]) -> bytes:
    """A ModelProto (default opset domain) of one graph, from encoded nodes, initializers and value infos."""
    graph = b"".join([*(_bytes("GraphProto", "node", n) for n in nodes), _bytes("GraphProto", "name", graph_name),
                      *(_bytes("GraphProto", "initializer", t) for t in initializers),
                      _bytes("GraphProto", "doc_string", graph_doc),
                      *(_bytes("GraphProto", "input", v) for v in inputs),
                      *(_bytes("GraphProto", "output", v) for v in outputs)])
    opset_id = _bytes("OperatorSetIdProto", "domain", "") + _int("OperatorSetIdProto", "version", opset)
    entries = [_bytes("StringStringEntryProto", "key", k) + _bytes("StringStringEntryProto", "value", v)
               for k, v in metadata.items()]
    return b"".join([_int("ModelProto", "ir_version", ir_version), _bytes("ModelProto", "producer_name", producer_name),
                     _bytes("ModelProto", "producer_version", producer_version), _bytes("ModelProto", "graph", graph),
                     _bytes("ModelProto", "opset_import", opset_id),
                     *(_bytes("ModelProto", "metadata_props", e) for e in entries)])
