"""Programs the front-end proves piecewise affine are compiled exactly: a compile-time pass after the hypernetwork.
(Those whose forms also hold Euclidean lengths are compiled from them to a stated error: see the end.)

The statistical linearisation (nsc/analysis/linearize.py) gives an output an exact `Form` when it is built from
the inputs by sums, scalings by constants and saturating selects (a filter, a colour matrix, a transform, a
clamp): m + c . u + sum_k a_k relu(p_k(u)) with affine p_k. The hypernetwork routes each output j's linear part
through hidden unit j of both layers (a "linear channel", nsc/training/model.py `add_linear_channels`) at an
operating point where SiLU is only nearly the identity, and adds learned corrections; its surrogate of an affine
output is close, not exact. When every output has a form, this pass rewrites the surrogate to compute them
exactly:

  layer 1, unit j:  silu(beta_j . u + c)          beta_j = coef_j / std_j, c = EXACT_OFFSET + how far the two
  layer 2, unit j:  silu(h1_j + c - silu(c) + kinks_j)    layers' inputs can move from c, where SiLU is the
                                                           identity to float32 precision (1 - silu'(16) ~ 2e-6)
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

Euclidean lengths. A form may hold lengths |V(u)| for an affine V into R^r (sqrt of a sum of squares: a gradient
magnitude, a distance between colours; nsc/analysis/forms.py). No ReLU network computes one exactly, but it is a
weighted sum of |d . V(u)| over directions d (exactly, averaged over every direction), so with K fixed directions
it becomes 2K kinks, each |.| being relu(.) + relu(-.) (`norm_rule`): K = 12 for r = 2 (relative error at most
0.43%) and K = 16 for r = 3 (3.92%). Longer vectors are left to the hypernetwork. Such a surrogate is not called
exact: params.extra["closed_form_error"] holds a bound on its error as a share of each output's range over the box
(the largest), `nsc compile` and `nsc inspect` state it, and beyond MAX_CLOSED_FORM_ERROR the hypernetwork's
surrogate is kept.

Squares are not compiled (a form with x * x or x * y left keeps the hypernetwork's surrogate), though the forms
prove them: interpolated over their range in 12 pieces, they compiled a held-out program's price x frequency to
2% of its range (zero-shot 0.083 -> 0.005), but such a surrogate does not fine-tune (its kink units' weights are
~1e-5 and Adam's first steps swamp them; early stopping keeps the start), so random init passed it at 1024 samples
and `make results`' held-out data efficiency fell from 2.39x to 2.07x (bench/HISTORY.md).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from nsc.analysis.forms import Form, abs_of
from nsc.surrogate.params import SurrogateParams

EXACT_OFFSET = 16.0  # channel operating point beyond its reach: 1 - silu'(c) ~ c e^-c (2e-6); float32 ~1e-6 of c
KINK_GAIN = 1e4  # a kink unit is silu(K x) ~ K relu(x), off by at most 0.28 / K where |x| < a few / K


# |v| ~ sum_k w_k |D_k . v| (`norm_rule`), per number of components r: 2K first-layer units a length.
# r = 2: K = 12 directions evenly spaced on a half circle, equal weights; sum_k |cos(t - k pi / K)| ranges over
# [cot(pi / 2K), 1 / sin(pi / 2K)], so the weight 2 / (sum of the two) errs by at most tan(pi / 4K)^2 = 0.43%.
# r = 3: K = 16 directions of a Fibonacci lattice on a half sphere (`_fibonacci_sphere(16, half=True)`), weights
# by least squares of the relative error over 20,000 lattice points, then scaled to balance the largest errors
# above and below; the error, 3.92%, is the largest over 2,000,000 random unit vectors. tests/test_compiler.py
# derives both again.
NORM_DIRECTIONS = {2: 12, 3: 16}
# Beyond this bound on the error, as a share of an output's range, the hypernetwork's surrogate is kept (a length
# plus terms that nearly cancel it can leave an output whose range is small against the length's error).
MAX_CLOSED_FORM_ERROR = 0.10
NORM_WEIGHTS_3 = np.array([0.09124173, 0.11671416, 0.13295867, 0.15906097, 0.12561133, 0.11095054, 0.12637495,
                           0.15258567, 0.13319536, 0.11513250, 0.11797107, 0.12745454, 0.11633316, 0.13554715,
                           0.13355612, 0.11612006])
NORM_ERROR_3 = 0.0392


@lru_cache(maxsize=None)
def norm_rule(r: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(directions D [K, r], weights w [K], error): |v| ~ sum_k w_k |D_k . v| for every v in R^r, within the
    relative `error` (the approximation is positively homogeneous, so its error on unit vectors is its error)."""
    K = NORM_DIRECTIONS[r]
    if r == 2:
        angles = np.pi * np.arange(K) / K
        half = np.pi / (2 * K)
        weight = 2.0 / (1.0 / math.sin(half) + 1.0 / math.tan(half))
        return np.c_[np.cos(angles), np.sin(angles)], np.full(K, weight), math.tan(half / 2) ** 2
    return _fibonacci_sphere(K, half=True), NORM_WEIGHTS_3, NORM_ERROR_3


def _fibonacci_sphere(k: int, half: bool) -> np.ndarray:
    """k nearly evenly spread unit vectors in R^3 (on the half sphere z > 0 if `half`)."""
    i = np.arange(k) + 0.5
    z = i / k if half else 1.0 - 2.0 * i / k
    phi = np.pi * (1.0 + math.sqrt(5.0)) * i
    rho = np.sqrt(1.0 - z * z)
    return np.c_[rho * np.cos(phi), rho * np.sin(phi), z]


def as_piecewise_affine(form: Form) -> tuple[Form, float] | None:
    """(form with each Euclidean length |V(u)| replaced by sum_k w_k |D_k . V(u)| (`norm_rule`), a bound on the
    absolute error that makes); (form, 0.0) for a piecewise-affine form; None with squares left or a length of
    more components than NORM_DIRECTIONS covers."""
    if form.squares:
        return None  # not compiled: see the module docstring
    out, error = Form(form.m, form.c, form.kinks), 0.0
    for rows, b in form.norms.items():
        if len(rows) not in NORM_DIRECTIONS:
            return None
        D, w, rule_error = norm_rule(len(rows))
        q = np.array([rm for rm, _ in rows])
        P = np.array([rc for _, rc in rows], dtype=np.float64)
        for d, wk in zip(D, w):
            p = Form(float(d @ q), d @ P)
            term = abs_of(p) if p.c.any() else Form(abs(p.m), p.c * 0.0)
            if term is None:
                return None
            out = out.plus(term.times(b * wk))
        largest = Form(0.0, P[0] * 0.0, norms={rows: 1.0}).bounds()[1]  # |V| at most this over the box
        error += abs(b) * rule_error * largest
    return out, error


def _spread_at_least(form: Form) -> float:
    """A lower bound on the form's range over the input box (max - min): from its values at the box's vertices
    (where it reads at most MAX_VERTICES_LOG2 inputs) and at 4,096 points of a Kronecker sequence (frac(i sqrt(p))
    per coordinate, p the primes: spread evenly, and no numpy.random, whose import costs `nsc compile` ~10 ms).
    Dividing an error bound by it overstates the relative error, never understates it."""
    primes = [p for p in range(2, 8 * len(form.c) + 8) if all(p % q for q in range(2, int(p ** 0.5) + 1))]
    steps = np.sqrt(np.array(primes[:len(form.c)], dtype=np.float64))
    points = 2.0 * np.modf(np.arange(1, 4097)[:, None] * steps[None, :])[0] - 1.0
    vertices = form.vertices()
    values = form.evaluate(points if vertices is None else np.vstack([points, vertices]))
    return float(values.max() - values.min())


def emit_exact_outputs(params: SurrogateParams, linear, offset: float = EXACT_OFFSET, kink_gain: float = KINK_GAIN
                       ) -> tuple[SurrogateParams, float | None]:
    """(params, error) rewritten to compute the program from its forms where the analysis (`linear`: the
    program's Linearization, or an Unsupported reason) gives every output one (`as_piecewise_affine`) and the
    kinks fit in the first layer's free units; error is then a bound on the approximation's error of squares and
    Euclidean lengths, as a share of each output's range over the box (the largest; 0.0: exact). Else
    (params, None), unchanged. Every output's row is rewritten, so nothing of the hypernetwork's own layout is
    assumed but the widths."""
    forms = getattr(linear, "forms", None)
    if not forms or any(f is None for f in forms):
        return params, None
    converted = [as_piecewise_affine(f) for f in forms]
    if any(c is None for c in converted):
        return params, None
    error = 0.0
    for form, (_, absolute) in zip(forms, converted):
        if absolute > 0:
            spread = _spread_at_least(form)
            if not absolute <= MAX_CLOSED_FORM_ERROR * spread:
                return params, None
            error = max(error, absolute / spread)
    forms = [f for f, _ in converted]
    kinks = list(dict.fromkeys(key for f in forms for key in f.kinks))  # distinct, in order
    n_out, width = len(forms), params.weights[0].shape[0]
    if n_out + len(kinks) > width:
        return params, None
    w0, w1, w2 = (np.array(w, dtype=np.float64) for w in params.weights)  # copies
    b0, b1, b2 = (np.array(b, dtype=np.float64) for b in params.biases)
    out_scale = np.array(params.out_scale, dtype=np.float64)
    out_shift = np.array(params.out_shift, dtype=np.float64)
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
        # the channel's operating point: `offset` past the furthest either layer's input can go from it, so SiLU
        # stays the identity (a product's squares move the second layer's input far, and back)
        reach = (float(np.abs(form.c).sum()) + sum(abs(a) * max(km + float(np.abs(kc).sum()), 0.0)
                                                   for (km, kc), a in form.kinks.items())) / std
        at = offset + reach
        sig = 1.0 / (1.0 + math.exp(-at))
        silu_c, slope = at * sig, sig * (1.0 + at * (1.0 - sig))
        w0[j], b0[j] = form.c / std, at
        w1[j], w1[j, j], b1[j] = 0.0, 1.0, at - silu_c
        for key, a in form.kinks.items():  # the second-layer unit adds the kinks
            w1[j, unit[key]] = slope * a / (std * kink_gain)
        w2[j, j] = 1.0 / slope ** 2
        b2[j] = -silu_c / slope ** 2 + (form.m - linear.mean[j]) / std
        out_scale[j], out_shift[j] = std, linear.mean[j]
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    out = SurrogateParams(params.in_shift.copy(), params.in_scale.copy(), [f32(w0), f32(w1), f32(w2)],
                          [f32(b0), f32(b1), f32(b2)], f32(out_scale), f32(out_shift), params.activation,
                          out_calibrated=True, extra=dict(params.extra))
    return out, error
