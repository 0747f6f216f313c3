"""nsc_runtime: loading, predicting, input checks, range warnings, strict devices; numpy + onnxruntime only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import helper

import nsc_runtime
from nsc.frontend.program import Param, Port, Signature
from nsc.surrogate import onnx_io
from nsc.surrogate.init import random_params
from nsc.surrogate.torch_model import SurrogateMLP
from nsc_runtime import RangeWarning, SurrogateError

SHA = "ab" * 32


def make_signature() -> Signature:
    ins = (Port("x", "x", None, "double", 0.0, 2.0), Port("n", "n", None, "int", -5.0, 5.0),
           Port("w[0]", "w", 0, "float", -1.0, 1.0))
    outs = (Port("return", "return", None, "double"), Port("p", "p", None, "double"))
    params = (Param("x", "double"), Param("n", "int"), Param("w", "float", 1, True, True),
              Param("p", "double", 1, True, False, False, True))
    return Signature("g", "double", params, ins, outs)


@pytest.fixture()
def model_params():
    lo, hi = make_signature().ranges()
    p = random_params(3, 2, lo, hi, seed=4)
    p.out_scale = np.array([3.0, 0.5], np.float32)
    p.out_shift = np.array([10.0, -2.0], np.float32)
    p.out_calibrated = True
    return p


@pytest.fixture()
def model_path(tmp_path, model_params):
    meta = {"compiler": "random", "source_sha256": SHA, "history": [{"step": "compile", "init": "random"}]}
    path = tmp_path / "g.onnx"
    onnx_io.save_onnx(onnx_io.to_onnx(model_params, make_signature().to_json(), meta), path)
    return path


def torch_predict(p, x):
    with torch.no_grad():
        return SurrogateMLP(p)(torch.tensor(np.asarray(x), dtype=torch.float32)).numpy()


def in_range_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(0, 2, n), rng.integers(-5, 6, n), rng.uniform(-1, 1, n)], axis=1)


def test_load_exposes_names_ranges_metadata(model_path):
    s = nsc_runtime.load(model_path)
    assert s.inputs == ["x", "n", "w[0]"] and s.outputs == ["return", "p"]
    assert s.ranges == {"x": (0.0, 2.0), "n": (-5.0, 5.0), "w[0]": (-1.0, 1.0)}
    assert s.metadata["format"] == 1
    assert s.metadata["compiler"] == "random" and s.metadata["source_sha256"] == SHA
    assert s.metadata["history"] == [{"step": "compile", "init": "random"}]
    assert s.metadata["out_calibrated"] is True and s.metadata["hidden"] == [64, 64]
    assert s.signature == make_signature().to_json() == s.metadata["signature"]
    assert "g(x, n, w[0])" in repr(s)


def test_predict_matches_torch(model_path, model_params):
    x = in_range_rows(300)
    y = nsc_runtime.load(model_path, threads=1).predict(x)
    assert y.shape == (300, 2) and y.dtype == np.float32
    expected = torch_predict(model_params, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_predict_runs_large_inputs_in_batches(model_path, monkeypatch):
    """(All rows in one onnxruntime call: 2M rows took ~0.9 GB of hidden activations.)"""
    s = nsc_runtime.load(model_path)
    lo, hi = (np.array([s.ranges[n][k] for n in s.inputs]) for k in (0, 1))
    x = np.random.default_rng(3).uniform(lo, hi, size=(10, s.n_inputs))  # within the ranges: no warning
    whole = s.predict(x)
    calls = []
    run = s._session.run
    monkeypatch.setattr(s._session, "run", lambda names, feeds: calls.append(len(feeds["x"])) or run(names, feeds),
                        raising=False)
    monkeypatch.setattr(nsc_runtime.surrogate, "BATCH_ROWS", 4)
    np.testing.assert_array_equal(s.predict(x), whole)
    assert calls == [4, 4, 2]
    assert s.predict(x[:0]).shape == (0, s.n_outputs) and calls == [4, 4, 2]


def test_one_row_and_dict_inputs(model_path):
    s = nsc_runtime.load(model_path)
    x = in_range_rows(4)
    full = s.predict(x)
    one = s.predict(list(x[1]))
    assert one.shape == (2,)
    np.testing.assert_array_equal(one, full[1])
    by_name = s.predict({"w[0]": x[:, 2], "n": x[:, 1], "x": x[:, 0]})  # any order
    np.testing.assert_array_equal(by_name, full)
    broadcast = s.predict({"x": x[:, 0], "n": 1, "w[0]": 0.25})
    np.testing.assert_array_equal(broadcast, s.predict(np.stack([x[:, 0], np.ones(4), np.full(4, 0.25)], 1)))
    assert s.predict({"x": 1.0, "n": 2, "w[0]": 0.0}).shape == (1, 2)
    assert s.predict(np.zeros((0, 3))).shape == (0, 2)


@pytest.mark.parametrize("data, message", [
    (np.zeros((2, 4)), "4 columns; this surrogate takes 3"),
    (np.zeros(2), "one row needs 3 values"),
    (np.zeros((1, 1, 3)), "1-D .* or 2-D"),
    ([["a", "b", "c"]], "numeric"),
    ({"x": 1.0, "n": 1}, "missing input\\(s\\): w\\[0\\]"),
    ({"x": 1.0, "n": 1, "w[0]": 0, "z": 3}, "unknown input\\(s\\): z"),
    ({"x": [1.0, 2.0], "n": [1, 2, 3], "w[0]": 0}, "different lengths"),
    ({"x": [[1.0]], "n": 1, "w[0]": 0}, "scalar or 1-D"),
    (np.array([[1.0, np.nan, 0.0]]), "NaN or Inf .*columns: n"),
    (np.array([[1.0, 0.0, 0.0], [1.0, 0.0, -np.inf]]), "NaN or Inf \\(columns: w\\[0\\]; first at row index 1\\)"),
    # finite in float64 but Inf in the surrogate's float32: an error, not NaN predictions
    (np.array([[1.0, 0.0, 0.0], [1e39, 0.0, 0.0]]), "too large for float32 \\(columns: x; first at row index 1\\)"),
    (np.array([[1.0, -1e300, 1e300]]), "too large for float32 \\(columns: n, w\\[0\\]; first at row index 0\\)"),
    ({"x": [1.0, 1e39], "n": 1, "w[0]": 0}, "too large for float32 .*columns: x; first at row index 1"),
    (np.longdouble(1e300) * np.longdouble(1e300) * np.ones((1, 3), np.longdouble), "NaN or Inf"),
    # a plain cast would drop the imaginary part, the mask, or parse text: refuse instead
    (np.array([[1.0, 0.0, 0.0]]) + 0j, "complex values are not accepted"),
    ([1.0, 2, 0.5j], "complex values are not accepted"),
    (np.array([1.0, 2, 0.5j], dtype=object), "complex values are not accepted"),
    ({"x": np.array([1 + 1j]), "n": 1, "w[0]": 0}, "input x: complex values"),
    (np.ma.masked_array([[1.0, 0.0, 0.0]], mask=[[0, 1, 0]]), "masked arrays are not accepted.*filled"),
    ({"x": np.ma.masked_array([1.0]), "n": 1, "w[0]": 0}, "input x: masked arrays"),
    (["1.0", "2", "0.5"], "numeric"),
    (np.array([1.0, "2", 0.5], dtype=object), "numeric"),
    (np.array(["2020-01-01"] * 3, dtype="datetime64[D]"), "numeric"),
    ([[1.0, 2.0, 0.5], [1.0]], "numeric"),
    ([10 ** 400, 1, 0.5], "numeric"),
])
def test_bad_inputs_are_clear_errors(model_path, data, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning / ComplexWarning (nor RangeWarning) on the way
        with pytest.raises(SurrogateError, match=message):
            nsc_runtime.load(model_path).predict(data)


def test_float32_edge_values_still_predict(model_path):
    s = nsc_runtime.load(model_path)
    big = float(np.finfo(np.float32).max)
    x = np.array([[big, 0.0, 0.0], [-big, 0.0, 0.0], [1e-300, 0.0, 0.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert s.predict(x).shape == (3, 2)
    assert [w.category for w in caught] == [RangeWarning]
    np.testing.assert_array_equal(s.predict(np.array([1.0, 2, 0.5], dtype=object)), s.predict([1.0, 2, 0.5]))


@pytest.fixture()
def one_input_path(tmp_path):
    sig = Signature("h", "double", (Param("t", "double"),), (Port("t", "t", None, "double", 0.0, 1.0),),
                    (Port("return", "return", None, "double"),))
    path = tmp_path / "h.onnx"
    onnx_io.save_onnx(onnx_io.to_onnx(random_params(1, 1, *sig.ranges(), seed=2), sig.to_json(),
                                      {"compiler": "random", "source_sha256": SHA}), path)
    return path


def test_one_input_model_takes_a_1d_array_as_rows(one_input_path):
    s = nsc_runtime.load(one_input_path)
    t = np.linspace(0, 1, 10)
    y = s.predict(t)
    assert y.shape == (10, 1)
    np.testing.assert_array_equal(y, s.predict(t[:, None]))
    np.testing.assert_array_equal(y, s.predict({"t": t}))
    assert s.predict([0.5]).shape == (1, 1)
    one = s.predict(0.5)  # a scalar is the one-row form
    assert one.shape == (1,)
    np.testing.assert_array_equal(one, s.predict([[0.5]])[0])
    assert s.predict(np.zeros(0)).shape == (0, 1)
    with pytest.raises(SurrogateError, match="1-D .* or 2-D"):
        s.predict(np.zeros((2, 1, 1)))


def test_docstring_example_uses_blackscholes_names():
    import re

    source = (Path(__file__).parents[1] / "examples" / "blackscholes.c").read_text()
    params = re.search(r"double black_scholes_call\(([^)]*)\)", source).group(1)
    names = [p.split()[-1] for p in params.split(",")]
    ranges = dict((m[0], (float(m[1]), float(m[2])))
                  for m in re.findall(r"#pragma nsc range (\w+) (\S+) (\S+)", source))
    doc = nsc_runtime.__doc__
    assert f"s.inputs        # {names!r}" in doc
    assert f"{{{names[0]!r}: {ranges[names[0]]!r}, ...}}" in doc
    example = doc[doc.index("y = s.predict({"):]
    assert re.findall(r'"(\w+)":', example[:example.index("})")]) == names


def test_out_of_range_inputs_warn_once_per_call_with_counts(model_path):
    s = nsc_runtime.load(model_path)
    x = in_range_rows(10)
    x[0, 0] = -1.0  # x below 0
    x[1, 0] = 3.0  # x above 2
    x[2, 0] = 5.0  # x above 2
    x[2, 2] = 1.5  # w[0] above 1 (same row as before: 3 rows outside)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = s.predict(x)
        s.predict(in_range_rows(5))  # inside: no warning
    assert y.shape == (10, 2)
    assert len(caught) == 1 and caught[0].category is RangeWarning
    message = str(caught[0].message)
    assert "3 of 10 input rows" in message
    assert "x: 1 below 0, 2 above 2" in message and "w[0]: 0 below -1, 1 above 1" in message
    assert "n:" not in message
    assert caught[0].filename == __file__  # points at the caller's predict() line


def test_load_errors(tmp_path, model_path):
    good = model_path.read_bytes()
    foreign = helper.make_model(helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 3])]))
    newer = onnx.load(str(model_path))
    for prop in newer.metadata_props:
        if prop.key == "nsc.format":
            prop.value = "2"
    old_ir = onnx.ModelProto.FromString(foreign.SerializeToString())
    old_ir.ir_version = 8  # one onnxruntime can load
    files = {"foreign8.onnx": old_ir.SerializeToString(), "trunc.onnx": good[: len(good) * 2 // 3], "text.onnx": b"a,b\n1,2\n", "empty.onnx": b"",
             "foreign.onnx": foreign.SerializeToString(), "newer.onnx": newer.SerializeToString()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    cases = [(tmp_path / "missing.onnx", "no such file"), (tmp_path, "not a file"),
             (tmp_path / "empty.onnx", "empty file"),
             (tmp_path / "trunc.onnx", "not a valid ONNX model"), (tmp_path / "text.onnx", "not a valid ONNX model"),
             (tmp_path / "foreign.onnx", "not made by nsc"), (tmp_path / "foreign8.onnx", "not made by nsc"), (tmp_path / "newer.onnx", "newer nsc .*format 2")]
    for path, message in cases:
        with pytest.raises(SurrogateError, match=message):
            nsc_runtime.load(path)
    assert issubclass(SurrogateError, ValueError)


def test_metadata_reader_agrees_with_onnx(model_path):
    from nsc_runtime.protobuf import read_metadata_props

    model = onnx.load(str(model_path))
    assert read_metadata_props(model_path.read_bytes()) == {p.key: p.value for p in model.metadata_props}
    for bad in (b"\xff" * 10, b"hello world", model_path.read_bytes()[:-7]):
        with pytest.raises(ValueError):
            read_metadata_props(bad)


def test_bad_device_and_threads(model_path):
    with pytest.raises(SurrogateError, match="unknown device"):
        nsc_runtime.load(model_path, device="tpu")
    for threads in (0, -1, 1.5, True):
        with pytest.raises(SurrogateError, match="threads"):
            nsc_runtime.load(model_path, threads=threads)


def test_cuda_without_cuda_provider_is_an_error(model_path, monkeypatch):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(SurrogateError, match="CUDAExecutionProvider"):
        nsc_runtime.load(model_path, device="cuda")


@pytest.mark.skipif("CUDAExecutionProvider" in onnxruntime.get_available_providers(), reason="has real CUDA")
def test_cuda_provider_that_fails_to_start_is_an_error_not_a_cpu_fallback(model_path, monkeypatch):
    # the provider is listed but cannot start (here: a CPU build): onnxruntime would quietly run on the CPU
    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SurrogateError, match="could not start the CUDAExecutionProvider"):
            nsc_runtime.load(model_path, device="cuda")


def test_format_versions_agree():
    assert nsc_runtime.SUPPORTED_FORMAT == onnx_io.FORMAT_VERSION


def test_runtime_imports_only_numpy_and_onnxruntime():
    package = Path(nsc_runtime.__file__).parent
    allowed = {"numpy", "onnxruntime", "nsc_runtime", "__future__", "json", "math", "os", "re", "warnings"}
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] in allowed, f"{source.name} imports {name}"
    code = ("import sys, nsc_runtime; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('nsc', 'torch', 'onnx', 'pycparser', 'click')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------ the fast path

@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 4096, 4097, 70001])
def test_the_range_test_over_long_rows_is_the_plain_one(model_path, n):
    """Surrogate._inside (per-column extremes over long rows) against the plain per-element test, on float32 and
    float64 rows, contiguous or not, with one value just outside a range, NaN or Inf at the last row."""
    s = nsc_runtime.load(model_path)
    lo, hi = s._lo, s._hi
    for dtype in (np.float32, np.float64):
        x = in_range_rows(n, seed=n).astype(dtype)
        assert s._inside(x) and s._inside(np.asfortranarray(x))
        for col, bad in [(0, np.nextafter(np.float32(2.0), np.float32(3))), (1, -6.0), (2, np.nan), (0, np.inf)]:
            y = x.copy()
            y[-1, col] = bad
            expected = bool(np.all((y >= lo) & (y <= hi)))
            assert s._inside(y) is expected is False
            assert s._inside(y[::-1]) is False  # not contiguous: the plain reduction


def test_fast_and_checked_paths_give_the_same_predictions_and_errors(model_path):
    """Float arrays in range take the fast path (no copies, one range test); the same rows as lists, or float16,
    take the converting path: the same predictions. Out of range, NaN and float32 overflow still warn or
    raise as before."""
    s = nsc_runtime.load(model_path)
    x = in_range_rows(3000, seed=9)
    fast = s.predict(x)
    np.testing.assert_array_equal(fast, s.predict(x.astype(np.float32)))
    np.testing.assert_array_equal(fast, s.predict(x.tolist()))
    np.testing.assert_array_equal(s.predict(x[7]), fast[7])  # one row, 1-D
    with pytest.warns(RangeWarning, match="1 of 3000 input rows"):
        bad = x.copy()
        bad[5, 0] = 2.5
        s.predict(bad)
    with pytest.raises(SurrogateError, match="NaN or Inf"):
        bad[5, 0] = np.nan
        s.predict(bad.astype(np.float32))
    with pytest.raises(SurrogateError, match="too large for float32"):
        bad[5, 0] = 1e39
        s.predict(bad)


def test_ranges_beyond_float32_are_refused_on_load(tmp_path, model_path):
    """A (hand-edited) file whose range exceeds float32 would make "in range" no longer imply "fits float32" (the
    fast path's premise): it is refused on load, as nsc itself never writes one."""
    model = onnx.load(str(model_path))
    for prop in model.metadata_props:
        if prop.key == "nsc.signature":
            sig = json.loads(prop.value)
            sig["inputs"][0]["hi"] = 1e300
            prop.value = json.dumps(sig)
    onnx.save(model, str(tmp_path / "wide.onnx"))
    with pytest.raises(SurrogateError, match=r"inputs\[0\] 'x': range 0 to 1e\+300 is too wide for the surrogate"):
        nsc_runtime.load(tmp_path / "wide.onnx")
