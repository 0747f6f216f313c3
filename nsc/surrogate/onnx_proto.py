"""ONNX's protobuf classes (ModelProto, NodeProto, ...) without `import onnx`.

`import onnx` costs ~70 ms (its helpers pull in ml_dtypes, asyncio, inspect and more), while reading a surrogate
(`nsc run`'s metadata aside, `nsc finetune`, `nsc inspect`) needs only the message classes. Those live in the onnx
package's generated `onnx_ml_pb2.py`, which imports nothing but protobuf: this module executes that file on its
own (~10 ms). Writing a surrogate needs not even that (`onnx_wire`). The classes come from protobuf's default descriptor pool, so they are the very classes
`onnx.ModelProto` etc. name once onnx is imported too (tests/test_surrogate.py checks this), and the onnx package
remains the single source of the schema. If onnx is already imported, its module is used as it is.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _load_pb2():
    if "onnx" in sys.modules:
        from onnx import onnx_ml_pb2

        return onnx_ml_pb2
    spec = importlib.util.find_spec("onnx")  # locates the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("the onnx package is not installed (pip install onnx)")
    path = os.path.join(os.path.dirname(spec.origin), "onnx_ml_pb2.py")
    file_spec = importlib.util.spec_from_file_location("nsc_onnx_ml_pb2", path)
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module


_pb2 = _load_pb2()
AttributeProto = _pb2.AttributeProto
ModelProto = _pb2.ModelProto
NodeProto = _pb2.NodeProto
TensorProto = _pb2.TensorProto
ValueInfoProto = _pb2.ValueInfoProto
