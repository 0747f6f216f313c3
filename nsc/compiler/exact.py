"""Programs the front-end proves piecewise affine are compiled exactly: a compile-time pass after the hypernetwork.

The statistical linearisation (nsc/frontend/linearize.py) gives an output an exact `Form` when it is built from
the inputs by sums, scalings by constants and saturating selects (a filter, a colour matrix, a transform, a
clamp): m + c . u + sum_k a_k relu(p_k(u)) with affine p_k. The hypernetwork routes each output j's linear part
through hidden unit j of both layers (a "linear channel", nsc/training/model.py `add_linear_channels`) at an
operating point where SiLU is only nearly the identity, and adds learned corrections; its surrogate of an affine
output is close, not exact. When every output has a form, this pass rewrites the surrogate to compute them
exactly:

  layer 1, unit j:  silu(beta_j . u + c)          beta_j = coef_j / std_j, c = EXACT_OFFSET, where SiLU is the
  layer 2, unit j:  silu(h1_j + c - silu(c) + kinks_j)    identity to float32 precision (1 - silu'(16) ~ 2e-6)
  output j:         (h2_j - silu(c)) / silu'(c)^2, then the map out_scale = std_j, out_shift = mean_j

Each distinct kink takes a first-layer unit that is not a channel, silu(K p_k(u)) ~ K relu(p_k(u)) with
K = KINK_GAIN, and the second-layer unit of each output that has it adds it (kinks_j). No output reads any other
unit. The surrogate declares its map (out_calibrated), and fine-tuning keeps a map where it fits the training rows
better than the data's mean and std (nsc/surrogate/finetune.py `calibrate_outputs`), which an exact one does;
its first epoch is then the best, and early stopping returns it.

Why every output or none: exact units carry large activations (~c, and ~K times a kink's argument), and
fine-tuning's Adam moves every weight by about the learning rate at its first steps, so a weight that reads such a
unit moves its output a lot. Where some outputs are not exact, fine-tuning must train the network and that
disturbance costs it: on the held-out corpus split, rewriting only the exact outputs of the two programs that have
some made their data efficiency worse (4.05x -> 2.56x, 1.54x -> 1.10x; `make results` at commit 526b562, which
rewrote per output).
So a program with any inexact output keeps what the hypernetwork made of it.
"""

from __future__ import annotations

import math

import numpy as np

from nsc.surrogate.params import SurrogateParams

EXACT_OFFSET = 16.0  # channel operating point: 1 - silu'(c) ~ c e^-c (2e-6); float32 keeps ~1e-6 of c + z
KINK_GAIN = 1e4  # a kink unit is silu(K x) ~ K relu(x), off by at most 0.28 / K where |x| < a few / K


def emit_exact_outputs(params: SurrogateParams, linear, offset: float = EXACT_OFFSET, kink_gain: float = KINK_GAIN
                       ) -> tuple[SurrogateParams, bool]:
    """(params, True) rewritten to compute the program exactly where the analysis (`linear`: the program's
    Linearization, or an Unsupported reason) proves every output piecewise affine and the kinks fit in the
    first layer's free units; else (params, False) unchanged. Every output's row is rewritten, so nothing of the
    hypernetwork's own layout is assumed but the widths."""
    forms = getattr(linear, "forms", None)
    if not forms or any(f is None for f in forms):
        return params, False
    kinks = list(dict.fromkeys(key for f in forms for key in f.kinks))  # distinct, in order
    n_out, width = len(forms), params.weights[0].shape[0]
    if n_out + len(kinks) > width:
        return params, False
    w0, w1, w2 = (np.array(w, dtype=np.float64) for w in params.weights)  # copies
    b0, b1, b2 = (np.array(b, dtype=np.float64) for b in params.biases)
    out_scale = np.array(params.out_scale, dtype=np.float64)
    out_shift = np.array(params.out_shift, dtype=np.float64)
    sig = 1.0 / (1.0 + math.exp(-offset))
    silu_c, slope = offset * sig, sig * (1.0 + offset * (1.0 - sig))
    unit, stds = {}, linear.std
    for q, key in enumerate(kinks, start=n_out):  # unit q := kink_gain * relu(km + kc . u), to 0.28 / kink_gain
        km, kc = key
        w0[q], b0[q], unit[key] = kink_gain * np.asarray(kc), kink_gain * km, q
    for j, form in enumerate(forms):
        # the output map: the analysis's std (any positive scale is exact; this one keeps v ~ standardised)
        std = float(stds[j])
        if not (std > 0 and math.isfinite(std)):
            std = float(np.abs(form.c).sum() + sum(abs(a) for a in form.kinks.values()))
        w2[j], b2[j] = 0.0, 0.0  # output j reads its channel alone
        if not std > 0:  # a constant
            out_scale[j], out_shift[j] = 1.0, form.m
            continue
        w0[j], b0[j] = form.c / std, offset
        w1[j], w1[j, j], b1[j] = 0.0, 1.0, offset - silu_c
        for key, a in form.kinks.items():  # the second-layer unit adds the kinks
            w1[j, unit[key]] = slope * a / (std * kink_gain)
        w2[j, j] = 1.0 / slope ** 2
        b2[j] = -silu_c / slope ** 2 + (form.m - linear.mean[j]) / std
        out_scale[j], out_shift[j] = std, linear.mean[j]
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    out = SurrogateParams(params.in_shift.copy(), params.in_scale.copy(), [f32(w0), f32(w1), f32(w2)],
                          [f32(b0), f32(b1), f32(b2)], f32(out_scale), f32(out_shift), params.activation,
                          out_calibrated=True, extra=dict(params.extra))
    return out, True
