"""Checking claimed independences against the real program (used by tests and bench/bench_dataflow.py).

The front-end's data-flow analysis (nsc/analysis/dataflow.py) says which inputs cannot reach which outputs. Here
the program runs natively on a few rows; each input said to miss some output is redrawn while the other inputs
stay fixed, and every output it is said to miss must come out bit-identical.
"""

from __future__ import annotations

import numpy as np

from nsc.execute.sampling import sample_inputs, sample_program


def independence_violations(program, flows: np.ndarray, rng: np.random.Generator, rows: int = 20) -> list[str]:
    """The pairs "input -> output" that `flows` (bool [n_in, n_out]) says are independent but are not."""
    sig = program.signature
    base = sample_inputs(sig, rows, rng)
    y = sample_program(program, inputs=base, keep_nonfinite=True).y
    redrawn = sample_inputs(sig, rows, rng)
    bad = []
    for i in np.flatnonzero(~np.asarray(flows).all(axis=1)):
        x = base.copy()
        x[:, i] = redrawn[:, i]
        y2 = sample_program(program, inputs=x, keep_nonfinite=True).y
        bad += [f"{sig.inputs[i].name} -> {sig.outputs[j].name}" for j in np.flatnonzero(~flows[i])
                if not np.array_equal(y[:, j], y2[:, j], equal_nan=True)]
    return bad
