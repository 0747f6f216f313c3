"""One-variable blocks: a function of one value, tabulated on that value's range, as a sum of ReLU units.

A block approximates g on [t_0, t_K] by the continuous piecewise-linear function through K segments,

    g(z) ~ c + sum_k a_k relu(z - t_k),   k = 0..K,   flat below t_0 and above t_K (a_K = -(slope of the last
                                                       segment): the network never extrapolates a block)

so K + 1 hidden units. The knots t_k equidistribute (w g''^2)^(1/5) (the density that minimises the weighted
squared error of piecewise-linear approximation), with w the operand's distribution (a histogram of the values
the network itself computes for it) plus a uniform floor, so knots follow both the function's curvature and
where the operand lies. A kink (a clamp, max, abs) gets a knot at the crossing of the straight pieces either side,
so a piecewise-linear g is exact. The heights at the knots come from weighted least squares on a fine grid; a
first fit at 16 segments says how many are needed for `BLOCK_TOL` of g's range (the error falls as 1/K^2).

A jump (a branch of a one-variable chain, a step of a comparison, a truncation) is found on the grid and located by
bisection to within JUMP_WIDTH of the range. It is a term of its own, J clip((z - a) / (b - a), 0, 1): as a
difference of two steep ReLUs it would cancel catastrophically in float32 beyond the ramp, so network.py builds it
saturating instead, J (1 - relu(1 - relu((z - a) / (b - a)))), exact on both sides (the "gate" of a branch). Any
segment STEEP times steeper than the block's mean slope (1/x near its pole) is such a term too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nsc.analysis.graph import distinct

GRID = 1025  # points g is tabulated at
BLOCK_TOL = 5e-5  # target weighted RMS error, as a share of g's range over the grid
COARSE_TOL = 3e-4  # the same for a network that would be too large at BLOCK_TOL (network.py)
MAX_SEGMENTS = 256
JUMP_WIDTH = 1e-6  # a jump's ramp, as a share of the range: well above float32 resolution, where the network runs
MAX_JUMPS = 64
STEEP = 30.0  # a segment steeper than this many times the block's mean slope saturates (a jump term)
UNIFORM_FLOOR = 0.15  # share of the knot density spread evenly (the operand's histogram may miss a region)


@dataclass
class Block:
    knots: np.ndarray  # [K + 1] t_0 < ... < t_K
    coefs: np.ndarray  # [K + 1] a_k of relu(z - t_k)
    const: float  # c
    rms_error: float  # weighted RMS error on the grid (absolute, g's units)
    max_error: float  # largest error on the grid where the operand has weight
    jumps: list = field(default_factory=list)  # (a, b, J): + J clip((z - a) / (b - a), 0, 1)

    def smooth(self, z: np.ndarray) -> np.ndarray:
        """The block without its jump terms."""
        if not hasattr(self, "_smooth"):
            self._smooth = self.const + np.maximum(self.knots[:, None] - self.knots, 0.0) @ self.coefs
        return np.interp(np.asarray(z, dtype=np.float64), self.knots, self._smooth)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """The block's value: a piecewise-linear interpolation through its knots and ramps, flat outside."""
        if not hasattr(self, "_table"):
            points = distinct(np.concatenate([self.knots, [x for a, b, _ in self.jumps for x in (a, b)]]))
            heights = self.const + np.maximum(points[:, None] - self.knots, 0.0) @ self.coefs
            for a, b, jump in self.jumps:
                heights = heights + jump * np.clip((points - a) / (b - a), 0.0, 1.0)
            self._table = (points, heights)
        points, heights = self._table
        return np.interp(np.asarray(z, dtype=np.float64), points, heights)


def cell_widths(grid: np.ndarray) -> np.ndarray:
    """The width each grid point stands for (half the gaps either side)."""
    if len(grid) < 2:
        return np.ones(len(grid))
    gaps = np.diff(grid)
    out = np.empty(len(grid))
    out[0], out[-1] = gaps[0] / 2, gaps[-1] / 2
    out[1:-1] = (gaps[1:] + gaps[:-1]) / 2
    return out


def operand_weights(grid: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Quadrature weights of the operand's distribution on the grid: a smoothed histogram of `samples` (the values
    the network computes for it), plus UNIFORM_FLOOR of the total spread evenly over the range; sums to 1."""
    mids = (grid[1:] + grid[:-1]) / 2
    hist = np.bincount(np.searchsorted(mids, samples), minlength=len(grid)).astype(np.float64)
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    hist = np.convolve(hist, kernel / kernel.sum(), mode="same")
    total = hist.sum()
    widths = cell_widths(grid)
    even = widths / widths.sum()
    w = hist / total if total > 0 else even
    return (1.0 - UNIFORM_FLOOR) * w + UNIFORM_FLOOR * even


def fit_block(g, lo: float, hi: float, samples: np.ndarray, tol: float = BLOCK_TOL,
              max_segments: int = MAX_SEGMENTS, features=(), reached=()) -> Block | None:
    """The block for g (a numpy function of one array) on [lo, hi], the error weighted by the operand's
    distribution (`samples`: the values the network computes for it). None where g has no finite value there.
    features: points the even grid must hold (the edges of a spike narrower than its steps); reached: operand
    values whose g values the block must reach as the samples' do (`_within_reach`: a narrow stretch's).

    g is tabulated twice: on an even grid, to find its jumps and its curvature, then on a grid that puts half its
    points where the knots will go (so knots bunched where g bends hard, e.g. the top of a wide exp, stay
    distinct)."""
    grid = np.linspace(lo, hi, GRID)
    grid = distinct(np.concatenate([grid, [f for f in features if lo < f < hi]]))
    values = g(grid)
    jumps = _jumps(g, grid, values, hi - lo)
    at_samples = g(np.concatenate([samples, np.asarray(reached, dtype=np.float64)]))
    values = _within_reach(values, at_samples)
    finite = np.isfinite(values)
    if finite.sum() < 2:
        return None
    grid, values = grid[finite], values[finite]
    kinks = _kinks(grid, values)
    density = _knot_density(grid, values, operand_weights(grid, samples))
    cum = np.concatenate([[0.0], np.cumsum(density * np.diff(grid))])
    adapted = np.interp(np.linspace(0.0, cum[-1], GRID), cum, grid)
    forced = np.array([x for a, b in jumps for x in (a, b) if lo <= x <= hi] + kinks)
    grid = distinct(np.concatenate([grid, adapted, forced]))
    values = _within_reach(g(grid), at_samples)
    finite = np.isfinite(values)
    grid, values = grid[finite], values[finite]
    weights = operand_weights(grid, samples)
    spread = float(values.max() - values.min())
    if spread == 0.0:
        return Block(np.array([grid[0]]), np.zeros(1), float(values[0]), 0.0, 0.0)
    forced = forced[(forced >= grid[0]) & (forced <= grid[-1])]
    density = _knot_density(grid, values, weights)
    # the error of equidistributed knots falls as 1/K^2: a first fit at 16 segments says how many are needed
    k = 16
    ramps = [(a, b) for a, b in jumps if grid[0] <= a and b <= grid[-1]]
    block = _fit(grid, values, weights, distinct(np.concatenate([_knots(grid, density, k), forced])), ramps)
    if block.rms_error <= tol * spread:
        return block
    k = int(min(max_segments, 2 ** math.ceil(math.log2(k * math.sqrt(block.rms_error / (tol * spread)) + 1e-9))))
    if k <= 16:
        return block
    better = _fit(grid, values, weights, distinct(np.concatenate([_knots(grid, density, k), forced])), ramps)
    return better if better.rms_error < block.rms_error else block


def _order_stat(q: float, values: np.ndarray) -> float:
    """The q-quantile of values, as the order statistic at q (n - 1) (np.median and np.quantile import
    numpy.ma on first use: ~40 ms of a compile)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    k = int(round(q * (len(a) - 1)))
    return float(np.partition(a, k)[k])


def _within_reach(values: np.ndarray, at_samples: np.ndarray) -> np.ndarray:
    """g's values clipped to half their spread beyond what g takes at the operand's own samples: near a pole
    the operand never reaches (1/x by 0 of an x the network keeps off 0), a block follows g no further, so no
    unit gets a slope float32 cannot carry."""
    ok = at_samples[np.isfinite(at_samples)]
    if len(ok) == 0:
        return values
    lo, hi = float(ok.min()), float(ok.max())
    pad = 0.5 * (hi - lo) if hi > lo else abs(hi) + 1.0
    return np.clip(values, lo - pad, hi + pad)


def _jumps(g, grid, values, width) -> list[tuple[float, float]]:
    """Intervals (a, b), about JUMP_WIDTH * width wide, that hold a jump of g: each grid step that changes g by
    more than 20 times the median step (and 1e-4 of g's range) is bisected, all at once, down to that width, and
    kept if most of its change is still there (a steep but smooth stretch is not)."""
    d = np.abs(np.diff(values))
    d[~np.isfinite(d)] = 0.0
    if not d.any():
        return []
    spread = float(np.nanmax(values) - np.nanmin(values))
    typical = float(_order_stat(0.5, d))
    candidates = np.nonzero((d > 20.0 * typical) & (d > 1e-4 * spread))[0]
    if len(candidates) == 0:
        return []
    candidates = candidates[np.argsort(-d[candidates])][:MAX_JUMPS]
    a, b = grid[candidates].astype(np.float64), grid[candidates + 1].astype(np.float64)
    va, vb = values[candidates].astype(np.float64), values[candidates + 1].astype(np.float64)
    for _ in range(60):
        if (b - a).max() <= JUMP_WIDTH * width:
            break
        m = 0.5 * (a + b)
        vm = g(m)
        left = np.abs(vm - va) <= np.abs(vb - vm)  # the change lies in the right half
        a, va = np.where(left, m, a), np.where(left, vm, va)
        b, vb = np.where(left, b, m), np.where(left, vb, vm)
    kept = np.abs(vb - va) >= 0.5 * d[candidates]
    out = []
    for lo, hi in zip(a[kept], b[kept]):
        m, half = 0.5 * (lo + hi), 0.5 * JUMP_WIDTH * width  # never steeper than float32 can carry
        out.append((float(min(lo, m - half)), float(max(hi, m + half))))
    return sorted(out)


def _kinks(grid, values) -> list[float]:
    """Where g's slope changes at a point (a clamp, max, abs): the crossing of the lines through the grid steps
    either side of a step whose slope change stands out; a knot there makes a piecewise-linear g exact."""
    h = np.diff(grid)
    slope = np.diff(values) / h
    change = np.abs(np.diff(slope))  # at interior grid points
    if len(change) < 5 or not np.isfinite(change).all():
        return []
    typical = _order_stat(0.5, change) + 1e-12 * (np.abs(slope).max() + 1e-300)
    out = []
    for i in np.nonzero(change > 100.0 * typical)[0][:MAX_JUMPS]:
        # grid step i + 1 (between points i + 1 and i + 2) may hold the kink; steps i and i + 2 are straight
        j = i + 1
        if j + 1 >= len(slope) or j - 1 < 0:
            continue
        left, right = slope[j - 1], slope[j + 1]
        if left == right:
            continue
        x = (values[j + 1] - values[j] + left * grid[j] - right * grid[j + 1]) / (left - right)
        if grid[j - 1] <= x <= grid[j + 2]:
            out.append(float(x))
    return sorted(set(out))


def _knot_density(grid, values, weights) -> np.ndarray:
    """(w g''^2)^(1/5) per grid interval, with a uniform floor."""
    h = np.diff(grid)
    slope = np.diff(values) / h
    curvature = np.zeros(len(grid))
    curvature[1:-1] = np.abs(np.diff(slope)) / ((h[1:] + h[:-1]) / 2)
    curvature = np.minimum(curvature, _order_stat(0.99, curvature) * 10 + 1e-300)  # (jumps have their knots)
    w = weights / cell_widths(grid)
    w = w / w.max()
    rho = (w * curvature ** 2) ** 0.2
    rho = 0.5 * (rho[1:] + rho[:-1])  # per interval
    mean = np.sum(rho * h) / np.sum(h)
    if not np.isfinite(mean) or mean <= 0:
        return np.ones(len(h))
    return rho / mean + 0.25


def _knots(grid, density, k: int) -> np.ndarray:
    """k segments: knots at equal steps of the cumulative density (on grid points, distinct)."""
    cum = np.concatenate([[0.0], np.cumsum(density * np.diff(grid))])
    targets = np.linspace(0.0, cum[-1], k + 1)
    idx = distinct(np.clip(np.searchsorted(cum, targets), 0, len(grid) - 1)).astype(np.int64)
    idx[0], idx[-1] = 0, len(grid) - 1
    return grid[distinct(idx).astype(np.int64)]


def _tridiagonal(diag: np.ndarray, off: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """x with (diag on the diagonal, off above and below) x = rhs: the Thomas algorithm (the hat functions'
    normal equations are symmetric, diagonally dominant and tridiagonal)."""
    n = len(diag)
    c_prev, d_prev = 0.0, 0.0
    diag, off, rhs = diag.tolist(), off.tolist() + [0.0], rhs.tolist()
    cs, ds = [0.0] * n, [0.0] * n
    for i in range(n):
        lower = off[i - 1] if i > 0 else 0.0
        m = diag[i] - lower * c_prev
        c_prev = off[i] / m
        d_prev = (rhs[i] - lower * d_prev) / m
        cs[i], ds[i] = c_prev, d_prev
    x = [0.0] * n
    x[-1] = ds[-1]
    for i in range(n - 2, -1, -1):
        x[i] = ds[i] - cs[i] * x[i + 1]
    return np.array(x)


def _fit(grid, values, weights, knots, ramps=()) -> Block:
    """Weighted least-squares heights h_k at fixed knots (hat functions: a tridiagonal system), then the ReLU
    form: c = h_0, a_k = s_k - s_(k-1) with s_k the slope of segment k; each ramp (a, b), two of the knots,
    becomes a jump term of height h(b) - h(a), taken out of the heights from b on."""
    k = len(knots)
    if k == 1:
        c = float(np.sum(weights * values) / np.sum(weights))
        return Block(knots.copy(), np.zeros(1), c, float(np.sqrt(np.sum(weights * (values - c) ** 2))), 0.0)
    j = np.clip(np.searchsorted(knots, grid, side="right") - 1, 0, k - 2)
    lam = (grid - knots[j]) / (knots[j + 1] - knots[j])
    lam = np.clip(lam, 0.0, 1.0)
    wl, wr = weights * (1 - lam), weights * lam
    diag = np.bincount(j, wl * (1 - lam), k) + np.bincount(j + 1, wr * lam, k)
    off = np.bincount(j, wl * lam, k - 1)
    rhs = np.bincount(j, wl * values, k) + np.bincount(j + 1, wr * values, k)
    heights = _tridiagonal(diag + 1e-12 * diag.max(), off, rhs)
    approx = heights[j] * (1 - lam) + heights[j + 1] * lam
    jumps = []
    # a ramp, and any segment much steeper than the block's mean slope, becomes a saturating term (float32)
    mean_slope = (heights.max() - heights.min()) / (knots[-1] - knots[0])
    steep = np.abs(np.diff(heights) / np.diff(knots)) > STEEP * mean_slope
    ramp_at = {int(np.searchsorted(knots, ra)) for ra, rb in ramps}
    for i in sorted(set(np.nonzero(steep)[0].tolist()) | ramp_at):
        if i + 1 >= k:
            continue
        ra, rb = knots[i], knots[i + 1]
        jump = float(heights[i + 1] - heights[i])
        if jump == 0.0:
            continue
        jumps.append((float(ra), float(rb), jump))
        heights = heights - jump * np.clip((knots - ra) / (rb - ra), 0.0, 1.0)
    slopes = np.diff(heights) / np.diff(knots)
    coefs = np.diff(np.concatenate([[0.0], slopes, [0.0]]))
    err = approx - values
    rms = float(np.sqrt(np.sum(weights * err ** 2) / np.sum(weights)))
    significant = weights > 1.5 * UNIFORM_FLOOR * cell_widths(grid) / (grid[-1] - grid[0])
    max_err = float(np.abs(err[significant]).max()) if significant.any() else float(np.abs(err).max())
    return Block(knots.copy(), coefs, float(heights[0]), rms, max_err, jumps)
