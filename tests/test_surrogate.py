"""The surrogate's random init, ONNX form (contract of NOTES.md section 3) and torch view."""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper

from nsc.errors import NscError
from nsc.frontend.program import Param, Port, Signature
from nsc.surrogate import onnx_io
from nsc.surrogate.init import random_params
from nsc.surrogate.params import LINEAR_FLOOR, SurrogateParams
from nsc.surrogate.torch_model import BatchedSurrogateMLP, SurrogateMLP

SHA = "0123456789abcdef" * 4


def make_signature(n_in: int = 3, n_out: int = 2) -> Signature:
    ins = tuple(Port(f"a[{i}]", "a", i, "double", -1.0 - i, 2.0 + 3 * i) for i in range(n_in))
    outs = tuple(Port(f"out[{j}]", "out", j, "double") for j in range(n_out))
    params = (Param("a", "double", n_in, True, True), Param("out", "double", n_out, True, False, False, True))
    return Signature("kernel", None, params, ins, outs)


def make_params(n_in=3, n_out=2, seed=0, hidden=(64, 64), activation="silu", calibrated=True) -> SurrogateParams:
    lo, hi = make_signature(n_in, n_out).ranges()
    p = random_params(n_in, n_out, lo, hi, seed=seed, hidden=hidden, activation=activation)
    if calibrated:  # non-trivial output map, as a compiled or fine-tuned surrogate has
        rng = np.random.default_rng(seed + 100)
        p.out_scale = rng.uniform(0.5, 20.0, n_out).astype(np.float32)
        p.out_shift = rng.uniform(-50, 50, n_out).astype(np.float32)
        p.out_calibrated = True
    return p


def build(p: SurrogateParams, history=None) -> onnx.ModelProto:
    sig = make_signature(p.n_in, p.n_out)
    return onnx_io.to_onnx(p, sig.to_json(), {"compiler": "random", "source_sha256": SHA,
                                              "history": history or [{"step": "compile", "init": "random"}]})


def run_onnx(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(["y"], {"x": x.astype(np.float32)})[0]


def samples(p: SurrogateParams, n=257, seed=1) -> np.ndarray:
    lo = p.in_shift - p.in_scale
    hi = p.in_shift + p.in_scale
    return np.random.default_rng(seed).uniform(lo, hi, size=(n, p.n_in))


def assert_params_identical(a: SurrogateParams, b: SurrogateParams) -> None:
    for x, y in [(a.in_shift, b.in_shift), (a.in_scale, b.in_scale), (a.out_scale, b.out_scale),
                 (a.out_shift, b.out_shift), *zip(a.weights, b.weights), *zip(a.biases, b.biases)]:
        assert x.dtype == y.dtype == np.float32
        assert x.shape == y.shape
        assert x.tobytes() == y.tobytes()
    assert (a.activation, a.out_calibrated, a.extra) == (b.activation, b.out_calibrated, b.extra)
    assert (a.floors is None) == (b.floors is None)
    for x, y in zip(a.floors or [], b.floors or []):
        assert x.tobytes() == y.tobytes()


# ---------------------------------------------------------------------------------------------------- random init

def test_random_params_follow_torch_default_init_and_ranges():
    p = random_params(3, 2, [0.0, -4.0, 10.0], [2.0, 4.0, 11.0], seed=7, hidden=(16, 8))
    assert [w.shape for w in p.weights] == [(16, 3), (8, 16), (2, 8)]
    assert [b.shape for b in p.biases] == [(16,), (8,), (2,)]
    for w, b in zip(p.weights, p.biases):
        bound = 1 / np.sqrt(w.shape[1])
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(w).max() > 0.7 * bound  # uniform over the whole interval, not a narrower one
    np.testing.assert_allclose(p.in_shift, [1.0, 0.0, 10.5])
    np.testing.assert_allclose(p.in_scale, [1.0, 4.0, 0.5])
    np.testing.assert_array_equal(p.out_scale, [1, 1])
    np.testing.assert_array_equal(p.out_shift, [0, 0])
    assert not p.out_calibrated and p.activation == "silu"
    assert all(a.dtype == np.float32 for a in [*p.weights, *p.biases, p.in_shift, p.in_scale])


def test_random_params_deterministic_per_seed():
    a = random_params(4, 1, np.zeros(4), np.ones(4), seed=3)
    b = random_params(4, 1, np.zeros(4), np.ones(4), seed=3)
    c = random_params(4, 1, np.zeros(4), np.ones(4), seed=4)
    assert_params_identical(a, b)
    assert not np.array_equal(a.weights[0], c.weights[0])


@pytest.mark.parametrize("kwargs", [dict(lo=[0, 1], hi=[1, 1]), dict(lo=[0], hi=[1]),
                                    dict(lo=[0, 0], hi=[1, np.inf]), dict(activation="gelu")])
def test_random_params_rejects_bad_arguments(kwargs):
    args = dict(lo=[0, 0], hi=[1, 1])
    args.update(kwargs)
    with pytest.raises(ValueError):
        random_params(2, 1, **args)


# ---------------------------------------------------------------------------------------------------- ONNX form

@pytest.mark.parametrize("activation", ["silu", "relu", "tanh"])
def test_onnx_passes_full_check_and_computes_the_surrogate(activation):
    p = make_params(activation=activation)
    model = build(p)
    onnx.checker.check_model(model, full_check=True)
    x = samples(p)
    np.testing.assert_allclose(run_onnx(model, x), p.predict(x), rtol=1e-5, atol=1e-4)


def with_floors(p: SurrogateParams, seed=0) -> SurrogateParams:
    """p with per-unit floors: about half its hidden units ReLUs (floor 0), the others the identity."""
    rng = np.random.default_rng(seed)
    p.activation = "relu"
    p.floors = [np.where(rng.random(w.shape[0]) < 0.5, 0.0, LINEAR_FLOOR).astype(np.float32) for w in p.weights[:-1]]
    return p


def test_floors_make_each_unit_a_relu_or_the_identity_in_every_view(tmp_path):
    p = with_floors(make_params(hidden=(16, 8)))
    model = build(p)
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node].count("Max") == 2
    x = samples(p)
    expected = p.predict(x)
    np.testing.assert_allclose(run_onnx(model, x), expected, rtol=1e-5, atol=1e-4)
    with torch.no_grad():
        np.testing.assert_allclose(SurrogateMLP(p)(torch.from_numpy(x.astype(np.float32))).numpy(), expected,
                                   rtol=1e-5, atol=1e-4)
    # an identity unit passes negative values through, a relu unit stops them
    u = (x - p.in_shift) / p.in_scale
    z = u @ p.weights[0].T.astype(np.float64) + p.biases[0]
    h = np.maximum(z, p.floors[0])
    linear = p.floors[0] < 0
    assert np.array_equal(h[:, linear], z[:, linear]) and (h[:, ~linear] >= 0).all() and (z[:, ~linear] < 0).any()
    onnx_io.save_onnx(model, tmp_path / "m.onnx")
    assert_params_identical(onnx_io.load_surrogate(tmp_path / "m.onnx").params, p)


def test_floors_are_checked():
    p = with_floors(make_params(hidden=(16, 8)))
    p.floors = p.floors[:1]
    with pytest.raises(ValueError, match="floors"):
        p.validate()
    p = with_floors(make_params(hidden=(16, 8)))
    p.activation = "silu"
    with pytest.raises(ValueError, match="relu"):
        p.validate()


def test_onnx_interface_and_initializer_names():
    p = make_params(hidden=(8, 8, 8))
    model = build(p)
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "x" and out.name == "y"
    for value, width in ((inp, 3), (out, 2)):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch" and dims[1].dim_value == width
    assert [t.name for t in model.graph.initializer] == [
        "in_shift", "in_scale", "w0", "b0", "w1", "b1", "w2", "b2", "w3", "b3", "out_scale", "out_shift"]
    assert onnx_io.initializer_names(4) == [t.name for t in model.graph.initializer]
    assert model.ir_version == onnx_io.IR_VERSION
    assert [(o.domain, o.version) for o in model.opset_import] == [("", onnx_io.OPSET)]
    ops = [n.op_type for n in model.graph.node]
    assert ops[:3] == ["Sub", "Div", "Gemm"] and ops[-2:] == ["Mul", "Add"]
    assert ops.count("Gemm") == 4 and ops.count("Sigmoid") == 3


def test_onnx_metadata_contents():
    p = make_params()
    p.extra = {"note": "x"}
    sig = make_signature()
    model = onnx_io.to_onnx(p, sig.to_json(), {"compiler": "nsc-hyper-1", "source_sha256": SHA,
                                               "history": [{"step": "compile"}], "data_sha256": "ff"})
    props = {m.key: m.value for m in model.metadata_props}
    assert props["nsc.format"] == "1"
    assert Signature.loads(props["nsc.signature"]) == sig
    assert props["nsc.source_sha256"] == SHA
    assert props["nsc.compiler"] == "nsc-hyper-1"
    assert json.loads(props["nsc.history"]) == [{"step": "compile"}]
    assert props["nsc.out_calibrated"] == "true"
    assert props["nsc.activation"] == "silu"
    assert json.loads(props["nsc.hidden"]) == [64, 64]
    assert json.loads(props["nsc.extra"]) == {"note": "x"}
    assert props["nsc.data_sha256"] == "ff"
    p.out_calibrated = False
    assert {m.key: m.value for m in build(p).metadata_props}["nsc.out_calibrated"] == "false"


@pytest.mark.parametrize("metadata", [{"compiler": "random"}, {"source_sha256": SHA},
                                      {"compiler": "random", "source_sha256": SHA, "history": "no"},
                                      {"compiler": "random", "source_sha256": SHA, "activation": "relu"},
                                      {"compiler": "random", "source_sha256": SHA, "Bad Key": "v"}])
def test_to_onnx_rejects_bad_metadata(metadata):
    with pytest.raises(ValueError):
        onnx_io.to_onnx(make_params(), make_signature().to_json(), metadata)


def test_to_onnx_rejects_signature_that_does_not_match_weights():
    with pytest.raises(ValueError, match="signature has 4 inputs"):
        onnx_io.to_onnx(make_params(), make_signature(4, 2).to_json(), {"compiler": "r", "source_sha256": SHA})


def test_linear_surrogate_without_hidden_layers():
    p = make_params(hidden=())
    model = build(p)
    onnx.checker.check_model(model, full_check=True)
    x = samples(p)
    np.testing.assert_allclose(run_onnx(model, x), p.predict(x), rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------------------------------------------- save / load

def test_save_load_round_trip_is_exact(tmp_path):
    p = make_params(seed=5)
    p.extra = {"k": [1, 2]}
    model = build(p)
    path = tmp_path / "m.onnx"
    onnx_io.save_onnx(model, path)
    loaded = onnx_io.load_surrogate(path)
    assert_params_identical(loaded.params, p)
    assert loaded.signature_json == make_signature().to_json()
    assert loaded.metadata == {"compiler": "random", "source_sha256": SHA,
                               "history": [{"step": "compile", "init": "random"}]}
    rebuilt = onnx_io.to_onnx(loaded.params, loaded.signature_json, loaded.metadata)
    assert rebuilt.SerializeToString() == path.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]  # no temp files left behind


def test_history_is_appended_and_survives_save(tmp_path):
    meta = {"compiler": "random", "source_sha256": SHA, "history": [{"step": "compile"}]}
    meta2 = onnx_io.append_history(meta, {"step": "finetune", "epochs": 12, "val_rel_rmse": 0.05})
    assert meta["history"] == [{"step": "compile"}]  # the input is not modified
    p = make_params()
    path = tmp_path / "m.onnx"
    onnx_io.save_onnx(onnx_io.to_onnx(p, make_signature().to_json(), meta2), path)
    assert onnx_io.load_surrogate(path).metadata["history"] == [
        {"step": "compile"}, {"step": "finetune", "epochs": 12, "val_rel_rmse": 0.05}]
    with pytest.raises(TypeError):
        onnx_io.append_history(meta, {"bad": object()})


def test_save_into_missing_directory_is_a_user_error(tmp_path):
    with pytest.raises(NscError, match="does not exist"):
        onnx_io.save_onnx(build(make_params()), tmp_path / "nope" / "m.onnx")


def test_interrupted_save_leaves_previous_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous")

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        onnx_io.save_onnx(build(make_params()), path)
    assert path.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _with_props(model: onnx.ModelProto, **changes) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    props = {m.key: m.value for m in model.metadata_props}
    props.update(changes)
    props = {k: v for k, v in props.items() if v is not None}
    del model.metadata_props[:]
    helper.set_model_props(model, props)
    return model


def test_load_errors_are_clear(tmp_path):
    good = build(make_params()).SerializeToString()
    foreign = helper.make_model(helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]))
    cases = {
        tmp_path / "missing.onnx": "no such file",
        tmp_path: "not a file",
        _write(tmp_path, "empty.onnx", b""): "empty file",
        _write(tmp_path, "trunc.onnx", good[: len(good) // 2]): "truncated or corrupt",
        _write(tmp_path, "text.onnx", b"this is plainly not an onnx model\n" * 20): "not an ONNX model",
        _write(tmp_path, "foreign.onnx", foreign.SerializeToString()): "not made by nsc",
        _write(tmp_path, "newer.onnx", _with_props(build(make_params()), **{"nsc.format": "2"})
               .SerializeToString()): "newer nsc",
        _write(tmp_path, "nosig.onnx", _with_props(build(make_params()), **{"nsc.signature": None})
               .SerializeToString()): "damaged nsc surrogate",
    }
    for path, message in cases.items():
        with pytest.raises(NscError, match=message) as err:
            onnx_io.load_surrogate(path)
        assert str(err.value).startswith(f"{path}: error: ")


def test_load_rejects_edited_weights_or_graph(tmp_path):
    model = build(make_params())
    no_w1 = onnx.ModelProto.FromString(model.SerializeToString())
    kept = [t for t in no_w1.graph.initializer if t.name != "w1"]
    del no_w1.graph.initializer[:]
    no_w1.graph.initializer.extend(kept)
    relu = _with_props(model, **{"nsc.activation": "relu"})  # metadata says relu, graph computes silu
    for name, m in (("no_w1.onnx", no_w1), ("relu.onnx", relu)):
        with pytest.raises(NscError, match="damaged nsc surrogate"):
            onnx_io.load_surrogate(_write(tmp_path, name, m.SerializeToString()))


# ---------------------------------------------------------------------------------------------------- torch view

@pytest.mark.parametrize("activation", ["silu", "relu", "tanh"])
def test_torch_view_matches_onnxruntime(activation):
    p = make_params(activation=activation, seed=2)
    x = samples(p, n=500)
    with torch.no_grad():
        y_torch = SurrogateMLP(p)(torch.tensor(x, dtype=torch.float32)).numpy()
    y_onnx = run_onnx(build(p), x)
    np.testing.assert_allclose(y_onnx, y_torch, rtol=1e-5, atol=1e-5 * np.abs(y_torch).max())


def test_params_torch_params_onnx_round_trip_is_bit_exact(tmp_path):
    p = make_params(seed=9)
    back = SurrogateMLP(p).to_params()
    assert_params_identical(back, p)
    path = tmp_path / "m.onnx"
    onnx_io.save_onnx(build(back), path)
    assert_params_identical(onnx_io.load_surrogate(path).params, p)


def test_torch_view_is_trainable_and_exports_what_it_learned():
    p = make_params(seed=1)
    model = SurrogateMLP(p)
    assert [n for n, _ in model.named_parameters()] == [f"{k}.{i}" for k in ("weights", "biases")
                                                        for i in range(3)]
    assert {n for n, _ in model.named_buffers()} == {"in_shift", "in_scale", "out_scale", "out_shift"}
    with torch.no_grad():
        model.weights[2].add_(0.5)
    q = model.to_params()
    np.testing.assert_array_equal(q.weights[2], p.weights[2] + np.float32(0.5))
    x = samples(p)
    np.testing.assert_allclose(run_onnx(build(q), x), q.predict(x), rtol=1e-5, atol=1e-4)


def test_batched_model_equals_single_models():
    ps = [make_params(seed=s) for s in range(4)]
    batched = BatchedSurrogateMLP(ps)
    assert batched.weights[0].shape == (4, 64, 3)
    x = np.stack([samples(p, n=50, seed=s) for s, p in enumerate(ps)])
    with torch.no_grad():
        yb = batched(torch.tensor(x, dtype=torch.float32)).numpy()
        for m, p in enumerate(ps):
            ys = SurrogateMLP(p)(torch.tensor(x[m], dtype=torch.float32)).numpy()
            np.testing.assert_allclose(yb[m], ys, rtol=1e-5, atol=1e-5 * np.abs(ys).max())
    for m, p in enumerate(ps):
        assert_params_identical(batched.member_params(m), p)
    with pytest.raises(ValueError, match="share"):
        BatchedSurrogateMLP([ps[0], make_params(hidden=(32, 32))])


def test_compile_path_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import nsc.surrogate, nsc.surrogate.init, nsc.surrogate.onnx_io; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hand_built_protobuf_matches_onnx_helper():
    # onnx_io builds messages directly (no `import onnx` on the compile path); onnx.helper is the oracle
    from onnx import numpy_helper

    p = make_params()
    model = onnx_io.to_onnx(p, make_signature().to_json(), {"compiler": "t", "source_sha256": "0"})
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    ref = helper.make_node("Gemm", list(gemm.input), list(gemm.output), name=gemm.name, transB=1)
    assert gemm.SerializeToString() == ref.SerializeToString()
    ref_in = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 3])
    assert model.graph.input[0].SerializeToString() == ref_in.SerializeToString()
    for t in model.graph.initializer:
        array = numpy_helper.to_array(t)
        assert t.SerializeToString() == numpy_helper.from_array(array, t.name).SerializeToString()
    assert [(o.domain, o.version) for o in model.opset_import] == [("", onnx_io.OPSET)]


def test_surrogate_files_are_written_without_importing_onnx_or_protobuf(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "s.onnx"
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from nsc.surrogate import onnx_io\n"
        "from nsc.surrogate.init import random_params\n"
        "p = random_params(2, 1, np.zeros(2), np.ones(2))\n"
        "sig = {'function': 'f', 'return_ctype': 'double', 'params': [{'name': n, 'ctype': 'double'} for n in 'ab'], "
        "'outputs': [{'name': 'return', 'param': 'return', 'index': None, 'ctype': 'double'}], "
        "'inputs': [{'name': n, 'param': n, 'index': None, 'ctype': 'double', 'lo': 0, 'hi': 1} for n in 'ab']}\n"
        f"onnx_io.save_onnx(onnx_io.surrogate_bytes(p, sig, {{'compiler': 'random', 'source_sha256': '0'}}), "
        f"{str(path)!r})\n"
        "heavy = sorted(m for m in ('onnx', 'google.protobuf') if m in sys.modules)\n"
        "assert not heavy, f'imported {heavy}'\n"
        "import onnx\n"
        f"onnx.checker.check_model(onnx.load({str(path)!r}), full_check=True)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert onnx_io.load_surrogate(path).params.n_in == 2


def test_damaged_initializer_is_a_clear_error(tmp_path):
    model = onnx_io.to_onnx(make_params(), make_signature().to_json(), {"compiler": "t", "source_sha256": "0"})
    w0 = next(t for t in model.graph.initializer if t.name == "w0")
    w0.raw_data = w0.raw_data[:-4]
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(NscError, match=r"damaged nsc surrogate \(.*wrong number of bytes"):
        onnx_io.load_surrogate(path)
    w0.raw_data += b"\0\0\0\0"
    w0.data_type = onnx.TensorProto.DOUBLE
    path.write_bytes(model.SerializeToString())
    with pytest.raises(NscError, match=r"damaged nsc surrogate \(initializers must be float32"):
        onnx_io.load_surrogate(path)


def test_a_signature_missing_a_field_is_named(tmp_path):
    """It printed as a bare KeyError: "damaged nsc surrogate: 'params'"."""
    sig = {k: v for k, v in make_signature().to_json().items() if k != "params"}
    model = _with_props(build(make_params()), **{"nsc.signature": json.dumps(sig)})
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(NscError, match=r"bad\.onnx: error: damaged nsc surrogate \(nsc\.signature: no 'params' "
                                       r"field\)$"):
        onnx_io.load_surrogate(path)
    with pytest.raises(ValueError, match=r"invalid surrogate metadata \(nsc\.signature: no 'params' field\)"):
        onnx_io.to_onnx(make_params(), sig, {"compiler": "t", "source_sha256": "0"})  # nor is one written


def test_wire_field_numbers_are_onnx_protos():
    from nsc.surrogate import onnx_wire

    for message, fields in onnx_wire.FIELDS.items():
        descriptor = onnx.ModelProto.DESCRIPTOR.file.message_types_by_name[message.split(".")[0]]
        if "." in message:
            descriptor = descriptor.nested_types_by_name[message.split(".")[1]]
        for name, number in fields.items():
            assert descriptor.fields_by_name[name].number == number, (message, name)
    assert onnx_wire.ENUMS == {"AttributeProto.INT": onnx.AttributeProto.INT, "TensorProto.FLOAT": onnx.TensorProto.FLOAT}


@pytest.mark.parametrize("activation", ["silu", "relu", "tanh"])
def test_wire_bytes_are_the_model_onnx_helper_builds(activation):
    """The surrogate written without protobuf is, message for message and byte for byte, the model built with
    onnx.helper and serialised by protobuf."""
    from onnx import helper, numpy_helper

    p = make_params(activation=activation)
    sig = make_signature().to_json()
    meta = {"compiler": "t", "source_sha256": SHA, "history": [{"event": "compile", "data": "mesures_été.csv"}]}
    ours = onnx_io.surrogate_bytes(p, sig, meta)
    act = {"silu": lambda z, h, i: [helper.make_node("Sigmoid", [z], [f"s{i}"], f"layer{i}_sigmoid"),
                                    helper.make_node("Mul", [z, f"s{i}"], [h], f"layer{i}_silu")],
           "relu": lambda z, h, i: [helper.make_node("Relu", [z], [h], f"layer{i}_relu")],
           "tanh": lambda z, h, i: [helper.make_node("Tanh", [z], [h], f"layer{i}_tanh")]}[activation]
    nodes = [helper.make_node("Sub", ["x", "in_shift"], ["x_centred"], "input_sub"),
             helper.make_node("Div", ["x_centred", "in_scale"], ["u"], "input_div")]
    h, n_layers = "u", len(p.weights)
    for i in range(n_layers):
        z = f"z{i}" if i < n_layers - 1 else "v"
        nodes.append(helper.make_node("Gemm", [h, f"w{i}", f"b{i}"], [z], f"layer{i}_gemm", transB=1))
        if i < n_layers - 1:
            nodes += act(z, f"h{i}", i)
            h = f"h{i}"
    nodes += [helper.make_node("Mul", ["v", "out_scale"], ["y_scaled"], "output_mul"),
              helper.make_node("Add", ["y_scaled", "out_shift"], ["y"], "output_add")]
    arrays = [p.in_shift, p.in_scale, *[a for wb in zip(p.weights, p.biases) for a in wb], p.out_scale, p.out_shift]
    graph = helper.make_graph(
        nodes, f"nsc_surrogate_{sig['function']}",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", p.n_in])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", p.n_out])],
        [numpy_helper.from_array(np.asarray(a, np.float32), n)
         for a, n in zip(arrays, onnx_io.initializer_names(n_layers))],
        doc_string="nsc neural surrogate: x and y in the program's own units (NOTES.md section 3)")
    want = helper.make_model(graph, producer_name="nsc", producer_version=onnx_io._nsc_version(),
                             opset_imports=[helper.make_opsetid("", onnx_io.OPSET)])
    want.ir_version = onnx_io.IR_VERSION
    helper.set_model_props(want, {e.key: e.value for e in onnx_io.to_onnx(p, sig, meta).metadata_props})
    assert onnx.ModelProto.FromString(ours) == want
    assert ours == want.SerializeToString()
    onnx.checker.check_model(want, full_check=True)
