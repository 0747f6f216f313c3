"""Exact forms: a value the analysis (linearize.py) proves to be a closed-form function of the inputs.

A `Form` is m + c . u + sum_k a_k relu(p_k(u)) + sum_s w_s q_s(u)^2 + sum_n b_n |V_n(u)|, every p_k, q_s affine
and V_n an affine map into R^r (u: the normalised inputs, in [-1, 1]^n). The piecewise-affine part (sums, scalings
by constants, saturating selects: a filter, a colour matrix, a clamp) is what a ReLU network computes exactly
(nsc/compiler/exact.py). Squares are what `x * x` of an affine x makes (and x * y, as ((x + y)^2 - (x - y)^2) / 4);
sqrt of a sum of squares is a Euclidean norm |V(u)| (a gradient magnitude, a distance between two colours).
nsc/compiler/exact.py approximates both with ReLU units, to a stated error.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

MAX_VERTICES_LOG2 = 14  # bounds of a convex form look at every vertex of the box of at most this many inputs


def _merged(a: dict, b: dict, sign: float) -> dict:
    out = dict(a)
    for key, v in b.items():
        out[key] = out.get(key, 0.0) + sign * v
        if out[key] == 0.0:
            del out[key]
    return out


def _affine_range(pm: float, pc) -> tuple[float, float]:
    w = float(np.abs(np.asarray(pc)).sum())
    return pm - w, pm + w


class Form:
    """An exact value: m + c . u + sum of a relu(km + kc . u) over kinks + sum of w (sm + sc . u)^2 over squares
    + sum of b |(rm_i + rc_i . u)_i| over norms.

    kinks: {(km, kc as a tuple): a}, each argument scaled to |kc| = 1 (a relu is positively homogeneous), so
    equal kinks from different paths add up. An argument is affine: relus are one layer deep.
    squares: {(sm, sc as a tuple): w}, scaled to |sc| = 1 the same way. norms: {rows: b}, rows a tuple of
    (rm_i, rc_i as a tuple), the affine components of the vector whose Euclidean length is taken."""

    __slots__ = ("m", "c", "kinks", "squares", "norms")

    def __init__(self, m: float, c: np.ndarray, kinks: dict | None = None, squares: dict | None = None,
                 norms: dict | None = None):
        self.m, self.c, self.kinks = float(m), c, kinks or {}
        self.squares, self.norms = squares or {}, norms or {}

    @property
    def piecewise_affine(self) -> bool:
        """Affine plus kinks alone: a ReLU network computes it exactly."""
        return not self.squares and not self.norms

    @property
    def affine(self) -> bool:
        return self.piecewise_affine and not self.kinks

    def plus(self, other: "Form", sign: float = 1.0) -> "Form":
        return Form(self.m + sign * other.m, self.c + sign * other.c, _merged(self.kinks, other.kinks, sign),
                    _merged(self.squares, other.squares, sign), _merged(self.norms, other.norms, sign))

    def times(self, k: float) -> "Form":
        if not k:
            return Form(0.0, self.c * 0.0)
        scaled = lambda d: {key: a * k for key, a in d.items()}  # noqa: E731
        return Form(self.m * k, self.c * k, scaled(self.kinks), scaled(self.squares), scaled(self.norms))

    def restricted(self, n_in: int) -> "Form":
        """The form on the inputs' coordinates alone (a form never reads the analysis's noise symbols)."""
        return Form(self.m, self.c[:n_in], {(km, kc[:n_in]): a for (km, kc), a in self.kinks.items()},
                    {(sm, sc[:n_in]): w for (sm, sc), w in self.squares.items()},
                    {tuple((rm, rc[:n_in]) for rm, rc in rows): b for rows, b in self.norms.items()})

    def _term_bounds(self) -> tuple[float, float]:
        """Sound bounds over the input box (u in [-1, 1]^n), term by term."""
        spread = float(np.abs(self.c).sum())
        lo, hi = self.m - spread, self.m + spread
        terms = []  # (a, range of the term's nonlinear part)
        for (km, kc), a in self.kinks.items():
            r_lo, r_hi = _affine_range(km, kc)
            terms.append((a, max(r_lo, 0.0), max(r_hi, 0.0)))
        for (sm, sc), w in self.squares.items():
            r_lo, r_hi = _affine_range(sm, sc)
            terms.append((w, 0.0 if r_lo <= 0.0 <= r_hi else min(r_lo * r_lo, r_hi * r_hi),
                          max(r_lo * r_lo, r_hi * r_hi)))
        for rows, b in self.norms.items():  # |q + P u| <= |q| + sum_j |P e_j| |u_j| (and >= |q| minus that)
            q = np.array([rm for rm, _ in rows])
            P = np.array([rc for _, rc in rows], dtype=np.float64).reshape(len(rows), -1)
            reach = float(np.linalg.norm(P, axis=0).sum())
            terms.append((b, max(float(np.linalg.norm(q)) - reach, 0.0), float(np.linalg.norm(q)) + reach))
        for a, t_lo, t_hi in terms:
            lo, hi = lo + min(a * t_lo, a * t_hi), hi + max(a * t_lo, a * t_hi)
        return lo, hi

    def bounds(self) -> tuple[float, float]:
        """Sound bounds over the input box. A convex (concave) form with squares or norms, over at most
        2^MAX_VERTICES_LOG2 vertices, has its exact maximum (minimum) there: sqrt(gx^2 + gy^2) of a Sobel window
        reaches its bound at a corner of the box, which term-by-term bounds overstate by a fifth."""
        lo, hi = self._term_bounds()
        if self.piecewise_affine:
            return lo, hi
        coefficients = [*self.kinks.values(), *self.squares.values(), *self.norms.values()]
        convex, concave = all(a >= 0 for a in coefficients), all(a <= 0 for a in coefficients)
        vertices = self.vertices()
        if not (convex or concave) or vertices is None:
            return lo, hi
        values = self.evaluate(vertices)
        return (lo, float(values.max())) if convex else (float(values.min()), hi)

    def vertices(self) -> np.ndarray | None:
        """Every vertex of the box in the inputs the form reads, the others 0 ([2^k, n]), or None for more than
        MAX_VERTICES_LOG2 of them."""
        used = np.flatnonzero(np.abs(self.c) + sum(np.abs(np.asarray(key[1], dtype=np.float64))
                                                   for key in [*self.kinks, *self.squares])
                              + sum(np.abs(np.asarray(rc, dtype=np.float64))
                                    for rows in self.norms for _, rc in rows))
        if len(used) > MAX_VERTICES_LOG2:
            return None
        vertices = np.zeros((2 ** len(used), len(self.c)))
        vertices[:, used] = np.array(list(itertools.product((-1.0, 1.0), repeat=len(used))))
        return vertices

    def tight_bounds(self) -> tuple[float, float]:
        """`bounds`, exact where the form is a function of one direction t = d . u (a clamp of one expression,
        x > 255 ? 255 : (x < 0 ? 0 : x)): its extremes lie at the ends of t's range or at a kink."""
        if not self.kinks or not self.piecewise_affine:
            return self.bounds()  # affine: exact already
        keys = list(self.kinks)
        d = np.asarray(keys[0][1], dtype=np.float64)
        signs = []
        for _, kc in keys:
            kc = np.asarray(kc, dtype=np.float64)
            if np.allclose(kc, d):
                signs.append(1.0)
            elif np.allclose(kc, -d):
                signs.append(-1.0)
            else:
                return self.bounds()
        alpha = float(self.c @ d) / float(d @ d)
        if not np.allclose(self.c, alpha * d):
            return self.bounds()
        half = float(np.abs(d).sum())  # t's range over the box
        ts = [-half, half] + [-km * sg for (km, _), sg in zip(keys, signs) if abs(km) < half]
        values = [self.m + alpha * t + sum(a * max(km + sg * t, 0.0)
                                           for ((km, _), a), sg in zip(self.kinks.items(), signs)) for t in ts]
        return min(values), max(values)

    def evaluate(self, u: np.ndarray) -> np.ndarray:
        """The value on normalised inputs u [rows, n_in]."""
        y = self.m + u @ self.c
        for (km, kc), a in self.kinks.items():
            y = y + a * np.maximum(km + u @ np.asarray(kc), 0.0)
        for (sm, sc), w in self.squares.items():
            y = y + w * (sm + u @ np.asarray(sc)) ** 2
        for rows, b in self.norms.items():
            y = y + b * np.sqrt(sum((rm + u @ np.asarray(rc)) ** 2 for rm, rc in rows))
        return y


def relu_of(p: Form) -> Form | None:
    """relu(p) for an affine p, or for s relu(q) + t (a clamp's second side: relu(relu(q) - t) is relu(q - t) for
    t >= 0); None otherwise, or for an affine p with no slope (that relu is not a kink)."""
    if not p.piecewise_affine:
        return None
    if len(p.kinks) == 1 and not p.c.any():
        ((km, kc), s), t = next(iter(p.kinks.items())), p.m
        zero = np.zeros_like(p.c)
        if t <= 0:  # s relu(q) + t > 0 only where q > -t / s (s > 0)
            return Form(0.0, zero, {(km + t / s, kc): s}) if s > 0 else Form(0.0, zero)
        if s > 0:  # always positive
            return p
        return Form(t, zero, {(km, kc): s, (km + t / s, kc): -s})  # t - |s| relu(q) + |s| relu(q - t/|s|)
    norm = float(np.linalg.norm(p.c))
    if p.kinks:
        return _along_one_direction([p], lambda f: np.maximum(f[0], 0.0), [p])
    if not norm > 0 or not math.isfinite(norm):
        return None
    return Form(0.0, np.zeros_like(p.c), {(p.m / norm, tuple(p.c / norm)): norm})


def abs_of(p: Form) -> Form | None:
    """|p| = relu(p) + relu(-p) for an affine p with a slope; None otherwise."""
    up, down = relu_of(p), relu_of(p.times(-1.0))
    return up.plus(down) if up is not None and down is not None else None


def square_of(p: Form) -> Form | None:
    """p^2 for an affine p (a constant's square is a constant); None otherwise."""
    if not p.affine:
        return None
    norm = float(np.linalg.norm(p.c))
    if not math.isfinite(norm) or not math.isfinite(p.m):
        return None
    if norm == 0.0:
        return Form(p.m * p.m, np.zeros_like(p.c))
    return Form(0.0, np.zeros_like(p.c), squares={(p.m / norm, tuple(p.c / norm)): norm * norm})


def product_of(p: Form, q: Form) -> Form | None:
    """p q for affine p and q, as ((p + q)^2 - (p - q)^2) / 4 (p p is p^2 itself); None otherwise."""
    if p is q or (p.m == q.m and np.array_equal(p.c, q.c)):
        return square_of(p)
    plus, minus = square_of(p.plus(q)), square_of(p.plus(q, -1.0))
    return plus.plus(minus, -1.0).times(0.25) if plus is not None and minus is not None else None


def norm_of(parts: list) -> Form | None:
    """sqrt(sum of parts), each part a Form that is a sum of squares with positive weights plus a constant >= 0:
    the Euclidean length of the vector of their square roots (one component a constant where the sum has one).
    |p| where that vector is one affine p. None where the sum is not such a sum of squares."""
    rows, constant = [], 0.0
    for part in parts:
        if part.c.any() or part.kinks or part.norms or any(w <= 0 for w in part.squares.values()) or part.m < 0:
            return None
        rows += [(math.sqrt(w) * sm, tuple(math.sqrt(w) * np.asarray(sc))) for (sm, sc), w in part.squares.items()]
        constant += part.m
    if not rows:
        return None
    zero = np.zeros(len(rows[0][1]))
    if len(rows) == 1 and constant == 0.0:
        rm, rc = rows[0]
        return abs_of(Form(rm, np.asarray(rc, dtype=np.float64)))
    if constant > 0.0:
        rows.append((math.sqrt(constant), tuple(zero)))
    return Form(0.0, zero, norms={tuple(rows): 1.0})


def select(region: Form, a: Form, b: Form) -> Form | None:
    """The exact form of `[region > 0] ? a : b`, where that is piecewise affine and continuous: a - b is a
    multiple of the (affine) region's function, up to kinks that are zero wherever region > 0 (the inner kink of
    a nested clamp); then it is b + lambda relu(region). Or all three are functions of one direction
    (`_along_one_direction`). None otherwise."""
    if not region.piecewise_affine or not a.piecewise_affine or not b.piecewise_affine:
        return None
    form = _select_affine(region, a, b) if region.affine else None
    if form is None:
        form = _along_one_direction([region, a, b], lambda f: np.where(f[0] > 0, f[1], f[2]), [region])
    return form


def _select_affine(region: Form, a: Form, b: Form) -> Form | None:
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


def _along_one_direction(forms: list, combine, crossing: list) -> Form | None:
    """combine(values of forms) as a form, where every slope and kink of the forms lies along one direction d:
    each is then a piecewise-affine function of t = d . u alone on t's range [-|d|_1, |d|_1], and so is the
    combination (a relu or a select of such functions: income_tax.c's bands over a tapered allowance), if it is
    continuous. Its breakpoints are the forms' own and the zeros of the `crossing` forms between them; between two
    breakpoints every form is affine in t, so the combination is fixed by its values at them. None if the forms
    have two directions, none, or the combination jumps."""
    d = None
    for f in forms:
        for v in [f.c, *(np.asarray(kc, dtype=np.float64) for _, kc in f.kinks)]:
            norm = float(np.linalg.norm(v))
            if norm == 0.0:
                continue
            if d is None:
                d = v / norm
            elif not (np.allclose(v / norm, d, rtol=0, atol=1e-9) or np.allclose(v / norm, -d, rtol=0, atol=1e-9)):
                return None
    if d is None:
        return None
    half = float(np.abs(d).sum())

    def at(f: Form, t: np.ndarray) -> np.ndarray:  # f along d: f(t d) for every t
        kinks = (a * np.maximum(km + float(np.asarray(kc) @ d) * t, 0.0) for (km, kc), a in f.kinks.items())
        return f.m + float(f.c @ d) * t + sum(kinks)

    def distinct(values) -> np.ndarray:  # sorted, within t's range, nodes closer than float dust merged
        out = []
        for t in sorted(t for t in values if -half <= t <= half):
            if not out or t - out[-1] > 1e-9 * half:  # (np.unique's first call costs ~17 ms of imports)
                out.append(t)
        return np.array(out if out[-1] == half else out[:-1] + [half])

    ts = distinct([-half, half, *(-km / float(np.asarray(kc) @ d) for f in forms for (km, kc) in f.kinks)])
    for f in crossing:  # zeros between nodes, where f is affine
        v = at(f, ts)
        i = np.flatnonzero(v[:-1] * v[1:] < 0)
        ts = distinct([*ts, *(ts[i] - v[i] * (ts[i + 1] - ts[i]) / (v[i + 1] - v[i]))])
    mids = (ts[:-1] + ts[1:]) / 2
    left, right = (combine([at(f, x) for f in forms]) for x in (ts[:-1], ts[1:]))  # each piece at its two ends
    pieces_mid = combine([at(f, mids) for f in forms])
    if not np.allclose((left + right) / 2, pieces_mid, rtol=1e-9, atol=1e-9 * (1 + np.abs(pieces_mid).max())):
        return None  # not affine within a piece: a jump at a node's side
    scale = 1e-9 * (1.0 + float(np.abs(left).max()) + float(np.abs(right).max()))
    if np.abs(left[1:] - right[:-1]).max(initial=0.0) > scale:
        return None  # the combination jumps at a node
    slopes = (right - left) / (ts[1:] - ts[:-1])
    slopes[np.abs(slopes) <= 1e-12 * float(np.abs(slopes).max())] = 0.0  # float dust of cancelled slopes
    kinks = {(float(-t), tuple(d)): float(change) for t, change in zip(ts[1:-1], np.diff(slopes))
             if abs(change) > 1e-12 * (1.0 + float(np.abs(slopes).max()))}
    return Form(float(left[0] - slopes[0] * ts[0]), slopes[0] * d, kinks)
