"""The analysis: what a program's code computes, read from its canonical AST (an abstract interpreter; the program
is never run).

    Program (nsc/frontend) -> data flow (dataflow.py): which inputs can reach which outputs
                           -> statistical linearisation (linearize.py, over values.py and forms.py): the best
                              linear model of each output, and its exact closed form where one is proven

Modules, one job each:
  values.py     uncertain values (`Lin`) and their arithmetic: sums, products, quadrature, merges
  forms.py      exact closed forms (piecewise affine, squares, Euclidean lengths) and their algebra
  declared.py   declared types as the interpreters read them: type slots, sizes, struct layouts
  linearize.py  the interpreter of C statements over those values -> a `Linearization`
  dataflow.py   the taint analysis -> which inputs reach which outputs

  graph.py      the computation graph: affine steps, products, one-variable functions (hash-consed)
  trace.py      the interpreter of C statements over graph nodes (predicated execution) -> a `Trace`
  blocks.py     one-variable blocks: a function tabulated on its operand's range as ReLU units
  network.py    the network builder: a graph -> the layers of a ReLU network that computes it

`flows(program)`, `linearization(program)`, `structure(program)` and `computation(program)` (the trace alone, for a
graph only evaluated) compute each once per Program (cached in `program.analyses`).
Imports flow one way: nsc/frontend -> here -> nsc/compiler; nothing here imports the compiler.
"""

from __future__ import annotations

from nsc.recursion import deep


@deep
def flows(program):
    """bool [n_in, n_out]: False where input i cannot affect output j (dataflow.py)."""
    if "flows" not in program.analyses:
        from nsc.analysis.dataflow import reach_matrix

        program.analyses["flows"] = reach_matrix(list(program.code), program.signature)
    return program.analyses["flows"]


@deep
def linearization(program):
    """The target's statistical linearisation over its input box (a `Linearization`), or the `Unsupported`
    reason there is none (linearize.py)."""
    if "linear" not in program.analyses:
        from nsc.analysis.linearize import linearize

        program.analyses["linear"] = linearize(list(program.code), program.signature)
    return program.analyses["linear"]


@deep
def computation(program):
    """The target's computation graph traced as far as a graph evaluated in numpy may go (trace.EVALUATION: long
    loops, any depth), for distillation from the trace (nsc/compiler/traced.py), or the `Unsupported` reason."""
    if "computation" not in program.analyses:
        from nsc.analysis.trace import EVALUATION, trace

        program.analyses["computation"] = trace(list(program.code), program.signature, EVALUATION)
    return program.analyses["computation"]


def trace_warnings(program) -> list[str]:
    """What the traces made so far found the program doing that C leaves undefined (trace.Trace.warnings)."""
    found = []
    for key in ("trace", "computation"):
        for message in getattr(program.analyses.get(key), "warnings", []):
            if message not in found:
                found.append(message)
    return found


MAX_FINE_PARAMETERS = 1_500_000  # beyond this, the network is built again with coarser blocks


@deep
def structure(program):
    """The target's structural network (network.py: a `Network`), or the `Unsupported` reason there is none.
    Its blocks are fitted to blocks.BLOCK_TOL of their range; a network that would be larger than
    MAX_FINE_PARAMETERS is built again to blocks.COARSE_TOL (a long iteration: fewer knots a block)."""
    if "structure" not in program.analyses:
        from nsc.analysis.blocks import COARSE_TOL
        from nsc.analysis.network import build
        from nsc.analysis.trace import trace

        traced = trace(list(program.code), program.signature)
        program.analyses["trace"] = traced
        if not hasattr(traced, "graph"):
            program.analyses["structure"] = traced
        else:
            net = build(traced, program.signature)
            if not hasattr(net, "parameters") or net.parameters > MAX_FINE_PARAMETERS:
                coarse = build(traced, program.signature, tol=COARSE_TOL)
                net = coarse if hasattr(coarse, "parameters") else net
            program.analyses["structure"] = net
    return program.analyses["structure"]
