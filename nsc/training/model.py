"""The hypernetwork: a Transformer encoder that reads a program and writes the weights of its surrogate MLP.

Inputs are the arrays of nsc/compiler/encoding.py (`collate`): token, role and index ids, numeric features per
position, the positions of the input and output port tokens, and which inputs may reach which outputs (flows,
from the front-end's data-flow analysis). With `use_flows`, the model reads flows three ways: each port's share
of connected ports joins its embedding; after the encoder, each port state takes in the mean state of the ports
it is connected to; and what the analysis proves is passed on exactly: a linear coefficient (i, j) is zero
where input i cannot reach output j, and an input that reaches no output gets a zero first-layer column.
With `use_linear`, it reads the front-end's statistical linearisation (lin_beta, lin_out; encoding.py) two
ways: as port features (an input's total and largest coefficient; an output's modelled flag, log std, mean and
linear share), and directly: the analysis's coefficients, times a learned per-output gain, are added to the
linear channels' coefficients, and its log std and mean (in stds) to the predicted log scale and shift, so the
network learns corrections to the analysis rather than the whole function.
Outputs, for every program in the batch, the
surrogate of nsc/surrogate/params.py with two hidden layers and SiLU:

    w0 [B, I, H1]   one first-layer column per input: fixed random base + correction from its port state
    b0 [B, H1], w1 [B, H2, H1], b1 [B, H2]      fixed random base + correction from the CLS state
                                                (first_layer / second_layer "base": w0, b0 / w1, b1 are the
                                                base alone)
    w2 [B, O, H2], b2 [B, O]                    one last-layer row (and bias) per output, from its port state
                                                (last_layer "channels": zero but on the linear channels' units)
    log_scale [B, O], shift_units [B, O]        out_scale = exp(log_scale), out_shift = shift_units * out_scale
    (with linear channels, hidden unit j < O of both layers carries output j's linear part: add_linear_channels)

So a generated surrogate computes y = (W2 h + b2 + shift_units) * exp(log_scale) in program units. shift_units
is sinh of a head output: a smooth sign/log-magnitude form that reaches outputs whose mean is many standard
deviations from zero. The hidden layers' fixed random base is drawn like random init (torch.nn.Linear's
U(+-1/sqrt(fan_in)), the first layer divided by sqrt(n_in) by the model itself); corrections start small.

`UnconditionedInit` is the baseline the compiler must beat: one learned initialisation for every program
(weights per input slot and output slot, shared hidden layers), with outputs calibrated from data at fine-tuning
time like random init. `relative_errors` is the training objective's core: the error of generated surrogates on
their programs' samples, per output, relative to the output's variance, with the output map calibrated from
data (the network's shape) and with the predicted map (zero-shot).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nsc.compiler.encoding import FLAG_PORT, N_LIN_OUT, N_NUMERIC, N_ROLES, ROLE_PAD
from nsc.surrogate.torch_model import mlp_forward


@dataclass
class ModelConfig:
    vocab_size: int = 512
    max_len: int = 512
    max_index: int = 63
    max_inputs: int = 32
    max_outputs: int = 16
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    hidden: tuple = (64, 64)
    max_log_scale: float = 40.0  # |log out_scale| is soft-clamped to this (exp(40) ~ 2e17 fits float32)
    max_shift_arg: float = 20.0  # |asinh(shift_units)| likewise
    map_gain: float = 5.0  # log scale and shift argument = gain x head output: they must range widely, and under
    #                        Adam a head output grows about linearly in steps, so the gain is a learning-rate boost
    linear_channels: bool = True  # route each output's linear part through its own hidden units (see below)
    linear_offset: float = 5.0  # the channels' operating point, where SiLU is nearly the identity
    channel_pairs: bool = False  # each channel is two units per layer, silu(z) - silu(-z) = z exactly, with
    #                              activations of z's size instead of the offset's (see add_linear_channels)
    pair_dim: int = 32  # width of the input-port x output-port bilinear head that gives the linear coefficients
    base_seed: int = 0  # seed of the fixed random hidden layers that generated corrections are added to
    use_flows: bool = False  # read the data-flow matrix (see the module docstring)
    second_layer: str = "generated"  # "generated": base + correction from the CLS state; "base": the fixed
    #                                  random base for every program (as fine-tunable as random init's)
    use_linear: bool = False  # read the statistical linearisation (see the module docstring)
    first_layer: str = "generated"  # likewise for the first hidden layer (but for the linear channels' units)
    last_layer: str = "generated"  # "generated": each output's row from its port state; "channels": the rows read
    #                                the linear channels' units only, the others' weights are 0 (fine-tuning then
    #                                starts from the linear model alone; chosen at export, TrainConfig.export_last_layer)

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if len(self.hidden) != 2:
            raise ValueError("the hypernetwork emits surrogates with exactly two hidden layers")
        if self.d_model % self.n_heads:
            raise ValueError("d_model must be divisible by n_heads")
        if self.linear_channels and self.max_outputs * (2 if self.channel_pairs else 1) > min(self.hidden):
            raise ValueError("linear channels need a hidden unit (two, as pairs) per output")
        if self.use_linear and not self.linear_channels:
            raise ValueError("use_linear adds to the linear channels: it needs linear_channels")
        for name in ("first_layer", "second_layer"):
            if getattr(self, name) not in ("generated", "base"):
                raise ValueError(f"{name} must be 'generated' or 'base' (got {getattr(self, name)!r})")
        if self.last_layer not in ("generated", "channels"):
            raise ValueError(f"last_layer must be 'generated' or 'channels' (got {self.last_layer!r})")
        if self.last_layer == "channels" and not self.linear_channels:
            raise ValueError("last_layer 'channels' keeps the linear channels' units: it needs linear_channels")

    def to_json(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "ModelConfig":
        return cls(**d)


def soft_clamp(x: torch.Tensor, limit: float) -> torch.Tensor:
    return limit * torch.tanh(x / limit)


class SelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """x [B, L, D]; attend bool [B, 1, 1, L]: which keys each query may look at (padding excluded)."""
        B, L, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)
        shape = (B, L, self.n_heads, D // self.n_heads)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attend,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, L, D))


class Block(nn.Module):
    """Pre-LN Transformer encoder block."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model), nn.Dropout(cfg.dropout))

    def forward(self, x, attend):
        x = x + self.attn(self.ln1(x), attend)
        return x + self.mlp(self.ln2(x))


def gather_positions(states: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """states [B, L, D], pos int64 [B, P] -> [B, P, D]."""
    return torch.gather(states, 1, pos.unsqueeze(-1).expand(-1, -1, states.shape[-1]))


class HyperNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        D, (H1, H2) = cfg.d_model, cfg.hidden
        self.token_emb = nn.Embedding(cfg.vocab_size, D)
        self.role_emb = nn.Embedding(N_ROLES, D)
        self.index_emb = nn.Embedding(cfg.max_index + 1, D)
        self.pos_emb = nn.Embedding(cfg.max_len, D)
        self.numeric_mlp = nn.Sequential(nn.Linear(N_NUMERIC, D), nn.GELU(), nn.Linear(D, D))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(D)
        # Hidden layers = a fixed random base, drawn as random init draws them, + program-specific corrections:
        # what the compiler has not learned to say stays as fine-tunable as random init (a hypernetwork trained
        # end to end otherwise collapses the layers it cannot predict into near-constant, hard-to-tune ones).
        gen = torch.Generator().manual_seed(cfg.base_seed)
        uniform = lambda *shape: torch.rand(*shape, generator=gen) * 2 - 1  # noqa: E731
        self.register_buffer("base_w0", uniform(cfg.max_inputs, H1))  # x 1/sqrt(n_in) in forward, as is base_b0
        self.register_buffer("base_b0", uniform(H1))
        self.register_buffer("base_w1", uniform(H2, H1) / math.sqrt(H1))
        self.register_buffer("base_b1", uniform(H2) / math.sqrt(H1))
        generated_first, generated_second = cfg.first_layer == "generated", cfg.second_layer == "generated"
        self.in_head = nn.Linear(D, H1, bias=False) if generated_first else None  # to one input's w0 column
        self.bias_split = [H1] * generated_first + [H2] * generated_second
        self.bias_head = nn.Linear(D, sum(self.bias_split), bias=False) if self.bias_split else None  # b0, b1
        self.w1_head = nn.Linear(D, H2 * H1, bias=False) if generated_second else None  # to the second layer
        # last-layer row, bias, log scale, shift argument of one output (and with use_linear: the log gain on the
        # analysis's coefficients)
        self.out_head = nn.Linear(D, H2 + 3 + int(cfg.use_linear))
        if cfg.linear_channels:  # linear coefficient of (input i, output j): <pair_in(i), pair_out(j)> / sqrt(dim)
            self.pair_in = nn.Linear(D, cfg.pair_dim)
            self.pair_out = nn.Linear(D, cfg.pair_dim)
        if cfg.use_flows:
            self.flow_emb = nn.Linear(2, D)  # a port's share of connected ports, and "connected to none"
            self.mix_in = nn.Linear(D, D)  # an input port takes in the mean state of the outputs it reaches
            self.mix_out = nn.Linear(D, D)  # an output port, of the inputs that reach it
        if cfg.use_linear:
            self.lin_in_emb = nn.Linear(2, D)  # an input's total and largest |coefficient|
            self.lin_out_emb = nn.Linear(N_LIN_OUT, D)
        self._init_weights()

    def _init_weights(self):
        cfg = self.cfg
        D, (H1, H2) = cfg.d_model, cfg.hidden
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=0.02)
        for block in self.blocks:  # GPT-2 style scaling of residual projections
            nn.init.normal_(block.attn.proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(block.mlp[2].weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
        # Heads read LayerNorm'd states (unit variance per feature), so weight std s/sqrt(D) gives outputs of std s.
        # Corrections start at a tenth of the base's scale.
        r = 1 / math.sqrt(D)
        with torch.no_grad():
            if self.in_head is not None:
                self.in_head.weight.normal_(std=0.1 * r)
            if self.bias_head is not None:
                self.bias_head.weight.normal_(std=0.1 * r / math.sqrt(H1))
            if self.w1_head is not None:
                self.w1_head.weight.normal_(std=0.1 * r / math.sqrt(H1))
            self.out_head.weight.normal_(std=0.02 * r)
            # last-layer rows: with linear channels, a small nonlinear correction to the linear part
            self.out_head.weight[:H2].normal_(std=(0.1 if cfg.linear_channels else 1.0) * r / math.sqrt(H2))
            if cfg.linear_channels:
                self.pair_in.weight.normal_(std=r)
                self.pair_out.weight.normal_(std=0.1 * r)  # linear coefficients start near 0

    def set_output_scale_prior(self, log_scale: float) -> None:
        """Start every predicted log out_scale at `log_scale` (e.g. the training corpus's median log std), so that
        training does not spend its first thousand steps walking the bias there. With use_linear the analysis
        gives the scale of nearly every program, so there is nothing to set."""
        if self.cfg.use_linear:
            return
        with torch.no_grad():
            self.out_head.bias[self.cfg.hidden[1] + 1] = log_scale / self.cfg.map_gain

    def set_last_layer(self, last_layer: str) -> None:
        """Emit last layers as `last_layer` says (ModelConfig.last_layer): a choice of what the trained heads
        emit, not of their weights, so one checkpoint serves both."""
        self.cfg = ModelConfig.from_json({**self.cfg.to_json(), "last_layer": last_layer})

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def encode(self, token_ids, role_ids, index_ids, numeric, port_extra=None) -> torch.Tensor:
        """The encoder: [B, L] ids and [B, L, N_NUMERIC] features -> final states [B, L, D]. port_extra
        [B, L, D], if given, is added to the embeddings (zero away from ports)."""
        L = token_ids.shape[1]
        positions = torch.arange(L, device=token_ids.device)
        has_numeric = ((numeric[..., 0] + numeric[..., FLAG_PORT]) > 0).unsqueeze(-1).to(numeric.dtype)
        x = (self.token_emb(token_ids) + self.role_emb(role_ids) + self.index_emb(index_ids)
             + self.pos_emb(positions).unsqueeze(0) + self.numeric_mlp(numeric) * has_numeric)
        if port_extra is not None:
            x = x + port_extra
        attend = (role_ids != ROLE_PAD)[:, None, None, :]
        for block in self.blocks:
            x = block(x, attend)
        return self.ln_f(x)

    def flow_features(self, reach_in, reach_out, in_mask, out_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Port embeddings [B, I, D], [B, O, D] of the data flow. reach_in [B, I]: outputs each input reaches;
        reach_out [B, O]: inputs reaching each output."""
        n_out = out_mask.sum(1, keepdim=True).clamp(min=1.0)
        n_in = in_mask.sum(1, keepdim=True).clamp(min=1.0)
        feat_in = torch.stack([reach_in / n_out, (reach_in == 0).to(reach_in.dtype)], -1)
        feat_out = torch.stack([reach_out / n_in, (reach_out == 0).to(reach_out.dtype)], -1)
        return self.flow_emb(feat_in), self.flow_emb(feat_out)

    def linear_features(self, lin_beta, lin_out, out_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Port embeddings [B, I, D], [B, O, D] of the statistical linearisation (scaled to order one)."""
        n_out = out_mask.sum(1, keepdim=True).clamp(min=1.0)
        size = lin_beta.abs()
        feat_in = torch.stack([size.sum(2) / n_out, size.amax(2)], -1)
        m = lin_out[..., 2]
        asinh_m = torch.sign(m) * torch.log(m.abs() + torch.sqrt(m * m + 1))  # spelled out for the ONNX exporter
        feat_out = torch.stack([lin_out[..., 0], lin_out[..., 1] / 10, asinh_m / 5, lin_out[..., 3]], -1)
        return self.lin_in_emb(feat_in), self.lin_out_emb(feat_out)

    @staticmethod
    def at_ports(emb_in, emb_out, in_pos, in_mask, out_pos, out_mask, L: int) -> torch.Tensor:
        """[B, L, D]: port embeddings placed at their ports' positions, zero elsewhere."""
        emb_in = emb_in * in_mask.unsqueeze(-1)  # padded slots point at position 0: add nothing
        emb_out = emb_out * out_mask.unsqueeze(-1)
        D = emb_in.shape[-1]
        extra = torch.zeros(emb_in.shape[0], L, D, dtype=emb_in.dtype, device=emb_in.device)
        extra = extra.scatter_add(1, in_pos.unsqueeze(-1).expand(-1, -1, D), emb_in)
        return extra.scatter_add(1, out_pos.unsqueeze(-1).expand(-1, -1, D), emb_out)

    def forward(self, token_ids, role_ids, index_ids, numeric, in_pos, in_mask, out_pos, out_mask,
                flows=None, lin_beta=None, lin_out=None) -> dict:
        cfg = self.cfg
        H1, H2 = cfg.hidden
        port_in, port_out = [], []
        if cfg.use_flows:
            if flows is None:
                raise ValueError("this hypernetwork reads flows (use_flows) and was given none")
            reach_in, reach_out = flows.sum(2), flows.sum(1)  # [B, I], [B, O]; 0 on padded ports
            e_in, e_out = self.flow_features(reach_in, reach_out, in_mask, out_mask)
            port_in.append(e_in), port_out.append(e_out)
        if cfg.use_linear:
            if lin_beta is None or lin_out is None:
                raise ValueError("this hypernetwork reads the linearisation (use_linear) and was given none")
            e_in, e_out = self.linear_features(lin_beta, lin_out, out_mask)
            port_in.append(e_in), port_out.append(e_out)
        extra = None
        if port_in:
            extra = self.at_ports(sum(port_in), sum(port_out), in_pos, in_mask, out_pos, out_mask,
                                  token_ids.shape[1])
        states = self.encode(token_ids, role_ids, index_ids, numeric, extra)
        B = states.shape[0]
        cls = states[:, 0]
        ins, outs = gather_positions(states, in_pos), gather_positions(states, out_pos)
        if cfg.use_flows:  # each port takes in the mean state of the ports it connects to
            to_outs = flows / reach_in.unsqueeze(2).clamp(min=1.0)
            to_ins = flows / reach_out.unsqueeze(1).clamp(min=1.0)
            ins, outs = (ins + self.mix_in(to_outs @ outs),
                         outs + self.mix_out(to_ins.transpose(1, 2) @ ins))
        inv_sqrt_n_in = torch.rsqrt(in_mask.sum(dim=1).clamp(min=1.0))[:, None]  # [B, 1]
        base_w0 = self.base_w0[:in_pos.shape[1]].unsqueeze(0)
        if self.in_head is not None:
            base_w0 = base_w0 + self.in_head(ins)
        w0 = base_w0 * in_mask.unsqueeze(-1) * inv_sqrt_n_in.unsqueeze(-1)
        if cfg.use_flows:  # an input that reaches no output: a zero first-layer column
            w0 = w0 * (reach_in > 0).unsqueeze(-1).to(w0.dtype)
        corrections = list(self.bias_head(cls).split(self.bias_split, dim=-1)) if self.bias_head is not None else []
        db0 = corrections.pop(0) if cfg.first_layer == "generated" else 0.0
        db1 = corrections.pop(0) if cfg.second_layer == "generated" else 0.0
        if self.w1_head is not None:
            w1 = self.base_w1 + self.w1_head(cls).reshape(B, H2, H1)
        else:
            w1 = self.base_w1.expand(B, -1, -1)
        b0 = (self.base_b0 * inv_sqrt_n_in + db0).expand(B, -1)
        b1 = (self.base_b1 + db1).expand(B, -1)
        o = self.out_head(outs)
        w2, b2 = o[..., :H2], o[..., H2]
        log_scale = cfg.map_gain * o[..., H2 + 1]
        if cfg.use_linear:  # the analysis's log std, where it modelled the program
            log_scale = log_scale + lin_out[..., 0] * lin_out[..., 1]
        log_scale = soft_clamp(log_scale, cfg.max_log_scale)
        c = soft_clamp(cfg.map_gain * o[..., H2 + 2], cfg.max_shift_arg)
        shift_units = 0.5 * (torch.exp(c) - torch.exp(-c))  # sinh, spelled out: the ONNX exporter lacks aten::sinh
        if cfg.use_linear:  # the analysis's mean in stds, in units of the (corrected) scale
            to_scale = soft_clamp(lin_out[..., 0] * lin_out[..., 1] - log_scale, cfg.max_log_scale)
            shift_units = shift_units + lin_out[..., 2] * torch.exp(to_scale)
        gen = {"w0": w0, "b0": b0, "w1": w1, "b1": b1, "w2": w2, "b2": b2,
               "log_scale": log_scale, "shift_units": shift_units}
        if cfg.linear_channels:
            beta = torch.einsum("bik,bjk->bij", self.pair_in(ins), self.pair_out(outs)) / math.sqrt(cfg.pair_dim)
            if cfg.use_linear:  # the analysis's coefficients, times a learned gain per output (1 at the start)
                gain = torch.exp(soft_clamp(o[..., H2 + 3], 3.0))
                beta = beta + lin_beta * gain.unsqueeze(1)
            beta = beta * (flows if cfg.use_flows else in_mask.unsqueeze(2))  # flows are 0 on padded ports too
            only_channels = cfg.last_layer == "channels"
            if cfg.channel_pairs:
                gen = add_linear_channel_pairs(gen, beta, out_mask, only_channels)
            else:
                gen = add_linear_channels(gen, beta, out_mask, cfg.linear_offset, only_channels)
        return gen


def one_hot_rows(n: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[n, width] matrix with ones at (j, j): built from aranges so that n may be a dynamic size in ONNX."""
    return (torch.arange(n, device=like.device)[:, None] == torch.arange(width, device=like.device)[None, :]).to(
        like.dtype)


def add_linear_channels(gen: dict, beta: torch.Tensor, out_mask: torch.Tensor, offset: float,
                        only_channels: bool = False) -> dict:
    """Give output j a linear path of its own through hidden unit j of both layers ("linear channel" j).

    beta [B, I, O]: linear coefficients (standardised output per normalised input). Unit j of layer 1 computes
    sum_i beta_ij u_i + c, unit j of layer 2 passes it on, both around the offset c where SiLU is nearly the
    identity (slope s' = silu'(c)), and output j reads it back with gain 1/s'^2; so v_j = sum_i beta_ij u_i plus
    what the other units add. The end-to-end gradient on beta is then that of a linear regression, the easiest
    thing to learn first, and most programs' outputs are largely linear in their inputs. It is still a plain
    MLP: the channels are ordinary weights that fine-tuning may change like any other. only_channels: the last
    layer reads the channel units alone (ModelConfig.last_layer "channels").
    """
    w0, w1, w2 = gen["w0"], gen["w1"], gen["w2"]
    H1, H2, O = w0.shape[2], w1.shape[1], out_mask.shape[1]
    c = torch.tensor(offset, dtype=w0.dtype)
    sig = torch.sigmoid(c)
    silu_c, slope = c * sig, sig * (1 + c * (1 - sig))
    to_h1, to_h2 = one_hot_rows(O, H1, w0), one_hot_rows(O, H2, w0)  # output j -> unit j
    ch1, ch2 = out_mask @ to_h1, out_mask @ to_h2  # [B, H]: 1 on channel units
    gain = 1 / slope ** 2
    w2 = w2 * ch2.unsqueeze(1) if only_channels else w2
    return {**gen,
            "w0": w0 * (1 - ch1).unsqueeze(1) + (beta * out_mask.unsqueeze(1)) @ to_h1,
            "b0": gen["b0"] * (1 - ch1) + c * ch1,
            "w1": w1 * (1 - ch2).unsqueeze(2) + ch2.unsqueeze(2) * one_hot_rows(H2, H1, w0),
            "b1": gen["b1"] * (1 - ch2) + (c - silu_c) * ch2,
            "w2": w2 + gain * out_mask.unsqueeze(2) * to_h2,
            "b2": gen["b2"] - gain * silu_c * out_mask}


def add_linear_channel_pairs(gen: dict, beta: torch.Tensor, out_mask: torch.Tensor,
                             only_channels: bool = False) -> dict:
    """Linear channels as pairs: output j's linear part through units j and H-1-j of both layers.

    Layer 1: unit j computes silu(z_j), unit H-1-j silu(-z_j), z_j = sum_i beta_ij u_i, and silu(z) - silu(-z) = z
    exactly; layer 2 does the same with their difference, and output j reads the second pair's difference. So
    v_j = z_j plus what the other units add, exactly, with activations the size of z rather than of an offset
    (add_linear_channels' units sit at ~5, and a weight that reads one moves its output 5 times as much per
    fine-tuning step). Costs two units per output and layer. only_channels: as for add_linear_channels.
    """
    w0, w1, w2 = gen["w0"], gen["w1"], gen["w2"]
    H1, H2, O = w0.shape[2], w1.shape[1], out_mask.shape[1]

    def pairs(width):  # [O, width]: +1 at unit j, -1 at unit width-1-j
        cols = torch.arange(width, device=w0.device)[None, :]
        rows = torch.arange(O, device=w0.device)[:, None]
        return (cols == rows).to(w0.dtype) - (cols == width - 1 - rows).to(w0.dtype)

    d1, d2 = pairs(H1), pairs(H2)  # [O, H]
    ch1, ch2 = out_mask @ d1.abs(), out_mask @ d2.abs()  # [B, H]: 1 on channel units
    masked_beta = beta * out_mask.unsqueeze(1)  # [B, I, O]
    # second layer: row j (+) and row H-1-j (-) read layer 1's difference for output j
    w1_pairs = (d2.t().unsqueeze(0) * out_mask.unsqueeze(1)) @ d1  # [B, H2, H1]
    w2 = w2 * ch2.unsqueeze(1) if only_channels else w2
    return {**gen,
            "w0": w0 * (1 - ch1).unsqueeze(1) + masked_beta @ d1,
            "b0": gen["b0"] * (1 - ch1),
            "w1": w1 * (1 - ch2).unsqueeze(2) + w1_pairs,
            "b1": gen["b1"] * (1 - ch2),
            "w2": w2 + out_mask.unsqueeze(2) * d2[None, :O],
            "b2": gen["b2"]}


class UnconditionedInit(nn.Module):
    """The same initialisation for every program: learned weights per input slot / output slot, shared hidden
    layers. Its outputs are calibrated from data (out_calibrated False), so it is trained against standardised
    targets and its generated log_scale/shift_units are zero."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        (H1, H2), I, O = cfg.hidden, cfg.max_inputs, cfg.max_outputs

        def uniform(shape, fan_in):  # starts as random init does: torch.nn.Linear's U(+-1/sqrt(fan_in))
            return nn.Parameter(torch.empty(shape).uniform_(-1, 1) / math.sqrt(fan_in))

        self.w0, self.b0 = uniform((I, H1), 4), uniform((H1,), 4)  # first layer as for a 4-input program
        self.w1, self.b1 = uniform((H2, H1), H1), uniform((H2,), H1)
        self.w2, self.b2 = uniform((O, H2), H2), nn.Parameter(torch.zeros(O))

    def forward(self, in_mask, out_mask) -> dict:
        B, I = in_mask.shape
        O = out_mask.shape[1]
        zeros = torch.zeros_like(out_mask)
        return {"w0": self.w0[:I].expand(B, -1, -1) * in_mask.unsqueeze(-1),
                "b0": self.b0.expand(B, -1), "w1": self.w1.expand(B, -1, -1), "b1": self.b1.expand(B, -1),
                "w2": self.w2[:O].expand(B, -1, -1), "b2": self.b2[:O].expand(B, -1),
                "log_scale": zeros, "shift_units": zeros}

    def arrays(self) -> dict:
        return {k: getattr(self, k).detach().cpu().contiguous() for k in ("w0", "b0", "w1", "b1", "w2", "b2")}


def run_generated(gen: dict, u: torch.Tensor) -> torch.Tensor:
    """Generated surrogates on normalised inputs u [B, S, I] -> pre-scale outputs v [B, S, O]."""
    weights = [gen["w0"].transpose(1, 2), gen["w1"], gen["w2"]]
    biases = [gen["b0"], gen["b1"], gen["b2"]]
    return mlp_forward(u, weights, biases, "silu")


def relative_errors(gen: dict, u, z, log_sigma, mean_over_sigma, out_mask) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean squared errors of generated surrogates per output, relative to the output's variance: two [B, O]
    (the zero-shot one in float64).

    z = (y - mean) / sigma are the standardised targets [B, S, O]. A constant predictor of the mean scores 1;
    masked outputs score 0.
      calibrated: the surrogate with its output map set from the data (y = v * sigma + mean), i.e. the error of
                  v against z. This is the network's shape, what fine-tuning starts from after calibrating the
                  output map, and what the unconditioned init is scored on.
      zero_shot:  the surrogate with its predicted output map, y = (v + shift_units) * exp(log_scale), in
                  standardised form (v + shift_units) * exp(log_scale - log sigma) - mean / sigma so that
                  wildly wrong scales stay finite. v and log_scale are detached here: this error trains the
                  predicted shift only, so map errors never pull the network away from the calibrated shape,
                  and the scale (trained directly, `scale_error`) cannot shrink to hide a wrong shift.
    """
    v = run_generated(gen, u)
    calibrated = ((v - z) ** 2).mean(dim=1) * out_mask
    # zero-shot in float64: a hopeless predicted map (a shift of sinh(20) units at a scale e^25 too large) is
    # ~1e19 stds off, whose square overflows float32; the loss was then inf and the shift got no gradient
    ratio = torch.exp(soft_clamp(gen["log_scale"].detach().double() - log_sigma.double(), 25.0)).unsqueeze(1)
    z_hat = (v.detach().double() + gen["shift_units"].double().unsqueeze(1)) * ratio \
        - mean_over_sigma.double().unsqueeze(1)
    zero_shot = ((z_hat - z.double()) ** 2).mean(dim=1) * out_mask
    return calibrated, zero_shot


def scale_error(gen: dict, log_sigma: torch.Tensor, out_mask: torch.Tensor) -> torch.Tensor:
    """The predicted output scale's error [B, O]: Huber distance between log out_scale and the log std of the
    program's output. This trains the scale directly (a regression), rather than through the zero-shot error,
    which would shrink scales to hide wrong shifts while the network is still noise."""
    return F.smooth_l1_loss(gen["log_scale"], log_sigma, reduction="none") * out_mask


def program_mean(values: torch.Tensor, out_mask: torch.Tensor) -> torch.Tensor:
    """[B, O] -> scalar: mean over each program's (unmasked) outputs, then over programs."""
    return ((values * out_mask).sum(1) / out_mask.sum(1).clamp(min=1)).mean()


def program_loss(rel_mse: torch.Tensor, out_mask: torch.Tensor) -> torch.Tensor:
    """log1p of each output's relative MSE (robust to hopeless programs, ~ the MSE itself on good ones), averaged
    over a program's outputs, then over programs."""
    return program_mean(torch.log1p(rel_mse), out_mask)
