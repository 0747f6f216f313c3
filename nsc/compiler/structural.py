"""Structural compilation: the program's own computation becomes its surrogate's weights (no program runs).

    Program -> trace (nsc/analysis/trace.py: the computation graph) -> network (nsc/analysis/network.py: the
    layers that compute it, evaluated on synthetic inputs while they are built) -> SurrogateParams

The surrogate is an MLP whose hidden units are ReLUs or identities (per-unit floors, nsc/surrogate/params.py),
in the normalised units every surrogate uses; its output map is the network's own mean and spread of each output
(out_calibrated: fine-tuning keeps it). `compile_structural(program)` returns (params, info) or the
`Unsupported` reason the analysis cannot translate the function (the hypernetwork then compiles it:
hypernet.py).
"""

from __future__ import annotations

import numpy as np

from nsc.analysis import structure, trace_warnings
from nsc.analysis.values import Unsupported
from nsc.surrogate.params import LINEAR_FLOOR, SurrogateParams, input_normalisation

EXACT_ERROR = 1e-9  # an estimated error below this: every block is exact (sums, clamps, selects of affine values)


def compile_structural(program) -> tuple[SurrogateParams, dict] | Unsupported:
    net = structure(program)
    if isinstance(net, Unsupported):
        return net
    sig = program.signature
    lo, hi = sig.ranges()
    in_shift, in_scale = input_normalisation(lo, hi)
    weights, biases, floors = net.dense()
    # the network was built in float64 units of mid/half; the surrogate normalises with float32 in_shift/in_scale
    # (the same numbers to float32 rounding)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    floors32 = [np.where(np.asarray(f) < 0, LINEAR_FLOOR, 0.0).astype(np.float32) for f in floors]
    errors = [float(e) for e in net.estimated_error]
    ramps = [float(e) for e in net.ramp_error]
    extra = {"structural": {"layers": len(net.layers), "units": int(sum(net.widths)), "blocks": net.blocks,
                            "gates": net.gates, "estimated_error": errors, "ramp_error": ramps}}
    if max(errors + ramps, default=0.0) < EXACT_ERROR and not trace_warnings(program):  # (C's own rounding or
        extra["exact"] = True                                                              # overflow, noted)
    params = SurrogateParams(in_shift, in_scale, [f32(w) for w in weights], [f32(b) for b in biases],
                             f32(net.out_std), f32(net.out_mean), "relu", out_calibrated=True, extra=extra,
                             floors=floors32)
    info = dict(extra["structural"], parameters=int(sum(w.size + b.size for w, b in zip(weights, biases))))
    return params, info
