"""The network builder: a computation graph (graph.py) -> the layers of a ReLU network that computes it.

Every value the graph computes becomes a linear combination of one layer's units (`Value`), and each kind of
node has its translation:
  * an input is a layer-0 coordinate (the normalised input u in [-1, 1]);
  * an affine node is the same linear combination of its operands' values: exact, no units (values of
    different layers are carried to the later one by identity units, floor -FLT_MAX);
  * a one-variable function of a source node (a whole chain of them: graph.py) is one block on that source's
    value (blocks.py): K + 1 ReLU units in the next layer; one that depends on its source only through sin, cos
    or tan over more than two periods, symmetric about an axis, is a block on the source reduced to half a
    period first (a triangle wave, exact), so the grid resolves one period instead of all of them;
  * a product a * b is ((a' + b')^2 - (a' - b')^2) / 4 of the factors centred and scaled to [-1, 1] (the cross
    terms with their means are exact), each square a block; a product c * d with c a 0/1 truth (a select, an
    &&) is a gate, exact wherever c is 0 or 1: relu(d - M (1 - c)) - relu(-d - M (1 - c)) with |d| <= M, and
    c1 * c2 of two truths is relu(c1 + c2 - 1).
The builder evaluates the network it builds on synthetic inputs drawn over the input box (never the program):
each block's range and knots come from the values the network itself computes for its operand (so upstream
error stays inside the blocks), and a gate whose truth the network holds at 0 or 1 on every synthetic input is
decided (the turns of a loop no input reaches), as is a select whose arms agree wherever it is not taken (a
converged iteration's update).

C's floats: the network is built from the graph with its float32 roundings taken out (graph.without_rounding),
and each output's error is measured against the graph with them, evaluated on the synthetic inputs.

A jump is a ramp far narrower than the synthetic inputs' spacing; the error of the rare inputs in it, which the
samples do not show, is estimated from the ramp's width, the operand's density about it and the jump's height,
carried through what is computed from it to first order (`Value.unseen`), and stated apart (`ramp_error`).

`build(trace, signature)` -> a `Network` (weights, biases and floors per layer in normalised units, the output
map, and per output an estimated error), or `Unsupported` when the network would be too large, or where a loop the
trace cut short is still running for one of the synthetic inputs (its graph is not the program there).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from nsc.analysis.blocks import BLOCK_TOL, GRID, Block, fit_block
from nsc.analysis.graph import MAX_DEPTH, evaluate, is_node, plan, spread_inputs, tolerance, without_rounding
from nsc.analysis.values import Unsupported

N_SYNTHETIC = 4096  # synthetic inputs the network is evaluated on while it is built: uniform over the box,
N_EDGE = 1024  # and near its faces (`spread_inputs`)
MAX_LAYERS = 2 * MAX_DEPTH  # the layers a network may have: MAX_DEPTH of blocks, products and gates, plus the
#                             bottlenecks and jump saturations between them
MAX_UNITS = 40_000  # hidden units in all
# A block's range: the network's values of its operand, widened by this share each side but not beyond the
# operand's bounds where they are known (synthetic inputs miss the box's rare corners: max(r, g, b) near 0)
MARGIN = 0.25
DECIDED = 1e-9  # a truth within this of 0 or 1 on every synthetic input is decided
MAX_THRESHOLDS = 256  # the most comparison thresholds a block is checked at (`_thresholds`)
THRESHOLD_STEP = 1e-5  # ... the grid's points either side of one, as a share of the range: ten ramps away
THRESHOLD_GRID = 4097  # points a comparison of a curved function of the source is looked at for its sign changes
CONVERGED = 1e-7  # a select whose untaken arm differs by at most this share of the value's spread is dropped
LINEAR = float(np.finfo(np.float32).min)  # the floor of an identity unit
LOG_PRODUCT_RANGE = 8.0  # factors whose max / min ratios multiply to more are multiplied through logs
BOTTLENECK = 8  # a block's operand spread over more units than this is gathered into one first (`realise`)
PERIODS = {"sin": 2 * math.pi, "cos": 2 * math.pi, "tan": math.pi}
MIN_PERIODS = 2  # a function of its source through these over more periods than this is tabulated on one period
LENGTH_DIRECTIONS = 96  # a Euclidean length of 2 components: relative error tan(pi / 384)^2 = 6.7e-5


@dataclass
class Value:
    """const + sum coef * unit over units of one layer (layer 0: the normalised inputs)."""

    layer: int
    terms: dict  # unit index -> coefficient
    const: float = 0.0
    err: np.ndarray | None = None  # estimated error on the synthetic inputs (network - program), None: 0
    samples: np.ndarray | None = None  # the network's values on the synthetic inputs (None: a constant)
    # the error the synthetic inputs cannot see, per input (None: 0): a jump's ramp is narrower than their
    # spacing, so few or none fall in it, but the inputs that do are off by up to the jump; its root mean square
    # is spread over the inputs about the ramp (`ramp_error`) and carried through what is computed from the value,
    # at each input, to first order (signed, so an error that feeds back on itself is not counted twice)
    unseen: np.ndarray | None = None


@dataclass
class Network:
    """The layers (sparse rows: ({unit of the previous layer: weight}, bias)), floors, the output map, and what
    the builder knows of the error."""

    layers: list  # per hidden layer: list of (terms over the previous layer's units, factor, bias)
    floors: list  # per hidden layer: list of floats
    outputs: list  # per output: (dict over the last hidden layer's units, bias) in the program's units
    out_mean: np.ndarray
    out_std: np.ndarray
    n_in: int
    blocks: int = 0
    gates: int = 0
    # per output: the estimated rel-RMSE of the network over the box (its blocks' fit errors where the network
    # puts their operands, carried to the output through the network, first order), as a share of its std
    estimated_error: list = field(default_factory=list)
    # per output, the estimated rel-RMSE counting the rare inputs in the jumps' ramps too (`Value.unseen`): the
    # synthetic inputs seldom fall in a ramp, nor do a check's few thousand, but over the whole input distribution
    # the inputs that do, off by up to the jump, add this much on average
    ramp_error: list = field(default_factory=list)

    @property
    def widths(self) -> list[int]:
        return [len(layer) for layer in self.layers]

    @property
    def parameters(self) -> int:
        """Weights and biases of the dense layers the surrogate stores."""
        sizes = [self.n_in, *self.widths, len(self.outputs)]
        return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])))

    def dense(self):
        """(weights [fan_out, fan_in], biases, floors) per layer, the output layer last (no floor)."""
        weights, biases, floors = [], [], []
        fan_in = self.n_in
        arrays = {}  # id(terms) -> (units, coefficients): a block's units share their operand's terms
        for rows, fl in zip(self.layers, self.floors):
            w = np.zeros((len(rows), fan_in))
            b = np.zeros(len(rows))
            for r, (terms, factor, bias) in enumerate(rows):
                if terms:
                    if id(terms) not in arrays:
                        arrays[id(terms)] = (np.fromiter(terms.keys(), np.int64, len(terms)),
                                             np.fromiter(terms.values(), np.float64, len(terms)))
                    units, coefs = arrays[id(terms)]
                    w[r, units] = factor * coefs
                b[r] = bias
            weights.append(w)
            biases.append(b)
            floors.append(np.array(fl))
            fan_in = len(rows)
            arrays.clear()
        w = np.zeros((len(self.outputs), fan_in))
        b = np.zeros(len(self.outputs))
        for j, (terms, bias) in enumerate(self.outputs):
            for u, k in terms.items():
                w[j, u] += k / self.out_std[j]
            b[j] = (bias - self.out_mean[j]) / self.out_std[j]
        weights.append(w)
        biases.append(b)
        return weights, biases, floors


class Builder:
    """Builds the layers while evaluating them on the synthetic inputs."""

    def __init__(self, graph, lo, hi, integer, tol: float = BLOCK_TOL):
        self.graph = graph
        self.tol = tol
        self.n_in = len(lo)
        self.mid, self.half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 1e-300)
        self.x = spread_inputs(lo, hi, integer, N_SYNTHETIC, N_EDGE)
        self.rows: list[list] = []  # per hidden layer: (terms, factor, bias): factor * sum terms[u] h_u + bias
        self.floors: list[list] = []
        self.values: dict = {}  # node id -> Value
        self.carried: dict = {}  # (node id, layer) -> Value
        self.ranges: dict = {}  # node id -> (lo, hi): `range_of`
        self.periodic: dict = {}  # (node id, period, axis) -> the node reduced about the axis: `reduced`
        self.units = 0
        self.blocks = 0
        self.gates = 0

    # -- units and values ------------------------------------------------------------------------------------------

    def unit(self, layer: int, terms: dict, bias: float, floor: float, factor: float = 1.0) -> int:
        """A new unit in hidden layer `layer` (>= 1): floor-ed factor * sum terms[u] h_u + bias over the units h of
        layer - 1 (terms may be shared by units: a block's units all read its operand). Units keep no values of
        their own: every Value carries its samples."""
        if layer > MAX_LAYERS:
            raise Unsupported(f"a network deeper than {MAX_LAYERS} layers")
        self.units += 1
        if self.units > MAX_UNITS:
            raise Unsupported(f"a network of more than {MAX_UNITS} units")
        while len(self.rows) < layer:
            self.rows.append([])
            self.floors.append([])
        self.rows[layer - 1].append((terms, float(factor), float(bias)))
        self.floors[layer - 1].append(floor)
        return len(self.rows[layer - 1]) - 1

    def samples(self, v: Value) -> np.ndarray:
        return v.samples if v.samples is not None else np.full(len(self.x), v.const)

    def carry(self, v: Value, layer: int, key=None) -> Value:
        """v as a combination of units of `layer` (>= v.layer): identity units in between, normalised."""
        if v.layer == layer or not v.terms:
            return Value(layer, dict(v.terms) if v.layer == layer else {}, v.const, v.err, v.samples, v.unseen)
        if key is not None and (key, layer) in self.carried:
            return self.carried[(key, layer)]
        below = self.carry(v, layer - 1, key)
        s = self.samples(below)
        mean, scale = float(s.mean()), float(s.std()) or 1.0
        u = self.unit(layer, below.terms, (below.const - mean) / scale, LINEAR, 1.0 / scale)
        out = Value(layer, {u: scale}, mean, v.err, v.samples, v.unseen)
        if key is not None:
            self.carried[(key, layer)] = out
        return out

    def combine(self, parts: list, bias: float = 0.0, keys=None) -> Value:
        """bias + sum coef * value over parts [(Value, coef)], at the latest of their layers."""
        layer = max([v.layer for v, _ in parts if v.terms] or [0])
        terms, const, err, samples, unseen = {}, bias, None, None, None
        for i, (v, k) in enumerate(parts):
            v = self.carry(v, layer, keys[i] if keys else None)
            const += k * v.const
            if v.unseen is not None:
                unseen = k * v.unseen if unseen is None else unseen + k * v.unseen
            for u, c in v.terms.items():
                terms[u] = terms.get(u, 0.0) + k * c
            if v.err is not None:
                err = k * v.err if err is None else err + k * v.err
            if v.samples is not None:
                samples = k * (v.samples - v.const) if samples is None else samples + k * (v.samples - v.const)
        samples = None if samples is None else samples + const
        return Value(layer, {u: c for u, c in terms.items() if c != 0.0}, const, err, samples, unseen)

    def constant(self, c: float) -> Value:
        return Value(0, {}, float(c))

    # -- nodes -----------------------------------------------------------------------------------------------------

    def value(self, node) -> Value:
        if not is_node(node):
            return self.constant(node)
        v = self.values.get(node.id)
        if v is None:
            for n in _unbuilt_operands(node, self.values):  # operands first, without deep recursion
                self.values[n.id] = self._build(n)
            v = self.values[node.id]
        return v

    def _build(self, node) -> Value:
        if node.op == "input":
            i = node.param
            return Value(0, {i: float(self.half[i])}, float(self.mid[i]), None, self.x[:, i].copy())
        if node.src is not node:
            return self.one_variable(node)
        if node.op == "affine":
            coefs, bias = node.param
            return self.combine([(self.values[a.id], k) for a, k in zip(node.args, coefs)], bias,
                                keys=[a.id for a in node.args])
        if node.op == "mul":
            a, b = node.args
            if a.is_bool and b.is_bool:
                return self.both(a, b)
            if a.is_bool or b.is_bool:
                c, d = (a, b) if a.is_bool else (b, a)
                return self.gate(c, d)
            return self.product(a, b)
        if node.op == "fn" and node.fn == "eq0":  # |d| <= tolerance: a spike the grid must be told about
            d = node.args[0]
            tau = tolerance(d)
            return self.block(lambda z: (np.abs(z) <= tau).astype(np.float64), self.values[d.id], key=d.id, bounds=d,
                              features=[-tau * 1.001, -tau, tau, tau * 1.001])
        raise Unsupported(f"a source {node.fn or node.op} node")

    def one_variable(self, node) -> Value:
        """node as a function of its source: exact where it is affine in it, else one block."""
        src = node.src
        s_val = self.values[src.id]
        if node.affine_in_src:
            alpha, beta = _affine_in_source(node, src)
            return self.combine([(s_val, alpha)], beta, keys=[src.id])
        length = self.length_of(src)
        if length is not None and (node is length[0] or _only_through(node, src, length[0])):
            # a function of a Euclidean length: tabulated on the length, which keeps its relative precision near
            # 0 (1 / sqrt(d^2 + f^2) at resonance), where a sum of squares' absolute error does not
            node_l, value_l = length
            if node is node_l:
                return value_l
            return self.block(lambda z: _as_array(evaluate([node], {node_l: z}, network=True)[node], z), value_l,
                              key=node_l.id, bounds=node_l)
        if src.op == "mul" and not (src.args[0].is_bool or src.args[1].is_bool):
            ss = self.samples(s_val)
            if self.one_signed(src, ss) and _dynamic(ss) > LOG_PRODUCT_RANGE:
                # a function of a wide one-signed product is tabulated on the product's log, a sum of its
                # factors' logs (exact): the product's relative precision carries into the function
                sign = float(np.sign(ss[0]))
                log_src = self.graph.log_abs(src)
                return self.block(lambda z: _as_array(evaluate([node], {src: sign * np.exp(z)}, network=True)[node], z),
                                  self.value(log_src), bounds=log_src)
        periodic = None if src.is_int else _period(node, src)
        if periodic is not None and np.ptp(self.samples(s_val)) > MIN_PERIODS * periodic[0]:
            # a function of src only through sin, cos or tan of it, over many periods, symmetric about an axis:
            # tabulated on src reduced to one half period, where the grid resolves its shape
            g = lambda z: _as_array(evaluate([node], {src: z}, network=True)[node], z)  # noqa: E731
            axis = _symmetry_axis(g, *periodic, self.samples(s_val))
            if axis is not None:
                return self.block(g, self.reduced(src, s_val, periodic[0], axis))
        edge = _wraps(node, src)
        thresholds = functools.partial(_thresholds, node, src)
        if src.is_int:  # the network's integers are integers to within its error: every jump half way between
            return self.block(lambda z: _as_array(evaluate([node], {src: np.round(z)}, network=True)[node], z),
                              s_val, key=src.id, bounds=src, edge=edge, thresholds=thresholds)
        return self.block(lambda z: _as_array(evaluate([node], {src: z}, network=True)[node], z), s_val, key=src.id,
                          bounds=src, edge=edge, thresholds=thresholds)

    def reduced(self, src, s_val: Value, period: float, axis: float) -> Value:
        """src brought into one period about a symmetry axis a of the function: a + |((src - a + T/2) mod T) - T/2|,
        a triangle wave (straight pieces, continuous: exact in ReLUs, where a sawtooth's jumps would be ramps in
        which the reduced value sweeps the whole period)."""
        key = (src.id, period, axis)
        if key not in self.periodic:
            self.periodic[key] = self.block(_triangle_wave(axis, period), s_val, key=src.id, bounds=src)
        return self.periodic[key]

    def length_of(self, src):
        """(sqrt(src), its Value) where src is a sum of two squares a^2 + b^2 (with positive weights; a
        non-negative constant counts as a square of it) and sqrt(src) is in the graph: the length of (a, b) as
        sum_k w_k |d_k . (a, b)| over LENGTH_DIRECTIONS directions on the half circle, each |.| a relu pair (relative
        error tan(pi / 4K)^2 everywhere, 0 included); None otherwise."""
        if src.op != "affine" or src.src is not src:
            return None
        node_l = self.graph.find("fn", (src,), "sqrt")
        if node_l is None:
            return None
        if node_l.id in self.values:
            return node_l, self.values[node_l.id]
        coefs, bias = src.param
        parts = []
        for a, k in zip(src.args, coefs):
            if not (a.op == "mul" and a.args[0] is a.args[1] and not a.args[0].is_bool and k > 0):
                return None
            parts.append((a.args[0], math.sqrt(k)))
        if len(parts) + (bias > 0) != 2 or bias < 0:
            return None
        comps = [self.combine([(self.value(x), w)], keys=[x.id]) for x, w in parts]
        if bias > 0:
            comps.append(self.constant(math.sqrt(bias)))
        k = LENGTH_DIRECTIONS
        angles = np.pi * np.arange(k) / k
        half = np.pi / (2 * k)
        weight = 2.0 / (1.0 / math.sin(half) + 1.0 / math.tan(half))
        terms = []
        for t in angles:
            d = self.combine([(comps[0], math.cos(t)), (comps[1], math.sin(t))])
            terms += [(self.relu(d), weight), (self.relu(self.combine([(d, -1.0)])), weight)]
        value = self.combine(terms)  # (the relu pairs carry their operands' errors; the rule's own is below 1e-4)
        self.values[node_l.id] = value
        return node_l, value

    def relu(self, v: Value) -> Value:
        """relu(v), exact: one unit in the next layer."""
        if not v.terms:
            return self.constant(max(v.const, 0.0))
        s = self.samples(v)
        scale = float(np.abs(s).max()) or 1.0
        u = self.unit(v.layer + 1, v.terms, v.const / scale, 0.0, 1.0 / scale)
        err = None if v.err is None else np.maximum(s, 0.0) - np.maximum(s - v.err, 0.0)
        return Value(v.layer + 1, {u: scale}, 0.0, err, np.maximum(s, 0.0), _times(v.unseen, s > 0))

    def block(self, g, operand: Value, key=None, features=(), bounds=None, edge: bool = False,
              thresholds=None) -> Value:
        """g on the operand's range (the network's values, widened by MARGIN within the bounds of the node
        `bounds`, where given) as one block (blocks.py), realised in the layers after the operand's. edge: beyond
        those bounds, where only the network's error takes its operand, g is its value at the nearest bound.
        thresholds(low, high): where g's comparisons change (`_thresholds`): the block is checked between
        neighbouring ones (and the range's ends) closer than its grid's steps, and fitted again with those
        stretches on its grid where it missed what g does there (a branch on x in (0.5024, 0.5027) was
        "compiled exactly", and off by 50 there)."""
        s = self.samples(operand)
        lo, hi = float(s.min()), float(s.max())
        if hi <= lo:  # the network holds the operand constant (the program may not: its error says so)
            y = g(np.array([lo]))
            held = self.constant(float(y[0]) if np.isfinite(y[0]) else 0.0)
            if operand.err is not None:
                held.err = held.const - _within(g(s - operand.err), np.full(len(s), held.const))
            return held
        pad = MARGIN * (hi - lo)
        low, high = lo - pad, hi + pad
        if bounds is not None:
            b_lo, b_hi = self.range_of(bounds)
            low, high = max(low, min(lo, b_lo)), min(high, max(hi, b_hi))
            if edge and (lo < b_lo or hi > b_hi):
                inner = g
                g = lambda z: inner(np.clip(z, b_lo, b_hi))  # noqa: E731
        blk = fit_block(g, low, high, s[:N_SYNTHETIC], tol=self.tol, features=features)
        if blk is None:
            raise Unsupported("a function with no finite value on its operand's range")
        missed, middles = _missed(blk, g, thresholds(low, high), low, high) if thresholds else ([], [])
        if missed:
            blk = fit_block(g, low, high, s[:N_SYNTHETIC], tol=self.tol, features=[*features, *missed],
                            reached=middles) or blk
        out = self.realise(blk, operand, key)
        # the estimated error: the block's value where the network puts its operand against the program's function
        # where the program has it (the operand's own error taken off; through the block's function instead, a
        # block that missed a narrow notch, flat where its operand is far off, hid both errors: jmeint.c)
        approx = blk(s)
        out.err = approx - _within(g(s if operand.err is None else s - operand.err), approx)
        out.unseen = _joined(_times(operand.unseen, _slope(blk, s)), ramp_error(blk.jumps, s, operand.err))
        return out

    def realise(self, blk: Block, operand: Value, key=None) -> Value:
        """The block's units in the layer after its operand's: relu((z - t_k) / scale); each jump saturates in
        the layer after that: J (1 - relu(1 - relu((z - a) / (b - a)))). An operand spread over more than
        BOTTLENECK units (another block's output) is first gathered into one identity unit: every unit of the
        block reads the same combination, so K units reading n units cost K n weights, against n + K through
        the bottleneck (blackscholes.c: 720k parameters -> 46k), at one layer more."""
        self.blocks += 1
        if len(operand.terms) > BOTTLENECK:
            operand = self.carry(operand, operand.layer + 1, key)
        layer = operand.layer + 1
        scale = float(blk.knots[-1] - blk.knots[0]) or 1.0
        s = self.samples(operand)
        terms = {}
        for t, a in zip(blk.knots, blk.coefs):
            if a == 0.0:
                continue
            u = self.unit(layer, operand.terms, (operand.const - t) / scale, 0.0, 1.0 / scale)
            terms[u] = a * scale
        smooth = Value(layer, terms, blk.const, None, blk.smooth(s))
        if not blk.jumps:
            return smooth
        parts, const = [(self.carry(smooth, layer + 1), 1.0)], 0.0
        for a, b, jump in blk.jumps:
            w = b - a
            p = self.unit(layer, operand.terms, (operand.const - a) / w, 0.0, 1.0 / w)
            q = self.unit(layer + 1, {p: -1.0}, 1.0, 0.0)
            parts.append((Value(layer + 1, {q: 1.0}, 0.0, None, 1.0 - np.clip((s - a) / w, 0.0, 1.0)), -jump))
            const += jump
        return self.combine(parts, const)

    def product(self, a, b) -> Value:
        """a * b = ma mb + ma sb b' + mb sa a' + sa sb ((a' + b')^2 - (a' - b')^2) / 4, a' and b' in [-1, 1];
        of two factors of one sign each that span orders of magnitude (1 / lambda^5 / expm1(x)), exp(log|a| +
        log|b|) instead, which keeps their relative precision (and log|a| joins a's own chain: one block)."""
        va, vb = self.values[a.id], self.values[b.id]
        sa, sb = self.samples(va), self.samples(vb)
        if self.one_signed(a, sa) and self.one_signed(b, sb) and _dynamic(sa) * _dynamic(sb) > LOG_PRODUCT_RANGE:
            g = self.graph
            total = g.add(g.log_abs(a), g.log_abs(b))
            sign = float(np.sign(sa[0]) * np.sign(sb[0]))
            return self.combine([(self.block(np.exp, self.value(total), bounds=total if is_node(total) else None),
                                  sign)])
        ma, mb = 0.5 * (sa.max() + sa.min()), 0.5 * (sb.max() + sb.min())
        ha, hb = 0.5 * (sa.max() - sa.min()), 0.5 * (sb.max() - sb.min())
        if ha == 0 or hb == 0:  # the network holds a factor constant
            return self.combine([(va, mb)] if hb == 0 else [(vb, ma)], 0.0)
        na = self.combine([(va, 1.0 / ha)], -ma / ha, keys=[a.id])
        nb = self.combine([(vb, 1.0 / hb)], -mb / hb, keys=[b.id])
        p = self.combine([(na, 1.0), (nb, 1.0)])
        q = self.combine([(na, 1.0), (nb, -1.0)])
        square = lambda z: z * z  # noqa: E731
        sq_p, sq_q = self.block(square, p), self.block(square, q)
        return self.combine([(va, mb), (vb, ma), (sq_p, ha * hb / 4), (sq_q, -ha * hb / 4)], -ma * mb)

    def both(self, a, b) -> Value:
        """c1 * c2 * ... of truths, the whole tree of products of truths under this one: relu(sum c_i - (n - 1)),
        exact for 0/1 values, in one layer however many there are (a chain of && or of `return` flags)."""
        leaves, stack = [], [a, b]
        while stack:
            x = stack.pop()
            if x.op == "mul" and x.args[0].is_bool and x.args[1].is_bool and x.id not in self.values:
                stack.extend(x.args)
            else:
                leaves.append(x)
        leaves = list({x.id: x for x in leaves}.values())
        s = self.combine([(self.value(x), 1.0) for x in leaves], 1.0 - len(leaves), keys=[x.id for x in leaves])
        t = self.samples(s)
        program = None if s.err is None else np.maximum(t - s.err, 0.0)  # (exact for 0/1 truths)
        if t.max() <= DECIDED or t.min() >= 1 - DECIDED:  # decided by the network, if not by the program
            held = 0.0 if t.max() <= DECIDED else 1.0
            return Value(0, {}, held, None if program is None else held - program, None, s.unseen)
        u = self.unit(s.layer + 1, s.terms, s.const, 0.0)
        return Value(s.layer + 1, {u: 1.0}, 0.0, None if program is None else np.maximum(t, 0.0) - program,
                     np.maximum(t, 0.0), s.unseen)

    def gate(self, c, d) -> Value:
        """c * d for a truth c: exact where c is 0 or 1."""
        vc, vd = self.values[c.id], self.values[d.id]
        tc, td = self.samples(vc), self.samples(vd)

        # the unseen error of c * d: c's (a ramp of the condition) times d there, d's where c holds
        unseen = _plus(_times(vc.unseen, td), _times(vd.unseen, tc))

        def kept(v: Value) -> Value:  # v for c * d: its error against the program's c * d, where c's is known
            if vc.err is None:
                return Value(v.layer, v.terms, v.const, v.err, v.samples, unseen)
            program = (tc - vc.err) * (td - (0.0 if vd.err is None else vd.err))
            return Value(v.layer, v.terms, v.const, self.samples(v) - program, v.samples, unseen)

        if tc.max() <= DECIDED:  # decided by the network, if not by the program
            return kept(self.constant(0.0))
        if tc.min() >= 1 - DECIDED:
            return kept(vd)
        off = tc < 0.5  # where the select keeps its other arm: if d is ~0 there, the gate is not needed
        spread = float(td.max() - td.min())
        if off.any() and float(np.abs(td[off]).max()) <= CONVERGED * max(spread, float(np.abs(td).max())):
            return kept(vd)
        self.gates += 1
        m = float(np.abs(td).max()) * 1.5 or 1.0
        layer = max(vc.layer, vd.layer)
        vc, vd = self.carry(vc, layer, c.id), self.carry(vd, layer, d.id)
        units = []
        for sign in (1.0, -1.0):  # relu(sign d / m - (1 - c))
            terms = {u: sign * k / m for u, k in vd.terms.items()}
            for u, k in vc.terms.items():
                terms[u] = terms.get(u, 0.0) + k
            units.append(self.unit(layer + 1, terms, sign * vd.const / m - 1.0 + vc.const, 0.0))
        relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
        out = Value(layer + 1, {units[0]: m, units[1]: -m}, 0.0, None,
                    m * (relu(td / m - (1.0 - tc)) - relu(-td / m - (1.0 - tc))), unseen)
        ec = np.zeros_like(tc) if vc.err is None else vc.err
        ed = np.zeros_like(td) if vd.err is None else vd.err
        out.err = (self.samples(out) - tc * td) + tc * ed + td * ec - ec * ed
        return out

    def range_of(self, node) -> tuple[float, float]:
        """[lo, hi] of the node's values over the box, as tight as known: a one-variable function of a source
        with finite bounds is tabulated over them (1025 points, padded by 1% of the spread it takes: a
        bisection's interval arithmetic explodes, its values do not); otherwise the graph's bounds."""
        if node.id not in self.ranges:
            lo, hi = node.lo, node.hi
            src = node.src
            if src is not node:
                s_lo, s_hi = self.range_of(src)
                if math.isfinite(s_lo) and math.isfinite(s_hi):
                    z = np.linspace(s_lo, s_hi, 1025)
                    with np.errstate(all="ignore"):
                        y = _as_array(evaluate([node], {src: np.round(z) if src.is_int else z}, network=True)[node], z)
                    y = y[np.isfinite(y)]
                    if len(y) == len(z):  # (the pad keeps a one-signed value's sign)
                        pad = 0.01 * (y.max() - y.min())
                        low = y.min() - pad if y.min() <= 0 else max(y.min() - pad, y.min() / 2)
                        high = y.max() + pad if y.max() >= 0 else min(y.max() + pad, y.max() / 2)
                        lo, hi = max(lo, low), min(hi, high)
            self.ranges[node.id] = (lo, hi)
        return self.ranges[node.id]

    def one_signed(self, node, samples) -> bool:
        """Does the node keep one sign over the whole box (0 itself only at its edge), and the network's values
        with it?"""
        lo, hi = self.range_of(node)
        return (lo >= 0 and samples.min() > 0) or (hi <= 0 and samples.max() < 0)

    # -- the whole network ----------------------------------------------------------------------------------------

    def network(self, outputs: list, program: list | None = None) -> Network:
        """The network of the outputs; program: the program's values of each on the synthetic inputs where they
        are not the graph's (float32 roundings), which each output's error is then measured against."""
        values = [self.value(o) for o in outputs]
        if program is not None:
            values = [Value(v.layer, v.terms, v.const, self.samples(v) - p, v.samples, v.unseen)
                      for v, p in zip(values, program)]
        # (units of values no output needed in the end, a gate decided after its operands were built, may lie
        # deeper than every output: the outputs are read from the last layer there is)
        last = max([v.layer for v in values if v.terms] + [len(self.rows)])
        if last == 0:
            last = 1  # one hidden layer at least: the surrogate's format is an MLP
        final = [self.carry(v, last, o.id if is_node(o) else None) if v.terms else
                 Value(last, {}, v.const, v.err, None, v.unseen) for v, o in zip(values, outputs)]
        if len(self.rows) < last:  # only constants: one unit that reads nothing
            self.unit(last, {}, 0.0, 0.0)
        means, stds, errors, ramps = [], [], [], []
        for v in final:
            s = self.samples(v)
            s = s[:N_SYNTHETIC]  # (the uniform points: the input distribution)
            means.append(float(s.mean()))
            stds.append(float(s.std()) if s.std() > 0 else 1.0)
            err = v.err[:N_SYNTHETIC] if v.err is not None else np.zeros(len(s))
            unseen = v.unseen[:N_SYNTHETIC] if v.unseen is not None else np.zeros(len(s))
            spread = float(np.std(s - err)) or stds[-1]  # (a share of the program's spread: the network's may be
            errors.append(float(np.sqrt(np.mean(err ** 2))) / spread)  # far off, or 0)
            ramps.append(float(np.sqrt(np.mean(err ** 2) + np.mean(unseen ** 2))) / spread)
        rows, floors, outputs = _pruned(self.rows, self.floors, [dict(v.terms) for v in final])
        return Network(rows, floors, [(terms, v.const) for terms, v in zip(outputs, final)], np.array(means),
                       np.array(stds), self.n_in, self.blocks, self.gates, estimated_error=errors, ramp_error=ramps)


def ramp_error(jumps: list, s: np.ndarray, err: np.ndarray | None) -> np.ndarray | None:
    """Per input (the operand's samples s, err the operand's own error there), the error a block's jumps [(a, b,
    J)] make that the samples cannot show: where the operand falls in a ramp [a, b], the block is between the
    jump's two sides, (J (t - 1/2))^2 on average J^2 / 12 with the program's jump mid-ramp; and where the program's
    operand lies within the network's error e of the jump, the network is on the other side of it about half of
    the time, off by J. The chance of either, the operand's density about the ramp times b - a or 2 e, is spread
    over the samples in a window of a hundredth of their range either side of the ramp (e: their mean |err|)."""
    if not jumps or len(s) == 0:
        return None
    half_window = 0.01 * float(np.ptp(s))
    square = np.zeros(len(s))
    for a, b, jump in jumps:
        lo, hi = a - half_window, b + half_window
        if hi <= lo:
            continue
        near = (s >= lo) & (s <= hi)
        e = float(np.mean(np.abs(err[near]))) if err is not None and near.any() else 0.0
        square += near * (((b - a) / 12.0 + e) / (hi - lo) * jump * jump)
    return np.sqrt(square)


def _slope(blk, s: np.ndarray) -> np.ndarray:
    """The slope of a block's smooth part at each of its operand's samples: how an error of the operand carries
    through it."""
    if len(blk.knots) < 2:
        return np.zeros(len(s))
    slopes = np.diff(blk.smooth(blk.knots)) / np.diff(blk.knots)
    return slopes[np.clip(np.searchsorted(blk.knots, s) - 1, 0, len(slopes) - 1)]


def _times(unseen: np.ndarray | None, factor) -> np.ndarray | None:
    return None if unseen is None else unseen * factor


def _plus(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return b if a is None else a if b is None else a + b


def _joined(carried: np.ndarray | None, own: np.ndarray | None) -> np.ndarray | None:
    """An error carried from upstream and a block's own (independent: in quadrature, with the carried one's
    sign)."""
    if carried is None or own is None:
        return _plus(carried, own)
    return np.copysign(np.sqrt(carried ** 2 + own ** 2), carried)


def _within(values: np.ndarray, approx: np.ndarray) -> np.ndarray:
    """g's values where finite, else the block's (a residual is not estimated where g is undefined)."""
    return np.where(np.isfinite(values), values, approx)


def _dynamic(samples) -> float:
    a = np.abs(samples)
    return float(a.max() / a.min())


def _pruned(rows: list, floors: list, outputs: list) -> tuple[list, list, list]:
    """The layers without the units no output reads (through the layers after them), renumbered: a value built
    and then not needed (the operand of a gate the network decided) leaves no weights behind. A layer keeps one
    unit at least."""
    keep = [set() for _ in rows]
    wanted = set().union(*(t.keys() for t in outputs)) if outputs else set()
    for layer in range(len(rows) - 1, -1, -1):
        keep[layer] = wanted or {0}
        wanted = set()
        for u in keep[layer]:
            wanted.update(rows[layer][u][0].keys())
    index = [{u: i for i, u in enumerate(sorted(k))} for k in keep]
    new_rows, new_floors = [], []
    for layer, (layer_rows, layer_floors) in enumerate(zip(rows, floors)):
        below = index[layer - 1] if layer > 0 else None
        renamed = {}  # shared terms stay shared (dense() reads each once)
        out_rows = []
        for u in sorted(keep[layer]):
            terms, factor, bias = layer_rows[u]
            if below is not None:
                if id(terms) not in renamed:
                    renamed[id(terms)] = {below[k]: c for k, c in terms.items()}
                terms = renamed[id(terms)]
            out_rows.append((terms, factor, bias))
        new_rows.append(out_rows)
        new_floors.append([layer_floors[u] for u in sorted(keep[layer])])
    last = index[-1] if index else None
    new_outputs = [{last[u]: c for u, c in t.items()} if last is not None else dict(t) for t in outputs]
    return new_rows, new_floors, new_outputs


def _thresholds(node, src, low: float, high: float) -> list[float]:
    """The values of src in (low, high) where a comparison in node's chain changes (gt0, ge0 or eq0 of a function
    of src): solved where that function is affine in src, else found where it changes sign (`_sign_changes`);
    at most MAX_THRESHOLDS of them."""
    found, stack, seen, curved = set(), [node], set(), []
    while stack:
        n = stack.pop()
        if not is_node(n) or n.id in seen or n is src or n.src is not src:
            continue
        seen.add(n.id)
        if n.op == "fn" and n.fn in ("gt0", "ge0", "eq0"):
            d = n.args[0]
            if d.affine_in_src:
                alpha, beta = _affine_in_source(d, src)
                if alpha != 0.0 and math.isfinite(beta / alpha):
                    found.add(-beta / alpha)
            else:
                curved.append(d)
        stack.extend(n.args)
    found.update(_sign_changes(curved, src, low, high))
    return sorted(t for t in found if low < t < high)[:MAX_THRESHOLDS]


def _sign_changes(curved: list, src, low: float, high: float) -> list[float]:
    """Where the functions `curved` of src change sign between neighbouring points of THRESHOLD_GRID on (low,
    high): all of them bisected together, one evaluation a step, to within a 64th of `_missed`'s distance from a
    threshold (a threshold bisected to float precision, one evaluation of its function a step, took thermistor.c's
    network from 64 to 507 ms)."""
    if not curved:
        return []
    z = np.linspace(low, high, THRESHOLD_GRID)
    with np.errstate(all="ignore"):
        values = evaluate(curved, {src: z}, network=True)
    starts, owners, signs = [], [], []
    for k, d in enumerate(curved):
        v = _as_array(values[d], z)
        sign = np.sign(v)
        at = np.nonzero(np.isfinite(v[:-1]) & np.isfinite(v[1:]) & (sign[:-1] != sign[1:]))[0]
        starts.append(at)
        owners.append(np.full(len(at), k))
        signs.append(sign[at])
    at, owner, sign_a = np.concatenate(starts), np.concatenate(owners), np.concatenate(signs)
    if len(at) == 0:
        return []
    a, b = z[at], z[at + 1]
    steps = math.ceil(math.log2((z[1] - z[0]) / (THRESHOLD_STEP * (high - low) / 64)))
    with np.errstate(all="ignore"):
        for _ in range(max(steps, 1)):
            m = (a + b) / 2
            at_m = evaluate(curved, {src: m}, network=True)
            sign_m = np.sign(np.stack([_as_array(at_m[d], m) for d in curved])[owner, np.arange(len(m))])
            left = sign_m == sign_a
            a, b = np.where(left, m, a), np.where(left, b, m)
    return [float(x) for x in (a + b) / 2]


def _missed(blk, g, thresholds: list, low: float, high: float) -> tuple[list[float], list[float]]:
    """(points for the grid, points g takes values at) where the block stepped over a stretch between two
    neighbouring thresholds narrower than its grid's steps (a branch on x in (0.5024, 0.5027)): the stretch's
    middle, where the block is off g by more than ten times its own largest error on the grid (and a
    thousandth of g's spread), and either side of its two ends, beyond a jump's ramp; ([], []) where it missed
    nothing."""
    inside = [low, *(t for t in thresholds if low < t < high), high]  # (a stretch at an end of the range too)
    step, delta = (high - low) / (GRID - 1), THRESHOLD_STEP * (high - low)
    # (narrower than its own ends' points, a stretch is within the ramps of its jumps: two comparisons of one
    # threshold reached by two roundings, 240 and 240 + 1e-12 in hsl_to_rgb.c, are no stretch to find)
    narrow = [(a, b) for a, b in zip(inside, inside[1:]) if 2 * delta < b - a < 2 * step]
    if not narrow:
        return [], []
    middles = np.array([(a + b) / 2 for a, b in narrow])
    with np.errstate(all="ignore"):
        exact, approx, at_knots = g(middles), blk(middles), g(blk.knots)
    at_knots = at_knots[np.isfinite(at_knots)]
    spread = float(np.ptp(at_knots)) if at_knots.size else 0.0
    off = np.isfinite(exact) & (np.abs(approx - exact) > max(10.0 * blk.max_error, 1e-3 * spread))
    if not off.any():
        return [], []
    ends = [p for (a, b), o in zip(narrow, off) if o for p in (a - delta, a + delta, b - delta, b + delta)]
    return sorted(p for p in [*ends, *middles[off]] if low < p < high), [float(m) for m in middles[off]]


def _affine_in_source(node, src) -> tuple[float, float]:
    """(alpha, beta) with node = alpha src + beta, for a node affine in its source (Node.affine_in_src)."""
    at = evaluate([node], {src: np.array([0.0, 1.0])})[node]
    return float(at[1] - at[0]), float(at[0])


def _period(node, src) -> tuple[float, list] | None:
    """(T, axes) where `node` depends on src only through sin, cos or tan of affine functions of src whose periods
    all divide T, the longest; axes: the values of src where one of sin or cos is at an extreme (g may be
    symmetric about one: `_symmetry_axis`). None otherwise."""
    periods, axes, stack, seen = [], [], [node], set()
    while stack:
        n = stack.pop()
        if n is src:
            return None  # a path to src that no periodic function is on
        if n.id in seen:
            continue
        seen.add(n.id)
        arg = n.args[0] if n.args else None
        if n.op == "fn" and n.fn in PERIODS and arg.affine_in_src and arg.src is src:
            alpha, beta = _affine_in_source(arg, src) if arg is not src else (1.0, 0.0)
            if alpha == 0.0:
                return None
            periods.append(PERIODS[n.fn] / abs(alpha))
            if n.fn != "tan":
                axes.append(((math.pi / 2 if n.fn == "sin" else 0.0) - beta) / alpha)
            continue
        stack.extend(a for a in n.args if is_node(a))
    if not periods:
        return None
    longest = max(periods)
    ratios = np.array([longest / p for p in periods])
    return (longest, axes) if np.all(np.abs(ratios - np.round(ratios)) < 1e-9 * ratios) else None


def _triangle_wave(axis: float, period: float):
    """z -> axis + |((z - axis + period/2) mod period) - period/2|: z folded into [axis, axis + period/2]."""
    return lambda z: axis + np.abs(np.mod(z - axis + period / 2, period) - period / 2)


def _symmetry_axis(g, period: float, axes: list, samples: np.ndarray) -> float | None:
    """An axis a among `axes` about which the periodic g is symmetric: g of the folded value (`_triangle_wave`)
    equals g (to rounding) on 4097 points of a period either side of a and on the operand's samples."""
    d = np.linspace(0.0, period / 2, 4097)
    for a in axes:
        z = np.concatenate([a + d, a - d, samples])
        with np.errstate(all="ignore"):
            direct, folded = g(z), g(_triangle_wave(a, period)(z))
        finite = np.isfinite(direct)
        scale = float(np.abs(direct[finite]).max()) if finite.any() else 0.0
        if np.array_equal(finite, np.isfinite(folded)) and np.all(
                np.abs(direct - folded)[finite] <= 1e-9 * scale + 1e-300):
            return a
    return None


def _wraps(node, src) -> bool:
    """Does node wrap an integer (C's modular conversion) on the way from src? Beyond src's bounds, where only the
    network's error takes it, a wrap is a phantom jump of 2^bits (an unsigned sum of squares the network puts a
    little below 0 came out 4.29e9): such a block takes the function's value at the bound there (`block`'s edge).
    (Other functions keep their own values beyond the bounds: the networks compiled before this rule.)"""
    return any(n.op == "fn" and n.fn == "wrap" for n in plan([node], {src: None})[0])


def _only_through(node, src, via) -> bool:
    """Does `node` depend on `src` only through `via` (a function of src)?"""
    try:
        evaluate([node], {via: np.zeros(1)})
        return True
    except KeyError:
        return False


def _as_array(y, z):
    return np.broadcast_to(np.asarray(y, dtype=np.float64), np.shape(z)).astype(np.float64)


def _unbuilt_operands(node, built: dict) -> list:
    """node and the operands it needs that have no Value yet, operands first (iterative: graphs are deep)."""
    order, seen, stack = [], set(), [node]
    while stack:
        n = stack.pop()
        if n.id in seen or n.id in built:
            continue
        seen.add(n.id)
        needs = [n.src] if (n.src is not n) else list(n.args)
        stack.extend(a for a in needs if is_node(a) and a.id not in built and a.id not in seen)
        order.append(n)
    return sorted(order, key=lambda n: n.id)


def least_depth(outputs) -> int:
    """A lower bound on the layers the outputs' network needs (Node.depth: one a one-variable block, product or
    gate on the longest chain; jumps and products through logs take more), so a graph far too deep (a
    time-stepping loop of hundreds of steps with products in it) is refused before any block is built."""
    return max((o.depth for o in outputs if is_node(o)), default=0)


def build(trace, signature, tol: float = BLOCK_TOL) -> Network | Unsupported:
    """The network of a trace (trace.py) over the signature's input box, its blocks fitted to `tol` of their
    range (blocks.py), or why there is none."""
    graph, outputs = trace.graph, trace.outputs
    rounded = any(n.op == "fn" and n.fn == "f32" for n in graph.nodes)
    if rounded:  # C's floats: the network computes in the reals, its error is measured against the roundings
        graph, outputs = without_rounding(graph, outputs)
    depth = least_depth(outputs)
    if depth > MAX_DEPTH:
        return Unsupported(f"a network of at least {depth} layers of blocks, products and gates (the most is "
                           f"{MAX_DEPTH})")
    lo, hi = signature.ranges()
    integer = np.array([p.is_integer for p in signature.inputs], dtype=bool)
    builder = Builder(graph, np.asarray(lo, float), np.asarray(hi, float), integer, tol)
    if trace.still_running:  # a loop cut short is the program only where every input has left it
        with np.errstate(all="ignore"):
            running = evaluate(trace.still_running, {n: builder.x[:, n.param] for n in trace.graph.inputs},
                               keep_all=False)
        cut = trace.first_still_running([running[c] if is_node(c) else c for c in trace.still_running])
        if cut is not None:
            return Unsupported(f"a loop runs past {cut[0]} turns on {100 * cut[1]:.3g}% of the box")
    program = None
    if rounded:  # the program's outputs on the synthetic inputs: its graph, roundings and all, evaluated
        env = {n: builder.x[:, n.param] for n in trace.graph.inputs}
        # (not a float input's own rounding, though: the surrogate's inputs are float32 too)
        env.update({n: env[n.args[0]] for n in trace.graph.nodes if n.op == "fn" and n.fn == "f32"
                    and n.args[0].op == "input"})
        with np.errstate(all="ignore"):
            values = evaluate(trace.outputs, env, keep_all=False)
        program = [np.broadcast_to(np.asarray(values[o] if is_node(o) else o, float), len(builder.x))
                   for o in trace.outputs]
    try:
        with np.errstate(all="ignore"):
            net = builder.network(outputs, program)
    except Unsupported as e:
        return e
    if not all(math.isfinite(float(m)) for m in net.out_mean):
        return Unsupported("an output the network cannot compute finitely")
    return net
