"""The surrogate's weights as plain numpy arrays: the one format every stage exchanges.

The surrogate is an MLP in normalised units, wrapped in fixed affine maps to the program's own units:

    u = (x - in_shift) / in_scale                      # in_shift/in_scale from the input ranges: u in [-1, 1]
    h = act(W_0 u + b_0); ...; h = act(W_{k-1} h + b_{k-1})
    v = W_k h + b_k
    y = v * out_scale + out_shift                      # program units

A structurally compiled surrogate (nsc/compiler/structural.py) also has per-unit `floors`: each hidden layer
computes h = max(z, floor) instead of act(z), so a unit with floor 0 is a ReLU and one with floor -FLT_MAX is
the identity (it carries a value from one layer to the next unchanged). `floors` is None for a plain MLP.

`out_calibrated` says whether out_scale/out_shift already describe the program's outputs (a compiled
surrogate predicts them) or are placeholders (random init: 1 and 0) that fine-tuning must first set from data.
The compiler (hypernetwork), the ONNX form, the torch view and fine-tuning all read and write this one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from nsc_runtime.metadata import ACTIVATIONS  # the activations a surrogate file may name, defined once
from nsc_runtime.weights import check_initializers, initializer_names, input_normalisation  # noqa: F401 - re-exported

DEFAULT_HIDDEN = (64, 64)
DEFAULT_ACTIVATION = "silu"
LINEAR_FLOOR = float(np.finfo(np.float32).min)  # a floor below every float32: the unit is the identity


@dataclass
class SurrogateParams:
    in_shift: np.ndarray  # [n_in] float32
    in_scale: np.ndarray  # [n_in] float32, > 0
    weights: list[np.ndarray]  # W_i: [fan_out, fan_in] float32 (torch Linear layout)
    biases: list[np.ndarray]  # b_i: [fan_out] float32
    out_scale: np.ndarray  # [n_out] float32, > 0
    out_shift: np.ndarray  # [n_out] float32
    activation: str = DEFAULT_ACTIVATION
    out_calibrated: bool = False
    extra: dict = field(default_factory=dict)  # free-form notes carried into metadata, never used for maths
    floors: list[np.ndarray] | None = None  # per hidden layer [width] float32: h = max(z, floor) (activation relu)

    @property
    def n_in(self) -> int:
        return int(self.in_shift.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.out_shift.shape[0])

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(int(w.shape[0]) for w in self.weights[:-1])

    def validate(self) -> None:
        """Raise ValueError unless shapes chain, values are finite and scales positive: the checks nsc_runtime
        applies to every surrogate file (nsc_runtime.weights), on these arrays under their file names."""
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ValueError("weights and biases must be non-empty lists of equal length")
        if self.floors is not None and len(self.floors) != len(self.weights) - 1:
            raise ValueError("floors must give one value per hidden unit")
        check_initializers(self.named_arrays(), self.activation)

    def named_arrays(self) -> dict[str, np.ndarray]:
        """The arrays under their ONNX initializer names (nsc_runtime.weights.initializer_names), in graph order."""
        arrays = [self.in_shift, self.in_scale]
        for w, b in zip(self.weights, self.biases):
            arrays += [w, b]
        arrays += [self.out_scale, self.out_shift, *(self.floors or [])]
        names = initializer_names(len(self.weights), self.floors is not None)
        return {name: np.asarray(a) for name, a in zip(names, arrays)}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """y in program units for inputs x [n, n_in], numpy float64 (scoring; deployment runs the ONNX graph)."""
        act = {"silu": lambda h: h * 0.5 * (1.0 + np.tanh(0.5 * h)),  # sigmoid without overflow
               "relu": lambda h: np.maximum(h, 0.0), "tanh": np.tanh}
        f = act[self.activation]
        h = (np.asarray(x, dtype=np.float64) - self.in_shift) / self.in_scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.astype(np.float64).T + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, self.floors[i]) if self.floors is not None else f(h)
        return h * self.out_scale + self.out_shift

    def astype32(self) -> "SurrogateParams":
        f = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        return SurrogateParams(f(self.in_shift), f(self.in_scale), [f(w) for w in self.weights],
                               [f(b) for b in self.biases], f(self.out_scale), f(self.out_shift),
                               self.activation, self.out_calibrated, dict(self.extra),
                               None if self.floors is None else [f(a) for a in self.floors])

