"""Outputs the front-end proves piecewise affine are emitted exactly: a compile-time pass after the hypernetwork.

The statistical linearisation (nsc/frontend/linearize.py) gives an output an exact `Form` when it is built from
the inputs by sums, scalings by constants and saturating selects (a filter, a colour matrix, a transform, a
clamp): m + c . u + sum_k a_k relu(p_k(u)) with affine p_k. The hypernetwork routes each output j's linear part through hidden unit j of both layers (a
"linear channel", nsc/training/model.py `add_linear_channels`) at an operating point where SiLU is only nearly the
identity, and adds learned corrections; its surrogate of an affine output is close, not exact (rel-RMSE ~0.04
on examples/dct8.c). This pass rewrites the channel of each exact output so the surrogate computes it exactly:

  layer 1, unit j:  silu(beta_j . u + c)          beta_j = coef_j / std_j, c = EXACT_OFFSET, where SiLU is the
  layer 2, unit j:  silu(h1_j + c - silu(c))      identity to float32 precision (1 - silu'(16) ~ 2e-6)
  output j:         (h2_j - silu(c)) / silu'(c)^2, then the map out_scale = std_j, out_shift = mean_j

with no other unit read by output j; each kink takes a first-layer unit that is not a channel, silu(K p_k(u))
~ K relu(p_k(u)) with K = KINK_GAIN, read by the second-layer unit of each output that has it (the units that
read the random feature it replaces get that feature's value at u = 0 in their bias instead), and sets out_calibrated so that fine-tuning keeps the map wherever it fits
the data better than the data's own mean and std would (nsc/surrogate/finetune.py `calibrate_outputs`): an exact
map always does. Other units that read channel j get their bias moved by the change of its operating point, so
the other outputs compute what the hypernetwork gave them, to first order, but for the random features kink units
took over.
"""

from __future__ import annotations

import math

import numpy as np

from nsc.surrogate.params import SurrogateParams

EXACT_OFFSET = 16.0  # channel operating point: 1 - silu'(c) ~ c e^-c (2e-6); float32 keeps ~1e-6 of c + z
KINK_GAIN = 1e4  # a kink unit is silu(K x) ~ K relu(x), off by at most 0.28 / K where |x| < a few / K


def _silu(x):
    return x / (1.0 + np.exp(-x))


def emit_exact_outputs(params: SurrogateParams, linear, offset: float = EXACT_OFFSET, kink_gain: float = KINK_GAIN
                       ) -> tuple[SurrogateParams, list[int]]:
    """(params with the exact outputs rewritten, the indices of those outputs). `linear` is the program's
    Linearization (or an Unsupported reason: nothing to do). params must come from a hypernetwork with linear
    channels: output j's channel is hidden unit j of both layers. An output whose kinks find no free first-layer
    unit is left as the hypernetwork made it."""
    forms = getattr(linear, "forms", None)
    if not forms or all(f is None for f in forms):
        return params, []
    w0, w1, w2 = (np.array(w, dtype=np.float64) for w in params.weights)  # copies
    b0, b1, b2 = (np.array(b, dtype=np.float64) for b in params.biases)
    out_scale = np.array(params.out_scale, dtype=np.float64)
    out_shift = np.array(params.out_shift, dtype=np.float64)
    sig = 1.0 / (1.0 + math.exp(-offset))
    silu_c, slope = offset * sig, sig * (1.0 + offset * (1.0 - sig))
    n_out = len(forms)
    free = list(range(n_out, w0.shape[0]))  # first-layer units that are not channels, for the kinks
    kink_unit: dict = {}
    done = []
    for j, form in enumerate(forms):
        std = float(np.sqrt((linear.coef[:, j] ** 2).sum() / 3.0 + linear.resid[j]))
        if form is None or not (std > 0 and math.isfinite(std)):
            continue  # not proven, or a constant output: the generated map already says so
        new = [key for key in form.kinks if key not in kink_unit]
        if len(new) > len(free):
            continue
        done.append(j)
        for key in new:  # unit q := kink_gain * relu(km + kc . u), to 0.28 / kink_gain
            q = kink_unit[key] = free.pop(0)
            km, kc = key
            b1 += w1[:, q] * _silu(b0[q])  # the units that read q's old feature keep its value at u = 0
            w1[:, q] = 0.0
            w0[q], b0[q] = kink_gain * np.asarray(kc), kink_gain * km
        # operating points before and after (u = 0), to move the biases of the units that read the channel
        h1_old = _silu(b0[j])
        h2_old = _silu(b1[j] + h1_old)  # layer-2 unit j reads layer-1 unit j alone (add_linear_channels)
        w0[j], b0[j] = form.c / std, offset
        w1[j], w1[j, j], b1[j] = 0.0, 1.0, offset - silu_c
        for key, a in form.kinks.items():  # output j reads its kinks through its second-layer unit
            w1[j, kink_unit[key]] = slope * a / (std * kink_gain)
        h1_new, h2_new = _silu(offset), _silu(offset)
        others1 = np.arange(w1.shape[0]) != j
        b1[others1] -= w1[others1, j] * (h1_new - h1_old)
        others2 = np.arange(w2.shape[0]) != j
        b2[others2] -= w2[others2, j] * (h2_new - h2_old)
        w2[j], w2[j, j] = 0.0, 1.0 / slope ** 2
        b2[j] = -silu_c / slope ** 2 + (form.m - linear.mean[j]) / std
        out_scale[j], out_shift[j] = std, linear.mean[j]
    if not done:
        return params, []
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    out = SurrogateParams(params.in_shift.copy(), params.in_scale.copy(), [f32(w0), f32(w1), f32(w2)],
                          [f32(b0), f32(b1), f32(b2)], f32(out_scale), f32(out_shift), params.activation,
                          out_calibrated=True, extra=dict(params.extra))
    return out, done
