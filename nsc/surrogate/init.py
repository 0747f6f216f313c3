"""Random initialisation of a surrogate: the from-scratch baseline (`nsc compile --init random`).

Weights follow torch.nn.Linear's default (Kaiming-uniform with a=sqrt(5)): W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
drawn with numpy so the compile path never imports torch. Inputs are normalised from the declared ranges; the
output map is a placeholder (scale 1, shift 0, out_calibrated False) that fine-tuning sets from data.
"""

from __future__ import annotations

import numpy as np

from nsc.surrogate.params import (ACTIVATIONS, DEFAULT_ACTIVATION, DEFAULT_HIDDEN, SurrogateParams,
                                  input_normalisation)


def random_params(n_in: int, n_out: int, lo, hi, seed: int = 0, hidden: tuple[int, ...] = DEFAULT_HIDDEN,
                  activation: str = DEFAULT_ACTIVATION) -> SurrogateParams:
    """A surrogate with random weights for `n_in` inputs in [lo, hi] (arrays [n_in]) and `n_out` outputs.

    Deterministic given `seed`. Raises ValueError for inconsistent shapes or an unknown activation.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"a surrogate needs at least one input and one output (got {n_in}, {n_out})")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r} (choose from {', '.join(ACTIVATIONS)})")
    lo = np.asarray(lo, dtype=np.float64).reshape(-1)
    hi = np.asarray(hi, dtype=np.float64).reshape(-1)
    if lo.shape != (n_in,) or hi.shape != (n_in,):
        raise ValueError(f"lo/hi must have {n_in} entries (got {lo.shape[0]}, {hi.shape[0]})")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError("input ranges must be finite with lo < hi")
    rng = np.random.default_rng(seed)
    widths = [n_in, *[int(h) for h in hidden], n_out]
    weights, biases = [], []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32))
        biases.append(rng.uniform(-bound, bound, size=fan_out).astype(np.float32))
    in_shift, in_scale = input_normalisation(lo, hi)
    params = SurrogateParams(in_shift, in_scale, weights, biases, np.ones(n_out, np.float32),
                             np.zeros(n_out, np.float32), activation, out_calibrated=False)
    params.validate()
    return params
