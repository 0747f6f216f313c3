"""The torch view of a surrogate, for fine-tuning: the same maths as the ONNX graph (onnx_io.py), same weights.

`SurrogateMLP` is one surrogate; `BatchedSurrogateMLP` holds M surrogates of one architecture stacked along a
leading member axis (weights [M, fan_out, fan_in], biases [M, fan_out]) and runs them with one batched matmul
(torch.baddbmm) per layer, which is how the fine-tuning engine trains many surrogates at once.
`mlp_forward` is the functional core both use (and anything else that has weights as tensors).

Conversions copy float32 arrays in and out unchanged, so params -> torch -> params is bit-exact.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nsc.surrogate.params import SurrogateParams

ACTIVATION_FNS = {"silu": F.silu, "relu": F.relu, "tanh": torch.tanh}


def mlp_forward(u: torch.Tensor, weights, biases, activation: str, floors=None) -> torch.Tensor:
    """Normalised inputs u -> normalised outputs v.

    Single surrogate: u [B, n_in], weights[i] [fan_out, fan_in], biases[i] [fan_out].
    Batched: u [M, B, n_in], weights[i] [M, fan_out, fan_in], biases[i] [M, fan_out].
    floors: None, or per hidden layer a [fan_out] tensor (shared by the members): h = max(z, floor).
    """
    act = ACTIVATION_FNS[activation]
    h = u
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        if w.dim() == 2:
            h = F.linear(h, w, b)
        else:
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < last:
            h = act(h) if floors is None else torch.maximum(h, floors[i])
    return h


def same_floors(a: SurrogateParams, b: SurrogateParams) -> bool:
    """Do two surrogates of one architecture share their floors (so they can be trained as one batch)?"""
    if a.floors is None or b.floors is None:
        return a.floors is None and b.floors is None
    return all(np.array_equal(x, y) for x, y in zip(a.floors, b.floors))


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float32, copy=True))


def _array(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32).copy()


class SurrogateMLP(nn.Module):
    """One surrogate: normalisation constants as buffers, layer weights and biases as parameters."""

    def __init__(self, params: SurrogateParams):
        super().__init__()
        params.validate()
        self.activation = params.activation
        self.out_calibrated = params.out_calibrated
        self.extra = dict(params.extra)
        self.floors = None if params.floors is None else [_tensor(f) for f in params.floors]
        self.register_buffer("in_shift", _tensor(params.in_shift))
        self.register_buffer("in_scale", _tensor(params.in_scale))
        self.register_buffer("out_scale", _tensor(params.out_scale))
        self.register_buffer("out_shift", _tensor(params.out_shift))
        self.weights = nn.ParameterList([nn.Parameter(_tensor(w)) for w in params.weights])
        self.biases = nn.ParameterList([nn.Parameter(_tensor(b)) for b in params.biases])

    def normalise_inputs(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.in_shift) / self.in_scale

    def forward_normalised(self, u: torch.Tensor) -> torch.Tensor:
        return mlp_forward(u, list(self.weights), list(self.biases), self.activation, self.floors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, n_in] -> y [B, n_out], program units (what the ONNX graph computes)."""
        return self.forward_normalised(self.normalise_inputs(x)) * self.out_scale + self.out_shift

    def to_params(self) -> SurrogateParams:
        return SurrogateParams(_array(self.in_shift), _array(self.in_scale), [_array(w) for w in self.weights],
                               [_array(b) for b in self.biases], _array(self.out_scale), _array(self.out_shift),
                               self.activation, self.out_calibrated, dict(self.extra),
                               None if self.floors is None else [_array(f) for f in self.floors])


class BatchedSurrogateMLP(nn.Module):
    """M surrogates of one architecture, stacked: every tensor has a leading member axis of size M."""

    def __init__(self, params_list: list[SurrogateParams]):
        super().__init__()
        if not params_list:
            raise ValueError("need at least one surrogate")
        first = params_list[0]
        for p in params_list:
            p.validate()
            if (p.n_in, p.hidden, p.n_out, p.activation) != (first.n_in, first.hidden, first.n_out,
                                                              first.activation) or not same_floors(p, first):
                raise ValueError("all batched surrogates must share inputs, hidden widths, outputs and activation")
        stack = lambda arrays: torch.from_numpy(np.stack([np.asarray(a, np.float32) for a in arrays]))  # noqa
        self.activation = first.activation
        self.floors = None if first.floors is None else [_tensor(f) for f in first.floors]
        self.out_calibrated = [p.out_calibrated for p in params_list]
        self.extras = [dict(p.extra) for p in params_list]
        self.register_buffer("in_shift", stack([p.in_shift for p in params_list]))
        self.register_buffer("in_scale", stack([p.in_scale for p in params_list]))
        self.register_buffer("out_scale", stack([p.out_scale for p in params_list]))
        self.register_buffer("out_shift", stack([p.out_shift for p in params_list]))
        n_layers = len(first.weights)
        self.weights = nn.ParameterList(
            [nn.Parameter(stack([p.weights[i] for p in params_list])) for i in range(n_layers)])
        self.biases = nn.ParameterList(
            [nn.Parameter(stack([p.biases[i] for p in params_list])) for i in range(n_layers)])

    @property
    def n_members(self) -> int:
        return int(self.in_shift.shape[0])

    def normalise_inputs(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.in_shift.unsqueeze(1)) / self.in_scale.unsqueeze(1)

    def forward_normalised(self, u: torch.Tensor) -> torch.Tensor:
        return mlp_forward(u, list(self.weights), list(self.biases), self.activation, self.floors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [M, B, n_in] -> y [M, B, n_out], program units."""
        v = self.forward_normalised(self.normalise_inputs(x))
        return v * self.out_scale.unsqueeze(1) + self.out_shift.unsqueeze(1)

    def member_params(self, m: int) -> SurrogateParams:
        return SurrogateParams(_array(self.in_shift[m]), _array(self.in_scale[m]),
                               [_array(w[m]) for w in self.weights], [_array(b[m]) for b in self.biases],
                               _array(self.out_scale[m]), _array(self.out_shift[m]), self.activation,
                               self.out_calibrated[m], dict(self.extras[m]),
                               None if self.floors is None else [_array(f) for f in self.floors])

    def to_params_list(self) -> list[SurrogateParams]:
        return [self.member_params(m) for m in range(self.n_members)]
