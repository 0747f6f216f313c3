"""Uncertain values and their arithmetic: the value algebra of the statistical linearisation (linearize.py).

A value the analysed function computes is a number (a constant, exact, with C's integer semantics), a pointer
(`Ptr`), or an uncertain value `Lin`: its least-squares linear form in the normalised inputs u (uniform on [-1, 1],
or an integer input's discrete values) and in noise symbols, with an interval and, where it is proven, its exact
piecewise-affine `Form`. This module holds what does not depend on C's statements: the inputs' distributions
(`input_model`), the noise symbols, sums and products, functions of one and two uncertain values by quadrature
(`apply1`, `apply2`), and the merge of a branch's ways (`mix`). linearize.py's module docstring says how each step
is approximated; the interpreter of C statements that uses this algebra is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nsc.analysis.forms import Form, product_of, select

VAR_U = 1.0 / 3.0  # Var(u) for u ~ U[-1, 1]
# Quadrature rules, written out (numpy.polynomial's leggauss(8) and hermegauss(5); importing it costs the compile
# path ~3 ms): 8-point Gauss-Legendre for the uniform distribution on [-1, 1], 5-point Gauss-Hermite for the
# standard normal; weights sum to 1. tests/test_linearize.py checks them against numpy.
_LEG_X = np.array([-0.9602898564975362, -0.7966664774136267, -0.525532409916329, -0.18343464249564978,
                   0.18343464249564978, 0.525532409916329, 0.7966664774136267, 0.9602898564975362])
_LEG_W = np.array([0.05061426814518853, 0.11119051722668721, 0.15685332293894344, 0.18134189168918083,
                   0.18134189168918083, 0.15685332293894344, 0.11119051722668721, 0.05061426814518853])
_HERM_X = np.array([-2.8569700138728056, -1.355626179974266, 0.0, 1.355626179974266, 2.8569700138728056])
_HERM_W = np.array([0.011257411327720677, 0.22207592200561257, 0.5333333333333335, 0.22207592200561257,
                    0.011257411327720677])


class Unsupported(Exception):
    """The function uses something the analysis does not model; the message says what, and `where` (file:line,
    set by the interpreter) where."""

    where = None

    def __str__(self) -> str:
        return super().__str__() + (f", at {self.where}" if self.where else "")




class Lin:
    """An uncertain value: m + c . (u, noise symbols) + e, Var(e) = r (a residual left without a symbol once
    they are used up), within [lo, hi] (interval arithmetic; keeps quadrature inside the values an operand can
    take, e.g. off the pole of 1/x for a positive x).
    is_int: of integer C type; is_bool: a 0/1 truth. form: the value's exact `Form` where it is proven to be
    one (None: the statistics are all there is); a value any step outside Form's algebra made has none.
    region: for a truth value that is an affine comparison, the Form that is > 0 where it holds.
    split: for a truth value that tests one value, (that value, the 0/1 test as a numpy function): `mix` then
    integrates over the tested value, so a branch's arms are weighted where they are taken (`_split_moments`)."""

    __slots__ = ("m", "c", "r", "lo", "hi", "is_int", "is_bool", "form", "region", "split", "factors")

    def __init__(self, m: float, c: np.ndarray, r: float = 0.0, lo: float = -math.inf, hi: float = math.inf,
                 is_int: bool = False, is_bool: bool = False, form: Form | None = None):
        self.m, self.c, self.r = float(m), c, max(float(r), 0.0)
        self.lo, self.hi = (float(lo), float(hi)) if lo <= hi else (-math.inf, math.inf)  # nan: unknown
        self.is_int, self.is_bool, self.form, self.region, self.split = is_int, is_bool, form, None, None
        self.factors = None  # (a, b) for a product a * b of uncertain values that keep off zero (`reciprocal`)

    def var_lin(self) -> float:
        return _cov(self.c, self.c)

    def var(self) -> float:
        return self.var_lin() + self.r

    def support(self) -> tuple[float, float]:
        """[lo, hi] narrowed to six standard deviations around the mean (where quadrature may look)."""
        s = 6.0 * math.sqrt(self.var())
        return max(self.lo, self.m - s), min(self.hi, self.m + s)

    def affine_support(self) -> tuple[float, float]:
        """Where a smooth function's quadrature may look: `support`, narrowed to the value's affine range
        m +- sum_j |c_j| max|u_j| (+- 6 sd of a residual without a symbol): every input and noise symbol is a
        bounded variable, as the model takes it. Beyond that range the Gaussian stand-in for the rest puts nodes
        where the model's own value cannot go, and in an iteration that spread feeds itself: kepler.c's Newton
        residual E - e sin E - M grew from sd 0.8 to 2.9 over 12 steps, where the true one converges to 0 (now
        0.8 -> 0.5, and the linear model of its outputs 0.80 -> 0.28 rel-RMSE). Comparisons keep `support`."""
        s = 6.0 * math.sqrt(self.var())
        if len(_BOUND) >= len(self.c):
            s = min(s, float(np.abs(self.c) @ _BOUND[:len(self.c)]) + 6.0 * math.sqrt(self.r))
        return max(self.lo, self.m - s), min(self.hi, self.m + s)


@dataclass(frozen=True)
class Ptr:
    """A pointer: cell `offset` of storage `sid`; `dims`: the array dimensions still to index (() for a scalar);
    `slot`: the elements' type slot (declared.py: an integer type's name, FLOAT32, False for a double, or the
    `Layout` of a struct, whose cells an element spans)."""

    sid: int
    offset: int
    dims: tuple = ()
    slot: object = False
    # (index, step, count) for a pointer to an element at a computed position (&a[i], a + i): index (a value)
    # times step cells on from offset, index within 0..count-1; read through tables of the elements it may point
    # to, never written through
    at: tuple | None = field(default=None, compare=False)

    @property
    def layout(self):
        """The elements' struct layout, or None for scalar elements."""
        return self.slot if hasattr(self.slot, "cell_slots") else None

    def stride(self) -> int:
        """Cells from one element (of the first dimension) to the next."""
        rows = int(np.prod(self.dims[1:])) if len(self.dims) > 1 else 1
        return rows * (self.layout.size if self.layout is not None else 1)

    def moved(self, cells: int, dims: tuple | None = None, slot=None) -> "Ptr":
        """This pointer `cells` cells on, with `dims` still to index and elements of `slot` (default: the same)."""
        return Ptr(self.sid, self.offset + cells, self.dims if dims is None else dims,
                   self.slot if slot is None else slot, self.at)


def same_place(a, b) -> bool:
    """Do two pointer values (or function designators) point to the same place? (One at a computed position is
    the same only as itself: its index is a value.)"""
    if a is b:
        return True
    return type(a) is type(b) and a == b and getattr(a, "at", None) is None and getattr(b, "at", None) is None


@dataclass(frozen=True)
class Function:
    """A function designator's value (`f`, `&f`): what a function pointer holds, called through it."""

    name: str


@dataclass(frozen=True, eq=False)
class FunctionChoice(Function):
    """cond ? first : second of two function designators (a function pointer assigned under a condition, or read
    from a table at a computed index): a call through it calls each where it is chosen (nsc/analysis/trace.py)."""

    cond: object = None
    first: Function | None = None
    second: Function | None = None
    __eq__ = object.__eq__  # (two choices are one only if they are the same choice)
    __hash__ = object.__hash__


@dataclass(frozen=True)
class Aggregate:
    """A struct's value: a copy of its cells, in its layout's order (assignments, arguments and returns copy it)."""

    cells: tuple
    layout: object = field(compare=False)  # declared.Layout


# ----------------------------------------------------------------------------------------------------------------
# values: Python int (C integer constant), float (double constant), Lin (uncertain), Ptr


def is_int(v) -> bool:
    return v.is_int if isinstance(v, Lin) else isinstance(v, (int, bool)) and not isinstance(v, float)


def is_const(v) -> bool:
    return isinstance(v, (int, float))


def check_value(v):
    if isinstance(v, Ptr):
        raise Unsupported("arithmetic on a pointer value")
    if isinstance(v, Aggregate):
        raise Unsupported("a struct where a number is expected")
    if isinstance(v, Function):
        raise Unsupported("a function where a number is expected")
    return v


def as_lin(v, n: int) -> Lin:
    return v if isinstance(v, Lin) else Lin(float(v), np.zeros(n), 0.0, float(v), float(v), is_int(v),
                                            form=Form(float(v), np.zeros(n)))


def form_of(v, n: int) -> Form | None:
    return Form(float(v), np.zeros(n)) if is_const(v) else v.form if isinstance(v, Lin) else None


def _bounds(values) -> tuple[float, float]:
    """[min, max] of candidate bounds; unknown (-inf, inf) if any is nan."""
    a = np.asarray(values, dtype=np.float64)
    if np.isnan(a).any():
        return -math.inf, math.inf
    return float(a.min()), float(a.max())


# Steps the exact forms cannot vouch for, in the analysis running now (`linearize` resets it): a constant the
# statistics made of a value with no proven form, a condition decided by the statistics, a path cut short (the
# likelier way, a loop's last sliver). Any such step, and the analysis gives no exact forms.
unproven_steps = [0]

# Noise symbols (as in affine arithmetic): the residual a nonlinear step leaves is not dropped into an anonymous
# variance but given a fresh symbol of its own, an extra coordinate of `Lin.c` (a uniform variable on [-1, 1] like
# the inputs, so every variance formula holds unchanged). Values computed from the same residual then share its
# symbol, so their correlation is kept: d2 = d1 - s has d1's residual, not an independent one of the same size,
# and y - y is 0. Coordinates [first, end) of every vector are the symbols; `noise_symbols` is [next free, first, end]
# for the analysis running now (`Interpreter` sets it). Once all are used, residuals stay anonymous (`Lin.r`).
# Quadrature still integrates over the symbols as over a Gaussian residual (`_quadrature`).
NOISE_SYMBOLS = 128
noise_symbols = [0, 0, 0]
# What `apply1` left over on each symbol it made, as a function of its operand: symbol -> (operand, f, mean, kd, kg,
# lo, hi, coefficient), the symbol being (f(operand) - mean - kd main - kg rest) / coefficient at a node of
# `_quadrature(operand)`. `_split_moments` uses it when it integrates over that same operand.
leftovers = {}


# The distribution of each coordinate, for the analysis running now (`input_model`, which `Interpreter` calls): the
# noise symbols and continuous inputs are uniform on [-1, 1]; an integer input takes each integer of its range with
# equal probability (as `nsc sample` draws it), so its coordinate is discrete: K values, Var(u) = (K + 1) / (3 (K - 1))
# (1 for a 0/1 flag, 2/3 for a mode 0..2, against the continuous 1/3), and quadrature takes its values as nodes.
# _VAR: Var(u) per coordinate; _K4: 3 Var(u)^2 - E[u^4] (what a Gaussian's fourth moment overstates, `mul`);
# _NODES: coordinate -> (nodes, weights) where they are not Gauss-Legendre's.
_VAR = np.zeros(0)
_K4 = np.zeros(0)
_NODES = {}
_BOUND = np.zeros(0)  # max |u| per coordinate: 1 but for an integer input whose values do not reach +-1
MAX_DISCRETE_NODES = 16  # an integer input with more values is integrated by Gauss-Legendre, its variance matched


def input_model(n: int, values: list) -> np.ndarray:
    """Set the coordinates' distributions for an analysis over n coordinates; values[i]: input i's normalised
    values if it is discrete (an integer input with at least two), else None. Returns the inputs' Var(u)."""
    global _VAR, _K4, _BOUND
    var, k4 = np.full(n, VAR_U), np.full(n, 2.0 / 15.0)
    bound = np.ones(n)  # max |u| per coordinate (`Lin.affine_support`)
    _NODES.clear()
    for i, u in enumerate(values):
        if u is None or len(u) < 2:
            continue
        u = np.asarray(u, dtype=np.float64)
        var[i] = float(np.mean(u * u))
        k4[i] = 3.0 * var[i] ** 2 - float(np.mean(u ** 4))
        bound[i] = float(np.max(np.abs(u)))
        _NODES[i] = ((u, np.full(len(u), 1.0 / len(u))) if len(u) <= MAX_DISCRETE_NODES
                     else (_LEG_X * math.sqrt(3.0 * var[i]), _LEG_W))
    _VAR, _K4, _BOUND = var, k4, bound
    return var[:len(values)]


def integer_values(lo: float, hi: float) -> np.ndarray | None:
    """The normalised values u = (x - mid) / half of an integer input drawn from the integers in [lo, hi], if
    they are at least two, at most 100,000, and centred (as they are for integer bounds); else None."""
    a, b = math.ceil(lo), math.floor(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or b <= a or b - a >= 100_000:
        return None
    u = (np.arange(a, b + 1, dtype=np.float64) - (lo + hi) / 2) / ((hi - lo) / 2)
    return u if abs(float(u.mean())) < 1e-9 else None


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    """Cov(a . u, b . u) for coefficient vectors over the coordinates."""
    return float((a * b) @ _VAR)


def _nodes(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights for coordinate k's distribution."""
    return _NODES.get(k, (_LEG_X, _LEG_W))


def _with_symbol(c: np.ndarray, r: float) -> tuple[np.ndarray, float]:
    """(c, r) with the residual variance r moved onto a fresh noise symbol, if one is left."""
    if not r > 0.0 or noise_symbols[0] >= noise_symbols[2] or not math.isfinite(r):
        return c, r
    c = np.array(c, dtype=np.float64)
    c[noise_symbols[0]] = math.sqrt(r / VAR_U)
    noise_symbols[0] += 1
    return c, 0.0


def settle(v: Lin):
    """A linear form with no spread left is a constant again. Where that is the statistics' conclusion (the
    quadrature saw no spread), not a proof, it is counted in `unproven_steps`."""
    if v.r == 0.0 and not v.c.any():
        if v.form is None:
            unproven_steps[0] += 1
        return int(round(v.m)) if v.is_int and abs(v.m) < 2 ** 62 else v.m
    return v


def c_div(a: int, b: int) -> int:
    if b == 0:
        raise Unsupported("integer division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def c_mod(a: int, b: int) -> int:
    return a - b * c_div(a, b)


def add(a, b, n: int, sign: float = 1.0):
    a, b = check_value(a), check_value(b)
    if is_const(a) and is_const(b):
        return a + b if sign > 0 else a - b
    la, lb = as_lin(a, n), as_lin(b, n)
    lo, hi = (la.lo + lb.lo, la.hi + lb.hi) if sign > 0 else (la.lo - lb.hi, la.hi - lb.lo)
    form = la.form.plus(lb.form, sign) if la.form is not None and lb.form is not None else None
    return settle(Lin(la.m + sign * lb.m, la.c + sign * lb.c, la.r + lb.r, lo, hi, la.is_int and lb.is_int,
                       form=form))


def scale(a, k: float):
    if is_const(a):
        return a * k
    if k == 0:
        return 0 if a.is_int and isinstance(k, int) else 0.0
    lo, hi = sorted((a.lo * k, a.hi * k))
    form = a.form.times(k) if a.form is not None else None
    return settle(Lin(a.m * k, a.c * k, a.r * k * k, lo, hi, a.is_int and float(k).is_integer(), False, form))


def mul(a, b, n: int):
    a, b = check_value(a), check_value(b)
    if is_const(a) and is_const(b):
        return a * b
    if isinstance(b, Lin) and b.is_bool and is_const(a) and a == 1:  # a path's weight: keep the truth's split
        return b
    if is_const(b):
        return scale(a, b)
    if is_const(a):
        return scale(b, a)
    cov = _cov(a.c, b.c)
    va, vb = a.var(), b.var()
    c = a.m * b.c + b.m * a.c
    total = a.m ** 2 * vb + b.m ** 2 * va + 2 * a.m * b.m * cov + va * vb + cov ** 2  # Var(ab), Gaussian
    # ... less what the inputs' terms being uniform, not Gaussian, take off: Var(u^2) is 4/45, not 2/9
    n_in = noise_symbols[1]
    total -= float((a.c[:n_in] ** 2 * b.c[:n_in] ** 2) @ _K4[:n_in])
    with np.errstate(all="ignore"):
        lo, hi = _bounds([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])
        if a is b and lo < 0:  # a square is never negative (interval arithmetic alone forgets that a is b)
            lo = 0.0 if a.lo <= 0 <= a.hi else min(a.lo * a.lo, a.hi * a.hi)
    c, r = _with_symbol(c, total - _cov(c, c))
    form = None
    if a.form is not None and b.form is not None:  # of affine values: squares (a length, if a sqrt comes)
        form = product_of(a.form, b.form)
    out = settle(Lin(a.m * b.m + cov, c, r, lo, hi, a.is_int and b.is_int, a.is_bool and b.is_bool, form))
    if isinstance(out, Lin) and _zero_free(a) and _zero_free(b):
        out.factors = (a, b)
    if isinstance(out, Lin) and a.split is not None and b.split is not None and a.split[0] is b.split[0]:
        (tested, test_a), (_, test_b) = a.split, b.split  # two tests of one value: both hold
        out.split = (tested, lambda x: test_a(x) * test_b(x))
    return out


def _quadrature(a: Lin):
    """Nodes and weights for integrating over a's distribution: its largest linear term (index k, coefficient
    cd) as a uniform variable (Gauss-Legendre), the rest of its variance as a Gaussian (Gauss-Hermite). The
    largest term is an input's where a has one: noise symbols stand for residuals, integrated as Gaussian."""
    candidates = noise_symbols[1] if a.c[:noise_symbols[1]].any() else len(a.c)  # the inputs' coordinates come first
    k = int(np.argmax(np.abs(a.c[:candidates])))
    cd = float(a.c[k])
    var_rest_lin = max(a.var_lin() - cd * cd * _VAR[k], 0.0)
    nodes, weights = _nodes(k)
    dx = cd * nodes[:, None]
    gx = math.sqrt(var_rest_lin + a.r) * _HERM_X[None, :]
    return k, cd, var_rest_lin, dx, gx, weights[:, None] * _HERM_W[None, :]


def _range_of(f, lo: float, hi: float, nodes: np.ndarray) -> tuple[float, float]:
    """f's range over [lo, hi], from a grid (and the quadrature nodes): a tight guide, not a proof."""
    grid = np.concatenate([np.linspace(lo, hi, 65), nodes.ravel()])
    with np.errstate(all="ignore"):
        F = np.asarray(f(grid), dtype=np.float64)
    F = F[np.isfinite(F)]
    return (float(F.min()), float(F.max())) if F.size else (-math.inf, math.inf)


def _integrate(f, args, W: np.ndarray, undefined: str):
    """f at the quadrature nodes `args` with weights W, the nodes where f is not finite dropped and the weights
    renormalised: (values, weights, mean, variance)."""
    with np.errstate(all="ignore"):
        F = np.asarray(f(*args), dtype=np.float64)
    ok = np.isfinite(F)
    if not ok.any():
        raise Unsupported(undefined)
    W = np.where(ok, W, 0.0)
    W = W / W.sum()
    F = np.where(ok, F, 0.0)
    mean = float((W * F).sum())
    return F, W, mean, float((W * (F - mean) ** 2).sum())


def apply1(f, a: Lin, n: int, is_int_result: bool = False, is_bool: bool = False):
    """f(a) linearised over a's distribution (`_quadrature`): mean, covariance with a's terms, residual."""
    if not (math.isfinite(a.m) and math.isfinite(a.var())):
        raise Unsupported("an overflow")
    k, cd, var_rest_lin, dx, gx, W = _quadrature(a)
    var_d, var_g = cd * cd * _VAR[k], var_rest_lin + a.r
    # a comparison integrates over the wider support: decided on a tail the affine range clips, a branch that
    # holds for 9% of the box became never (and statistics-decided steps cost a program its exact forms)
    lo, hi = a.support() if is_bool else a.affine_support()
    X = np.clip(a.m + dx + gx, lo, hi)  # regressions below stay on the unclipped parts (the u's)
    F, W, mean, var_f = _integrate(f, (X,), W, "a math function is undefined over the whole range of its argument")
    kd = float((W * F * dx).sum()) / var_d if var_d > 0 else 0.0
    kg = float((W * F * gx).sum()) / var_g if var_g > 0 else 0.0
    c = kg * a.c
    c[k] = kd * cd
    explained = kd * kd * var_d + kg * kg * var_rest_lin
    r_lo, r_hi = _range_of(f, lo, hi, X)
    first_free = noise_symbols[0]
    c, r = _with_symbol(c, var_f - explained)
    if noise_symbols[0] > first_free:
        leftovers[first_free] = (a, f, mean, kd, kg, lo, hi, float(c[first_free]))
    return settle(Lin(mean, c, r, r_lo, r_hi, is_int_result or is_bool, is_bool))


def _zero_free(v: Lin) -> bool:
    return v.lo > 0 or v.hi < 0


def reciprocal(b: Lin, n: int):
    """1 / b. A product of factors that keep off zero is the product of their reciprocals, each integrated over
    its own distribution: integrated over the product's (a uniform plus a Gaussian), 1 / (v sqrt(t)) of two
    uniform inputs reached towards the pole and came out 1.2x too large in the mean, 2x in the spread."""
    if b.factors is not None:
        x, y = b.factors
        return mul(reciprocal(x, n), reciprocal(y, n), n)
    return unary_fn(lambda t: 1.0 / t, b, n)


def clipped_index(x, size: int) -> np.ndarray:
    """The table entry C reads at index value x (rounded; clipped to the table, as a guide for the tails)."""
    return np.clip(np.rint(x), 0, size - 1).astype(int)


def with_entry_spread(value: Lin, entries: list, weights) -> Lin:
    """value plus the table entries' own dependence on the inputs, each weighted by how often it is read
    (`weights()`: the entries' read probabilities, computed only where some entry has a spread)."""
    spread = [(k, e) for k, e in enumerate(entries) if isinstance(e, Lin)]
    if spread:
        P = weights()
        value = Lin(value.m, value.c + sum(P[k] * e.c for k, e in spread),
                    value.r + sum(P[k] * e.r for k, e in spread), min([value.lo] + [e.lo for _, e in spread]),
                    max([value.hi] + [e.hi for _, e in spread]), value.is_int)
    return settle(value)


def index_weights(idx: Lin, n_entries: int) -> np.ndarray:
    """Probability of reading each entry of a table at the uncertain index idx (rounded, clipped)."""
    _, _, _, dx, gx, W = _quadrature(idx)
    k = np.clip(np.rint(np.clip(idx.m + dx + gx, *idx.support())), 0, n_entries - 1).astype(int)
    return np.bincount(k.ravel(), W.ravel(), minlength=n_entries)


def negate(t):
    """!t for a truth value."""
    if is_const(t):
        return int(not t)
    out = Lin(1.0 - t.m, -t.c, t.r, 1.0 - t.hi, 1.0 - t.lo, True, True)
    out.region = t.region.times(-1.0) if t.region is not None else None  # the boundary itself has measure 0
    if t.split is not None:
        tested, test = t.split
        out.split = (tested, lambda x: 1.0 - test(x))
    return out


def both(a, b, n: int):
    """a && b for truth values (independent beyond their linear parts)."""
    if is_const(a):
        return b if a else 0
    if is_const(b):
        return a if b else 0
    return mul(a, b, n)


def unary_fn(f, a, n: int, is_int_result: bool = False, is_bool: bool = False):
    """f applied to a constant exactly, to an uncertain value by `apply1`."""
    if is_const(a):
        with np.errstate(all="ignore"):
            y = float(f(np.float64(a)))
        if not math.isfinite(y):
            raise Unsupported("a math function is undefined at a constant argument")
        return int(y) if is_int_result or is_bool else y
    return apply1(f, a, n, is_int_result, is_bool)


def mix(weights: list, values: list, n: int, within=None):
    """The value that is values[k] with probability weights[k] (weights: linear forms or numbers, summing to ~1
    as functions of u): mean and linear part of the mixture, including how the choice itself depends on u.
    within: the split (tested value, test) of the path the choice is made on, if any (`_split_moments`)."""
    first = values[0]
    if all(v is first for v in values) or (all(is_const(v) for v in values) and len(set(values)) == 1):
        return first
    if any(isinstance(v, (Ptr, Function)) for v in values):
        if all(same_place(v, first) for v in values):
            return first
        raise Unsupported("a pointer that depends on an uncertain branch")
    if any(isinstance(v, Aggregate) for v in values):  # (Interpreter.mixed mixes structs cell by cell)
        raise Unsupported("a struct where a number is expected")
    lw = [as_lin(w, n) for w in weights]
    lv = [as_lin(v, n) for v in values]
    wbar = np.array([max(w.m, 0.0) for w in lw])
    total_w = wbar.sum()
    if total_w <= 0:
        raise Unsupported("a branch with no probability left")
    wbar = wbar / total_w
    splits = [w.split for w in lw]
    if None not in splits and all(tested is splits[0][0] for tested, _ in splits):  # the ways of tests of one value
        region = within[1] if within is not None and within[0] is splits[0][0] else None
        m, c, var = _split_moments(splits[0][0], [test for _, test in splits], lv, region)
    else:
        # E[w_k v_k] = mean(w_k) mean(v_k) + Cov(w_k, v_k): an arm's value and its probability vary together
        m = float(sum(wk * v.m + _cov(w.c, v.c) / total_w for wk, w, v in zip(wbar, lw, lv)))
        c = sum(wk * v.c + (v.m - m) * w.c / total_w for wk, w, v in zip(wbar, lw, lv))
        var = float(sum(wk * (v.var() + (v.m - m) ** 2) for wk, v in zip(wbar, lv)))
    used = [v for wk, v in zip(wbar, lv) if wk > 0]
    form = None
    if len(lw) == 2 and lw[0].region is not None and lv[0].form is not None and lv[1].form is not None:
        form = select(lw[0].region, lv[0].form, lv[1].form)  # weights: a truth value and its negation
    c = np.asarray(c, dtype=np.float64)
    c, r = _with_symbol(c, var - _cov(c, c))
    return settle(Lin(m, c, r, min(v.lo for v in used),
                       max(v.hi for v in used), all(v.is_int for v in lv),
                       all(v.is_bool or (is_const(x) and x in (0, 1)) for v, x in zip(lv, values)), form))


def _split_moments(d: Lin, tests: list, values: list, region=None) -> tuple[float, np.ndarray, float]:
    """Mean, linear part and variance of y = sum_k test_k(d) values_k (the tests 0/1 and exclusive), integrated
    over d by `_quadrature`'s nodes. Each value and each coordinate is regressed on d's two quadrature parts
    (its largest term e1, the rest e2) as if jointly Gaussian with them, so an arm counts with the values it has
    where it is taken: the clamp v < 0 ? 0 : v keeps v only where v >= 0 and its spread shrinks, where weighting
    arms by their overall probability would add the spread of v where it is cut off.
    region: where the path that makes the choice is taken, a 0/1 test of d too (the else arm of `if (d < a) ...
    else if (d < b) ...`). Outside it y does not matter, so y is the least-squares line over the region
    (`_region_fit`); over the whole box, the inner choice gave the arms where the outer one had already left."""
    k, cd, var_rest_lin, dx, gx, W = _quadrature(d)
    e1, e2 = dx + 0.0 * gx, gx + 0.0 * dx
    v1, v2 = cd * cd * _VAR[k], var_rest_lin + d.r
    D = np.clip(d.m + e1 + e2, *d.support())
    ce1 = np.zeros_like(d.c)  # Cov(coordinate i, e1) and Cov(coordinate i, e2)
    ce1[k] = cd * _VAR[k]
    ce2 = d.c * _VAR
    ce2[k] = 0.0
    b1 = ce1 / v1 if v1 > 0 else ce1 * 0.0  # E[coordinate i | e1, e2] = b1_i e1 + b2_i e2
    b2 = ce2 / v2 if v2 > 0 else ce2 * 0.0
    # Noise symbols that are what a function of d itself left over (fabs(x) in `x < 0 ? -g(fabs(x)) : g(fabs(x))`)
    # are known at each of d's nodes: regressed on d linearly they would vanish, and an arm's dependence on them
    # with them.
    known = {}
    for j, (operand, f, mean_j, kd, kg, lo_j, hi_j, cj) in leftovers.items():
        if operand is d and cj != 0.0:
            with np.errstate(all="ignore"):
                F = np.asarray(f(np.clip(d.m + e1 + e2, lo_j, hi_j)), dtype=np.float64)
            S = (F - mean_j - kd * e1 - kg * e2) / cj
            known[j] = np.where(np.isfinite(S), S, 0.0)
    m, y2, yu = 0.0, 0.0, np.zeros_like(d.c)
    arms = []  # (test at the nodes, E[v | node], Var(v | node), v's coefficients beyond what d's parts explain)
    for test, v in zip(tests, values):
        G = W * test(D)
        a1 = v.c[k] * cd * _VAR[k] / v1 if v1 > 0 else 0.0  # E[v | e1, e2] = v.m + a1 e1 + a2 e2
        a2 = (_cov(v.c, d.c) - v.c[k] * d.c[k] * _VAR[k]) / v2 if v2 > 0 else 0.0
        Ev = v.m + a1 * e1 + a2 * e2 + sum(v.c[j] * S for j, S in known.items())
        var_given = max(v.var() - a1 * a1 * v1 - a2 * a2 * v2 - sum(v.c[j] ** 2 * _VAR[j] for j in known), 0.0)
        arms.append((test(D), Ev, var_given, v.c - (a1 * ce1 + a2 * ce2) / _VAR))
        m += float((G * Ev).sum())
        y2 += float((G * (Ev * Ev + var_given)).sum())
        # E[v u_i | e] = E[v | e] E[u_i | e] + Cov(v, u_i | e)
        part = (b1 * float((G * Ev * e1).sum()) + b2 * float((G * Ev * e2).sum())
                + float(G.sum()) * (v.c * _VAR - a1 * ce1 - a2 * ce2))
        for j, S in known.items():  # given d, such a symbol is known: E[v s_j] = E[E[v | d] s_j(d)]
            part[j] = float((G * Ev * S).sum())
        yu += part
    if region is not None and (W * region(D)).sum() > 0:
        return _region_fit(W * region(D), arms, e1, e2, k, cd, d.c)
    return m, yu / _VAR, y2 - m * m


def _region_fit(Wr: np.ndarray, arms: list, e1, e2, k: int, cd: float, dc: np.ndarray):
    """(intercept, coefficients, variance) of the least-squares line y ~ b0 + b1 e1 + b2 e2 (+ what the arms
    have beyond d) over the nodes weighted by Wr (the region's share of each node), for `_split_moments`."""
    Wr = Wr / Wr.sum()
    Y = sum(t * Ev for t, Ev, _, _ in arms)
    X = [np.ones_like(Y), e1 + 0.0 * Y, e2 + 0.0 * Y]
    A = np.array([[float((Wr * a * b).sum()) for b in X] for a in X])
    rhs = np.array([float((Wr * a * Y).sum()) for a in X])
    beta = np.linalg.lstsq(A + 1e-12 * np.trace(A) * np.eye(3), rhs, rcond=None)[0]
    c = beta[2] * dc
    c[k] = beta[1] * cd
    resid = float((Wr * (Y - beta[0] - beta[1] * X[1] - beta[2] * X[2]) ** 2).sum())
    for t, _, var_given, rest in arms:  # the arms' own terms in other coordinates, by their share of the region
        share = float((Wr * t).sum())
        c = c + share * rest
        resid += share * max(var_given - _cov(rest, rest), 0.0)
    return float(beta[0]), c, _cov(c, c) + resid


def split_of(weight):
    """A path weight's split (the value it tests and how), or None."""
    return weight.split if isinstance(weight, Lin) else None


def probability(v) -> float | None:
    """The probability that a truth value holds, or None if it is certain (then bool(v) decides)."""
    if is_const(v):
        return None
    p = min(max(v.m, 0.0), 1.0)
    return None if p < 1e-9 or p > 1 - 1e-9 else p


def apply2(f, a: Lin, b: Lin):
    """f(a, b) by quadrature, as `_quadrature` does for one argument: the two input coordinates that matter
    most to a and b as uniform variables (Gauss-Legendre, 8 x 8 nodes), the rest of a and b as a joint
    Gaussian (Gauss-Hermite, 5 x 5). spot / strike of two uniform prices is then integrated over the
    square it lives on, not over a Gaussian's tails."""
    va, vb = a.var(), b.var()
    if not all(math.isfinite(v) for v in (va, vb, a.m, b.m)) or not (np.isfinite(a.c).all()
                                                                       and np.isfinite(b.c).all()):
        raise Unsupported("an overflow")
    weight = np.abs(a.c) / math.sqrt(va + 1e-300) + np.abs(b.c) / math.sqrt(vb + 1e-300)
    inputs = weight[:noise_symbols[1]] if weight[:noise_symbols[1]].any() else weight
    uniform = [int(j) for j in np.argsort(-inputs)[:2] if inputs[j] > 0]
    rest_a, rest_b = a.c.copy(), b.c.copy()
    rest_a[uniform], rest_b[uniform] = 0.0, 0.0
    cov = _cov(rest_a, rest_b)
    S = np.array([[_cov(rest_a, rest_a) + a.r, cov], [cov, _cov(rest_b, rest_b) + b.r]])
    try:
        L = np.linalg.cholesky(S + (1e-12 * S.diagonal().max() + 1e-300) * np.eye(2))
    except np.linalg.LinAlgError:
        raise Unsupported("a degenerate two-argument function") from None
    # nodes: one axis per uniform coordinate (Legendre), then the two Gaussian axes (Hermite)
    rules = [_nodes(j) for j in uniform] + [(_HERM_X, _HERM_W)] * 2
    grids = np.meshgrid(*[x for x, _ in rules], indexing="ij")
    W = np.ones_like(grids[0])
    for axis, w in enumerate([w for _, w in rules]):
        W = W * w.reshape([-1 if i == axis else 1 for i in range(len(rules))])
    u_nodes, (z1, z2) = grids[:len(uniform)], grids[len(uniform):]
    ra, rb = L[0, 0] * z1, L[1, 0] * z1 + L[1, 1] * z2
    xa = a.m + ra + sum(a.c[j] * u for j, u in zip(uniform, u_nodes))
    xb = b.m + rb + sum(b.c[j] * u for j, u in zip(uniform, u_nodes))
    support_a, support_b = a.affine_support(), b.affine_support()
    xa, xb = np.clip(xa, *support_a), np.clip(xb, *support_b)
    F, W, mean, var_f = _integrate(f, (xa, xb), W, "a two-argument function undefined over its arguments' range")
    # coefficients: E[F u_j] / Var(u_j) on the uniform axes; through the Gaussian rest for the others
    # (Cov(u_i, rest) S^-1 E[F rest], Cov(u_i, rest) = (rest_a_i, rest_b_i) Var(u))
    cov_rest = np.array([(W * F * ra).sum(), (W * F * rb).sum()])
    if not np.isfinite(cov_rest).all():
        raise Unsupported("an overflow")
    k = np.linalg.lstsq(S, cov_rest, rcond=None)[0]
    c = k[0] * rest_a + k[1] * rest_b
    for j, u in zip(uniform, u_nodes):
        c[j] = float((W * F * u).sum()) / _VAR[j]
    ga, gb = np.meshgrid(np.linspace(*support_a, 9), np.linspace(*support_b, 9))
    with np.errstate(all="ignore"):
        G = np.asarray(f(np.concatenate([ga.ravel(), xa.ravel()]), np.concatenate([gb.ravel(), xb.ravel()])))
    G = G[np.isfinite(G)]
    lo, hi = (G.min(), G.max()) if G.size else (-math.inf, math.inf)
    c, r = _with_symbol(c, var_f - _cov(c, c))
    return settle(Lin(mean, c, r, lo, hi))
