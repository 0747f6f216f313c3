"""The hypernetwork model, its training loop (single process and torchrun DDP), checkpoints and ONNX export.

Runs on a toy corpus of hand-written canonical token sequences whose samples come from numpy functions.
This file doubles as the DDP driver script: `torchrun ... tests/test_training.py --ddp OUT_DIR`.
"""

import csv
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from nsc.compiler import encoding as E
from nsc.frontend.program import Param, Port, Signature, Token
from nsc.training import train as T
from nsc.training.model import HyperNet, ModelConfig, UnconditionedInit, relative_errors, run_generated, soft_clamp


@dataclass
class ToyRecord:
    signature: Signature
    tokens: tuple
    x: np.ndarray
    y: np.ndarray


def _tokens(text, values):
    it = iter(values)
    return tuple(Token("<num>", float(next(it))) if t == "#" else Token(t) for t in text.split())


def toy_records(n, seed=0, n_samples=64):
    """Four families of one- and two-input programs with random literals and ranges."""
    rng = np.random.default_rng(seed)
    records = []
    for k in range(n):
        a, b = np.round(rng.uniform(-3, 3, 2), 2)
        lo = float(np.round(rng.uniform(-2, 0), 1))
        hi = lo + float(np.round(rng.uniform(0.5, 3), 1))
        kind = k % 4
        if kind == 0:
            names, text, vals = ["x"], "double f ( double p0 ) { return p0 * # + # ; }", [a, b]
            fn = lambda x, a=a, b=b: a * x[:, 0] + b  # noqa: E731
        elif kind == 1:
            names, text, vals = ["x"], "double f ( double p0 ) { return sin ( p0 * # ) ; }", [a]
            fn = lambda x, a=a: np.sin(a * x[:, 0])  # noqa: E731
        elif kind == 2:
            names, text, vals = ["x", "y"], "double f ( double p0 , double p1 ) { return p0 * p1 + # ; }", [b]
            fn = lambda x, b=b: x[:, 0] * x[:, 1] + b  # noqa: E731
        else:
            names, text, vals = ["x", "y"], "double f ( double p0 , double p1 ) { return p0 > p1 ? p0 : # ; }", [a]
            fn = lambda x, a=a: np.where(x[:, 0] > x[:, 1], x[:, 0], a)  # noqa: E731
        sig = Signature("f", "double", tuple(Param(nm, "double") for nm in names),
                        tuple(Port(nm, nm, None, "double", lo, hi) for nm in names),
                        (Port("return", "return", None, "double"),))
        x = rng.uniform(lo, hi, (n_samples, len(names)))
        records.append(ToyRecord(sig, _tokens(text, vals), x.astype(np.float32), fn(x)[:, None].astype(np.float32)))
    return records


def tiny_config(out_dir, **over):
    cfg = dict(out_dir=str(out_dir), model={"d_model": 32, "n_layers": 2, "n_heads": 2}, max_len=64,
               vocab_min_count=1, batch_size=16, samples_per_program=32, max_steps=40, warmup_steps=5, lr=3e-3,
               log_interval=5, eval_interval=20, eval_programs=32, eval_samples=32, checkpoint_interval=20,
               threads=1, seed=0)
    cfg.update(over)
    return T.TrainConfig(**cfg)


def tiny_model(vocab_size=40, **over):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=vocab_size, max_len=128, d_model=32, n_layers=2, n_heads=2, **over)
    return HyperNet(cfg).eval()


def model_inputs(batch):
    return [torch.from_numpy(batch[k]) for k in E.MODEL_INPUTS]


def random_encoded(rng, n_in, n_out, n_code, vocab_size=40, flows=None, linear=False):
    """A well-formed Encoded program with random tokens and numeric features (and `flows`, if given; and, with
    `linear`, random linearisation features)."""
    L = 2 + n_in + n_out + n_code
    roles = np.array([E.ROLE_CLS] + [E.ROLE_IN] * n_in + [E.ROLE_OUT] * n_out + [E.ROLE_SEP]
                     + [E.ROLE_TARGET] * n_code, np.uint8)
    pos = np.r_[np.arange(1, 1 + n_in + n_out), 2 + n_in + n_out + rng.choice(n_code, 2, replace=False)]
    rows = rng.normal(size=(len(pos), E.N_NUMERIC)).astype(np.float32)
    rows[:, 0] = 1
    return E.Encoded(rng.integers(5, vocab_size, L).astype(np.uint16), roles, rng.integers(0, 3, L).astype(np.uint8),
                     pos.astype(np.int32), rows, n_in, n_out, n_code, flows=flows,
                     lin_beta=rng.normal(size=(n_in, n_out)).astype(np.float32) if linear else None,
                     lin_out=np.c_[np.ones(n_out), rng.normal(0, 3, (n_out, 2)), rng.random(n_out)].astype(np.float32)
                     if linear else None)


def random_flows(rng, n_in, n_out):
    return (rng.random((n_in, n_out)) < 0.6).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ model


def test_generated_shapes_follow_ports():
    net = tiny_model()
    rng = np.random.default_rng(0)
    for n_in, n_out in [(1, 1), (5, 3), (32, 16)]:
        batch = E.collate([random_encoded(rng, n_in, n_out, 20)])
        with torch.no_grad():
            g = net(*model_inputs(batch))
        assert g["w0"].shape == (1, n_in, 64) and g["b0"].shape == (1, 64)
        assert g["w1"].shape == (1, 64, 64) and g["b1"].shape == (1, 64)
        assert g["w2"].shape == (1, n_out, 64) and g["b2"].shape == (1, n_out)
        assert g["log_scale"].shape == (1, n_out) and g["shift_units"].shape == (1, n_out)


@pytest.mark.parametrize("linear_channels,use_flows,use_linear",
                         [(True, False, False), (False, False, False), (True, True, False), (True, True, True)])
def test_padding_does_not_change_a_programs_weights(linear_channels, use_flows, use_linear):
    net = tiny_model(linear_channels=linear_channels, use_flows=use_flows, use_linear=use_linear)
    rng = np.random.default_rng(1)
    small = random_encoded(rng, 2, 1, 10, flows=np.array([[1], [1]], np.uint8), linear=use_linear)
    big = random_encoded(rng, 7, 4, 60, flows=random_flows(rng, 7, 4), linear=use_linear)
    with torch.no_grad():
        alone = net(*model_inputs(E.collate([small])))
        together = net(*model_inputs(E.collate([big, small])))
    for k, v in alone.items():
        w = together[k][1]
        if k == "w0":
            torch.testing.assert_close(w[:2], v[0], rtol=1e-4, atol=1e-5)
            assert not w[2:].any()  # padded input slots generate zero columns
        elif k in ("w2", "b2", "log_scale", "shift_units"):
            torch.testing.assert_close(w[:1], v[0], rtol=1e-4, atol=1e-5)
        else:
            torch.testing.assert_close(w, v[0], rtol=1e-4, atol=1e-5)


def test_flows_are_read_and_what_they_prove_is_passed_on_exactly():
    net = tiny_model(use_flows=True)
    rng = np.random.default_rng(5)
    n_in, n_out = 4, 3
    flows = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 1]], np.uint8)  # input 2 reaches nothing
    enc = random_encoded(rng, n_in, n_out, 20, flows=flows)
    with torch.no_grad():
        g = net(*model_inputs(E.collate([enc])))
        g_all = net(*model_inputs(E.collate([dataclasses.replace(enc, flows=np.ones_like(flows))])))
    w0 = g["w0"][0]  # [I, H1]; hidden unit j < n_out is output j's linear channel
    assert not w0[2].any()  # no first-layer column for an input that reaches no output
    for i, j in zip(*np.nonzero(flows == 0)):
        assert w0[i, j] == 0  # no linear coefficient where input i cannot reach output j
    assert w0[0, 0] != 0 and w0[3, 2] != 0
    assert not torch.allclose(g["w2"], g_all["w2"])  # the flows change what the ports say, not only the gates


def test_the_linearisation_is_passed_on_exactly_before_training():
    """With its own corrections at zero, the hypernetwork's surrogate is the analysis's linear model: the linear
    channels carry lin_beta, the output map is the analysis's mean and std. A program the analysis did not
    model gets none of it."""
    net = tiny_model(use_flows=True, use_linear=True)
    with torch.no_grad():
        net.pair_out.weight.zero_(), net.pair_out.bias.zero_(), net.out_head.weight.zero_()
        net.out_head.bias.zero_()
    rng = np.random.default_rng(8)
    n_in, n_out = 3, 2
    modelled = random_encoded(rng, n_in, n_out, 20, flows=np.ones((n_in, n_out), np.uint8), linear=True)
    unmodelled = dataclasses.replace(modelled, lin_beta=None, lin_out=None)
    with torch.no_grad():
        g = net(*model_inputs(E.collate([modelled, unmodelled])))
    w0 = g["w0"]  # hidden unit j < n_out is output j's linear channel
    torch.testing.assert_close(w0[0, :, :n_out], torch.from_numpy(modelled.lin_beta))
    assert not w0[1, :, :n_out].any()
    log_std, mean_in_std = torch.from_numpy(modelled.lin_out[:, 1]), torch.from_numpy(modelled.lin_out[:, 2])
    torch.testing.assert_close(g["log_scale"][0], soft_clamp(log_std, net.cfg.max_log_scale))
    torch.testing.assert_close(g["shift_units"][0] * torch.exp(g["log_scale"][0]), mean_in_std * torch.exp(log_std))
    assert not g["log_scale"][1].any() and not g["shift_units"][1].any()
    with pytest.raises(ValueError, match="linearisation"):
        net(*model_inputs(E.collate([modelled]))[:9])


def test_first_layer_can_stay_the_random_base():
    net = tiny_model(first_layer="base")
    rng = np.random.default_rng(7)
    n_in, n_out = 3, 2
    batch = E.collate([random_encoded(rng, n_in, n_out, 20), random_encoded(rng, n_in, n_out, 30)])
    with torch.no_grad():
        g = net(*model_inputs(batch))
    base_w0, base_b0 = net.base_w0[:n_in] / np.sqrt(n_in), net.base_b0 / np.sqrt(n_in)
    for b in range(2):  # every program: the base, but for the outputs' linear channels (units j < n_out)
        torch.testing.assert_close(g["w0"][b, :, n_out:], base_w0[:, n_out:])
        torch.testing.assert_close(g["b0"][b, n_out:], base_b0[n_out:])
    assert not torch.equal(g["w0"][0, :, :n_out], g["w0"][1, :, :n_out])  # the channels are still generated
    assert net.in_head is None and net.bias_head is not None  # the second layer's biases are still generated
    with pytest.raises(ValueError, match="first_layer"):
        ModelConfig(first_layer="nope")


def test_second_layer_can_stay_the_random_base():
    net = tiny_model(second_layer="base")
    rng = np.random.default_rng(6)
    n_out = 2
    batch = E.collate([random_encoded(rng, 3, n_out, 20), random_encoded(rng, 5, n_out, 30)])
    with torch.no_grad():
        g = net(*model_inputs(batch))
    for b in range(2):  # every program: the base, but for the outputs' linear channels (units j < n_out)
        torch.testing.assert_close(g["w1"][b, n_out:, n_out:], net.base_w1[n_out:, n_out:])
        torch.testing.assert_close(g["b1"][b, n_out:], net.base_b1[n_out:])
    assert not torch.equal(g["b0"][0], g["b0"][1])  # the first layer is still generated
    with pytest.raises(ValueError, match="second_layer"):
        ModelConfig(second_layer="nope")


def test_initial_generated_weights_look_like_random_init():
    net = tiny_model()
    rng = np.random.default_rng(2)
    n_in, n_out = 8, 2
    batch = E.collate([random_encoded(rng, n_in, n_out, 30) for _ in range(8)])
    with torch.no_grad():
        g = net(*model_inputs(batch))
    uniform_std = lambda fan_in: 1 / np.sqrt(3 * fan_in)  # noqa: E731  (std of U(+-1/sqrt(fan_in)))
    # hidden units beyond the outputs' linear channels: torch.nn.Linear's default scales, small corrections
    assert 0.9 < g["w0"][:, :, n_out:].std().item() / uniform_std(n_in) < 1.15
    assert 0.9 < g["w1"][:, n_out:].std().item() / uniform_std(64) < 1.15
    assert 0.9 < g["b1"][:, n_out:].std().item() / uniform_std(64) < 1.15
    # programs differ a little: the corrections
    spread = (g["w1"] - g["w1"].mean(0)).std().item()
    assert 0.02 * uniform_std(64) < spread < 0.3 * uniform_std(64)
    # last layer: small outside the channels; output map near its start
    assert g["w2"][:, :, n_out:].std().item() < 0.2 / np.sqrt(64)
    assert g["log_scale"].abs().max() < 0.5 and g["shift_units"].abs().max() < 0.5


def test_relative_errors_calibrated_and_zero_shot():
    rng = np.random.default_rng(3)
    B, S, I, O = 2, 200, 3, 2
    y = rng.normal(5.0, 2.0, (B, S, O))
    mean, std = y.mean(1), y.std(1)
    z = torch.tensor((y - mean[:, None]) / std[:, None], dtype=torch.float32)
    u = torch.tensor(rng.uniform(-1, 1, (B, S, I)), dtype=torch.float32)
    log_sigma = torch.tensor(np.log(std), dtype=torch.float32)
    mos = torch.tensor(mean / std, dtype=torch.float32)
    mask = torch.ones(B, O)
    # a network that outputs 0 with a map predicting the mean exactly: the mean predictor, scoring 1 both ways
    gen = {"w0": torch.randn(B, I, 64), "b0": torch.randn(B, 64), "w1": torch.randn(B, 64, 64) / 8,
           "b1": torch.zeros(B, 64), "w2": torch.zeros(B, O, 64), "b2": torch.zeros(B, O),
           "log_scale": torch.tensor(np.log(std + 1.0), dtype=torch.float32),
           "shift_units": torch.tensor(mean / (std + 1.0), dtype=torch.float32)}
    calibrated, zero_shot = relative_errors(gen, u, z, log_sigma, mos, mask)
    torch.testing.assert_close(calibrated, torch.ones(B, O), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(zero_shot, torch.ones(B, O, dtype=torch.float64), rtol=1e-4, atol=1e-4)
    # a random generated surrogate, computed independently in program units
    gen["w2"], gen["b2"] = torch.randn(B, O, 64) / 8, torch.randn(B, O)
    calibrated, zero_shot = relative_errors(gen, u, z, log_sigma, mos, mask)
    with torch.no_grad():
        v = run_generated(gen, u).double().numpy()
    y_hat = (v + gen["shift_units"].double().numpy()[:, None]) * np.exp(gen["log_scale"].double().numpy())[:, None]
    np.testing.assert_allclose(zero_shot.numpy(), ((y_hat - y) ** 2).mean(1) / std ** 2, rtol=1e-3)
    y_cal = v * std[:, None] + mean[:, None]  # output map from data
    np.testing.assert_allclose(calibrated.numpy(), ((y_cal - y) ** 2).mean(1) / std ** 2, rtol=1e-3)
    mask[1, 1] = 0
    assert relative_errors(gen, u, z, log_sigma, mos, mask)[1][1, 1] == 0


def test_zero_shot_error_trains_only_the_output_map():
    net = tiny_model()
    batch = E.collate([random_encoded(np.random.default_rng(9), 2, 1, 10)])
    gen = net.train()(*model_inputs(batch))
    u, z = torch.rand(1, 16, 2), torch.randn(1, 16, 1)
    _, zero_shot = relative_errors(gen, u, z, torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1, 1))
    zero_shot.sum().backward()
    untouched = lambda p: p.grad is None or not p.grad.any()  # noqa: E731
    assert untouched(net.in_head.weight) and untouched(net.pair_in.weight)  # the network's weights: untouched
    assert net.out_head.weight.grad[66].abs().sum() > 0  # the shift row: trained
    assert not net.out_head.weight.grad[:66].any()  # last-layer rows, biases, log scale: untouched


def test_zero_shot_error_of_a_hopeless_map_stays_finite_and_trains_the_shift():
    # an output of std e^-30 and mean 1.5e19 stds below zero, predicted with the largest scale and shift: the
    # prediction is ~3e19 stds off, whose square is beyond float32's range (3.4e38)
    B, S, I, O = 1, 16, 2, 1
    gen = {"w0": torch.zeros(B, I, 8), "b0": torch.zeros(B, 8), "w1": torch.zeros(B, 8, 8), "b1": torch.zeros(B, 8),
           "w2": torch.zeros(B, O, 8), "b2": torch.zeros(B, O), "log_scale": torch.full((B, O), 40.0),
           "shift_units": torch.full((B, O), float(np.sinh(20.0)), requires_grad=True)}
    _, zero_shot = relative_errors(gen, torch.rand(B, S, I), torch.randn(B, S, O), torch.full((B, O), -30.0),
                                   torch.full((B, O), -1.5e19), torch.ones(B, O))
    assert torch.isfinite(zero_shot).all() and zero_shot.item() > torch.finfo(torch.float32).max
    T.program_loss(zero_shot, torch.ones(B, O)).backward()
    assert torch.isfinite(gen["shift_units"].grad).all() and gen["shift_units"].grad.item() > 0


def test_manifest_is_strict_json():
    text = E.dumps_manifest({"quality": {"loss": float("inf"), "median": 0.5, "curve": [1.0, float("nan")]}})
    assert json.loads(text) == {"quality": {"loss": None, "median": 0.5, "curve": [1.0, None]}}


def test_linear_channels_carry_each_outputs_linear_part():
    from nsc.training.model import add_linear_channels

    torch.manual_seed(0)
    B, I, O, H = 2, 3, 2, 64
    zeros = {"w0": torch.zeros(B, I, H), "b0": torch.zeros(B, H), "w1": torch.zeros(B, H, H), "b1": torch.zeros(B, H),
             "w2": torch.zeros(B, O, H), "b2": torch.zeros(B, O)}
    beta = torch.randn(B, I, O) * 0.3
    out_mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # program 1 has one output (the other is padding)
    gen = add_linear_channels(zeros, beta, out_mask, offset=5.0)
    u = torch.rand(B, 100, I) * 2 - 1
    v = run_generated(gen, u)
    want = u @ beta
    torch.testing.assert_close(v[0], want[0], atol=0.03, rtol=0.0)
    torch.testing.assert_close(v[1, :, 0], want[1, :, 0], atol=0.03, rtol=0.0)
    assert gen["w0"][1, :, 1].abs().sum() == 0 and gen["b0"][1, 1] == 0  # no channel for a padded output
    assert (gen["w1"][0, :2, :2] == torch.eye(2)).all() and not gen["w1"][0, :2, 2:].any()


def test_linear_channel_pairs_carry_each_outputs_linear_part_exactly():
    from nsc.training.model import add_linear_channel_pairs

    torch.manual_seed(0)
    B, I, O, H = 2, 3, 2, 64
    zeros = {"w0": torch.zeros(B, I, H), "b0": torch.zeros(B, H), "w1": torch.zeros(B, H, H), "b1": torch.zeros(B, H),
             "w2": torch.zeros(B, O, H), "b2": torch.zeros(B, O)}
    beta = torch.randn(B, I, O)
    out_mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    gen = add_linear_channel_pairs(zeros, beta, out_mask)
    u = torch.rand(B, 100, I) * 2 - 1
    v, want = run_generated(gen, u), u @ beta
    torch.testing.assert_close(v[0], want[0], atol=1e-5, rtol=0.0)  # silu(z) - silu(-z) = z: no curvature
    torch.testing.assert_close(v[1, :, 0], want[1, :, 0], atol=1e-5, rtol=0.0)
    assert not gen["w0"][1, :, [1, H - 2]].any()  # no channel for a padded output
    h1 = torch.nn.functional.silu(u[0] @ gen["w0"][0] + gen["b0"][0])
    assert h1[:, [0, 1, H - 2, H - 1]].abs().max() <= beta[0].abs().sum(0).max()  # activations of z's size


@pytest.mark.parametrize("pairs", [False, True])
def test_last_layer_channels_reads_the_linear_channels_only(pairs):
    generated = tiny_model(use_linear=True, channel_pairs=pairs)
    channels = tiny_model(use_linear=True, channel_pairs=pairs, last_layer="channels")
    channels.load_state_dict(generated.state_dict())  # the same heads; only what they emit differs
    batch = E.collate([random_encoded(np.random.default_rng(4), 3, 2, 20, linear=True),
                       random_encoded(np.random.default_rng(5), 2, 1, 20, linear=True)])
    with torch.no_grad():
        g, c = generated(*model_inputs(batch)), channels(*model_inputs(batch))
    for b, n_out in enumerate((2, 1)):  # a program's channel units: j (and 63 - j for pairs) per output j
        units = set(range(n_out)) | ({63 - j for j in range(n_out)} if pairs else set())
        others = [k for k in range(64) if k not in units]
        assert not c["w2"][b][:, others].any() and g["w2"][b][:, others].abs().sum() > 0
        torch.testing.assert_close(c["w2"][b][:, sorted(units)], g["w2"][b][:, sorted(units)])
    for k in ("w0", "b0", "w1", "b1", "b2", "log_scale", "shift_units"):
        torch.testing.assert_close(c[k], g[k])
    with pytest.raises(ValueError, match="needs linear_channels"):
        ModelConfig(linear_channels=False, last_layer="channels")


def test_unconditioned_init_is_the_same_for_every_program():
    cfg = ModelConfig(vocab_size=10)
    uncond = UnconditionedInit(cfg)
    in_mask = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    out_mask = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    g = uncond(in_mask, out_mask)
    torch.testing.assert_close(g["w0"][0, 0], g["w0"][1, 0])
    assert not g["w0"][0, 1:].any()
    torch.testing.assert_close(g["w1"][0], g["w1"][1])
    assert not g["log_scale"].any() and not g["shift_units"].any()


# ------------------------------------------------------------------------------------------------ data, schedule


def test_permuted_ports_keep_features_attached():
    rng = np.random.default_rng(4)
    enc = random_encoded(rng, 4, 3, 12)
    p_in, p_out = np.array([2, 0, 3, 1]), np.array([1, 2, 0])
    perm = T.permute_ports(enc, p_in, p_out)
    order = np.r_[0, 1 + p_in, 5 + p_out, np.arange(8, enc.length)]
    np.testing.assert_array_equal(perm.token_ids, enc.token_ids[order])
    np.testing.assert_array_equal(perm.numeric(), enc.numeric()[order])
    flows = random_flows(rng, 4, 3)
    perm = T.permute_ports(dataclasses.replace(enc, flows=flows), p_in, p_out)
    np.testing.assert_array_equal(perm.flows, flows[p_in][:, p_out])


def test_program_set_normalises_and_masks():
    recs = toy_records(8, seed=5)
    recs[1].y[:, 0] = 3.0  # constant output: the program is skipped
    vocab = E.Vocabulary.build(([t.text for t in r.tokens] for r in recs), 1, always=E.default_reserved_names())
    ps = T.ProgramSet(recs, vocab, E.EncodingConfig(max_len=64))
    assert len(ps) == 7 and ps.skipped["constant outputs"] == 1
    batch = ps.batch([0, 1], 16)
    lo, hi = recs[0].signature.ranges()
    np.testing.assert_allclose(batch["u"][0, :, 0].numpy(), (recs[0].x[:16, 0] - (lo + hi) / 2) / ((hi - lo) / 2),
                               rtol=1e-5)
    z = ps.z[1]  # the program at index 1 is the toy record 2 (record 1 was skipped)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5) and np.testing.assert_allclose(z.std(0), 1, rtol=1e-4)
    assert batch["u"].shape == (2, 16, 2) and batch["out_mask"].shape == (2, 1)
    assert not batch["u"][0, :, 1].any()  # the one-input program's padding column


def test_rewrites_share_their_programs_samples():
    recs = toy_records(3, seed=8)
    base = recs[0]
    rewrite = ToyRecord(base.signature, base.tokens[:-1] + (Token(";"), Token("}")), base.x, base.y)
    for r, i in zip((base, rewrite, recs[1]), (7, 7, 8)):
        r.id = i
    vocab = E.Vocabulary.build(([t.text for t in r.tokens] for r in recs), 1, always=E.default_reserved_names())
    ps = T.ProgramSet([base, rewrite, recs[1]], vocab, E.EncodingConfig(max_len=64), max_samples=40)
    assert len(ps) == 3 and ps.u[0] is ps.u[1] and ps.z[0] is ps.z[1] and ps.u[2] is not ps.u[0]
    assert ps.u[0].shape == (40, 1) and ps.encoded[1].length == ps.encoded[0].length + 1


def test_analyses_are_computed_once_per_program_in_record_order():
    recs = toy_records(12, seed=3)
    for k, r in enumerate(recs):
        r.id = k // 2  # pairs of records stand for a program and its rewrite
    recs[1].tokens = _tokens("double f ( double p0 ) { return # ; }", [1.0])  # the analysis would say 0 here
    from nsc.analysis.dataflow import reach_matrix_of_tokens
    from nsc.analysis.linearize import Linearization, linearize_tokens

    for workers, block in ((1, 5), (2, 4)):
        pairs = list(T.with_analyses(iter(recs), workers, block))
        assert [r for r, _ in pairs] == recs
        for k, (r, (flows, linear)) in enumerate(pairs):
            first = recs[k - k % 2]  # a program's analyses come from its first record, whatever the block
            np.testing.assert_array_equal(flows, reach_matrix_of_tokens(first.tokens, first.signature))
            want = linearize_tokens(first.tokens, first.signature)
            assert isinstance(linear, Linearization) and isinstance(want, Linearization)
            np.testing.assert_array_equal(linear.coef, want.coef)
    assert pairs[2][1][0].all() and pairs[1][1][0].all()


def test_batch_schedule_is_a_pure_function_of_the_step():
    lengths = np.random.default_rng(6).integers(10, 100, 101)
    a = T.BatchSchedule(lengths, 8, seed=1, rank=0, world=2)
    b = T.BatchSchedule(lengths, 8, seed=1, rank=0, world=2)
    assert a.steps_per_epoch == 6
    seq = [a(s).tolist() for s in range(14)]
    assert [b(s).tolist() for s in (13, 2, 7)] == [seq[13], seq[2], seq[7]]
    other = T.BatchSchedule(lengths, 8, seed=1, rank=1, world=2)
    epoch0_r0 = np.concatenate(seq[:6])
    epoch0_r1 = np.concatenate([other(s) for s in range(6)])
    assert len(set(epoch0_r0)) == 48 and not set(epoch0_r0) & set(epoch0_r1)  # ranks share no program


def test_curriculum_starts_with_the_shortest_programs():
    lengths = np.random.default_rng(7).permutation(np.arange(10, 210))  # 200 programs, lengths 10..209
    sched = T.BatchSchedule(lengths, 8, seed=1, rank=0, world=1, curriculum_steps=100, curriculum_start=0.1)
    assert lengths[sched(0)].max() < 30  # the shortest 10%: lengths 10..29
    assert lengths[sched(50)].max() < 10 + 0.55 * 200 + 1  # halfway: the shortest 55%
    assert all(np.all(np.diff(lengths[sched(s)]) >= 0) for s in range(5))  # sorted: less padding
    later = np.concatenate([sched(s) for s in range(100, 125)])  # one epoch after the curriculum
    assert lengths[later].max() > 150 and len(set(later.tolist())) == 200
    again = T.BatchSchedule(lengths, 8, seed=1, rank=0, world=1, curriculum_steps=100, curriculum_start=0.1)
    assert [again(s).tolist() for s in (3, 99, 110)] == [sched(s).tolist() for s in (3, 99, 110)]


def test_learning_rate_schedule():
    cfg = T.TrainConfig(lr=1e-3, min_lr=1e-4, warmup_steps=10, max_steps=110)
    assert T.learning_rate(0, cfg) == pytest.approx(1e-4)
    assert T.learning_rate(9, cfg) == pytest.approx(1e-3)
    assert T.learning_rate(60, cfg) == pytest.approx(5.5e-4)
    assert T.learning_rate(110, cfg) == pytest.approx(1e-4)


def test_config_files_parse_and_reject_typos(tmp_path):
    configs = os.path.join(os.path.dirname(T.__file__), "configs")
    for name in os.listdir(configs):
        cfg = T.TrainConfig.load(os.path.join(configs, name))
        cfg.model_config(100)  # model fields are valid too
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"learning_rate": 1e-3}))
    with pytest.raises(T.NscError, match="unknown training option"):
        T.TrainConfig.load(str(bad))


# ------------------------------------------------------------------------------------------------ training


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_training_run_learns(tmp_path):
    cfg = tiny_config(tmp_path, max_steps=150, eval_interval=75, checkpoint_interval=75)
    summary = T.train(cfg, train_records=toy_records(32, 0), heldout_records=toy_records(32, 1))
    assert summary["finished"] and summary["step"] == 150 and summary["n_train"] == 32
    rows = read_csv(tmp_path / "losses.csv")
    assert [int(r["step"]) for r in rows] == list(range(0, 151, 5))
    train_losses = [float(r["train_loss"]) for r in rows if r["train_loss"]]
    uncond = [float(r["uncond_train_loss"]) for r in rows if r["uncond_train_loss"]]
    held = [float(r["heldout_zero_shot_loss"]) for r in rows if r["heldout_zero_shot_loss"]]
    # 32 programs: both models learn them (nobody generalises from so few; held-out figures are only logged)
    assert len(held) == 3 and np.mean(train_losses[-4:]) < 0.85 * np.mean(train_losses[:4])
    assert np.mean(uncond[-4:]) < np.mean(uncond[:4])
    assert (tmp_path / "losses.png").stat().st_size > 1000
    for name in ("hypernet.safetensors", "uncond.safetensors", "optimizer.pt", "state.json"):
        assert (tmp_path / "checkpoint" / name).is_file()
    assert json.loads((tmp_path / "summary.json").read_text())["step"] == 150


def test_resume_continues_exactly(tmp_path):
    from safetensors.torch import load_file

    recs, held = toy_records(64, 0), toy_records(16, 1)
    straight, split = tmp_path / "straight", tmp_path / "split"
    T.train(tiny_config(straight, max_steps=12, checkpoint_interval=6, eval_interval=6), train_records=recs,
            heldout_records=held)
    T.train(tiny_config(split, max_steps=6, checkpoint_interval=6, eval_interval=6), train_records=recs,
            heldout_records=held)
    # the resumed run keeps the original schedule (max_steps 12), as the config file would
    T.train(tiny_config(split, max_steps=12, checkpoint_interval=6, eval_interval=6), resume=True,
            train_records=recs, heldout_records=held)
    for name in ("hypernet.safetensors", "uncond.safetensors"):
        a, b = load_file(straight / "checkpoint" / name), load_file(split / "checkpoint" / name)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)
    rows_a, rows_b = read_csv(straight / "losses.csv"), read_csv(split / "losses.csv")
    assert [r["step"] for r in rows_a] == [r["step"] for r in rows_b]
    assert [r["train_loss"] for r in rows_a] == [r["train_loss"] for r in rows_b]


def write_toy_corpus(corpus_dir, n_train=40, n_heldout=6):
    """A corpus directory in the corpus store's format, from toy records (held-out ones get held-out seeds)."""
    from nsc.training import corpus_store as cs

    os.makedirs(corpus_dir)
    held_seeds = [s for s in range(10_000) if cs.is_heldout(s)][:n_heldout]
    train_seeds = [s for s in range(10_000) if not cs.is_heldout(s)][:n_train]
    records, blocks = [], []
    for k, (rec, seed) in enumerate(zip(toy_records(n_train + n_heldout), train_seeds + held_seeds)):
        records.append(cs.ChunkRecord(k, seed, 0, "/* toy */", rec.signature.dumps(), rec.tokens, k))
        blocks.append((rec.x, rec.y))
    cs.write_chunk(cs.chunk_path(str(corpus_dir), 0), 0, records, blocks)


def test_main_trains_from_a_corpus_directory_and_exports(tmp_path):
    from nsc.training import export as X

    write_toy_corpus(tmp_path / "corpus")
    cfg = tiny_config(tmp_path / "run", corpus=str(tmp_path / "corpus"), max_steps=4, eval_interval=4,
                      checkpoint_interval=4).to_json()
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    summary = T.main(["--config", str(tmp_path / "cfg.json")])
    assert summary["n_train"] == 40 and summary["n_heldout"] == 6 and summary["step"] == 4
    assert summary["corpus_id"] and summary["metrics"]["heldout_programs"] == 6
    summary = T.main(["--config", str(tmp_path / "cfg.json"), "--resume", "--max-steps", "6"])
    assert summary["step"] == 6
    manifest = X.main(["--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "weights")])
    assert manifest["training"]["steps"] == 6 and manifest["corpus_id"] == summary["corpus_id"]
    with pytest.raises(T.NscError, match="no corpus"):  # a restart that fails leaves the earlier run
        T.main(["--config", str(tmp_path / "cfg.json"), "--restart", "--corpus", str(tmp_path / "nowhere")])
    assert T.read_checkpoint_state(T.checkpoint_dir(str(tmp_path / "run")))["step"] == 6


def test_an_earlier_run_is_continued_or_replaced_never_silently_overwritten(tmp_path):
    """Training again into an out_dir replaced its checkpoint without a word."""
    recs = toy_records(16)
    cfg = tiny_config(tmp_path, max_steps=4, checkpoint_interval=2, eval_interval=2)
    T.train(cfg, train_records=recs, heldout_records=[])
    with pytest.raises(T.NscError, match="holds a training run .*step 4.*--resume.*--restart"):
        T.train(cfg, train_records=recs, heldout_records=[])
    with pytest.raises(T.NscError, match="give one of them"):
        T.train(cfg, resume=True, restart=True, train_records=recs, heldout_records=[])
    assert T.read_checkpoint_state(T.checkpoint_dir(str(tmp_path)))["step"] == 4  # untouched
    summary = T.train(dataclasses.replace(cfg, max_steps=2), restart=True, train_records=recs, heldout_records=[])
    assert summary["step"] == 2 and T.read_checkpoint_state(T.checkpoint_dir(str(tmp_path)))["step"] == 2
    assert [r["step"] for r in read_csv(tmp_path / "losses.csv")] == ["0", "2"]


def test_train_compiler_command_refuses_to_overwrite_a_run(tmp_path):
    from click.testing import CliRunner

    from nsc.cli import main as cli

    T.train(tiny_config(tmp_path / "run", max_steps=2, checkpoint_interval=2, eval_interval=2),
            train_records=toy_records(16), heldout_records=[])
    cfg = tiny_config(tmp_path / "run", corpus=str(tmp_path / "nowhere")).to_json()
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    result = CliRunner().invoke(cli, ["train-compiler", "--config", str(tmp_path / "cfg.json")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'run'} holds a training run (a checkpoint "
                                                  "at step 2): --resume continues it, --restart trains from "
                                                  "scratch and replaces it once the new run starts, or train "
                                                  "into another out_dir"]


@pytest.mark.parametrize("damage", ["hypernet.safetensors", "state.json", "optimizer.pt"])
def test_a_damaged_checkpoint_is_a_clear_error(tmp_path, damage):
    """A truncated checkpoint file was a safetensors, json or torch traceback (after the corpus had loaded)."""
    from nsc.training import export as X

    recs = toy_records(16)
    cfg = tiny_config(tmp_path / "run", max_steps=2, checkpoint_interval=2, eval_interval=2)
    T.train(cfg, train_records=recs, heldout_records=[])
    path = tmp_path / "run" / "checkpoint" / damage
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(T.NscError, match="damaged checkpoint") as e:
        T.train(dataclasses.replace(cfg, max_steps=4), resume=True, train_records=recs, heldout_records=[])
    assert e.value.path.endswith("checkpoint")
    if damage != "optimizer.pt":  # export reads the models only
        with pytest.raises(T.NscError, match="damaged checkpoint"):
            X.main(["--checkpoint", str(tmp_path / "run" / "checkpoint"), "--out", str(tmp_path / "w")])
        assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(T.NscError, match="no checkpoint"):
        T.train(tiny_config(tmp_path), resume=True, train_records=toy_records(8), heldout_records=[])


def test_resume_with_other_model_options_is_an_error(tmp_path):
    """(It was a size-mismatch traceback from load_state_dict.)"""
    recs = toy_records(16)
    cfg = tiny_config(tmp_path, max_steps=2, checkpoint_interval=2, eval_interval=2)
    T.train(cfg, train_records=recs, heldout_records=[])
    changed = dataclasses.replace(cfg, model={**cfg.model, "d_model": 2 * cfg.model.get("d_model", 32)})
    with pytest.raises(T.NscError, match="trained with other model options .*d_model"):
        T.train(changed, resume=True, train_records=recs, heldout_records=[])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_cpu_processes(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), __file__, "--ddp", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["step"] == 10 and summary["programs_seen"] == 10 * 2 * 8
    rows = read_csv(tmp_path / "losses.csv")
    assert rows[-1]["step"] == "10" and rows[-1]["heldout_calibrated_loss"]
    assert (tmp_path / "checkpoint" / "hypernet.safetensors").is_file()


def _ddp_main(out_dir):
    cfg = tiny_config(out_dir, max_steps=10, batch_size=8, eval_interval=10, checkpoint_interval=10)
    T.train(cfg, train_records=toy_records(64, 0), heldout_records=toy_records(16, 1))


# ------------------------------------------------------------------------------------------------ export


@pytest.mark.parametrize("pairs", [False, True])
def test_export_round_trip(tmp_path, pairs):
    from nsc.compiler.hypernet import Compiler
    from nsc.frontend.program import Program
    from nsc.training.export import check_onnx, export

    model = {"d_model": 32, "n_layers": 2, "n_heads": 2, "use_flows": True, "second_layer": "base",
             "use_linear": True, "channel_pairs": pairs}
    T.train(tiny_config(tmp_path / "run", max_steps=5, eval_interval=5, checkpoint_interval=5, model=model),
            train_records=toy_records(32, 0), heldout_records=toy_records(8, 1))
    manifest = export(str(tmp_path / "run" / "checkpoint"), str(tmp_path / "weights"))
    assert set(os.listdir(tmp_path / "weights")) == {"compiler.onnx", "manifest.json", "unconditioned.safetensors"}
    assert manifest["training"]["steps"] == 5 and manifest["export"]["onnx_max_abs_diff"] < 1e-4
    assert manifest["export"]["onnx_nodes"] < manifest["export"]["onnx_nodes_unsimplified"]  # simplify_onnx
    assert manifest["model"]["last_layer"] == "generated"
    assert "heldout_zero_shot_relrmse_median" in manifest["quality"]
    hypernet, uncond, state = T.load_models(str(tmp_path / "run" / "checkpoint"))
    assert check_onnx(hypernet, str(tmp_path / "weights" / "compiler.onnx")) < 1e-4  # incl. 32 inputs, 16 outputs
    # the compile-time path on a toy program equals torch's generated surrogate
    rec = toy_records(4, 7)[2]
    compiler = Compiler(tmp_path / "weights")
    params, notes = compiler.compile(Program("t.c", "", "0", rec.signature, tokens=rec.tokens))
    vocab, enc_cfg = E.encoding_from_manifest(state["encoding"])
    batch = E.collate([E.encode(rec.signature, rec.tokens, vocab, enc_cfg)])
    with torch.no_grad():
        g = hypernet.eval()(*model_inputs(batch))
    np.testing.assert_allclose(params.weights[0], g["w0"][0].T.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(params.weights[1], g["w1"][0].numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(params.out_scale, torch.exp(g["log_scale"][0]).numpy(), rtol=1e-4)
    np.testing.assert_allclose(params.out_shift, (g["shift_units"][0] * torch.exp(g["log_scale"][0])).numpy(),
                               rtol=1e-4, atol=1e-6)


if __name__ == "__main__" and "--ddp" in sys.argv:
    _ddp_main(sys.argv[sys.argv.index("--ddp") + 1])


def test_export_can_keep_only_the_linear_channels_of_the_last_layer(tmp_path):
    from nsc.compiler.hypernet import Compiler
    from nsc.frontend.program import Program
    from nsc.training.export import export

    model = {"d_model": 32, "n_layers": 2, "n_heads": 2, "use_flows": True, "second_layer": "base",
             "use_linear": True, "first_layer": "base"}
    T.train(tiny_config(tmp_path / "run", max_steps=5, eval_interval=5, checkpoint_interval=5, model=model,
                        export_last_layer="channels"),
            train_records=toy_records(32, 0), heldout_records=toy_records(8, 1))
    rec = toy_records(4, 7)[2]
    program = Program("t.c", "", "0", rec.signature, tokens=rec.tokens)
    full = export(str(tmp_path / "run" / "checkpoint"), str(tmp_path / "full"), last_layer="generated")
    kept = export(str(tmp_path / "run" / "checkpoint"), str(tmp_path / "kept"))  # the config's choice
    assert (full["model"]["last_layer"], kept["model"]["last_layer"]) == ("generated", "channels")
    assert kept["quality"]["measured_with_last_layer"] == "generated" and "measured_with_last_layer" not in full[
        "quality"]
    p_full, _ = Compiler(tmp_path / "full").compile(program)
    p_kept, _ = Compiler(tmp_path / "kept").compile(program)
    n_out = rec.signature.n_out
    assert not p_kept.weights[2][:, n_out:].any() and np.abs(p_full.weights[2][:, n_out:]).sum() > 0
    np.testing.assert_allclose(p_kept.weights[2][:, :n_out], p_full.weights[2][:, :n_out], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p_kept.weights[0], p_full.weights[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text, needle", [
    ('{"max_steps": 10.5}', "'max_steps' is 10.5; it must be an integer"),
    ('{"max_steps": 0}', "'max_steps' is 0; it must be at least 1"),
    ('{"batch_size": 0}', "'batch_size' is 0"),
    ('{"lr": "fast"}', "'lr' is \"fast\"; it must be a number"),
    ('{"betas": [0.9]}', "'betas' is [0.9]"),
    ('{"device": "tpu"}', "'device' is \"tpu\""),
    ('{"model": {"bogus": 1}}', "unknown model option(s): bogus"),
    ('{"model": {"d_model": 30}}', "a positive multiple of model.n_heads"),
    ('{"export_last_layer": "foo"}', "'export_last_layer' is \"foo\""),
    ('[1, 2]', "a JSON object of options"),
    ('{"max_steps": ', "not valid JSON"),
])
def test_bad_training_configurations_are_one_error(tmp_path, text, needle):
    """Checked before any data is read or file written: each was a traceback, a ZeroDivisionError after writing
    losses.csv, or a silent run (10.5 steps ran 11; -5 'finished' with no checkpoint)."""
    from nsc.errors import NscError
    from nsc.training.train import TrainConfig

    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(NscError, match=re.escape(needle)):
        TrainConfig.load(str(path))
