"""The compiler package: program encoding (numpy) and compile-time inference (onnxruntime, no torch)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nsc.compiler import encoding as E
from nsc.compiler import hypernet
from nsc.compiler.inits import compile_params
from nsc.errors import NscError
from nsc.frontend.program import Param, Port, Program, Signature, Token


def toks(text, *values):
    """Tokens from a spaced string; '#' is a <num> literal taking the next value."""
    it = iter(values)
    return tuple(Token("<num>", float(next(it))) if t == "#" else Token(t) for t in text.split())


def make_signature(n_scalar=1, array=0, out_array=0, ret=True, integer=False):
    """Params: x0..x{n-1} scalars, then optional const array `a[array]`, then optional output array `o`."""
    ctype = "int" if integer else "double"
    params = [Param(f"x{i}", ctype) for i in range(n_scalar)]
    inputs = [Port(f"x{i}", f"x{i}", None, ctype, -1.0 - i, 2.0 + i) for i in range(n_scalar)]
    if array:
        params.append(Param("a", "double", shape=array, is_const=True))
        inputs += [Port(f"a[{i}]", "a", i, "double", 0.0, 0.5) for i in range(array)]
    outputs = [Port("return", "return", None, "double")] if ret else []
    if out_array:
        params.append(Param("o", "double", shape=out_array, is_pointer=True, reads=False, writes=True))
        outputs += [Port(f"o[{i}]", "o", i, "double") for i in range(out_array)]
    return Signature("f", "double" if ret else None, tuple(params), tuple(inputs), tuple(outputs))


HELPER = "static double f0 ( double p0 ) { return p0 * # ; }"
GLOBAL = "static const double g0 [ 2 ] = { # , # } ;"
TARGET = "double f1 ( double p0 , const double p1 [ 2 ] ) { return f0 ( p0 ) + g0 [ 0 ] * p1 [ 1 ] ; }"


def program_tokens():
    return toks(HELPER, 2.5) + toks(GLOBAL, 1.0, -3.0) + toks(TARGET)


def vocab_for(*token_seqs, min_count=1):
    return E.Vocabulary.build(([t.text for t in seq] for seq in token_seqs), min_count=min_count,
                              always=E.default_reserved_names())


# ------------------------------------------------------------------------------------------------ encoding


def test_value_features_are_value_aware():
    f = E.value_features(np.array([0.0, 1.0, -2.5, 1e6, 1e-9, np.inf]))
    assert f.shape == (6, E.N_VALUE_FEATURES) and f.dtype == np.float32 and np.all(np.isfinite(f))
    assert np.all(f[:, 0] == 1)  # present
    np.testing.assert_array_equal(f[:, 1], [0, 1, -1, 1, 1, 1])  # sign
    np.testing.assert_allclose(f[[1, 3, 4], 2], [0.0, 6 / 4, -9 / 4], rtol=1e-6)  # log10|v| / 4
    assert f[0, -1] == 1 and np.all(f[1:, -1] == 0)  # is-zero
    np.testing.assert_array_equal(f[:, -2], [1, 1, 0, 1, 0, 1])  # is-integer
    # nearby values get nearby continuous features, distinct values distinct ones
    g = E.value_features(np.array([3.0, 3.001, 30.0]))[:, :-2]
    assert np.abs(g[0] - g[1]).max() < 0.01 < np.abs(g[0] - g[2]).max()


def test_ports_link_to_their_parameters_in_the_code():
    sig = make_signature(n_scalar=1, array=2)
    tokens = program_tokens()
    vocab = vocab_for(tokens)
    enc = E.encode(sig, tokens, vocab)
    n_ports = sig.n_in + sig.n_out
    # [CLS] x0 a[0] a[1] return [SEP] code...
    assert enc.length == 2 + n_ports + len(tokens)
    assert list(enc.role_ids[:2 + n_ports]) == [E.ROLE_CLS, E.ROLE_IN, E.ROLE_IN, E.ROLE_IN, E.ROLE_OUT, E.ROLE_SEP]
    port_texts = [vocab.texts[i] for i in enc.token_ids[1:1 + n_ports]]
    assert port_texts == ["p0", "p1", "p1", "return"]
    assert list(enc.index_ids[1:1 + n_ports]) == [0, 1, 2, 0]
    code = enc.token_ids[2 + n_ports:]
    assert [vocab.texts[i] for i in code] == [t.text for t in tokens]
    # the target function's tokens carry the target role, helpers the helper role
    n_helper = len(toks(HELPER, 0)) + len(toks(GLOBAL, 0, 0))
    roles = enc.role_ids[2 + n_ports:]
    assert np.all(roles[:n_helper] == E.ROLE_HELPER) and np.all(roles[n_helper:] == E.ROLE_TARGET)


def test_numeric_features_of_ranges_and_literals():
    sig = make_signature(n_scalar=2, integer=True)
    tokens = toks("int f0 ( int p0 , int p1 ) { return p0 * # + p1 ; }", 7.0)
    enc = E.encode(sig, tokens, vocab_for(tokens))
    dense = enc.numeric()
    K = E.N_VALUE_FEATURES
    for k, port in enumerate(sig.inputs):
        want = E.value_features(np.array([port.lo, port.hi, (port.hi - port.lo) / 2])).reshape(-1)
        np.testing.assert_array_equal(dense[1 + k, :3 * K], want)
        assert dense[1 + k, E.FLAG_INTEGER] == 1 and dense[1 + k, E.FLAG_PORT] == 1
    out = 1 + sig.n_in
    assert dense[out, E.FLAG_PORT] == 1 and dense[out, E.FLAG_INTEGER] == 0 and not dense[out, :3 * K].any()
    lit = 2 + sig.n_in + sig.n_out + [t.text for t in tokens].index("<num>")
    np.testing.assert_array_equal(dense[lit, :K], E.value_features(np.array([7.0]))[0])
    assert not dense[lit, K:].any()
    others = np.setdiff1d(np.arange(enc.length), np.r_[np.arange(1, out + 1), lit])
    assert not dense[others].any()


def test_vocabulary_unknowns_and_reserved_names():
    vocab = E.Vocabulary.build([["a", "b", "a"], ["a", "c"]], min_count=2, always=["p0", "return"])
    assert vocab.texts[:len(E.SPECIALS)] == list(E.SPECIALS)
    assert vocab.id("a") >= len(E.SPECIALS) and vocab.id("p0") != E.UNK_ID and vocab.id("return") != E.UNK_ID
    assert vocab.id("b") == E.UNK_ID and vocab.id("never seen") == E.UNK_ID
    assert E.Vocabulary.from_json(json.loads(json.dumps(vocab.to_json()))).texts == vocab.texts
    sig = make_signature()
    enc = E.encode(sig, toks("double f0 ( double p0 ) { return mystery ( p0 ) ; }"), vocab)
    code = [vocab.texts[i] for i in enc.token_ids[2 + 2:]]
    U = "<unk>"
    assert code == [U, U, U, U, "p0", U, U, "return", U, U, "p0", U, U, U]


def test_split_declarations_handles_initialisers_and_bodies():
    texts = [t.text for t in program_tokens()]
    spans = E.split_declarations(texts)
    assert [texts[s:e][-1] for s, e in spans] == ["}", ";", "}"]
    assert [texts[s] for s, e in spans] == ["static", "static", "double"]
    assert spans[-1][1] == len(texts)


def test_long_programs_keep_ports_and_target_and_drop_whole_helpers():
    sig = make_signature(n_scalar=1, array=2)
    helpers = [toks(f"static double f{i} ( double p0 ) {{ return p0 * # + p0 ; }}", i) for i in range(6)]
    tokens = sum(helpers, ()) + toks(TARGET)
    vocab = vocab_for(tokens)
    head = 2 + sig.n_in + sig.n_out
    n_target, n_helper = len(toks(TARGET)), len(helpers[0])
    cfg = E.EncodingConfig(max_len=head + n_target + 2 * n_helper + 3)  # room for exactly two helpers
    enc = E.encode(sig, tokens, vocab, cfg)
    assert enc.length <= cfg.max_len
    assert enc.n_dropped_tokens == 4 * n_helper and enc.n_code_tokens == len(tokens)
    code = enc.token_ids[head:]
    # the two helpers nearest the target are kept, whole, in order, then the whole target
    want = helpers[4] + helpers[5] + toks(TARGET)
    np.testing.assert_array_equal(code, vocab.ids(t.text for t in want))
    assert list(enc.role_ids[head:]).count(E.ROLE_TARGET) == n_target
    lits = enc.numeric_pos[enc.numeric_pos >= head]
    np.testing.assert_array_equal(enc.numeric_rows[enc.numeric_pos >= head][:, 2], E.value_features([4.0, 5.0])[:, 2])
    assert len(lits) == 2
    assert len(enc.notes) == 1 and "left out 4 of 6 helper declarations" in enc.notes[0]
    # a program that fits has no notes
    assert E.encode(sig, toks(TARGET), vocab, cfg).notes == []
    # the target alone does not fit: a clear error, never a crop
    with pytest.raises(NscError, match="target function is .* tokens long"):
        E.encode(sig, tokens, vocab, E.EncodingConfig(max_len=head + n_target - 1))


def test_port_limits_are_clear_errors():
    vocab = vocab_for(toks(TARGET))
    with pytest.raises(NscError, match="33 inputs; the compiler supports at most 32"):
        E.encode(make_signature(n_scalar=1, array=32), toks(TARGET), vocab)
    with pytest.raises(NscError, match="17 outputs; the compiler supports at most 16"):
        E.encode(make_signature(n_scalar=1, out_array=16), toks(TARGET), vocab)
    E.encode(make_signature(n_scalar=2, array=30, out_array=15), toks(TARGET), vocab)  # at the limits: fine


def test_collate_pads_and_masks():
    vocab = vocab_for(program_tokens())
    a = E.encode(make_signature(n_scalar=1), toks("double f0 ( double p0 ) { return p0 ; }"), vocab)
    b = E.encode(make_signature(n_scalar=1, array=2, out_array=2), program_tokens(), vocab)
    batch = E.collate([a, b])
    assert batch["token_ids"].shape == (2, b.length) and batch["numeric"].shape == (2, b.length, E.N_NUMERIC)
    assert np.all(batch["role_ids"][0, a.length:] == E.ROLE_PAD) and np.all(batch["role_ids"][1] != E.ROLE_PAD)
    np.testing.assert_array_equal(batch["in_mask"], [[1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(batch["in_pos"], [[1, 0, 0], [1, 2, 3]])
    np.testing.assert_array_equal(batch["out_pos"], [[2, 0, 0], [4, 5, 6]])
    np.testing.assert_array_equal(batch["out_mask"], [[1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(batch["numeric"][0, :a.length], a.numeric())
    assert not batch["numeric"][0, a.length:].any()
    np.testing.assert_array_equal(batch["flows"], [[[1, 0, 0], [0, 0, 0], [0, 0, 0]], b.flows])  # padded: 0


def test_flows_are_computed_from_the_tokens_unless_given():
    vocab = vocab_for(program_tokens())
    sig = make_signature(n_scalar=1)
    tokens = toks("double f0 ( double p0 ) { return 1.0 ; }")
    assert E.encode(sig, tokens, vocab).flows.tolist() == [[0]]  # p0 cannot reach the return value
    assert E.encode(sig, tokens, vocab, flows=np.ones((1, 1), bool)).flows.tolist() == [[1]]


# ------------------------------------------------------------------------------------------------ compile_params


def toy_program(sig=None, tokens=None):
    sig = sig or make_signature(n_scalar=1, array=2)
    tokens = tokens if tokens is not None else program_tokens()
    return Program("toy.c", "/* toy */", "0" * 64, sig, tokens=tokens)


def test_missing_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NSC_COMPILER_DIR", str(tmp_path))
    for init in ("compiled", "hypernetwork", "unconditioned"):  # (compiled: a toy without code has no structure)
        with pytest.raises(NscError) as e:
            compile_params(toy_program(), init=init)
        assert "no trained compiler is installed" in str(e.value)
        assert "compiler.onnx is missing" in str(e.value) and "--init random" in str(e.value)
        assert "make compiler" in str(e.value)


def test_random_init_needs_no_trained_compiler(tmp_path, monkeypatch):
    monkeypatch.setenv("NSC_COMPILER_DIR", str(tmp_path))
    params, cid, notes = compile_params(toy_program(), init="random", seed=3)
    assert cid == "random" and notes == [] and not params.out_calibrated
    assert [w.shape for w in params.weights] == [(64, 3), (64, 64), (1, 64)]
    again = compile_params(toy_program(), init="random", seed=3).params
    np.testing.assert_array_equal(params.weights[0], again.weights[0])
    with pytest.raises(NscError, match="unknown initialisation"):
        compile_params(toy_program(), init="bogus")


@pytest.fixture(scope="module")
def tiny_compiler(tmp_path_factory):
    """An untrained tiny hypernetwork exported like the real one (needs torch here, not in the compile path)."""
    torch = pytest.importorskip("torch")
    from nsc.training.export import export_models
    from nsc.training.model import HyperNet, ModelConfig, UnconditionedInit

    torch.manual_seed(0)
    tokens = program_tokens() + toks("double f0 ( double p0 ) { return p0 ; }")
    vocab = vocab_for(tokens)
    enc_cfg = E.EncodingConfig(max_len=128)
    cfg = ModelConfig(vocab_size=len(vocab), max_len=enc_cfg.max_len, d_model=32, n_layers=1, n_heads=2,
                      use_flows=True, use_linear=True)
    net, uncond = HyperNet(cfg), UnconditionedInit(cfg)
    state = {"model": cfg.to_json(), "encoding": E.manifest_encoding(vocab, enc_cfg), "step": 0,
             "programs_seen": 0, "elapsed_s": 0.0, "metrics": {}}
    out = tmp_path_factory.mktemp("weights")
    manifest = export_models(net, uncond, state, str(out))
    return out, manifest, net, uncond, vocab, enc_cfg


def surrogate_numpy(params, x):
    """SurrogateParams forward in numpy (independent of every nsc implementation)."""
    h = (x - params.in_shift) / params.in_scale
    for i, (w, b) in enumerate(zip(params.weights, params.biases)):
        h = h @ w.T + b
        if i < len(params.weights) - 1:
            h = h * 0.5 * (1 + np.tanh(0.5 * h))  # SiLU, without overflow
    return h * params.out_scale + params.out_shift


def test_compiled_params_match_the_torch_hypernetwork(tiny_compiler, monkeypatch):
    import torch

    from nsc.training.model import run_generated

    out, manifest, net, _, vocab, enc_cfg = tiny_compiler
    monkeypatch.setenv("NSC_COMPILER_DIR", str(out))
    sig = make_signature(n_scalar=1, array=2, out_array=2)
    params, cid, notes = compile_params(toy_program(sig), init="hypernetwork")
    assert cid == manifest["id"] and cid.startswith("compnet-")  # (notes: this toy's code lacks the output o)
    assert params.out_calibrated == manifest["out_calibrated"] and params.activation == "silu"
    assert [w.shape for w in params.weights] == [(64, 3), (64, 64), (3, 64)]
    # the same program through torch: generated surrogate in program units
    batch = {k: torch.from_numpy(v) for k, v in E.collate([E.encode(sig, program_tokens(), vocab, enc_cfg)]).items()}
    with torch.no_grad():
        gen = net.eval()(*(batch[k] for k in E.MODEL_INPUTS))
        lo, hi = sig.ranges()
        x = np.random.default_rng(0).uniform(lo, hi, (50, sig.n_in)).astype(np.float32)
        u = torch.from_numpy((x - params.in_shift) / params.in_scale)[None]
        v = run_generated(gen, u)[0]
        y_torch = ((v + gen["shift_units"]) * torch.exp(gen["log_scale"])).numpy()
    np.testing.assert_allclose(surrogate_numpy(params, x), y_torch, rtol=1e-4, atol=1e-4)


def test_session_prepared_in_the_background_gives_the_same_weights(tiny_compiler, tmp_path, monkeypatch):
    out = tiny_compiler[0]
    monkeypatch.setenv("NSC_COMPILER_DIR", str(out))
    program = toy_program(make_signature(n_scalar=1, array=2))
    hypernet.prepare("compiled")  # what `nsc compile` does before the front-end runs
    prepared = compile_params(program, init="hypernetwork").params
    direct, _ = hypernet.Compiler(out).compile(program)  # a fresh compiler, its session made on first use
    for a, b in zip(prepared.weights + prepared.biases, direct.weights + direct.biases):
        np.testing.assert_array_equal(a, b)
    # a model that fails to load fails in the caller's thread, at first use, as it does unprepared: one clear error
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text((out / "manifest.json").read_text())
    (broken / "compiler.onnx").write_bytes(b"not an onnx model")
    for prepare in (True, False):
        compiler = hypernet.Compiler(broken)
        if prepare:
            compiler.prepare()
        with pytest.raises(NscError, match=r"the installed compiler is damaged \(.*compiler.onnx: .*\)"):
            compiler.session()
    (broken / "unconditioned.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(NscError, match=r"damaged \(.*unconditioned.safetensors: "):
        hypernet.Compiler(broken).unconditioned(program.signature)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(NscError, match=r"damaged \(.*manifest.json: "):
        hypernet.Compiler(broken)
    hypernet.prepare("random")  # nothing to load, and a missing compiler is left for compile_params
    monkeypatch.setenv("NSC_COMPILER_DIR", str(tmp_path))
    hypernet.prepare("compiled")


def test_a_program_the_linearisation_does_not_model_gets_a_note(tiny_compiler, monkeypatch):
    monkeypatch.setenv("NSC_COMPILER_DIR", str(tiny_compiler[0]))
    sig = make_signature(n_scalar=1)
    modelled = toks("double f0 ( double p0 ) { return p0 * 2.0 ; }")
    unmodelled = toks("double f0 ( double p0 ) { double v0 = p0 ; l0 : v0 = v0 * 0.5 ; if ( v0 > 1 ) goto l0 ; "
                      "return v0 ; }")
    assert compile_params(toy_program(sig, modelled), init="hypernetwork").notes == []
    notes = compile_params(toy_program(sig, unmodelled), init="hypernetwork").notes
    assert len(notes) == 1 and "does not model" in notes[0] and "goto" in notes[0]


def test_manifest_decides_whether_the_predicted_output_map_is_kept(tiny_compiler, tmp_path, monkeypatch):
    import shutil

    src = tiny_compiler[0]
    for flag in (True, False):
        d = tmp_path / f"w{flag}"
        shutil.copytree(src, d)
        manifest = json.loads((d / "manifest.json").read_text())
        manifest["out_calibrated"] = flag
        (d / "manifest.json").write_text(json.dumps(manifest))
        monkeypatch.setenv("NSC_COMPILER_DIR", str(d))
        nonlinear = toks("double f1 ( double p0 , const double p1 [ 2 ] ) { return p0 * p1 [ 1 ] * p1 [ 0 ] ; }")
        params = compile_params(toy_program(tokens=nonlinear), init="hypernetwork").params
        assert params.out_calibrated is flag
        assert np.all(params.out_scale > 0) and not np.all(params.out_scale == 1)  # the predicted map either way


def test_piecewise_affine_programs_are_compiled_exactly(tiny_compiler, tmp_path, monkeypatch):
    """Even from an untrained hypernetwork: a program the front-end proves piecewise affine (clamps, a max, a
    constant) is compiled exactly and stays so through fine-tuning; one inexact output leaves the program to the
    hypernetwork."""
    from nsc.frontend import load_program
    from nsc.surrogate.finetune import FinetuneRecipe, finetune

    monkeypatch.setenv("NSC_COMPILER_DIR", str(tiny_compiler[0]))
    body = ("void k(double a, double b, double o[4]) {\n"
            "    double v = 3 * a - b + 1;\n"
            "    o[0] = v > 2 ? 2 : v;\n"
            "    o[1] = fmax(a, 0.5 * b) + 2 * b;\n"
            "    o[2] = 7.5;\n"
            "    o[3] = %s;\n"
            "}\n")
    x = np.random.default_rng(0).uniform(-1, 1, (400, 2))
    v = 3 * x[:, 0] - x[:, 1] + 1
    want = np.c_[np.minimum(v, 2), np.maximum(x[:, 0], 0.5 * x[:, 1]) + 2 * x[:, 1], np.full(400, 7.5),
                 np.clip(x[:, 0] + x[:, 1], -0.5, 0.5)]
    compiled = {}
    for name, last in (("exact", "fmin(fmax(a + b, -0.5), 0.5)"), ("inexact", "sin(a) * b")):
        path = tmp_path / f"{name}.c"
        path.write_text("#include <math.h>\n" + body % last)
        compiled[name] = compile_params(load_program(str(path), default_range=(-1.0, 1.0)),
                                        init="hypernetwork").params
    params = compiled["exact"]
    assert params.extra.get("exact") is True and params.out_calibrated
    scale = want.std(axis=0) + 1e-3 * np.abs(want).max(axis=0)
    np.testing.assert_allclose(surrogate_numpy(params, x) / scale, want / scale, atol=1e-4)
    tuned = finetune(params, x[:32], want[:32], FinetuneRecipe(max_epochs=20), seed=0)
    assert tuned.best_epoch == 0
    np.testing.assert_allclose(surrogate_numpy(tuned.params, x) / scale, want / scale, atol=1e-4)
    assert "exact" not in compiled["inexact"].extra


def test_unconditioned_params_are_shared_slots(tiny_compiler, monkeypatch):
    out, manifest, _, uncond, _, _ = tiny_compiler
    monkeypatch.setenv("NSC_COMPILER_DIR", str(out))
    small, cid, _ = compile_params(toy_program(make_signature(n_scalar=1)), init="unconditioned")
    big = compile_params(toy_program(make_signature(n_scalar=1, array=2, out_array=2)),
                                  init="unconditioned").params
    assert cid == "unconditioned:" + manifest["id"] and not small.out_calibrated
    np.testing.assert_array_equal(small.weights[0], big.weights[0][:, :1])  # same slot, same column
    np.testing.assert_array_equal(small.weights[1], big.weights[1])
    np.testing.assert_array_equal(big.weights[0].T, uncond.w0.detach().numpy()[:3])
    np.testing.assert_array_equal(small.out_scale, [1.0]) and np.testing.assert_array_equal(small.out_shift, [0.0])


def test_compiled_beyond_limits_is_an_error(tiny_compiler, monkeypatch):
    monkeypatch.setenv("NSC_COMPILER_DIR", str(tiny_compiler[0]))
    with pytest.raises(NscError, match="at most 32"):
        compile_params(toy_program(make_signature(n_scalar=1, array=40)), init="hypernetwork")
    long_target = toks("double f1 ( double p0 , const double p1 [ 2 ] ) { return " + "p0 + " * 80 + "p0 ; }")
    with pytest.raises(NscError, match="target function"):
        compile_params(toy_program(tokens=long_target), init="hypernetwork")
    helpers = sum((toks(f"static double f{i} ( double p0 ) {{ return p0 * p0 ; }}") for i in range(12)), ())
    params, _, notes = compile_params(toy_program(tokens=helpers + toks(TARGET)), init="hypernetwork")
    assert "left out" in notes[0] and params.n_in == 3  # (and a note that this toy's g0 is undefined)


def test_compile_path_never_imports_torch(tiny_compiler):
    code = (
        "import sys\n"
        "from nsc.frontend.program import Param, Port, Program, Signature, Token\n"
        "from nsc.compiler import compile_params\n"
        "sig = Signature('f', 'double', (Param('x', 'double'),), (Port('x', 'x', None, 'double', 0.0, 1.0),),"
        " (Port('return', 'return', None, 'double'),))\n"
        "tokens = tuple(Token(t) for t in 'double f0 ( double p0 ) { return p0 * p0 ; }'.split())\n"
        "prog = Program('t.c', '', '0', sig, tokens=tokens)\n"
        "for init in ('compiled', 'hypernetwork', 'structural', 'unconditioned', 'random'):\n"
        "    params, cid, notes = compile_params(prog, init=init)\n"
        "    assert params.weights[0].shape == (64, 1), params.weights[0].shape\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n")
    env = {**os.environ, "NSC_COMPILER_DIR": str(tiny_compiler[0])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_shipped_weights_if_present_are_small_and_consistent():
    d = hypernet.WEIGHTS_DIR
    if not (d / "manifest.json").is_file():
        pytest.skip("no trained compiler shipped yet")
    with open(d / "manifest.json") as f:
        manifest = json.load(f)
    total = sum(p.stat().st_size for p in d.iterdir() if p.is_file())
    assert total <= 30e6
    import hashlib

    for name, digest in manifest["files"].items():
        assert hashlib.sha256((d / name).read_bytes()).hexdigest() == digest, name


def test_exact_pass_needs_every_output_and_room_for_the_kinks():
    from nsc.compiler.exact import emit_exact_outputs
    from nsc.analysis.linearize import Form, Linearization
    from nsc.surrogate.init import random_params

    params = random_params(2, 2, np.array([-1.0, -1.0]), np.array([1.0, 1.0]), seed=0)
    affine = Form(0.5, np.array([1.0, -2.0]))
    relu_only = Form(0.0, np.zeros(2), {(0.0, (1.0, 0.0)): 3.0})  # 3 relu(u0): no statistics given below
    lin = Linearization(np.zeros(2), np.zeros((2, 2)), np.zeros(2), [affine, relu_only])
    out, error = emit_exact_outputs(params, lin)
    u = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    assert error == 0.0
    np.testing.assert_allclose(out.predict(u), np.c_[affine.evaluate(u), relu_only.evaluate(u)], atol=1e-3)
    assert emit_exact_outputs(params, Linearization(np.zeros(2), np.zeros((2, 2)), np.zeros(2),
                                                    [affine, None]))[1] is None
    many = Form(0.0, np.zeros(2), {(k / 100, (0.6, 0.8)): 1.0 for k in range(63)})  # 2 channels + 63 kinks > 64
    assert emit_exact_outputs(params, Linearization(np.zeros(2), np.zeros((2, 2)), np.zeros(2),
                                                    [affine, many]))[1] is None


def test_the_length_rules_are_derived_as_their_comments_say():
    """norm_rule's stated errors hold over many random unit vectors (and are nearly reached: no slack hides a
    worse rule), and the written-out weights for 3 components are the least-squares fit their comment describes."""
    from nsc.compiler.exact import _fibonacci_sphere, norm_rule

    rng = np.random.default_rng(7)
    for r in (2, 3):
        D, w, error = norm_rule(r)
        v = rng.normal(size=(500_000, r))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        ratio = np.abs(v @ D.T) @ w
        assert np.abs(ratio - 1).max() <= error and np.abs(ratio - 1).max() > 0.97 * error, r
    D, w, _ = norm_rule(3)
    lattice = _fibonacci_sphere(20_000, half=False)
    fit = np.linalg.lstsq(np.abs(lattice @ D.T), np.ones(len(lattice)), rcond=None)[0]
    np.testing.assert_allclose(w / w.sum(), fit / fit.sum(), rtol=1e-6)


@pytest.mark.parametrize("r", [2, 3])
def test_a_euclidean_length_is_compiled_to_its_stated_error(r):
    """|V(u)| for an affine V into R^r becomes sum_k w_k |D_k . V(u)| in ReLU units: the surrogate computes it to
    within the rule's stated relative error (checked on random inputs, not on the rule's own unit vectors), and
    that error is small; a form with a square left, or a vector of 4 components, is not compiled."""
    from nsc.compiler.exact import _spread_at_least, emit_exact_outputs, norm_rule
    from nsc.analysis.forms import Form
    from nsc.analysis.linearize import Linearization
    from nsc.surrogate.init import random_params

    rng = np.random.default_rng(r)
    n = 4
    rows = tuple((float(rng.normal()), tuple(rng.normal(size=n))) for _ in range(r))
    length = Form(0.5, np.zeros(n), norms={rows: 2.0})  # 0.5 + 2 |V(u)|
    u = rng.uniform(-1, 1, (2000, n))
    y = length.evaluate(u)
    lin = Linearization(np.array([y.mean()]), np.zeros((n, 1)), np.array([y.var()]), [length])
    params = random_params(n, 1, -np.ones(n), np.ones(n), seed=0)
    out, error = emit_exact_outputs(params, lin)
    largest = Form(0.0, np.zeros(n), norms={rows: 1.0}).bounds()[1]
    assert error == pytest.approx(norm_rule(r)[2] * 2.0 * largest / _spread_at_least(length))
    pred = out.predict(u)[:, 0]
    assert np.all(np.abs(pred - y) <= norm_rule(r)[2] * (y - 0.5) + 1e-3)  # relative to the length itself
    assert np.abs(pred - y).max() <= error * _spread_at_least(length) + 1e-3
    rows4 = rows + ((1.0, tuple(np.zeros(n))),) * (4 - r)
    longer = Form(0.0, np.zeros(n), norms={rows4: 1.0})
    assert emit_exact_outputs(params, Linearization(np.zeros(1), np.zeros((n, 1)), np.ones(1), [longer]))[1] is None


def test_products_have_forms_but_keep_the_hypernetworks_surrogate():
    """x y - 0.5 z^2 + w is proven (as squares: x y = ((x + y)^2 - (x - y)^2) / 4), but not compiled: a surrogate
    interpolating squares did not fine-tune (bench/HISTORY.md)."""
    from nsc.compiler.exact import emit_exact_outputs
    from nsc.analysis.forms import Form, product_of, square_of
    from nsc.analysis.linearize import Linearization
    from nsc.surrogate.init import random_params

    e = np.eye(4)
    x, y, z, w = (Form(0.0, e[i]) for i in range(4))
    form = product_of(x, y).plus(square_of(z).times(-0.5)).plus(w)
    u = np.random.default_rng(5).uniform(-1, 1, (5000, 4))
    np.testing.assert_allclose(form.evaluate(u), u[:, 0] * u[:, 1] - 0.5 * u[:, 2] ** 2 + u[:, 3], atol=1e-12)
    lin = Linearization(np.zeros(1), np.zeros((4, 1)), np.ones(1), [form])
    assert emit_exact_outputs(random_params(4, 1, -np.ones(4), np.ones(4), seed=0), lin)[1] is None


def test_an_exact_output_whose_linear_part_spans_many_stds_stays_exact():
    """The channel's operating point moves past the furthest its inputs can go: a linear part 60 stated stds wide
    (the analysis's std need not be the output's spread) used to drive SiLU out of its linear range."""
    from nsc.compiler.exact import emit_exact_outputs
    from nsc.analysis.forms import Form
    from nsc.analysis.linearize import Linearization
    from nsc.surrogate.init import random_params

    wide = Form(1.0, np.full(6, 10.0), {(0.0, tuple(np.eye(6)[0])): -5.0})  # 1 + 10 sum(u) - 5 relu(u0)
    lin = Linearization(np.zeros(1), np.zeros((6, 1)), np.ones(1), [wide])  # stated std 1
    out, error = emit_exact_outputs(random_params(6, 1, -np.ones(6), np.ones(6), seed=0), lin)
    u = np.random.default_rng(2).uniform(-1, 1, (3000, 6))
    assert error == 0.0
    np.testing.assert_allclose(out.predict(u)[:, 0], wide.evaluate(u), atol=2e-3)
