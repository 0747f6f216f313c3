"""Statistical linearisation: the best linear model of the target function over its input box, read from the text.

A static analysis (an abstract interpretation): the program is never run. Each input is x_i = mid_i + half_i u_i
with u_i uniform on [-1, 1] (the surrogate's normalised input), and every value the function computes is
abstracted as a linear form in the u's plus a residual,

    value ~ mean + sum_i lin_i u_i + sum_s e_s n_s,      n_s: noise symbols, uncorrelated with the u's,

the least-squares linear approximation of the value, propagated approximately. Each nonlinear step gives what
it leaves over a fresh noise symbol (as in affine arithmetic), so values computed from the same residual stay
correlated (d2 = d1 - s has d1's residual; y - y is 0); the output's residual variance is what its symbols add up to.
  * sums and scalings are exact; a product uses its operands' moments (exact mean and linear part for any
    two linear forms; the residual as if they were Gaussian, with the input terms' own, uniform, fourth moments:
    exact for products of linear forms in the inputs);
  * other nonlinear steps (math.h calls, division, pow, casts to int, comparisons, table lookups at a computed
    index) are linearised statistically: the scalar function is integrated over its operand's approximate
    distribution (the operand's largest input term as a uniform variable, the rest as a Gaussian; for two
    operands their two main input terms as uniforms) by quadrature, giving the result's mean, its covariance
    with the operand, and what is left over; a division by a product of factors that keep off zero divides by
    each factor (1 / (v sqrt(t)) = (1 / v) (1 / sqrt(t))), so each reciprocal is integrated over its own factor;
  * a branch on an uncertain condition runs both arms and merges their states weighted by the condition's
    probability (itself a linear form, so the merge also carries how the choice depends on the inputs); where
    the condition tests one value, the merge integrates over that value instead, so each arm counts only where
    it is taken (a clamp narrows a value's spread), and a noise symbol that is what a function of that value
    left over (fabs(x) in sign-symmetric code) is known at each point of the integration; an arm that returns
    finishes a path of its own, merged with the rest at the end;
  * a loop or ``break``/``continue`` decided by an uncertain condition follows the likelier way (an
    approximation: Newton-style iterations stop where most of the input box has converged).
Constant values stay exact Python numbers with C's integer semantics, so loops with constant bounds unroll
exactly and constant tables are read exactly.

Alongside the statistics, a value may carry its exact `Form`: m + c . u + sum_k a_k relu(p_k(u)) with affine
p_k, when it is built from the inputs by sums, scalings by constants, and the selects that saturating code
makes: fmin/fmax/fabs of affine values, and a branch or ?: on an affine comparison whose arms differ by a
multiple of the compared difference (so the result is continuous: v > 255 ? 255 : v is v - relu(v - 255)).
Such an output is not approximated at all: the compiler emits it exactly (nsc/compiler/exact.py).

`linearize(exts, signature)` -> a `Linearization`, or an `Unsupported` reason for code outside the subset
(structs, goto, bit operations on uncertain values, writes at an uncertain index, more than MAX_STEPS steps).
The compiler reads the result as features (nsc/compiler/encoding.py); `bench/bench_linearize.py` measures how
close it comes to the least-squares linear fit of sampled data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pycparser import c_ast, c_parser

from nsc.frontend.c_types import canonical_scalar
from nsc.frontend.canonical import TARGET_NAME

MAX_STEPS = 20_000  # work before the analysis gives up: expression evaluations, plus memory cells copied / 8
#                     (~5 us a step: at most ~0.1 s at compile time; corpus programs take at most ~9,000)
MAX_CALL_DEPTH = 32

_U = 1.0 / 3.0  # Var(u) for u ~ U[-1, 1]
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
    """The function uses something the analysis does not model; the message says what."""


@dataclass
class Linearization:
    """Per output j: y_j ~ mean[j] + sum_i coef[i, j] u_i + e_j with Var(e_j) = resid[j] (u_i ~ U[-1, 1])."""

    mean: np.ndarray  # [n_out] float64
    coef: np.ndarray  # [n_in, n_out] float64
    resid: np.ndarray  # [n_out] float64, >= 0
    forms: list | None = None  # [n_out]: output j's exact Form where the analysis proves one, else None
    input_var: np.ndarray | None = None  # [n_in] Var(u_i): 1/3 (None: all), more for an integer input (`input_model`)

    @property
    def var_lin(self) -> np.ndarray:
        """[n_out] the variance the linear part explains."""
        var = np.full(self.coef.shape[0], _U) if self.input_var is None else self.input_var
        return var @ (self.coef ** 2)

    @property
    def exact(self) -> np.ndarray:
        """[n_out] bool: which outputs have an exact form."""
        return np.array([f is not None for f in (self.forms or [None] * len(self.mean))], dtype=bool)

    @property
    def std(self) -> np.ndarray:
        """Predicted standard deviation of each output over the input box."""
        return np.sqrt(self.var_lin + self.resid)

    def predict(self, u: np.ndarray) -> np.ndarray:
        """The linear model itself on normalised inputs u [n, n_in] -> [n, n_out]."""
        return self.mean + u @ self.coef


class Form:
    """An exact piecewise-affine value: m + c . u + sum over kinks of a * relu(km + kc . u).

    kinks: {(km, kc as a tuple): a}, each argument scaled to |kc| = 1 (a relu is positively homogeneous), so
    equal kinks from different paths add up. An argument is affine: relus are one layer deep."""

    __slots__ = ("m", "c", "kinks")

    def __init__(self, m: float, c: np.ndarray, kinks: dict | None = None):
        self.m, self.c, self.kinks = float(m), c, kinks or {}

    def plus(self, other: "Form", sign: float = 1.0) -> "Form":
        kinks = dict(self.kinks)
        for key, a in other.kinks.items():
            kinks[key] = kinks.get(key, 0.0) + sign * a
            if kinks[key] == 0.0:
                del kinks[key]
        return Form(self.m + sign * other.m, self.c + sign * other.c, kinks)

    def times(self, k: float) -> "Form":
        return Form(self.m * k, self.c * k, {key: a * k for key, a in self.kinks.items()} if k else {})

    def restricted(self, n_in: int) -> "Form":
        """The form on the inputs' coordinates alone (a form never reads the analysis's noise symbols)."""
        return Form(self.m, self.c[:n_in], {(km, kc[:n_in]): a for (km, kc), a in self.kinks.items()})

    def bounds(self) -> tuple[float, float]:
        """Sound bounds over the input box (u in [-1, 1]^n)."""
        spread = float(np.abs(self.c).sum())
        lo, hi = self.m - spread, self.m + spread
        for (km, kc), a in self.kinks.items():
            w = float(np.abs(kc).sum())
            r_lo, r_hi = max(km - w, 0.0), max(km + w, 0.0)
            lo, hi = lo + min(a * r_lo, a * r_hi), hi + max(a * r_lo, a * r_hi)
        return lo, hi

    def evaluate(self, u: np.ndarray) -> np.ndarray:
        """The value on normalised inputs u [rows, n_in]."""
        y = self.m + u @ self.c
        for (km, kc), a in self.kinks.items():
            y = y + a * np.maximum(km + u @ np.asarray(kc), 0.0)
        return y


def relu_of(p: Form) -> Form | None:
    """relu(p) for an affine p, or for s relu(q) + t (a clamp's second side: relu(relu(q) - t) is relu(q - t) for
    t >= 0); None otherwise, or for an affine p with no slope (that relu is not a kink)."""
    if len(p.kinks) == 1 and not p.c.any():
        ((km, kc), s), t = next(iter(p.kinks.items())), p.m
        zero = np.zeros_like(p.c)
        if t <= 0:  # s relu(q) + t > 0 only where q > -t / s (s > 0)
            return Form(0.0, zero, {(km + t / s, kc): s}) if s > 0 else Form(0.0, zero)
        if s > 0:  # always positive
            return p
        return Form(t, zero, {(km, kc): s, (km + t / s, kc): -s})  # t - |s| relu(q) + |s| relu(q - t/|s|)
    norm = float(np.linalg.norm(p.c))
    if p.kinks or not norm > 0 or not math.isfinite(norm):
        return None
    return Form(0.0, np.zeros_like(p.c), {(p.m / norm, tuple(p.c / norm)): norm})


def select(region: Form, a: Form, b: Form) -> Form | None:
    """The exact form of `[region > 0] ? a : b`, where that is piecewise affine and continuous: a - b is a
    multiple of the (affine) region's function, up to kinks that are zero wherever region > 0 (the inner kink of
    a nested clamp); then it is b + lambda relu(region). None otherwise."""
    if region.kinks:
        return None
    d = a.plus(b, -1.0)
    pc, norm2 = region.c, float(region.c @ region.c)
    if not norm2 > 0:
        return None
    for (km, kc), _ in d.kinks.items():
        # zero on region > 0 iff the kink's argument is alpha * region + beta with alpha < 0 and beta <= 0
        kc = np.asarray(kc)
        alpha = float(kc @ pc) / norm2
        beta = km - alpha * region.m
        if not (alpha < 0 and beta <= 1e-12 and np.allclose(kc, alpha * pc, rtol=0, atol=1e-9)):
            return None
    lam = float(d.c @ pc) / norm2
    scale = max(float(np.abs(d.c).max()), abs(d.m), 1.0)
    if not (np.allclose(d.c, lam * pc, rtol=0, atol=1e-9 * scale) and abs(d.m - lam * region.m) <= 1e-9 * scale):
        return None
    r = relu_of(region)
    return b.plus(r.times(lam)) if r is not None else None


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


@dataclass(frozen=True)
class Ptr:
    """A pointer: cell `offset` of storage `sid`; `dims`: the array dimensions still to index (() for a scalar)."""

    sid: int
    offset: int
    dims: tuple = ()
    is_int: bool = False

    def stride(self) -> int:
        return int(np.prod(self.dims[1:])) if len(self.dims) > 1 else 1


# ----------------------------------------------------------------------------------------------------------------
# values: Python int (C integer constant), float (double constant), Lin (uncertain), Ptr


def is_int(v) -> bool:
    return v.is_int if isinstance(v, Lin) else isinstance(v, (int, bool)) and not isinstance(v, float)


def _const(v) -> bool:
    return isinstance(v, (int, float))


def _check(v):
    if isinstance(v, Ptr):
        raise Unsupported("arithmetic on a pointer value")
    return v


def _lin(v, n: int) -> Lin:
    return v if isinstance(v, Lin) else Lin(float(v), np.zeros(n), 0.0, float(v), float(v), is_int(v),
                                            form=Form(float(v), np.zeros(n)))


def form_of(v, n: int) -> Form | None:
    return Form(float(v), np.zeros(n)) if _const(v) else v.form if isinstance(v, Lin) else None


def _bounds(values) -> tuple[float, float]:
    """[min, max] of candidate bounds; unknown (-inf, inf) if any is nan."""
    a = np.asarray(values, dtype=np.float64)
    if np.isnan(a).any():
        return -math.inf, math.inf
    return float(a.min()), float(a.max())


# Steps the exact forms cannot vouch for, in the analysis running now (`linearize` resets it): a constant the
# statistics made of a value with no proven form, a condition decided by the statistics, a path cut short (the
# likelier way, a loop's last sliver). Any such step, and the analysis gives no exact forms.
_unproven = [0]

# Noise symbols (as in affine arithmetic): the residual a nonlinear step leaves is not dropped into an anonymous
# variance but given a fresh symbol of its own, an extra coordinate of `Lin.c` (a uniform variable on [-1, 1] like
# the inputs, so every variance formula holds unchanged). Values computed from the same residual then share its
# symbol, so their correlation is kept: d2 = d1 - s has d1's residual, not an independent one of the same size,
# and y - y is 0. Coordinates [first, end) of every vector are the symbols; `_noise` is [next free, first, end]
# for the analysis running now (`Interpreter` sets it). Once all are used, residuals stay anonymous (`Lin.r`).
# Quadrature still integrates over the symbols as over a Gaussian residual (`_quadrature`).
NOISE_SYMBOLS = 128
_noise = [0, 0, 0]
# What `apply1` left over on each symbol it made, as a function of its operand: symbol -> (operand, f, mean, kd, kg,
# lo, hi, coefficient), the symbol being (f(operand) - mean - kd main - kg rest) / coefficient at a node of
# `_quadrature(operand)`. `_split_moments` uses it when it integrates over that same operand.
_leftovers = {}


# The distribution of each coordinate, for the analysis running now (`input_model`, which `Interpreter` calls): the
# noise symbols and continuous inputs are uniform on [-1, 1]; an integer input takes each integer of its range with
# equal probability (as `nsc sample` draws it), so its coordinate is discrete: K values, Var(u) = (K + 1) / (3 (K - 1))
# (1 for a 0/1 flag, 2/3 for a mode 0..2, against the continuous 1/3), and quadrature takes its values as nodes.
# _VAR: Var(u) per coordinate; _K4: 3 Var(u)^2 - E[u^4] (what a Gaussian's fourth moment overstates, `mul`);
# _NODES: coordinate -> (nodes, weights) where they are not Gauss-Legendre's.
_VAR = np.zeros(0)
_K4 = np.zeros(0)
_NODES = {}
MAX_DISCRETE_NODES = 16  # an integer input with more values is integrated by Gauss-Legendre, its variance matched


def input_model(n: int, values: list) -> np.ndarray:
    """Set the coordinates' distributions for an analysis over n coordinates; values[i]: input i's normalised
    values if it is discrete (an integer input with at least two), else None. Returns the inputs' Var(u)."""
    global _VAR, _K4
    var, k4 = np.full(n, _U), np.full(n, 2.0 / 15.0)
    _NODES.clear()
    for i, u in enumerate(values):
        if u is None or len(u) < 2:
            continue
        u = np.asarray(u, dtype=np.float64)
        var[i] = float(np.mean(u * u))
        k4[i] = 3.0 * var[i] ** 2 - float(np.mean(u ** 4))
        _NODES[i] = ((u, np.full(len(u), 1.0 / len(u))) if len(u) <= MAX_DISCRETE_NODES
                     else (_LEG_X * math.sqrt(3.0 * var[i]), _LEG_W))
    _VAR, _K4 = var, k4
    return var[:len(values)]


def _integer_values(lo: float, hi: float) -> np.ndarray | None:
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
    if not r > 0.0 or _noise[0] >= _noise[2] or not math.isfinite(r):
        return c, r
    c = np.array(c, dtype=np.float64)
    c[_noise[0]] = math.sqrt(r / _U)
    _noise[0] += 1
    return c, 0.0


def _settle(v: Lin):
    """A linear form with no spread left is a constant again. Where that is the statistics' conclusion (the
    quadrature saw no spread), not a proof, it is counted in `_unproven`."""
    if v.r == 0.0 and not v.c.any():
        if v.form is None:
            _unproven[0] += 1
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
    a, b = _check(a), _check(b)
    if _const(a) and _const(b):
        return a + b if sign > 0 else a - b
    la, lb = _lin(a, n), _lin(b, n)
    lo, hi = (la.lo + lb.lo, la.hi + lb.hi) if sign > 0 else (la.lo - lb.hi, la.hi - lb.lo)
    form = la.form.plus(lb.form, sign) if la.form is not None and lb.form is not None else None
    return _settle(Lin(la.m + sign * lb.m, la.c + sign * lb.c, la.r + lb.r, lo, hi, la.is_int and lb.is_int,
                       form=form))


def scale(a, k: float):
    if _const(a):
        return a * k
    if k == 0:
        return 0 if a.is_int and isinstance(k, int) else 0.0
    lo, hi = sorted((a.lo * k, a.hi * k))
    form = a.form.times(k) if a.form is not None else None
    return _settle(Lin(a.m * k, a.c * k, a.r * k * k, lo, hi, a.is_int and float(k).is_integer(), False, form))


def mul(a, b, n: int):
    a, b = _check(a), _check(b)
    if _const(a) and _const(b):
        return a * b
    if isinstance(b, Lin) and b.is_bool and _const(a) and a == 1:  # a path's weight: keep the truth's split
        return b
    if _const(b):
        return scale(a, b)
    if _const(a):
        return scale(b, a)
    cov = _cov(a.c, b.c)
    va, vb = a.var(), b.var()
    c = a.m * b.c + b.m * a.c
    total = a.m ** 2 * vb + b.m ** 2 * va + 2 * a.m * b.m * cov + va * vb + cov ** 2  # Var(ab), Gaussian
    # ... less what the inputs' terms being uniform, not Gaussian, take off: Var(u^2) is 4/45, not 2/9
    n_in = _noise[1]
    total -= float((a.c[:n_in] ** 2 * b.c[:n_in] ** 2) @ _K4[:n_in])
    with np.errstate(all="ignore"):
        lo, hi = _bounds([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])
        if a is b and lo < 0:  # a square is never negative (interval arithmetic alone forgets that a is b)
            lo = 0.0 if a.lo <= 0 <= a.hi else min(a.lo * a.lo, a.hi * a.hi)
    c, r = _with_symbol(c, total - _cov(c, c))
    out = _settle(Lin(a.m * b.m + cov, c, r, lo, hi, a.is_int and b.is_int, a.is_bool and b.is_bool))
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
    candidates = _noise[1] if a.c[:_noise[1]].any() else len(a.c)  # the inputs' coordinates come first
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
    lo, hi = a.support()
    X = np.clip(a.m + dx + gx, lo, hi)  # regressions below stay on the unclipped parts (the u's)
    F, W, mean, var_f = _integrate(f, (X,), W, "a math function is undefined over the whole range of its argument")
    kd = float((W * F * dx).sum()) / var_d if var_d > 0 else 0.0
    kg = float((W * F * gx).sum()) / var_g if var_g > 0 else 0.0
    c = kg * a.c
    c[k] = kd * cd
    explained = kd * kd * var_d + kg * kg * var_rest_lin
    r_lo, r_hi = _range_of(f, lo, hi, X)
    first_free = _noise[0]
    c, r = _with_symbol(c, var_f - explained)
    if _noise[0] > first_free:
        _leftovers[first_free] = (a, f, mean, kd, kg, lo, hi, float(c[first_free]))
    return _settle(Lin(mean, c, r, r_lo, r_hi, is_int_result or is_bool, is_bool))


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


def _clipped_index(x, size: int) -> np.ndarray:
    """The table entry C reads at index value x (rounded; clipped to the table, as a guide for the tails)."""
    return np.clip(np.rint(x), 0, size - 1).astype(int)


def _with_entry_spread(value: Lin, entries: list, weights) -> Lin:
    """value plus the table entries' own dependence on the inputs, each weighted by how often it is read
    (`weights()`: the entries' read probabilities, computed only where some entry has a spread)."""
    spread = [(k, e) for k, e in enumerate(entries) if isinstance(e, Lin)]
    if spread:
        P = weights()
        value = Lin(value.m, value.c + sum(P[k] * e.c for k, e in spread),
                    value.r + sum(P[k] * e.r for k, e in spread), min([value.lo] + [e.lo for _, e in spread]),
                    max([value.hi] + [e.hi for _, e in spread]), value.is_int)
    return _settle(value)


def index_weights(idx: Lin, n_entries: int) -> np.ndarray:
    """Probability of reading each entry of a table at the uncertain index idx (rounded, clipped)."""
    _, _, _, dx, gx, W = _quadrature(idx)
    k = np.clip(np.rint(np.clip(idx.m + dx + gx, *idx.support())), 0, n_entries - 1).astype(int)
    return np.bincount(k.ravel(), W.ravel(), minlength=n_entries)


def negate(t):
    """!t for a truth value."""
    if _const(t):
        return int(not t)
    out = Lin(1.0 - t.m, -t.c, t.r, 1.0 - t.hi, 1.0 - t.lo, True, True)
    out.region = t.region.times(-1.0) if t.region is not None else None  # the boundary itself has measure 0
    if t.split is not None:
        tested, test = t.split
        out.split = (tested, lambda x: 1.0 - test(x))
    return out


def both(a, b, n: int):
    """a && b for truth values (independent beyond their linear parts)."""
    if _const(a):
        return b if a else 0
    if _const(b):
        return a if b else 0
    return mul(a, b, n)


def unary_fn(f, a, n: int, is_int_result: bool = False, is_bool: bool = False):
    """f applied to a constant exactly, to an uncertain value by `apply1`."""
    if _const(a):
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
    if all(v is first for v in values) or (all(_const(v) for v in values) and len(set(values)) == 1):
        return first
    if any(isinstance(v, Ptr) for v in values):
        if all(v == first for v in values):
            return first
        raise Unsupported("a pointer that depends on an uncertain branch")
    lw = [_lin(w, n) for w in weights]
    lv = [_lin(v, n) for v in values]
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
    return _settle(Lin(m, c, r, min(v.lo for v in used),
                       max(v.hi for v in used), all(v.is_int for v in lv),
                       all(v.is_bool or (_const(x) and x in (0, 1)) for v, x in zip(lv, values)), form))


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
    for j, (operand, f, mean_j, kd, kg, lo_j, hi_j, cj) in _leftovers.items():
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


def _split_of(weight):
    """A path weight's split (the value it tests and how), or None."""
    return weight.split if isinstance(weight, Lin) else None


def probability(v) -> float | None:
    """The probability that a truth value holds, or None if it is certain (then bool(v) decides)."""
    if _const(v):
        return None
    p = min(max(v.m, 0.0), 1.0)
    return None if p < 1e-9 or p > 1 - 1e-9 else p


# ----------------------------------------------------------------------------------------------------------------
# math.h

MATH_1 = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "cbrt": np.cbrt, "fabs": np.abs, "floor": np.floor,
    "ceil": np.ceil, "round": lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), "trunc": np.trunc,
    "rint": np.rint, "nearbyint": np.rint,
    "erf": np.vectorize(math.erf, otypes=[float]), "erfc": np.vectorize(math.erfc, otypes=[float]),
    "tgamma": np.vectorize(lambda x: math.gamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float]),
    "lgamma": np.vectorize(lambda x: math.lgamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float]),
}
MATH_2 = {"pow": np.power, "atan2": np.arctan2, "fmod": np.fmod, "hypot": np.hypot, "copysign": np.copysign,
          "fdim": lambda a, b: np.maximum(a - b, 0.0)}
MIN_MAX = {"fmin": np.minimum, "fmax": np.maximum}


def math_function(table: dict, name: str):
    """(base name, function) of a math.h call in `table`, its float/long double variants (``sinf``, ``sinl``)
    included; None if it is not there."""
    for base in (name, name[:-1] if name.endswith(("f", "l")) else None):
        if base in table:
            return base, table[base]
    return None


# ----------------------------------------------------------------------------------------------------------------
# the interpreter

def _type_names(node):
    while isinstance(node, (c_ast.TypeDecl, c_ast.ArrayDecl, c_ast.PtrDecl)):
        node = node.type
    if isinstance(node, c_ast.IdentifierType):
        return node.names
    raise Unsupported(f"type {type(node).__name__}")


def _is_int_type(node) -> bool:
    name = canonical_scalar(_type_names(node))
    if name is None or name == "void":
        return False
    return name not in ("float", "double", "long double")


def _int_literal(text: str) -> int:
    t = text.rstrip("uUlL")
    if t.lower().startswith("0x"):
        return int(t, 16)
    if len(t) > 1 and t.startswith("0") and t.isdigit():
        return int(t, 8)
    return int(t)


def _parameters(fn: c_ast.FuncDef) -> list:
    """A function definition's parameter declarations (``(void)`` has none)."""
    params = fn.decl.type.args.params if fn.decl.type.args else []
    return [p for p in params if not isinstance(p, c_ast.Typename)]


def _walk(node):
    yield node
    for _, child in node.children():
        yield from _walk(child)


class _Return(Exception):
    pass


class _State:
    """Memory of one path: storages (lists of values) by id, shared ids across copies so pointers stay valid."""

    def __init__(self, mem: dict, weight):
        self.mem, self.weight = mem, weight

    def copy(self, weight) -> "_State":
        return _State({k: list(v) for k, v in self.mem.items()}, weight)


def mean_of(v) -> float:
    return v.m if isinstance(v, Lin) else float(v)


class _Exits:
    """The paths that leave one loop early, on uncertain conditions.

    Values inside the loop are not conditioned on the loop still running (the analysis cannot condition), so the
    probability of an exit condition at iteration t is the share of the input box that has left by then, by
    that exit: cumulative, not a hazard. So each exit site (a loop condition or a branch that breaks) leaves
    with the increase of its probability since its last visit, the running path keeps its weight, and after
    the loop the exits are merged with the running path, which carries what is left.
    """

    def __init__(self, start):
        self.start = start  # the loop's weight
        self.exited = 0.0  # weight that has left, so far
        self.paths = []  # (weight, state)
        self.last = {}  # exit site -> its weight at its last visit

    def record(self, site, leaving: _State, n: int) -> None:
        mass = add(leaving.weight, self.last.get(site, 0.0), n, -1.0)
        if mean_of(mass) <= 1e-9:
            return
        self.last[site] = leaving.weight
        self.paths.append((mass, leaving))
        self.exited = add(self.exited, mass, n)

    def done(self) -> bool:
        """Has (nearly) every path left?"""
        return mean_of(self.exited) >= (1 - 1e-3) * mean_of(self.start)


class _Frame:
    """One function activation: its scopes, the paths that have returned, the exits of the loops it is in."""

    def __init__(self, scope: dict, is_int_return: bool, root: "_State"):
        self.scopes = [scope]
        self.finished = []  # (weight, state, return value, region): see `run_body`
        self.exits = []  # one _Exits per enclosing loop
        self.is_int_return = is_int_return
        self.root = root  # the state the body runs on: the path that has not returned


ALWAYS = "always"  # the region of a path that returned from the root path unconditionally


class Interpreter:
    def __init__(self, exts, n_in: int):
        self.n_in = n_in
        self.n = n_in + NOISE_SYMBOLS  # vector length: the inputs' coordinates, then the noise symbols'
        _noise[:] = [n_in, n_in, self.n]
        _leftovers.clear()
        input_model(self.n, [])
        self.steps = 0
        self.next_sid = 0
        self.functions = {e.decl.name: e for e in exts if isinstance(e, c_ast.FuncDef)}
        self.global_decls = [e for e in exts if isinstance(e, c_ast.Decl) and e.name
                             and not isinstance(e.type, c_ast.FuncDecl)]
        self.enums = [node for e in exts for node in _walk(e) if isinstance(node, c_ast.Enum)]
        self.globals: dict = {}
        self.depth = 0

    # -- memory ----------------------------------------------------------------------------------------------

    def new_storage(self, state: _State, cells: list) -> int:
        sid = self.next_sid
        self.next_sid += 1
        state.mem[sid] = cells
        return sid

    def declare(self, decl: c_ast.Decl, state: _State, frame: _Frame | None, scope: dict):
        t = decl.type
        if isinstance(t, c_ast.FuncDecl):
            return
        if isinstance(t, c_ast.TypeDecl):
            if not isinstance(t.type, c_ast.IdentifierType):
                raise Unsupported(f"a {type(t.type).__name__} variable")
            int_type = _is_int_type(t)
            value = 0 if int_type else 0.0
            if decl.init is not None:
                value = self.convert(self.eval(decl.init, state, frame), int_type)
            scope[decl.name] = ("scalar", self.new_storage(state, [value]), int_type)
        elif isinstance(t, c_ast.ArrayDecl):
            dims = []
            node = t
            while isinstance(node, c_ast.ArrayDecl):
                if node.dim is None:
                    if not isinstance(decl.init, c_ast.InitList) or dims:
                        raise Unsupported("an array of unknown size")
                    dims.append(len(decl.init.exprs))
                else:
                    d = self.eval(node.dim, state, frame)
                    if not isinstance(d, int):
                        raise Unsupported("an array with an uncertain size")
                    dims.append(d)
                node = node.type
            int_type = _is_int_type(node)
            size = int(np.prod(dims))
            if size > 1_000_000:
                raise Unsupported("a very large array")
            cells = [0 if int_type else 0.0] * size
            if decl.init is not None:
                flat = self.flatten_init(decl.init, state, frame)
                if len(flat) > size:
                    raise Unsupported("an initialiser longer than its array")
                cells[:len(flat)] = [self.convert(v, int_type) for v in flat]
            scope[decl.name] = ("array", self.new_storage(state, cells), int_type, tuple(dims))
        elif isinstance(t, c_ast.PtrDecl):
            value = None
            if decl.init is not None:
                value = self.eval(decl.init, state, frame)
                if not isinstance(value, Ptr):
                    raise Unsupported("a pointer initialised from a non-pointer")
            scope[decl.name] = ("pointer", self.new_storage(state, [value]), False)
        else:
            raise Unsupported(f"a declaration of {type(t).__name__}")

    def flatten_init(self, init, state, frame) -> list:
        if isinstance(init, c_ast.InitList):
            out = []
            for e in init.exprs:
                out.extend(self.flatten_init(e, state, frame))
            return out
        return [self.eval(init, state, frame)]

    def lookup(self, name: str, frame: _Frame | None):
        if frame is not None:
            for scope in reversed(frame.scopes):
                if name in scope:
                    return scope[name]
        if name in self.globals:
            return self.globals[name]
        raise Unsupported(f"unknown name {name}")

    def convert(self, v, int_type: bool):
        """C's conversion on assignment to an integer or floating variable."""
        if isinstance(v, Ptr) or v is None:
            return v
        if int_type:
            if isinstance(v, Lin):
                return v if v.is_int else apply1(np.trunc, v, self.n, is_int_result=True)
            if isinstance(v, float):
                if not math.isfinite(v):
                    raise Unsupported("a non-finite value converted to an integer")
                return int(v)
            return int(v)
        if isinstance(v, Lin):
            if v.is_int:
                return Lin(v.m, v.c, v.r, v.lo, v.hi, False, False, v.form)
            return v
        return float(v)

    # -- lvalues ---------------------------------------------------------------------------------------------

    def cell(self, node, state, frame) -> tuple[int, int, bool]:
        """(storage id, offset, integer type) of an lvalue."""
        if isinstance(node, c_ast.ID):
            entry = self.lookup(node.name, frame)
            if entry[0] == "array":
                raise Unsupported("assignment to a whole array")
            return entry[1], 0, entry[2]
        if isinstance(node, (c_ast.ArrayRef, c_ast.UnaryOp)):
            p = self.address(node, state, frame)
            if p.dims and len(p.dims) > 1:
                raise Unsupported("assignment to a sub-array")
            return p.sid, p.offset, p.is_int
        raise Unsupported(f"assignment to a {type(node).__name__}")

    def address(self, node, state, frame) -> Ptr:
        """The pointer an element reference designates: a[i], *p, *(p + k)."""
        if isinstance(node, c_ast.ArrayRef):
            base = self.eval(node.name, state, frame)
            if not isinstance(base, Ptr):
                raise Unsupported("indexing a non-pointer")
            idx = self.eval(node.subscript, state, frame)
            if not isinstance(idx, int):
                raise Unsupported("a write at an uncertain index")
            return Ptr(base.sid, base.offset + idx * base.stride(), base.dims[1:], base.is_int)
        if isinstance(node, c_ast.UnaryOp) and node.op == "*":
            p = self.eval(node.expr, state, frame)
            if not isinstance(p, Ptr):
                raise Unsupported("dereferencing a non-pointer")
            return Ptr(p.sid, p.offset, p.dims[1:], p.is_int)
        raise Unsupported(f"the address of a {type(node).__name__}")

    def store(self, node, value, state, frame):
        sid, off, int_type = self.cell(node, state, frame)
        cells = state.mem[sid]
        if not 0 <= off < len(cells):
            raise Unsupported("a write out of bounds")
        value = self.convert(value, int_type)
        cells[off] = value
        return value

    def read_element(self, node, state, frame):
        """a[i]: exact at a constant index; at an uncertain one, the table linearised over the index."""
        if isinstance(node.name, c_ast.ArrayRef):  # a[i][j]: a two-index table may have an uncertain row
            table = self.eval(node.name.name, state, frame)
            if isinstance(table, Ptr) and len(table.dims) == 2:
                return self.read_table2(table, self.eval(node.name.subscript, state, frame),
                                        self.eval(node.subscript, state, frame), state)
            base = self.element(table, self.eval(node.name.subscript, state, frame), state)
        else:
            base = self.eval(node.name, state, frame)
        return self.element(base, self.eval(node.subscript, state, frame), state)

    def element(self, base, idx, state):
        """base[idx] for an evaluated base and index (see read_element)."""
        if not isinstance(base, Ptr):
            raise Unsupported("indexing a non-pointer")
        if isinstance(idx, int):
            p = Ptr(base.sid, base.offset + idx * base.stride(), base.dims[1:], base.is_int)
            return p if p.dims else self.load(p, state)
        if not isinstance(idx, Lin) or len(base.dims) > 1:
            raise Unsupported("an uncertain index into a multi-dimensional array")
        size = base.dims[0] if base.dims else len(state.mem[base.sid]) - base.offset
        entries = self.entries(base, size, state)
        means = np.array([e.m if isinstance(e, Lin) else float(e) for e in entries])
        value = _lin(unary_fn(lambda x: means[_clipped_index(x, size)], idx, self.n, is_int_result=base.is_int),
                     self.n)
        return _with_entry_spread(value, entries, lambda: index_weights(idx, size))

    def read_table2(self, table: Ptr, i, j, state):
        """table[i][j] with either index uncertain: the table's means as a function of both indices, integrated
        like a two-argument function (`apply2`), plus the entries' own spread where they have one."""
        rows, cols = table.dims
        if isinstance(i, int):  # a known row: a one-index read of it
            return self.element(self.element(table, i, state), j, state)
        if not (isinstance(i, Lin) and isinstance(j, (int, Lin))):
            raise Unsupported("an uncertain index into a multi-dimensional array")
        entries = self.entries(table, rows * cols, state)
        means = np.array([e.m if isinstance(e, Lin) else float(e) for e in entries]).reshape(rows, cols)
        if isinstance(j, int):
            j = min(max(j, 0), cols - 1)
            value = _lin(unary_fn(lambda x: means[_clipped_index(x, rows), j], i, self.n,
                                  is_int_result=table.is_int), self.n)
        else:
            value = self.apply2(lambda x, y: means[_clipped_index(x, rows), _clipped_index(y, cols)], i, j)
            if table.is_int:
                value = Lin(value.m, value.c, value.r, value.lo, value.hi, True)

        def weights():  # how often each entry is read (the two indices taken as independent)
            p_j = index_weights(j, cols) if isinstance(j, Lin) else np.eye(cols)[j]
            return np.outer(index_weights(i, rows), p_j).ravel()

        return _with_entry_spread(value, entries, weights)

    def entries(self, base: Ptr, size: int, state) -> list:
        """The `size` cells a table at an uncertain index may read; Unsupported if any is a pointer or unset."""
        entries = state.mem[base.sid][base.offset:base.offset + size]
        if not entries or any(isinstance(e, Ptr) or e is None for e in entries):
            raise Unsupported("an uncertain index into pointers")
        return entries

    def load(self, p: Ptr, state):
        cells = state.mem[p.sid]
        if not 0 <= p.offset < len(cells):
            raise Unsupported("a read out of bounds")
        return cells[p.offset]

    # -- expressions -----------------------------------------------------------------------------------------

    def tick(self, work: int = 1) -> None:
        self.steps += work
        if self.steps > MAX_STEPS:
            raise Unsupported(f"more than {MAX_STEPS} steps")

    def fork(self, state: _State, weight) -> _State:
        """A copy of a path's memory for one way of an uncertain choice (charged for the cells it copies)."""
        self.tick(sum(len(cells) for cells in state.mem.values()) // 8 + 1)
        return state.copy(weight)

    def eval(self, node, state: _State, frame: _Frame | None):
        self.tick()
        n = self.n
        if isinstance(node, c_ast.Constant):
            if node.type in ("int", "unsigned int", "long int", "unsigned long int", "long long int",
                             "unsigned long long int"):
                return _int_literal(node.value)
            if node.type in ("double", "float", "long double"):
                return float(node.value.rstrip("fFlL"))
            if node.type == "char":
                return ord(node.value.strip("'")[-1])
            raise Unsupported(f"a {node.type} constant")
        if isinstance(node, c_ast.ID):
            entry = self.lookup(node.name, frame)
            if entry[0] == "array":
                return Ptr(entry[1], 0, entry[3], entry[2])
            if entry[0] == "constant":
                return entry[1]
            value = state.mem[entry[1]][0]
            if value is None:
                raise Unsupported("an uninitialised pointer")
            return value
        if isinstance(node, c_ast.ArrayRef):
            return self.read_element(node, state, frame)
        if isinstance(node, c_ast.BinaryOp):
            return self.binary(node, state, frame)
        if isinstance(node, c_ast.UnaryOp):
            return self.unary(node, state, frame)
        if isinstance(node, c_ast.TernaryOp):
            cond = self.truth(self.eval(node.cond, state, frame))
            p = probability(cond)
            if p is None:
                return self.eval(node.iftrue if self.decided(cond) else node.iffalse, state, frame)
            a = self.eval(node.iftrue, state, frame)
            b = self.eval(node.iffalse, state, frame)
            if is_int(a) != is_int(b):  # the usual arithmetic conversions
                a, b = self.convert(a, False), self.convert(b, False)
            return mix([cond, negate(cond)], [a, b], n)
        if isinstance(node, c_ast.Assignment):
            if node.op == "=":
                return self.store(node.lvalue, self.eval(node.rvalue, state, frame), state, frame)
            old = self.eval(node.lvalue, state, frame)
            new = self.arith(node.op[:-1], old, self.eval(node.rvalue, state, frame))
            return self.store(node.lvalue, new, state, frame)
        if isinstance(node, c_ast.Cast):
            names = _type_names(node.to_type.type)
            if isinstance(node.to_type.type, c_ast.PtrDecl):
                raise Unsupported("a pointer cast")
            v = self.eval(node.expr, state, frame)
            if canonical_scalar(names) == "void":
                return v
            return self.convert(v, _is_int_type(node.to_type.type))
        if isinstance(node, c_ast.FuncCall):
            return self.call(node, state, frame)
        if isinstance(node, c_ast.ExprList):
            v = None
            for e in node.exprs:
                v = self.eval(e, state, frame)
            return v
        raise Unsupported(f"a {type(node).__name__} expression")

    def truth(self, v):
        """A C truth value: a number, or a 0/1 linear form (the probability that it holds)."""
        if isinstance(v, Ptr):
            return 1
        if _const(v):
            return int(bool(v))
        if v.is_bool:
            return v
        if v.is_int:  # (a truth the statistics make certain is counted in `_unproven` by `_settle`)
            return apply1(lambda x: (np.abs(x) >= 0.5).astype(float), v, self.n, is_bool=True)
        return apply1(lambda x: (x != 0).astype(float), v, self.n, is_bool=True)

    def decided(self, cond) -> bool:
        """The way a certain condition goes (`probability` None). A truth value still uncertain in form, with
        a probability within 1e-9 of 0 or 1, goes the likelier way: that is not a proof."""
        if _const(cond):
            return bool(cond)
        _unproven[0] += 1
        return cond.m > 0.5

    def compare(self, op: str, a, b):
        a, b = _check(a), _check(b)
        if _const(a) and _const(b):
            return int({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b, "!=": a != b}[op])
        d = add(a, b, self.n, -1.0)
        if _const(d):
            return self.compare(op, d, 0)
        ints = is_int(a) and is_int(b)
        half = 0.5 if ints else 0.0  # integer values: x < y is x - y <= -1, decided half way
        tests = {"<": lambda x: x < -half, ">": lambda x: x > half, "<=": lambda x: x <= half,
                 ">=": lambda x: x >= -half,
                 "==": (lambda x: np.abs(x) < 0.5) if ints else (lambda x: x == 0),
                 "!=": (lambda x: np.abs(x) >= 0.5) if ints else (lambda x: x != 0)}
        test = tests[op]
        unproven = _unproven[0]
        indicator = lambda x: test(x).astype(float)  # noqa: E731
        truth = apply1(indicator, d, self.n, is_bool=True)
        if isinstance(truth, Lin):  # tests of one value against constants are recognised as such (`mix`)
            truth.split = ((a, lambda x: indicator(x - b)) if _const(b) else
                           (b, lambda x: indicator(a - x)) if _const(a) else (d, indicator))
        if isinstance(truth, Lin) and d.form is not None and op in ("<", ">", "<=", ">="):
            truth.region = d.form.times(1.0 if op in (">", ">=") else -1.0)
        if _const(truth) and d.form is not None:  # the statistics say certain: proven if d's exact bounds decide it
            lo, hi = d.form.bounds()
            decided = test(np.array([lo, hi])) if op in ("<", ">", "<=", ">=") else (
                np.array([False, False]) if lo > 0.5 * ints or hi < -0.5 * ints else np.array([True, False]))
            if op == "!=":
                decided = ~decided
            if decided[0] == decided[1] == bool(truth):
                _unproven[0] = unproven  # proven after all
        return truth

    def arith(self, op: str, a, b):
        n = self.n
        if isinstance(a, Ptr) and op in ("+", "-") and isinstance(b, int):
            return Ptr(a.sid, a.offset + (b if op == "+" else -b) * a.stride(), a.dims, a.is_int)
        a, b = _check(a), _check(b)
        ints = is_int(a) and is_int(b)
        if op == "+":
            return add(a, b, n)
        if op == "-":
            return add(a, b, n, -1.0)
        if op == "*":
            return mul(a, b, n)
        if op == "/":
            if _const(a) and _const(b):
                if ints:
                    return c_div(a, b)
                if b == 0:
                    raise Unsupported("division by a constant zero")
                return a / b
            if _const(b):
                if b == 0:
                    raise Unsupported("division by a constant zero")
                q = scale(a, 1.0 / b)
                return self.convert(q, True) if ints else q
            if _const(a):
                q = reciprocal(b, n) if a == 1 else scale(reciprocal(b, n), a)
            elif b.factors is not None:
                q = mul(a, reciprocal(b, n), n)
            else:
                q = self.apply2(np.divide, a, b)
            return self.convert(q, True) if ints else q
        if op == "%":
            if not ints:
                raise Unsupported("% on floating values")
            if _const(a) and _const(b):
                return c_mod(a, b)
            if _const(b) and b != 0:
                return unary_fn(lambda x: np.fmod(np.trunc(x), b), a, n, is_int_result=True)
            raise Unsupported("% by an uncertain value")
        if op in ("<<", ">>", "&", "|", "^"):
            if not (_const(a) and _const(b) and ints):
                raise Unsupported(f"the bit operation {op} on uncertain values")
            return {"<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b, "|": lambda: a | b,
                    "^": lambda: a ^ b}[op]()
        raise Unsupported(f"the operator {op}")

    def binary(self, node, state, frame):
        op = node.op
        if op in ("&&", "||"):
            a = self.truth(self.eval(node.left, state, frame))
            if _const(a) and (bool(a) == (op == "||")):
                return a  # short circuit
            b = self.truth(self.eval(node.right, state, frame))
            if op == "&&":
                return both(a, b, self.n)
            return negate(both(negate(a), negate(b), self.n))
        a = self.eval(node.left, state, frame)
        b = self.eval(node.right, state, frame)
        if op in ("<", ">", "<=", ">=", "==", "!="):
            return self.compare(op, a, b)
        return self.arith(op, a, b)

    def unary(self, node, state, frame):
        op = node.op
        if op == "&":
            if isinstance(node.expr, c_ast.ID):
                entry = self.lookup(node.expr.name, frame)
                if entry[0] == "array":
                    return Ptr(entry[1], 0, entry[3], entry[2])
                return Ptr(entry[1], 0, (), entry[2])
            p = self.address(node.expr, state, frame)
            return p
        if op == "*":
            p = self.address(node, state, frame)
            return p if len(p.dims) > 0 else self.load(p, state)
        if op in ("++", "--", "p++", "p--"):
            old = self.eval(node.expr, state, frame)
            new = self.arith("+" if "+" in op else "-", old, 1)
            self.store(node.expr, new, state, frame)
            return old if op.startswith("p") else new
        v = self.eval(node.expr, state, frame)
        if op == "-":
            return scale(_check(v), -1) if not _const(v) else -v
        if op == "+":
            return v
        if op == "!":
            return negate(self.truth(v))
        if op == "~" and isinstance(v, int):
            return ~v
        raise Unsupported(f"the unary operator {op}")

    def call(self, node, state, frame):
        if not isinstance(node.name, c_ast.ID):
            raise Unsupported("a call through a pointer")
        name = node.name.name
        args = [self.eval(a, state, frame) for a in (node.args.exprs if node.args else [])]
        n = self.n
        if name in self.functions:
            return self.call_helper(self.functions[name], args, state)
        f1, f2, mm = math_function(MATH_1, name), math_function(MATH_2, name), math_function(MIN_MAX, name)
        if name in ("abs", "labs", "llabs") and len(args) == 1:
            return unary_fn(np.abs, args[0], n, is_int_result=True) if not _const(args[0]) else abs(args[0])
        if f1 is not None and len(args) == 1:
            value = unary_fn(f1[1], _check(args[0]), n)
            if f1[0] == "fabs" and isinstance(value, Lin) and args[0].form is not None:  # relu(x) + relu(-x)
                up, down = relu_of(args[0].form), relu_of(args[0].form.times(-1.0))
                value.form = up.plus(down) if up is not None and down is not None else None
            return value
        if mm is not None and len(args) == 2:  # fmin(a, b) = b + min(a - b, 0): one uncertain difference
            a, b = float(args[0]) if _const(args[0]) else args[0], float(args[1]) if _const(args[1]) else args[1]
            d = add(a, b, n, -1.0)
            part = unary_fn(lambda x: mm[1](x, 0.0), d, n)
            if isinstance(part, Lin) and isinstance(d, Lin) and d.form is not None:  # max(d, 0) = relu(d)
                relu = relu_of(d.form if mm[0] == "fmax" else d.form.times(-1.0))
                part.form = relu.times(1.0 if mm[0] == "fmax" else -1.0) if relu is not None else None
            return add(b, part, n)
        if f2 is not None and len(args) == 2:
            return self.binary_fn(f2[1], name, _check(args[0]), _check(args[1]))
        raise Unsupported(f"the function {name}")

    def binary_fn(self, f, name, a, b):
        n = self.n
        if _const(a) and _const(b):
            with np.errstate(all="ignore"):
                y = float(f(np.float64(a), np.float64(b)))
            if not math.isfinite(y):
                raise Unsupported(f"{name} is undefined at a constant argument")
            return y
        if _const(b):
            return unary_fn(lambda x: f(x, b), a, n)
        if _const(a):
            return unary_fn(lambda x: f(a, x), b, n)
        return self.apply2(f, a, b)

    def apply2(self, f, a: Lin, b: Lin):
        """f(a, b) by quadrature, as `_quadrature` does for one argument: the two input coordinates that matter
        most to a and b as uniform variables (Gauss-Legendre, 8 x 8 nodes), the rest of a and b as a joint
        Gaussian (Gauss-Hermite, 5 x 5). spot / strike of two uniform prices is then integrated over the
        square it lives on, not over a Gaussian's tails."""
        va, vb = a.var(), b.var()
        if not all(math.isfinite(v) for v in (va, vb, a.m, b.m)) or not (np.isfinite(a.c).all()
                                                                           and np.isfinite(b.c).all()):
            raise Unsupported("an overflow")
        weight = np.abs(a.c) / math.sqrt(va + 1e-300) + np.abs(b.c) / math.sqrt(vb + 1e-300)
        inputs = weight[:_noise[1]] if weight[:_noise[1]].any() else weight
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
        xa, xb = np.clip(xa, *a.support()), np.clip(xb, *b.support())
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
        ga, gb = np.meshgrid(np.linspace(*a.support(), 9), np.linspace(*b.support(), 9))
        with np.errstate(all="ignore"):
            G = np.asarray(f(np.concatenate([ga.ravel(), xa.ravel()]), np.concatenate([gb.ravel(), xb.ravel()])))
        G = G[np.isfinite(G)]
        lo, hi = (G.min(), G.max()) if G.size else (-math.inf, math.inf)
        c, r = _with_symbol(c, var_f - _cov(c, c))
        return _settle(Lin(mean, c, r, lo, hi))

    # -- functions and statements ----------------------------------------------------------------------------

    def call_helper(self, fn: c_ast.FuncDef, args: list, caller: _State):
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise Unsupported("recursion")
        try:
            params = _parameters(fn)
            if len(params) != len(args):
                raise Unsupported("a call with the wrong number of arguments")
            scope = {}
            state = caller  # the helper works on the caller's memory (pointers into it stay valid)
            for p, v in zip(params, args):
                if isinstance(p.type, (c_ast.PtrDecl, c_ast.ArrayDecl)):
                    if not isinstance(v, Ptr):
                        raise Unsupported("a pointer parameter given a non-pointer")
                    if isinstance(p.type, c_ast.ArrayDecl) and isinstance(p.type.type, c_ast.ArrayDecl):
                        raise Unsupported("a multi-dimensional array parameter")
                    scope[p.name] = ("pointer", self.new_storage(state, [v]), False)
                else:
                    int_type = _is_int_type(p.type)
                    scope[p.name] = ("scalar", self.new_storage(state, [self.convert(v, int_type)]), int_type)
            ret_type = fn.decl.type.type
            frame = _Frame(scope, not isinstance(ret_type, c_ast.PtrDecl) and _is_int_type(ret_type), state)
            result = self.run_body(fn.body, state, frame)
            return result
        finally:
            self.depth -= 1

    def run_body(self, body, state: _State, frame: _Frame):
        """Run a function body on `state`; afterwards `state` holds the merge of every path. Returns the value."""
        start_weight = state.weight
        live = True
        try:
            self.block(body, state, frame)
        except _Return:
            live = False
        paths = list(frame.finished)  # a return statement records its own path
        if live:
            paths.append((state.weight, state, None, ALWAYS))
        mems = [s.mem for _, s, _, _ in paths]  # (merging replaces state.mem)
        self.merge_states([(w, s) for w, s, _, _ in paths], state)
        state.weight = start_weight
        # Exact forms across returns: each path that returned early from the root path left it on an affine
        # region of its own, in order, so the function is region_1 ? path_1 : (region_2 ? path_2 : ... last)
        regions = [r for _, _, _, r in paths]
        foldable = len(paths) > 1 and regions[-1] is ALWAYS and all(isinstance(r, Form) for r in regions[:-1])
        if foldable:
            for sid, cells in state.mem.items():
                if all(sid in mem for mem in mems):
                    for k, value in enumerate(cells):
                        if isinstance(value, Lin):
                            value.form = self.fold(regions, [mem[sid][k] for mem in mems])
        if len(paths) == 1:
            return paths[0][2]
        rets = [v for _, _, v, _ in paths]
        if any(v is None for v in rets):
            return None
        value = mix([w for w, _, _, _ in paths], rets, self.n)
        if isinstance(value, Lin) and not all(v is value for v in rets):
            value.form = self.fold(regions, rets) if foldable else None
        return value

    def fold(self, regions: list, values: list) -> Form | None:
        """region_1 ? values_1 : (region_2 ? values_2 : ... values_last), exactly, or None."""
        form = form_of(values[-1], self.n)
        for region, v in zip(reversed(regions[:-1]), reversed(values[:-1])):
            arm = form_of(v, self.n)
            if form is None or arm is None:
                return None
            form = select(region, arm, form) if arm is not form else form
        return form

    def merge_states(self, paths: list, into: _State, within=None) -> None:
        """into.mem := the mixture of the paths' memories [(weight, state)]; within: the split of the path they
        branched from (`mix`). A storage only some paths have (a local of one arm, out of scope after the merge)
        keeps the last path's cells."""
        if len(paths) == 1:
            into.mem = paths[0][1].mem
            return
        weights = [w for w, _ in paths]
        self.tick(len(paths) * sum(len(cells) for cells in into.mem.values()) // 8)
        merged = {}
        for sid, cells in paths[-1][1].mem.items():
            stores = [s.mem.get(sid) for _, s in paths]
            if any(st is None for st in stores):
                merged[sid] = cells
                continue
            merged[sid] = [mix(weights, [st[k] for st in stores], self.n, within) for k in range(len(cells))]
        into.mem = merged

    def block(self, node, state: _State, frame: _Frame):
        """Run a statement; returns None, 'break' or 'continue'; raises _Return when every path has returned."""
        if isinstance(node, c_ast.Compound):
            frame.scopes.append({})
            try:
                items = node.block_items or []
                for item in items:
                    signal = self.block(item, state, frame)
                    if signal:
                        return signal
            finally:
                frame.scopes.pop()
            return None
        return self.statement(node, state, frame)

    def statement(self, node, state, frame):
        if isinstance(node, c_ast.Decl):
            self.declare(node, state, frame, frame.scopes[-1])
            return None
        if isinstance(node, c_ast.DeclList):
            for d in node.decls:
                self.declare(d, state, frame, frame.scopes[-1])
            return None
        if isinstance(node, c_ast.EmptyStatement):
            return None
        if isinstance(node, c_ast.Return):
            value = None
            if node.expr is not None:
                value = self.convert(self.eval(node.expr, state, frame), frame.is_int_return)
            frame.finished.append((state.weight, state, value, ALWAYS if state is frame.root else None))
            raise _Return()  # the path is recorded above
        if isinstance(node, c_ast.If):
            return self.branch(node.cond, node.iftrue, node.iffalse, state, frame)
        if isinstance(node, (c_ast.For, c_ast.While, c_ast.DoWhile)):
            return self.loop(node, state, frame)
        if isinstance(node, c_ast.Break):
            return "break"
        if isinstance(node, c_ast.Continue):
            return "continue"
        if isinstance(node, c_ast.Switch):
            return self.switch(node, state, frame)
        if isinstance(node, c_ast.Compound):
            return self.block(node, state, frame)
        if isinstance(node, (c_ast.Goto, c_ast.Label)):
            raise Unsupported("goto")
        self.eval(node, state, frame)  # an expression statement
        return None

    def run_arm(self, arm, state: _State, frame: _Frame):
        """Run one arm of a branch on `state`: (signal, returned)."""
        if arm is None:
            return None, False
        try:
            return self.block(arm, state, frame), False
        except _Return:
            return None, True

    def branch(self, cond_node, then, other, state: _State, frame: _Frame):
        cond = self.truth(self.eval(cond_node, state, frame))
        p = probability(cond)
        if p is None:
            arm = then if self.decided(cond) else other
            return self.block(arm, state, frame) if arm is not None else None
        n = self.n
        not_cond = negate(cond)
        s_then = self.fork(state, mul(state.weight, cond, n))
        s_else = self.fork(state, mul(state.weight, not_cond, n))
        before = len(frame.finished)
        sig_t, ret_t = self.run_arm(then, s_then, frame)
        middle = len(frame.finished)
        sig_e, ret_e = self.run_arm(other, s_else, frame)
        if state is frame.root:  # a whole arm that returned at once left the root path on cond's region
            arms = [(ret_t, s_then, cond.region, before, middle), (ret_e, s_else, not_cond.region, middle,
                                                                    len(frame.finished))]
            for returned, arm_state, region, start, end in arms:
                if returned and end == start + 1 and frame.finished[start][1] is arm_state:
                    w, st, v, _ = frame.finished[start]
                    frame.finished[start] = (w, st, v, ALWAYS if ret_t and ret_e and arm_state is s_else
                                             else region)
        if ret_t and ret_e:
            raise _Return()
        if ret_t or ret_e:
            survivor = s_else if ret_t else s_then
            state.mem, state.weight = survivor.mem, survivor.weight
            return sig_e if ret_t else sig_t
        exits = frame.exits[-1] if frame.exits else None
        if {sig_t, sig_e} == {"break", None} and exits is not None:  # a path leaves the loop here
            s_break, s_stay = (s_then, s_else) if sig_t == "break" else (s_else, s_then)
            exits.record(id(cond_node), s_break, n)
            state.mem = s_stay.mem  # the loop goes on (`_Exits` explains the weights)
            return None
        if sig_t != sig_e:  # continue (or a switch's break) on an uncertain condition: the likelier way
            _unproven[0] += 1
            keep, signal = (s_then, sig_t) if p >= 0.5 else (s_else, sig_e)
            state.mem = keep.mem
            return signal
        self.merge_states([(cond, s_then), (not_cond, s_else)], state, _split_of(state.weight))
        return sig_t

    def holds(self, cond_node, state, frame, exits: "_Exits") -> bool:
        """Does the loop go on? An uncertain condition lets the paths where it fails leave (`_Exits`)."""
        if cond_node is None:
            return True
        cond = self.truth(self.eval(cond_node, state, frame))
        if probability(cond) is None:
            return self.decided(cond)
        leaving = self.fork(state, mul(state.weight, negate(cond), self.n))
        exits.record(id(cond_node), leaving, self.n)
        return not exits.done()

    def loop(self, node, state, frame):
        frame.scopes.append({})
        exits = _Exits(state.weight)
        frame.exits.append(exits)
        try:
            if isinstance(node, c_ast.For) and node.init is not None:
                if isinstance(node.init, c_ast.DeclList):
                    for d in node.init.decls:
                        self.declare(d, state, frame, frame.scopes[-1])
                else:
                    self.eval(node.init, state, frame)
            first = isinstance(node, c_ast.DoWhile)
            while first or self.holds(node.cond, state, frame, exits):
                first = False
                signal = self.block(node.stmt, state, frame)
                if signal == "break" or exits.done():
                    break
                if isinstance(node, c_ast.For) and node.next is not None:
                    self.eval(node.next, state, frame)
                if isinstance(node, c_ast.DoWhile) and not self.holds(node.cond, state, frame, exits):
                    break
        finally:
            frame.scopes.pop()
            frame.exits.pop()
        if exits.paths:
            remaining = add(exits.start, exits.exited, self.n, -1.0)
            if mean_of(remaining) <= 0 or exits.done():
                _unproven[0] += 1  # the last sliver of the input box that runs on is not followed
            paths = exits.paths + ([(remaining, state)] if mean_of(remaining) > 0 else [])
            self.merge_states(paths, state)
        return None

    def switch(self, node, state, frame):
        value = self.eval(node.cond, state, frame)
        items = node.stmt.block_items if isinstance(node.stmt, c_ast.Compound) else [node.stmt]
        items = items or []
        labels = []  # (case value or None for default, index)
        for k, item in enumerate(items):
            if isinstance(item, c_ast.Case):
                labels.append((self.eval(item.expr, state, frame), k))
            elif isinstance(item, c_ast.Default):
                labels.append((None, k))
        if _const(value):
            start = next((k for v, k in labels if v is not None and v == value), None)
            if start is None:
                start = next((k for v, k in labels if v is None), None)
            return None if start is None else self.run_cases(items, start, state, frame)
        # an uncertain selector: every case, weighted by its probability
        n = self.n
        weights, states, rest = [], [], 1.0
        for v, k in labels:
            if v is None:
                continue
            w = self.compare("==", value, v)
            rest = add(rest, w, n, -1.0)
            weights.append(w)
            states.append(k)
        splits = [w.split if isinstance(w, Lin) else None for w in weights]
        if isinstance(rest, Lin) and splits and None not in splits and all(t is splits[0][0] for t, _ in splits):
            tests = [test for _, test in splits]  # the default is a test of the same value: what no case takes
            rest.split = (splits[0][0], lambda x: 1.0 - sum(test(x) for test in tests))
        default = next((k for v, k in labels if v is None), None)
        arms = list(zip(weights, states)) + [(rest, default)]
        live_w, live_s = [], []
        for w, start in arms:
            if _const(w) and w <= 0:
                continue
            s = self.fork(state, mul(state.weight, w, n))
            if start is not None:
                try:
                    self.run_cases(items, start, s, frame)
                except _Return:
                    continue
            live_w.append(w)
            live_s.append(s)
        if not live_s:
            raise _Return()
        self.merge_states(list(zip(live_w, live_s)), state, _split_of(state.weight))
        return None

    def run_cases(self, items, start, state, frame):
        for item in items[start:]:
            stmts = item.stmts if isinstance(item, (c_ast.Case, c_ast.Default)) else [item]
            for s in stmts or []:
                signal = self.block(s, state, frame)
                if signal == "break":
                    return None
                if signal:
                    return signal
        return None

    # -- the target ------------------------------------------------------------------------------------------

    def run_target(self, target: c_ast.FuncDef, signature) -> Linearization:
        n = self.n
        state = _State({}, 1.0)
        for d in self.global_decls:
            self.declare(d, state, None, self.globals)
        for node in self.enums:
            value = -1
            for e in node.values.enumerators if node.values else []:
                value = self.eval(e.value, state, None) if e.value is not None else value + 1
                self.globals[e.name] = ("constant", value)
        lo, hi = signature.ranges()
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        input_var = input_model(n, [_integer_values(a, b) if port.is_integer else None
                                    for port, a, b in zip(signature.inputs, lo, hi)])
        port_value = {}
        for i, port in enumerate(signature.inputs):
            c = np.zeros(n)
            c[i] = half[i]
            port_value[(port.param, port.index)] = _settle(Lin(mid[i], c, 0.0, lo[i], hi[i], port.is_integer,
                                                               form=Form(mid[i], c)))
        params = _parameters(target)
        if len(params) != len(signature.params):
            raise Unsupported("the signature does not match the function")
        scope, storage_of = {}, {}
        for p_ast, p in zip(params, signature.params):
            int_type = p.ctype not in ("float", "double", "long double")
            zero = 0 if int_type else 0.0
            if p.shape is None and not p.is_pointer:
                scope[p_ast.name] = ("scalar", self.new_storage(state, [port_value.get((p.name, None), zero)]),
                                     int_type)
                continue
            size = p.shape or 1
            cells = [port_value.get((p.name, k), port_value.get((p.name, None), zero) if k == 0 else zero)
                     for k in range(size)]
            sid = self.new_storage(state, cells)
            storage_of[p.name] = sid
            scope[p_ast.name] = ("pointer", self.new_storage(state, [Ptr(sid, 0, (size,), int_type)]), False)
        frame = _Frame(scope, signature.return_ctype is not None and
                       signature.return_ctype not in ("float", "double", "long double"), state)
        ret = self.run_body(target.body, state, frame)
        n_out = signature.n_out
        n_in = self.n_in
        mean, coef, resid = np.zeros(n_out), np.zeros((n_in, n_out)), np.zeros(n_out)
        forms = [None] * n_out
        for j, port in enumerate(signature.outputs):
            if port.param == "return":
                v = ret
            else:
                v = state.mem[storage_of[port.param]][port.index or 0]
            if v is None or isinstance(v, Ptr):
                raise Unsupported(f"output {port.name} has no numeric value")
            v = _lin(v, n)
            if not (math.isfinite(v.m) and np.isfinite(v.c).all() and math.isfinite(v.r)):
                raise Unsupported(f"output {port.name} overflows")
            noise = v.c[n_in:]
            mean[j], coef[:, j], resid[j] = v.m, v.c[:n_in], v.r + float(noise @ noise) * _U  # symbols: uniform
            form = None if _unproven[0] else form_of(v, n)
            forms[j] = None if form is None else form.restricted(n_in)
        return Linearization(mean, coef, resid, forms, input_var)


def linearize(exts, signature) -> Linearization | Unsupported:
    """The target's statistical linearisation (canonical AST, target last), or the reason it has none."""
    functions = [e for e in exts if isinstance(e, c_ast.FuncDef)]
    if not functions:
        return Unsupported("no function")
    target = next((f for f in functions if f.decl.name == TARGET_NAME), functions[-1])
    _unproven[0] = 0
    try:
        with np.errstate(all="ignore"):
            return Interpreter(exts, signature.n_in).run_target(target, signature)
    except Unsupported as e:
        return e
    except OverflowError:  # Python's float arithmetic on constants (math.exp, **)
        return Unsupported("an overflow")
    except (RecursionError, ZeroDivisionError, ValueError, IndexError, KeyError) as e:
        return Unsupported(f"{type(e).__name__}: {e}")


def linearize_tokens(tokens, signature) -> Linearization | Unsupported:
    """`linearize` of canonical tokens (as the corpus stores programs)."""
    from nsc.frontend.dataflow import canonical_text

    try:
        ast = c_parser.CParser().parse(canonical_text(tokens), "<canonical>")
    except Exception as e:  # noqa: BLE001 - a parse failure is a reason, not a crash
        return Unsupported(f"re-parse: {e}")
    return linearize(list(ast.ext), signature)
