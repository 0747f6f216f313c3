"""Distillation: a compiled surrogate -> a plain MLP of the size the user asks for (`nsc compile --arch 64,64` or
`--max-flops N`), with no program runs.

The structural network (structural.py) is as large as the program's computation needs; a user who wants a
fixed, small network (a cheap surrogate to deploy, or the shape their own code expects) gets one trained, at
compile time, to imitate it: inputs drawn uniformly over the declared box (integers for integer inputs, as the
sampler draws them), targets the compiled network's own outputs, Adam on the mean squared error in the
compiled network's output units, numpy only (compile never imports torch). The result is an ordinary MLP
(SiLU), fine-tuned by `nsc finetune` with the default recipe; its stated error adds the distillation's own
error, measured against the compiled network on fresh synthetic inputs, to the compiled network's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nsc.errors import NscError
from nsc.surrogate.params import SurrogateParams, input_normalisation

TRAIN_POINTS = 16_384
TEST_POINTS = 4_096
BATCH = 128
MAX_STEPS = 20_000
# The number of steps is set by a cost model, not by the clock, so a build is the same bytes on every run and
# machine (SOURCE_DATE_EPOCH): a step costs about STEP_OVERHEAD + (the MLP's weights) weight-multiplies' time
# (numpy's per-call overhead, then the matrices; measured 0.42 ms for 64-64, 4.8 ms for 512-512 a step on the
# development machine's core), and STEP_BUDGET is ~5 s of them there, so `--arch` stays under 10 s.
STEP_OVERHEAD = 25_000
STEP_BUDGET = 3.0e8
LEARNING_RATE = 1e-2
CHECKPOINTS = 20  # states of the fit compared on a validation set; the best is kept ...
REVERT_MARGIN = 0.1  # ... where it beats the last by this share (else the converged last, not validation noise)


def parse_arch(text: str) -> tuple[int, ...]:
    """'64,64' -> (64, 64); NscError for anything but positive widths."""
    try:
        widths = tuple(int(w) for w in str(text).split(","))
    except ValueError:
        raise NscError(f"--arch '{text}': give the hidden layers' widths, e.g. 64,64") from None
    if not widths or any(w < 1 or w > 4096 for w in widths):
        raise NscError(f"--arch '{text}': widths must be between 1 and 4096")
    return widths


def widths_for_flops(n_in: int, n_out: int, max_flops: int, layers: int = 2) -> tuple[int, ...]:
    """The widest `layers` equal hidden layers whose MLP costs at most max_flops a row (model_size's count)."""
    best = None
    for w in range(1, 4097):
        flops = 2 * (n_in * w + (layers - 1) * w * w + w * n_out) + layers * w + 2 * n_out + 2 * n_in
        if flops > max_flops:
            break
        best = w
    if best is None:
        raise NscError(f"--max-flops {max_flops}: not even one unit a layer fits")
    return (best,) * layers


def _silu(z, t=None):
    """silu(z) = z sigmoid(z), sigmoid(z) = (1 + tanh(z / 2)) / 2; t: tanh(z / 2) where the caller has it."""
    return z * 0.5 * (1.0 + (np.tanh(0.5 * z) if t is None else t))


def _silu_grad(z, t):
    """silu'(z), given t = tanh(z / 2) (the forward pass's: tanh is most of a small MLP's step)."""
    s = 0.5 * (1.0 + t)
    return s * (1.0 + z * (1.0 - s))


def _predict32(params: SurrogateParams, x: np.ndarray) -> np.ndarray:
    """params.predict in float32 (the teacher may be a large structural network: float32 is twice as fast)."""
    h = ((x - params.in_shift) / params.in_scale).astype(np.float32)
    for i, (w, b) in enumerate(zip(params.weights, params.biases)):
        h = h @ w.T + b
        if i < len(params.weights) - 1:
            h = np.maximum(h, params.floors[i]) if params.floors is not None else {
                "silu": _silu, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[params.activation](h)
    return h.astype(np.float64) * params.out_scale + params.out_shift


def box(signature) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, integer): the inputs' declared ranges and which inputs are integers, for synthetic_inputs."""
    lo, hi = (np.asarray(a, np.float64) for a in signature.ranges())
    return lo, hi, np.array([p.is_integer for p in signature.inputs], dtype=bool)


def rel_rmse_per_output(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RMSE of pred against y over each output column, as a share of that column's std (1 where it is 0)."""
    std = y.std(axis=0)
    return np.sqrt(np.mean((pred - y) ** 2, axis=0)) / np.where(std > 0, std, 1.0)


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows (x, y) where the teacher's value y is finite."""
    keep = np.isfinite(y).all(axis=1)
    return x[keep], y[keep]


def synthetic_inputs(lo, hi, integer, n, rng) -> np.ndarray:
    """n rows drawn uniformly over the box [lo, hi], whole numbers where `integer` (as the sampler draws them)."""
    u = rng.uniform(0.0, 1.0, (n, len(lo)))
    x = lo + u * (hi - lo)
    if integer.any():
        span = np.floor(hi) - np.ceil(lo) + 1
        x = np.where(integer, np.ceil(lo) + np.minimum(np.floor(u * span), span - 1), x)
    return x


def distill(teacher: SurrogateParams, signature, hidden: tuple[int, ...], seed: int = 0) -> tuple[SurrogateParams,
                                                                                                   float]:
    """(a SiLU MLP of the given hidden widths imitating `teacher` over the signature's box, its rel-RMSE against the
    teacher on fresh synthetic inputs, the mean over outputs)."""
    student, errors = distill_function(lambda x: _predict32(teacher, x), signature, hidden, seed,
                                       in_map=(teacher.in_shift, teacher.in_scale),
                                       out_map=(teacher.out_shift, teacher.out_scale))
    return student, float(np.mean(errors))


def distill_function(teacher, signature, hidden: tuple[int, ...], seed: int = 0, in_map=None, out_map=None,
                     give_up: tuple[float, Callable] | None = None, known: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[SurrogateParams | None, list[float]]:
    """(a SiLU MLP of the given hidden widths imitating teacher(x [n, n_in] float64) -> [n, n_out] over the
    signature's box, its rel-RMSE against the teacher on fresh synthetic inputs, per output). in_map and out_map
    ((shift, scale) pairs): the student's input and output normalisation; by default the box's and the teacher's
    own mean and std of each output. Rows where the teacher's value is not finite are left out of both sets.
    give_up (fraction, test): after that fraction of the steps, stop if test(the errors per output then) is true,
    returning (None, those errors): a caller with a bar to meet need not pay for a fit that will not.
    known (x, y): rows drawn as synthetic_inputs draws them (of another generator) and the teacher's finite
    values there, which the caller has already paid for (traced.py's check): they stand for as many of the
    training rows (not of the test or validation rows, which choose and state)."""
    rng = np.random.default_rng(seed)
    lo, hi, integer = box(signature)
    n_known = 0 if known is None else min(len(known[0]), TRAIN_POINTS)
    x_train = synthetic_inputs(lo, hi, integer, TRAIN_POINTS - n_known, rng)
    x_test = synthetic_inputs(lo, hi, integer, TEST_POINTS, rng)
    # a validation set of its own (its own generator: the training draws stay what they were) picks the best of
    # CHECKPOINTS states of the fit; the stated error is then measured on the test set, which chose nothing
    x_val = synthetic_inputs(lo, hi, integer, TEST_POINTS, np.random.default_rng([seed, 1]))
    # the teacher asked once for all three (a traced graph's cost is mostly per operation, not per row)
    y_all = np.asarray(teacher(np.concatenate([x_train, x_test, x_val])), np.float64)
    a, b = len(x_train), len(x_train) + len(x_test)
    x_train, y_train = _finite(x_train, y_all[:a])
    if n_known:
        x_train = np.concatenate([known[0][:n_known], x_train])
        y_train = np.concatenate([np.asarray(known[1][:n_known], np.float64), y_train])
    x_test, y_test = _finite(x_test, y_all[a:b])
    x_val, y_val = _finite(x_val, y_all[b:])
    in_shift, in_scale = in_map if in_map is not None else input_normalisation(lo, hi)
    if out_map is None:
        std = y_train.std(axis=0)
        out_map = (y_train.mean(axis=0), np.where(std > 0, std, 1.0))
    shift, scale = (np.asarray(a, np.float64) for a in out_map)
    t_train = ((y_train - shift) / scale).astype(np.float32)  # in the student's output units
    u_train = ((x_train - in_shift) / in_scale).astype(np.float32)
    n_train, n_out = len(u_train), y_train.shape[1]
    sizes = [len(lo), *hidden, n_out]
    shapes = [(b, a) for a, b in zip(sizes[:-1], sizes[1:])] + [(b,) for b in sizes[1:]]
    # the weights and biases are views of one flat array, and so are their gradients: Adam's update is then a
    # dozen numpy calls a step, not a dozen per array (each element's arithmetic is the same)
    flat = np.empty(sum(math.prod(shape) for shape in shapes), np.float32)
    flat_grad = np.empty_like(flat)
    params, grads, at = [], [], 0
    for shape in shapes:
        size = math.prod(shape)
        params.append(flat[at:at + size].reshape(shape))
        grads.append(flat_grad[at:at + size].reshape(shape))
        at += size
    n_layers = len(sizes) - 1
    weights, biases = params[:n_layers], params[n_layers:]
    grads_w, grads_b = grads[:n_layers], grads[n_layers:]
    for w, (a, b) in zip(weights, zip(sizes[:-1], sizes[1:])):
        w[...] = (rng.uniform(-1, 1, (b, a)) / math.sqrt(a)).astype(np.float32)
    for bias, (a, b) in zip(biases, zip(sizes[:-1], sizes[1:])):
        bias[...] = (rng.uniform(-1, 1, b) / math.sqrt(a)).astype(np.float32)
    m = np.zeros_like(flat)
    v = np.zeros_like(flat)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    steps = max(50, min(MAX_STEPS, int(STEP_BUDGET / (STEP_OVERHEAD + sum(a * b for a, b in zip(sizes, sizes[1:]))))))
    check_step = int(give_up[0] * steps) if give_up is not None else None
    every = max(1, steps // CHECKPOINTS)
    best = (math.inf, None)
    batches = rng.integers(0, n_train, (steps, BATCH))  # (the rows a step at a time would draw, drawn at once)
    for step in range(1, steps + 1):
        if step % every == 0 and step < steps:
            error = float(np.mean(_errors(weights, biases, in_shift, in_scale, shift, scale, x_val, y_val)))
            if error < best[0]:
                best = (error, ([w.copy() for w in weights], [b.copy() for b in biases]))
        if step == check_step:
            errors = _errors(weights, biases, in_shift, in_scale, shift, scale, x_test, y_test)
            if give_up[1](errors):
                return None, errors
        rows = batches[step - 1]
        h, pre, tanh_half = [u_train[rows]], [], []
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = h[-1] @ w.T + b
            pre.append(z)
            if i < n_layers - 1:
                tanh_half.append(np.tanh(0.5 * z))
                h.append(_silu(z, tanh_half[-1]))
            else:
                h.append(z)
        delta = 2.0 * (h[-1] - t_train[rows]) / (BATCH * n_out)
        for i in range(n_layers - 1, -1, -1):
            np.matmul(delta.T, h[i], out=grads_w[i])
            delta.sum(axis=0, out=grads_b[i])
            if i > 0:
                delta = (delta @ weights[i]) * _silu_grad(pre[i - 1], tanh_half[i - 1])
        # cosine decay over the steps
        rate = LEARNING_RATE * (0.5 * (1 + math.cos(math.pi * min(step / steps, 1.0))) + 0.01)
        m = beta1 * m + (1 - beta1) * flat_grad
        v = beta2 * v + (1 - beta2) * flat_grad * flat_grad
        flat -= rate * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
    final = float(np.mean(_errors(weights, biases, in_shift, in_scale, shift, scale, x_val, y_val)))
    if best[1] is not None and best[0] < (1 - REVERT_MARGIN) * final:
        weights, biases = best[1]  # an earlier state followed the teacher clearly better: the fit overfitted
    student = _student(weights, biases, in_shift, in_scale, shift, scale)
    return student, _errors(weights, biases, in_shift, in_scale, shift, scale, x_test, y_test)


def _student(weights, biases, in_shift, in_scale, shift, scale) -> SurrogateParams:
    return SurrogateParams(np.array(in_shift, np.float64), np.array(in_scale, np.float64),
                           [w.copy() for w in weights], [b.copy() for b in biases], scale.copy(), shift.copy(),
                           "silu", out_calibrated=True).astype32()


def _errors(weights, biases, in_shift, in_scale, shift, scale, x_test, y_test) -> list[float]:
    """The student's rel-RMSE against the teacher's values y_test, per output."""
    pred = _student(weights, biases, in_shift, in_scale, shift, scale).predict(x_test)
    return [float(e) for e in rel_rmse_per_output(pred, y_test)]
