"""Distillation from the trace: a function the structural network cannot carry -> a plain MLP trained at compile
time on the values of the program's own computation graph, with no program runs.

The structural network (structural.py) replaces each operation of the trace by exact layers or a fitted block, and
stops where that cannot hold: past its layer limit (long loops, time stepping, Newton iterations unrolled), or
where its blocks' errors compound past the stated limit. The trace itself (nsc/analysis/trace.py, traced here
with trace.EVALUATION's limits: a loop until its probe inputs have left it, up to 4096 turns, any depth) is still
the program's computation, exact: a graph of float64 numpy operations, evaluated on synthetic inputs drawn over
the declared box. The program is
neither compiled nor run; what the graph gives is what the analysis proves the C code computes, as for every
other part of the compiler. distill.py fits the MLP to it (inputs uniform over the box, integers where the
inputs are, the steps counted, not timed: the same bytes every build); the rows check_computation evaluated the
graph on are half of its training rows, so a long loop's graph is evaluated on 24k rows in all, not 33k.

Refused (the caller then uses the hypernetwork) where the trace is not the program's value on the whole box: a
loop cut short (at EVALUATION's limit, or where the probe had left it) that a fresh synthetic input is still in
(check_computation), or outputs that are not finite on more than MAX_NOT_FINITE of the box; and where the
distilled MLP's error against the graph, measured on fresh synthetic inputs and stated in the model per output, is
above what the caller accepts (nsc/compiler/inits.py: a bar, or the error of the hypernetwork's start against the
same graph, `graph_errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nsc.analysis import computation
from nsc.analysis.graph import evaluate, is_node, peak_live
from nsc.analysis.values import Unsupported
from nsc.compiler.distill import box, distill_function, rel_rmse_per_output, synthetic_inputs
from nsc.surrogate.params import SurrogateParams

DEFAULT_HIDDEN = (64, 64)  # the shape random initialisation draws (nsc.surrogate.init), so fine-tuning compares
CHECK_POINTS = 8192  # synthetic inputs on which loops cut short must have ended and outputs be finite
MAX_NOT_FINITE = 0.01
MEMORY_BYTES = 256 << 20  # the graph's values alive at once, while it is evaluated
MIN_BLOCK_ROWS = 256
# Where the fit stands after a fifth of its steps, it ends at most ~25% lower on the programs that end above
# 0.3 (pendulum_rk4.c 0.59 -> 0.44, segment_distance.c 0.47 -> 0.39) and much lower on smooth ones (spring.c 0.19
# -> 0.063): above 1.5 times the bar then, it is abandoned (the caller's fallback takes over).
GIVE_UP_AT = 0.2
GIVE_UP_FACTOR = 1.5


def graph_function(tr, extra=()):
    """x [n, n_in] -> the trace's outputs, then the values of the nodes `extra`, [n, n_out + len(extra)] in float64
    (every intermediate value dropped after use), evaluated a block of rows at a time so that the values alive at
    once stay within MEMORY_BYTES (a program that keeps thousands of computed values, a large array filled in a
    loop, would otherwise hold GBs)."""
    targets = [*tr.outputs, *extra]
    peak = peak_live(targets, tr.graph.inputs)
    block = max(MIN_BLOCK_ROWS, MEMORY_BYTES // (8 * max(peak, 1)))

    def f(x: np.ndarray) -> np.ndarray:
        out = np.empty((len(x), len(targets)))
        for start in range(0, len(x), block):
            rows = x[start:start + block]
            values = evaluate(targets, {node: rows[:, node.param] for node in tr.graph.inputs}, keep_all=False)
            for j, o in enumerate(targets):
                out[start:start + block, j] = values[o] if is_node(o) else o
        return out
    return f


@dataclass
class Checked:
    """A trace that is the program's computation over the box, and its outputs on CHECK_POINTS synthetic inputs
    (the rows where they are finite)."""

    trace: object
    x: np.ndarray
    y: np.ndarray
    function: object  # x [n, n_in] -> the trace's outputs (graph_function)


def check_computation(program, seed: int = 0) -> Checked | Unsupported:
    """The program's trace (trace.EVALUATION's limits) checked on CHECK_POINTS fresh synthetic inputs, or the
    Unsupported reason it cannot stand for the program: a loop cut short (at the turn limit, or where the
    tracer's probe had left it) that one of them is still in, or outputs not finite on more than MAX_NOT_FINITE of
    them. One evaluation of the graph serves both checks and `graph_errors`."""
    tr = computation(program)
    if isinstance(tr, Unsupported):
        return tr
    x = synthetic_inputs(*box(program.signature), CHECK_POINTS, np.random.default_rng(seed + 1))
    n_out = len(tr.outputs)
    f = graph_function(tr, tr.still_running)  # (its plan serves the distillation too: those truths cost nothing)
    values = f(x)
    cut = tr.first_still_running(values[:, n_out:].T)
    if cut is not None:
        return Unsupported(f"a loop cut after {cut[0]} turns still runs on {100 * cut[1]:.3g}% of the box")
    y = values[:, :n_out]
    finite = np.isfinite(y).all(axis=1)
    if 1 - finite.mean() > MAX_NOT_FINITE:
        return Unsupported(f"its outputs are not finite on {100 * (1 - finite.mean()):.3g}% of the box")
    return Checked(tr, x[finite], y[finite], lambda rows: f(rows)[:, :n_out])


def graph_errors(params: SurrogateParams, checked: Checked) -> list[float]:
    """`params`' rel-RMSE against the graph on the checked synthetic inputs, per output (no program runs): how
    closely another start (the hypernetwork's) follows the program's computation."""
    with np.errstate(all="ignore"):
        errors = rel_rmse_per_output(params.predict(checked.x), checked.y)
    return [float(e) if np.isfinite(e) else float("inf") for e in errors]


def compile_traced(program, hidden: tuple[int, ...] = DEFAULT_HIDDEN, seed: int = 0, checked: Checked | None = None,
                   give_up: Callable[[list[float]], bool] | None = None) -> tuple[SurrogateParams, dict] | Unsupported:
    """(an MLP of the given hidden widths distilled from the program's trace, info: the trace's size and the
    distillation's error per output as a share of the output's std), or the Unsupported reason there is none.
    checked: check_computation(program, seed), where the caller has it. give_up: a test of the fit's errors per
    output after GIVE_UP_AT of its steps (inits.py: above GIVE_UP_FACTOR times the stated error it will accept);
    where it holds, the fit is abandoned (an Unsupported reason), so a function an MLP of this size cannot follow
    (a discontinuous test of 18 inputs: 0.83 at a fifth of the steps, 0.97 at the end) costs a fifth of the time."""
    checked = check_computation(program, seed) if checked is None else checked
    if isinstance(checked, Unsupported):
        return checked
    tr = checked.trace
    student, errors = distill_function(checked.function, program.signature, hidden, seed,
                                       give_up=(GIVE_UP_AT, give_up) if give_up is not None else None,
                                       known=(checked.x, checked.y))
    if student is None:
        return Unsupported(f"an MLP fitted to it was still {max(errors):.2g} of an output's std after "
                           f"{GIVE_UP_AT:.0%} of its steps")
    info = {"operations": len(tr.graph.nodes), "depth": max((n.depth for n in tr.graph.nodes), default=0),
            "estimated_error": errors}
    student.extra = {"distilled": {"from": "the program's computation graph", "distillation_error":
                                   float(np.mean(errors)), "estimated_error": errors,
                                   "teacher": {"trace": {k: info[k] for k in ("operations", "depth")}}}}
    return student, info
