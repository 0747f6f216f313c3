"""A surrogate's weights as its file names them, and what makes them valid: the one definition, applied by
`nsc_runtime.load` to every file and by nsc to every surrogate it builds, loads or writes (SurrogateParams.validate).

Initializers (float32): ``in_shift``, ``in_scale`` [n_in]; ``w{i}`` [fan_out, fan_in] and ``b{i}`` [fan_out] for
i < K (the layers chain from n_in to n_out); ``out_scale``, ``out_shift`` [n_out]; and, for a surrogate with per-unit
floors (h = max(z, floor): the relu activation only), ``f{i}`` [width of hidden layer i] for i < K - 1. Every
value finite (-FLT_MAX, the identity unit's floor, is finite), both scales positive, and no other initializer.
An edited weight (a NaN floor, a wrong shape) would otherwise run as a silently wrong prediction.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("silu", "relu", "tanh")


def initializer_names(n_layers: int, floors: bool = False) -> list[str]:
    """The initializer names of a surrogate with `n_layers` Gemm layers (hidden layers + 1), in graph order."""
    names = ["in_shift", "in_scale"]
    for i in range(n_layers):
        names += [f"w{i}", f"b{i}"]
    return names + ["out_scale", "out_shift"] + ([f"f{i}" for i in range(n_layers - 1)] if floors else [])


def input_normalisation(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """in_shift, in_scale (float32) that map [lo, hi] onto [-1, 1]: every surrogate's, from its input ranges."""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    return ((lo + hi) / 2).astype(np.float32), np.maximum((hi - lo) / 2, 1e-12).astype(np.float32)


def check_normalisation(arrays: dict, names, lo, hi) -> None:
    """ValueError unless in_shift and in_scale are `input_normalisation(lo, hi)` of the inputs' ranges: a range
    edited, or two columns swapped, would otherwise be believed."""
    shift, scale = input_normalisation(lo, hi)
    bad = np.flatnonzero((arrays["in_shift"] != shift) | (arrays["in_scale"] != scale))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"inputs[{k}] '{names[k]}': its range {lo[k]:g} to {hi[k]:g} is not the one the graph "
                         "normalises it by (in_shift, in_scale)")


def layer_count(arrays: dict) -> int:
    """K: how many consecutive w0, w1, ... there are."""
    k = 0
    while f"w{k}" in arrays:
        k += 1
    return k


def check_initializers(arrays: dict, activation: str) -> tuple[int, ...]:
    """The hidden widths of a surrogate's named float32 arrays; ValueError naming the first initializer that is
    missing, unknown, of the wrong shape or not finite, a scale that is not positive, or floors without relu."""
    n_layers = layer_count(arrays)
    floors = "f0" in arrays
    expected = initializer_names(n_layers, floors)
    missing = [n for n in expected if n not in arrays]
    if n_layers == 0 or missing:
        raise ValueError(f"initializers missing: {', '.join(missing) or 'w0'}")
    unknown = sorted(set(arrays) - set(expected))
    if unknown:
        raise ValueError(f"initializers nsc does not write: {', '.join(map(repr, unknown))[:200]}")
    if floors and activation != "relu":
        raise ValueError(f"per-unit floors (f0..) need the relu activation, not {activation}")
    fan_in = _vector(arrays, "in_shift", None)
    _vector(arrays, "in_scale", fan_in)
    hidden = []
    for i in range(n_layers):
        w, b = arrays[f"w{i}"], arrays[f"b{i}"]
        if w.ndim != 2 or w.shape[1] != fan_in or b.shape != (w.shape[0],):
            raise ValueError(f"layer {i}: weight w{i} {w.shape} / bias b{i} {b.shape} do not chain from width "
                             f"{fan_in}")
        fan_in = w.shape[0]
        if i < n_layers - 1:
            hidden.append(fan_in)
            if floors:
                _vector(arrays, f"f{i}", fan_in, "floors must give one value per hidden unit")
    _vector(arrays, "out_shift", fan_in, "the last layer's width is not the number of outputs")
    _vector(arrays, "out_scale", fan_in, "the last layer's width is not the number of outputs")
    for name in expected:
        if not np.all(np.isfinite(arrays[name])):
            raise ValueError(f"initializer {name} contains NaN or Inf")
    for name in ("in_scale", "out_scale"):
        if np.any(arrays[name] <= 0):
            raise ValueError(f"initializer {name}: normalisation scales must be positive")
    return tuple(hidden)


def _vector(arrays: dict, name: str, width, problem: str | None = None) -> int:
    shape = np.shape(arrays[name])
    if len(shape) != 1 or (width is not None and shape[0] != width) or shape[0] == 0:
        raise ValueError(f"initializer {name}: shape {shape}" + (f": {problem}" if problem else
                                                                   f", expected ({width if width else 'n'},)"))
    return shape[0]
