"""The statistical linearisation (analysis/linearize.py): exact cases, hand-derived moments, real programs."""

from __future__ import annotations

import numpy as np
import pytest
from nsc.execute.sampling import sample_program
from nsc.analysis import linearization
from nsc.frontend import load_program
from nsc.analysis.linearize import Linearization, Unsupported, linearize_tokens
from nsc.training.corpus_gen import generate_program


def program(tmp_path, body: str, lo=-1.0, hi=1.0):
    path = tmp_path / "k.c"
    path.write_text("#include <math.h>\n" + body)
    return load_program(str(path), default_range=(lo, hi))


def lin_of(tmp_path, body: str, **kw) -> Linearization:
    lin = linearization(program(tmp_path, body, **kw))
    assert isinstance(lin, Linearization), lin
    return lin


def test_linear_code_is_exact(tmp_path):
    lin = lin_of(tmp_path, """
#define N 4
static const double w[N] = {0.5, -1.0, 2.0, 0.25};
void f(double a, double b, const double x[4], double *y, double *z) {
    double s = 0;
    for (int i = 0; i < N; i++) s += w[i] * x[i];
    *y = 3.0 * a - 2.0 * b + 1.0;
    *z = s / 2 + a;
}""", lo=0.0, hi=2.0)  # u = x - 1: mean at x = 1, coefficient = slope x 1
    np.testing.assert_allclose(lin.mean, [3 - 2 + 1, (0.5 - 1 + 2 + 0.25) / 2 + 1])
    want = np.zeros((6, 2))
    want[:2, 0] = [3, -2]
    want[0, 1], want[2:, 1] = 1, np.array([0.5, -1.0, 2.0, 0.25]) / 2
    np.testing.assert_allclose(lin.coef, want, atol=1e-12)
    np.testing.assert_allclose(lin.resid, 0, atol=1e-12)
    assert lin.exact.tolist() == [True, True] and not any(f.kinks for f in lin.forms)


def test_exact_forms_only_where_proven(tmp_path):
    """Sums, scalings, constant loops, a branch the input box decides, saturating selects (?:, if, fmin, fmax,
    fabs, a nested clamp) and a product of two inputs (as squares) have exact forms; a product of a clamped value,
    a math.h call, a discontinuous select, a cast to int and an uncertain table index do not."""
    lin = lin_of(tmp_path, """
static const double t[3] = {1.0, 4.0, 9.0};
static double half(double v) { return v / 2; }
static double clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }
void f(double a, double b, double o[14]) {
    o[0] = half(a) - 3 * b;
    o[1] = a > 5 ? 0.0 : a + b;   /* a <= 1: the branch is certain */
    o[2] = a * b;
    o[3] = sin(a);
    o[4] = a > 0 ? a : 0.0;
    o[5] = (int)(4 * a);
    o[6] = t[(int)(a + 1.5)];
    o[7] = a > b ? 1.0 : 0.0;     /* a step, not continuous */
    o[8] = clamp01(a + b);
    o[9] = fmax(a, b) - fmin(a, 2 * b) + fabs(a - 0.5);
    double s = b;
    if (s > 0.25) s = 0.25;
    o[10] = s;
    o[11] = s * a;
    o[12] = fmin(fmax(a - b, -0.5), 0.5);
    o[13] = fmax(fmin(a, 0.25), -0.75) * 2;
}""")
    assert lin.exact.tolist() == [True, True, True, False, True, False, False, False, True, True, True, False,
                                  True, True]
    assert [len(f.kinks) for f in lin.forms if f is not None] == [0, 0, 0, 1, 2, 4, 1, 2, 2]
    assert len(lin.forms[2].squares) == 2
    u = np.random.default_rng(0).uniform(-1, 1, (500, 2))
    a, b = u[:, 0], u[:, 1]
    want = {0: a / 2 - 3 * b, 1: a + b, 2: a * b, 4: np.maximum(a, 0), 8: np.clip(a + b, 0, 1),
            9: np.maximum(a, b) - np.minimum(a, 2 * b) + np.abs(a - 0.5), 10: np.minimum(b, 0.25),
            12: np.clip(a - b, -0.5, 0.5), 13: 2 * np.clip(a, -0.75, 0.25)}
    for j, y in want.items():
        np.testing.assert_allclose(lin.forms[j].evaluate(u), y, atol=1e-12, err_msg=f"o[{j}]")


def test_exact_forms_across_early_returns(tmp_path):
    """Paths that return early from the function's own path, on affine regions, fold into selects; a return
    inside a branch that does not return as a whole, or a discontinuous result, gives no form."""
    lin = lin_of(tmp_path, """
static double clamp01(double v) { if (v < 0.0) return 0.0; if (v > 1.0) return 1.0; return v; }
static double larger(double a, double b) { if (a > b) { return a; } else { return b; } }
static double odd(double a) { if (a > 0.0) { if (a > 0.5) return 1.0; a = 2 * a; } return a; }
void f(double a, double b, double o[5]) {
    o[0] = clamp01(a + 0.5 * b);
    o[1] = larger(a, 2 * b);
    o[4] = odd(b);
    if (a > 0.5) { o[2] = 1.0; o[3] = a; return; }
    o[2] = a + 0.5;
    o[3] = sin(a);
}""")
    assert lin.exact.tolist() == [True, True, True, False, False]
    u = np.random.default_rng(1).uniform(-1, 1, (500, 2))
    a, b = u[:, 0], u[:, 1]
    for j, y in enumerate([np.clip(a + 0.5 * b, 0, 1), np.maximum(a, 2 * b), np.where(a > 0.5, 1.0, a + 0.5)]):
        np.testing.assert_allclose(lin.forms[j].evaluate(u), y, atol=1e-12, err_msg=f"o[{j}]")


def test_exact_forms_are_exact_on_generated_kernels(tmp_path):
    """Soundness: wherever the analysis gives an output an exact form, it matches the real program run natively
    (float rounding aside), over 80 generated kernels."""
    checked = kinked = 0
    for seed in range(4000, 4080):
        path = tmp_path / f"g{seed}.c"
        path.write_text(generate_program(seed).c_text)
        prog = load_program(str(path))
        if not isinstance(linearization(prog), Linearization) or not linearization(prog).exact.any():
            continue
        run = sample_program(prog, 200, seed=seed)
        lo, hi = prog.signature.ranges()
        u = (run.x - (lo + hi) / 2) / ((hi - lo) / 2)
        for j in np.nonzero(linearization(prog).exact)[0]:
            form = linearization(prog).forms[j]
            scale = 1e-4 * (1 + np.abs(run.y[:, j]).max())
            np.testing.assert_allclose(form.evaluate(u), run.y[:, j], rtol=1e-4, atol=scale, err_msg=f"seed {seed}")
            checked += 1
            kinked += bool(form.kinks)
    assert checked >= 10 and kinked >= 2, (checked, kinked)


def test_products_and_branches_have_the_right_moments(tmp_path):
    """For u uniform on [-1, 1]: E[u^2] = 1/3; max(u, 0) has mean 1/4 and least-squares slope 1/2."""
    lin = lin_of(tmp_path, """
void f(double a, double b, double *sq, double *ab, double *relu) {
    *sq = a * a;
    *ab = a * b + b;
    double r = a;
    if (r < 0) r = 0;
    *relu = r;
}""")
    np.testing.assert_allclose(lin.mean[:2], [1 / 3, 0.0], atol=1e-9)  # exact for products
    np.testing.assert_allclose(lin.mean[2], 0.25, atol=0.01)  # the branch probability is itself linearised
    np.testing.assert_allclose(lin.coef[:, 0], [0, 0], atol=1e-9)  # a^2 is even: no linear part
    np.testing.assert_allclose(lin.coef[:, 1], [0, 1], atol=1e-9)
    np.testing.assert_allclose(lin.coef[:, 2], [0.5, 0], atol=0.02)
    # residuals: Var(u^2) = 4/45 for a uniform u (a Gaussian's formula gives 2/9), Var(u_a u_b) = 1/9
    np.testing.assert_allclose(lin.resid[:2], [4 / 45, 1 / 9], rtol=1e-12)


def test_residuals_keep_their_correlations(tmp_path):
    """Noise symbols: a residual is shared by the values computed from it, not re-drawn for each. t - s with
    t = s + a is a exactly; q - q / 2 keeps a quarter of q's residual variance, Var(ab) = 1/9, not 1.25 x it."""
    lin = lin_of(tmp_path, """
void f(double a, double b, double o[2]) {
    double s = sin(3 * a) * b;
    double t = s + a;
    o[0] = t - s;
    double q = a * b;
    o[1] = q - 0.5 * q;
}""")
    np.testing.assert_allclose(lin.coef[:, 0], [1, 0], atol=1e-12)
    np.testing.assert_allclose(lin.resid, [0, 0.25 / 9], atol=1e-12)


def _monte_carlo(f, lo, hi, n=200_000):
    """Mean, std and least-squares slopes (on normalised inputs) of f over the box, by sampling."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    u = np.random.default_rng(0).uniform(-1, 1, (n, len(lo)))
    y = f(*((lo + hi) / 2 + u * (hi - lo) / 2).T)
    return y.mean(), y.std(), np.linalg.lstsq(np.c_[u, np.ones(n)], y, rcond=None)[0][:-1]


def test_a_branch_counts_each_arm_where_it_is_taken(tmp_path):
    """A clamp only narrows a value: the merged arms are integrated over the tested value (`_split_moments`),
    not weighted by their overall probability, which made clamp01(v)'s spread larger than v's own."""
    lin = lin_of(tmp_path, """
static double clamp01(double v)
{
    if (v < 0.0)
        return 0.0;
    if (v > 1.0)
        return 1.0;
    return v;
}
#pragma nsc range c 0 1
#pragma nsc range k 0.5 1.5
#pragma nsc surrogate
void f(double c, double k, double o[3]) {
    double v = (c - 0.5) * k + 0.5;
    o[0] = v;
    o[1] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
    o[2] = clamp01(v);  /* three paths whose weights are tests of v: merged over v too */
}""")
    mean, std, slopes = _monte_carlo(lambda c, k: np.clip((c - 0.5) * k + 0.5, 0, 1), [0, 0.5], [1, 1.5])
    for j in (1, 2):
        assert lin.std[j] < lin.std[0]
        np.testing.assert_allclose([lin.mean[j], lin.std[j]], [mean, std], rtol=0.05)
        np.testing.assert_allclose(lin.coef[:, j], slopes, atol=0.02)


def test_a_branch_on_the_sign_of_a_value_knows_functions_of_its_magnitude(tmp_path):
    """Range reduction by symmetry, as in a normal CDF: h(|x|), mirrored for x < 0. fabs(x)'s leftover is a function
    of x, so where the branch integrates over x it is known at each node, not regressed on x (linearly: nothing)."""
    lin = lin_of(tmp_path, """
#pragma nsc range x -3 3
#pragma nsc range z -2 1
void f(double x, double z, double o[2]) {
    double a = fabs(x);
    double h = 1.0 - 0.5 * exp(-a);  /* the Laplace distribution's CDF for x >= 0 */
    o[0] = x < 0.0 ? 1.0 - h : h;
    double b = fabs(z);
    o[1] = z < 0.0 ? -b * b : b * b;
}""")
    functions = [lambda x, z: np.where(x < 0, 0.5 * np.exp(x), 1 - 0.5 * np.exp(-x)), lambda x, z: np.sign(z) * z * z]
    for j, f in enumerate(functions):
        mean, std, slopes = _monte_carlo(f, [-3, -2], [3, 1])
        np.testing.assert_allclose(lin.mean[j], mean, atol=0.1 * std)  # (before: 0.09 std off for o[1])
        np.testing.assert_allclose(lin.std[j], std, rtol=0.05)  # (before: 14% off for o[1])
        np.testing.assert_allclose(lin.coef[:, j], slopes, rtol=0.05, atol=0.01)  # (before: 13%, 34% off)


def test_two_argument_functions_integrate_over_the_input_box(tmp_path):
    """a / b of two uniform prices: E = E[a] E[1/b] = ln 3, integrated over the square the prices live on; so are
    pow and hypot (not rewritten as exp(b log a) or sqrt(a a + b b), which stack two approximations)."""
    lin = lin_of(tmp_path, """
void f(double a, double b, double o[4]) {
    o[0] = a / b;
    o[1] = atan2(a - 100, b);
    o[2] = pow(a / 150, b / 50);
    o[3] = hypot(a - 100, b - 60);
}""", lo=50.0, hi=150.0)
    functions = [np.divide, lambda a, b: np.arctan2(a - 100, b), lambda a, b: np.power(a / 150, b / 50),
                 lambda a, b: np.hypot(a - 100, b - 60)]
    for j, f in enumerate(functions):
        mean, std, slopes = _monte_carlo(f, [50, 50], [150, 150])
        np.testing.assert_allclose([lin.mean[j], lin.std[j]], [mean, std], rtol=0.01, atol=1e-3)
        np.testing.assert_allclose(lin.coef[:, j], slopes, rtol=0.01, atol=0.005 * std)  # (sampling error)


def test_an_else_if_chain_fits_each_inner_choice_where_it_is_made(tmp_path):
    """Tax bands as payroll code writes them: an inner branch of `if (x <= a) ... else if (x <= b) ...` is
    merged as the least-squares line over where its path is taken (`_region_fit`), not over the whole input box,
    where it counted arms the outer branch had already left. Before: mean 1.1%, std and slope 2.7% off."""
    lin = lin_of(tmp_path, """
double f(double x) {
    double t;
    if (x <= 12.5) t = 0;
    else if (x <= 50) t = 0.2 * (x - 12.5);
    else if (x <= 150) t = 7.5 + 0.4 * (x - 50);
    else t = 47.5 + 0.45 * (x - 150);
    return t;
}""", lo=0.0, hi=250.0)
    x = np.linspace(0, 250, 200_001)
    t = np.where(x <= 12.5, 0, np.where(x <= 50, 0.2 * (x - 12.5), np.where(x <= 150, 7.5 + 0.4 * (x - 50),
                                                                               47.5 + 0.45 * (x - 150))))
    slope = np.polyfit((x - 125) / 125, t, 1)[0]
    np.testing.assert_allclose([lin.mean[0], lin.std[0], lin.coef[0, 0]], [t.mean(), t.std(), slope], rtol=0.005)


def test_a_square_is_never_negative(tmp_path):
    """x * x keeps off the negative numbers its operands' intervals alone allow (interval arithmetic forgets that
    both are x), so exp(-(x x) / (2 s s)), a Gaussian kernel, stays within (0, 1] instead of overflowing in a
    tail, and sqrt(x x) is not integrated over a clipped negative range (its mean was 1.12, true 0.83)."""
    lin = lin_of(tmp_path, """
#pragma nsc range x -5 5
#pragma nsc range s 0.1 3
double f(double x, double s) { return exp(-(x * x) / (2.0 * (s * s))); }""")
    mean, _, _ = _monte_carlo(lambda x, s: np.exp(-x * x / (2 * s * s)), [-5, 0.1], [5, 3])
    assert abs(lin.mean[0] - mean) < 0.05
    lin = lin_of(tmp_path, "double f(double x) { return sqrt(x * x); }", lo=-1.0, hi=2.0)
    assert abs(lin.mean[0] - 5 / 6) < 0.07


def test_integer_inputs_take_their_values(tmp_path):
    """An integer input takes each integer of its range with equal probability (as `nsc sample` draws it), not a
    continuous value: a mode 0..2 is each mode a third of the time, 1 / n for n in 1..4 has mean 25 / 48, and
    the slopes are least squares over those values. The continuous model gave 0.25 / 0.5 / 0.25 and 0.46. A
    switch's default is a test of the selector too (what no case takes), so the mode's factor k is exact."""
    path = tmp_path / "k.c"
    path.write_text("""
#pragma nsc range mode 0 2
#pragma nsc range n 1 4
#pragma nsc range x 0 1
void f(int mode, int n, double x, double o[4]) {
    double k;
    switch (mode) { case 0: k = 12; break; case 1: k = 4; break; default: k = 1; }
    o[0] = k * x;
    o[1] = 1.0 / n;
    o[2] = mode == 1;
    if (mode == 0) k = 12; else if (mode == 1) k = 4; else k = 1;
    o[3] = k;
}""")
    lin = linearization(load_program(str(path)))
    assert isinstance(lin, Linearization), lin
    mode, n, x = np.meshgrid([0, 1, 2], [1, 2, 3, 4], np.linspace(0, 1, 2001), indexing="ij")
    k = np.choose(mode, [12.0, 4.0, 1.0])
    ys = [k * x, 1.0 / n + 0 * x, (mode == 1) + 0.0 * x, k + 0 * x]  # every value equally likely (x: a fine grid)
    u = np.stack([(mode - 1.0).ravel(), ((n - 2.5) / 1.5).ravel(), (2 * x - 1).ravel()], axis=1)
    for j, y in enumerate(ys):
        slopes = np.linalg.lstsq(np.c_[u, np.ones(len(u))], y.ravel(), rcond=None)[0][:-1]
        np.testing.assert_allclose([lin.mean[j], lin.std[j]], [y.mean(), y.std()], rtol=0.02, atol=1e-9)
        np.testing.assert_allclose(lin.coef[:, j], slopes, atol=0.02 * y.std())
    np.testing.assert_allclose(lin.mean[1:], [25 / 48, 1 / 3, 17 / 3], rtol=1e-9)  # exact: the values are the nodes
    np.testing.assert_allclose(lin.input_var, [2 / 3, 5 / 9, 1 / 3], rtol=1e-12)


def test_division_by_a_product_of_factors_that_keep_off_zero(tmp_path):
    """1 / (v sqrt(t)) is the product of the reciprocals, each integrated over its own input: integrated over the
    product's distribution (a uniform plus a Gaussian tail towards the pole) its mean was 1.2x too large."""
    lin = lin_of(tmp_path, """
#pragma nsc range v 0.1 0.6
#pragma nsc range t 0.1 2.0
#pragma nsc range x -1 1
void f(double v, double t, double x, double o[3]) {
    double d = v * sqrt(t);
    o[0] = 1.0 / d;
    o[1] = (x + 0.5) / d;
    o[2] = 2.0 / (d * v);
}""")
    functions = [lambda v, t, x: 1 / (v * np.sqrt(t)), lambda v, t, x: (x + 0.5) / (v * np.sqrt(t)),
                 lambda v, t, x: 2 / (v * np.sqrt(t) * v)]
    for j, f in enumerate(functions):
        mean, std, slopes = _monte_carlo(f, [0.1, 0.1, -1], [0.6, 2.0, 1])
        # (before: means 1.21x, 1.21x, 2.9x the truth, spreads 2.1x, 1.7x, 4.1x; 1 / sqrt(t) itself is
        # integrated over a uniform plus a Gaussian, which leaves its spread 20% short)
        np.testing.assert_allclose(lin.mean[j], mean, rtol=0.07)
        np.testing.assert_allclose(lin.std[j], std, rtol=0.4)
        np.testing.assert_allclose(lin.coef[:, j], slopes, rtol=(0.2, 0.2, 0.4)[j], atol=0.02 * std)  # (before: 3.9x)


def test_two_index_tables_at_uncertain_indices(tmp_path):
    """A calibration map t[i][j] read at indices computed from the inputs: the table as a function of both
    indices (and of one, with the other constant), against sampling. Such reads used to be unsupported."""
    table = np.array([[0.0, 1.0, 4.0, 9.0], [1.0, 2.0, 5.0, 10.0], [4.0, 5.0, 8.0, 13.0]])
    lin = lin_of(tmp_path, """
static const double t[3][4] = {{0.0, 1.0, 4.0, 9.0}, {1.0, 2.0, 5.0, 10.0}, {4.0, 5.0, 8.0, 13.0}};
#pragma nsc range x 0 2.99
#pragma nsc range y 0 3.99
#pragma nsc surrogate
void f(double x, double y, double o[3]) {
    int i = (int)x, j = (int)y;
    o[0] = t[i][j];
    o[1] = t[i][2];
    o[2] = t[1][j];
}""")
    for k, f in enumerate([lambda x, y: table[x.astype(int), y.astype(int)], lambda x, y: table[x.astype(int), 2],
                           lambda x, y: table[1, y.astype(int)]]):
        mean, std, slopes = _monte_carlo(f, [0, 0], [2.99, 3.99])
        # as close as a one-index read (o[1], o[2]) gets: the casts to int are linearised before the lookup
        np.testing.assert_allclose([lin.mean[k], lin.std[k]], [mean, std], rtol=0.06)
        np.testing.assert_allclose(lin.coef[:, k], slopes, rtol=0.08, atol=0.05)


def test_early_returns_and_breaks_merge_their_paths(tmp_path):
    """|a| by an early return; a search loop that breaks at a data-dependent step (a staircase in a)."""
    prog = program(tmp_path, """
double f(double a, double *step) {
    int k;
    for (k = 0; k < 8; k++)
        if (a < -1.0 + 0.25 * (k + 1)) break;
    *step = k;
    if (a < 0) return -a;
    return a;
}""")
    lin = linearization(prog)
    np.testing.assert_allclose(lin.mean[0], 0.5, atol=0.02)  # E|u| = 1/2, no linear part
    np.testing.assert_allclose(lin.coef[0, 0], 0.0, atol=0.02)
    run = sample_program(prog, 4000, seed=1)
    u = run.x[:, 0]
    slope, intercept = np.polyfit(u, run.y[:, 1], 1)  # the staircase's least-squares line: ~ 3.5 + 3.5 u
    np.testing.assert_allclose([lin.mean[1], lin.coef[0, 1]], [intercept, slope], rtol=0.1)


def test_math_calls_helpers_and_pointers(tmp_path):
    lin = lin_of(tmp_path, """
static void polar(double r, double t, double *x, double *y) { *x = r * cos(t); *y = r * sin(t); }
void f(double r, double t, double out[2]) {
    double x, y;
    polar(r, t, &x, &y);
    out[0] = x;
    out[1] = exp(y);
}""", lo=0.5, hi=1.5)
    prog_like = np.random.default_rng(0).uniform(0.5, 1.5, (200_000, 2))
    r, t = prog_like[:, 0], prog_like[:, 1]
    for j, y in enumerate([r * np.cos(t), np.exp(r * np.sin(t))]):
        u = (prog_like - 1.0) / 0.5
        coef = np.linalg.lstsq(np.c_[u, np.ones(len(u))], y, rcond=None)[0]
        np.testing.assert_allclose(lin.mean[j], y.mean(), rtol=0.02)
        np.testing.assert_allclose(lin.coef[:, j], coef[:2], rtol=0.1, atol=0.01)


def test_structs_are_their_members(tmp_path):
    """A function written with structs (values copied into helpers and back, members through pointers, an array
    of them) has the linearisation of the same function written with scalars."""
    with_structs = lin_of(tmp_path, """
typedef struct { double re, im; } cpx;
static cpx mul(cpx a, cpx b) { cpx r; r.re = a.re * b.re - a.im * b.im; r.im = a.re * b.im + a.im * b.re; return r; }
static void shift(cpx *z, const cpx *c) { z->re += c->re; z->im += (*c).im; }
void f(double zr, double zi, double out[2]) {
    cpx z = {zr, zi}, c[2] = {{0.25, -0.5}, {zi, 0.1}};
    for (int k = 0; k < 3; k++) { z = mul(z, z); shift(&z, &c[k % 2]); }
    out[0] = z.re; out[1] = sqrt(z.re * z.re + z.im * z.im);
}""")
    with_scalars = lin_of(tmp_path, """
void f(double zr, double zi, double out[2]) {
    double r = zr, i = zi, c_re[2] = {0.25, zi}, c_im[2] = {-0.5, 0.1};
    for (int k = 0; k < 3; k++) { double re = r * r - i * i, im = r * i + i * r; r = re + c_re[k % 2];
                                  i = im + c_im[k % 2]; }
    out[0] = r; out[1] = sqrt(r * r + i * i);
}""")
    for field in ("mean", "coef", "resid"):
        np.testing.assert_allclose(getattr(with_structs, field), getattr(with_scalars, field), rtol=1e-12, atol=1e-15)


def test_pointer_walks_and_pointers_at_computed_places(tmp_path):
    """A walk over an array of structs by pointer (p < end, p++) is the indexed loop; a pointer to the element at a
    computed index reads the table as the index itself does."""
    walked = lin_of(tmp_path, """
struct term { double c, p; };
static const struct term terms[3] = {{1.0, 0.5}, {-2.0, 1.5}, {0.5, 2.5}};
double f(double x) { double s = 0; int k = (int)(x * 1.4 + 1.5);
    for (const struct term *t = terms; t < terms + 3; t++) s += t->c * pow(x + 2.0, t->p);
    const struct term *at = &terms[k]; return s + at->c + (terms + k)->p; }""")
    indexed = lin_of(tmp_path, """
static const double c[3] = {1.0, -2.0, 0.5}, p[3] = {0.5, 1.5, 2.5};
double f(double x) { double s = 0; int k = (int)(x * 1.4 + 1.5);
    for (int i = 0; i < 3; i++) s += c[i] * pow(x + 2.0, p[i]);
    return s + c[k] + p[k]; }""")
    for field in ("mean", "coef", "resid"):
        np.testing.assert_allclose(getattr(walked, field), getattr(indexed, field), rtol=1e-12, atol=1e-15)


def test_what_it_does_not_model_is_a_reason(tmp_path):
    for body, reason in [
        ("int f(int a) { return a & 3; }", "bit operation"),
        ("double f(double a) { double t = a; lbl: t = t * 0.5; if (t > 1) goto lbl; return t; }", "goto"),
        ("void f(double a, double o[100]) { o[(int)(a * 40 + 50)] = 1.0; }", "uncertain index"),
        ("double f(double a) { double x = exp(a * 700.0); double y = x * x * x; return sqrt(y * y); }", "overflow"),
        ("union u { double d; long l; }; double f(double a) { union u v; v.d = a; return v.d; }", "a union"),
        ("struct b { unsigned lo : 4; }; double f(double a) { struct b s; s.lo = 3; return a * s.lo; }",
         "a bit-field"),
        ("double f(double a) { double t[2] = {a, a}; int k = 2; return t[k]; }",
         "a read out of bounds: element 2 of an array of 2"),
        ("double f(double a) { double q[2] = {a, a, a}; return q[1]; }", "an initialiser longer than its object"),
        ("double f(double a) { double (*g)(double) = sin; if (a > 0) g = cos; return g(a); }",
         "a pointer that depends on an uncertain branch"),  # (a TypeError traceback)
    ]:
        lin = linearization(program(tmp_path, body))
        assert isinstance(lin, Unsupported) and reason in str(lin), (body, lin)
        assert str(lin).endswith(", at k.c:2")  # where (the note said 'an overflow' and no more)
    lin = linearization(program(tmp_path, "double f(double a) {\n  double s = a;\n  if (a > 0) {\n"
                                          "    s = exp(a * 700.0);\n    s = s * s * s;\n  }\n  return s;\n}\n"))
    assert str(lin).startswith("an overflow") and str(lin).endswith(", at k.c:6")  # the innermost statement's


def test_close_to_least_squares_on_generated_kernels(tmp_path):
    """On real generated kernels, run natively: the analysis's linear model, re-calibrated per output, is
    nearly as good as the least-squares linear fit of 1000 samples (medians over 30 kernels)."""
    cal, fit, modelled = [], [], 0
    for seed in range(3000, 3030):
        path = tmp_path / f"g{seed}.c"
        path.write_text(generate_program(seed).c_text)
        prog = load_program(str(path))
        run = sample_program(prog, 1000, seed=seed)
        if not isinstance(linearization(prog), Linearization) or len(run.x) < 500:
            continue
        modelled += 1
        lo, hi = prog.signature.ranges()
        u = (run.x - (lo + hi) / 2) / ((hi - lo) / 2)
        y, sd = run.y, run.y.std(0)
        keep = sd > 1e-9 * (1 + np.abs(run.y.mean(0)))
        p = linearization(prog).predict(u)
        A = np.c_[u, np.ones(len(u))]
        errs_cal, errs_fit = [], []
        for j in np.where(keep)[0]:
            B = np.c_[p[:, j], np.ones(len(u))]
            errs_cal.append(np.sqrt(np.mean((B @ np.linalg.lstsq(B, y[:, j], rcond=None)[0] - y[:, j]) ** 2)) / sd[j])
            errs_fit.append(np.sqrt(np.mean((A @ np.linalg.lstsq(A, y[:, j], rcond=None)[0] - y[:, j]) ** 2)) / sd[j])
        if errs_cal:
            cal.append(np.mean(errs_cal)), fit.append(np.mean(errs_fit))
    assert modelled >= 27
    assert np.median(cal) < np.median(fit) + 0.05, (np.median(cal), np.median(fit))


def test_quadrature_rules_are_numpys():
    import nsc.analysis.values as uz
    x, w = np.polynomial.legendre.leggauss(8)
    np.testing.assert_allclose(uz._LEG_X, x), np.testing.assert_allclose(uz._LEG_W, w / 2)
    x, w = np.polynomial.hermite_e.hermegauss(5)
    np.testing.assert_allclose(uz._HERM_X, x, atol=1e-15)
    np.testing.assert_allclose(uz._HERM_W, w / np.sqrt(2 * np.pi))


def test_tokens_path_agrees_with_the_front_end():
    prog = load_program("examples/sepia.c")
    a, b = linearization(prog), linearize_tokens(prog.tokens, prog.signature)
    np.testing.assert_allclose(a.coef, b.coef), np.testing.assert_allclose(a.mean, b.mean)


@pytest.mark.parametrize("name", ["fir_filter", "dct8"])
def test_linear_examples_are_exact(name):
    prog = load_program(f"examples/{name}.c")
    run = sample_program(prog, 500, seed=0)
    lo, hi = prog.signature.ranges()
    pred = linearization(prog).predict((run.x - (lo + hi) / 2) / ((hi - lo) / 2))
    np.testing.assert_allclose(pred, run.y, rtol=1e-4, atol=1e-3 * run.y.std())


def test_infinity_starts_a_running_max(tmp_path):
    """`best = -INFINITY` (math.h's __builtin_inff()) made the whole function unmodelled ('the function
    __builtin_inff'); a comparison with an infinite constant, and fmax/fmin with one, are decided exactly."""
    lin = lin_of(tmp_path, """
double f(double a, double b) {
    const double v[2] = {a, -b};
    double best = -INFINITY, low = HUGE_VAL;
    for (int i = 0; i < 2; i++) {
        if (v[i] > best) best = v[i];
        low = fmin(low, v[i]);
    }
    return fmax(-INFINITY, best) - low;
}""")
    # |a + b| for a, b uniform on [-1, 1]: mean 2/3; the analysis is exact for the first pass (best = a)
    assert abs(lin.mean[0] - 2.0 / 3.0) < 0.05 and np.isfinite(lin.coef).all()
    assert lin_of(tmp_path, "double g(double x) { return x < INFINITY ? 2.0 * x : 0.0; }").exact.all()


def test_newton_iterations_do_not_grow_spread_the_model_rules_out(tmp_path):
    """Kepler's equation by 10 Newton steps: quadrature clipped to a value's affine range (each input and noise
    symbol bounded, as the model takes them) keeps the residual spread from feeding itself step by step. Before,
    the predicted spread of the true anomaly was off by e^0.30; now it is within 5%."""
    p = program(tmp_path, """
#pragma nsc range m 0 6.283185307179586
#pragma nsc range e 0 0.9
double solve(double m, double e, double *nu) {
    double E = m;
    for (int i = 0; i < 10; i++)
        E -= (E - e * sin(E) - m) / (1.0 - e * cos(E));
    *nu = atan2(sqrt(1.0 - e * e) * sin(E), cos(E) - e);
    return E;
}""")
    run = sample_program(p, 2000, seed=1)
    y = run.y
    np.testing.assert_allclose(linearization(p).mean, y.mean(0), atol=0.05 * y.std(0).max())
    np.testing.assert_allclose(linearization(p).std, y.std(0), rtol=0.05)


@pytest.mark.parametrize("body, lo, hi", [
    ("unsigned int f(unsigned int a, unsigned int b) { return a - b; }", 0, 100),
    ("unsigned char f(unsigned char a, unsigned char b) { return (unsigned char)(a + b); }", 0, 255),
    ("int f(int x) { unsigned char c = x; return c; }", 0, 600),
    ("_Bool f(int x) { _Bool b = x; return b; }", 0, 3),
])
def test_integer_conversions_wrap_as_in_c_and_are_not_exact(tmp_path, body, lo, hi):
    """A value that may leave its integer type's range wraps; these were 'compiled exactly' as if it did not
    (unsigned char 200 + 100 as 300 where C gives 44), worse than a constant. Now modelled by quadrature."""
    p = program(tmp_path, body, lo=lo, hi=hi)
    assert not linearization(p).exact.any()
    y = sample_program(p, 2000, seed=1).y
    np.testing.assert_allclose(linearization(p).mean, y.mean(0), atol=0.25 * y.std(0).max())  # (a sawtooth, by 8 nodes)


def test_an_integer_conversion_that_cannot_wrap_stays_exact(tmp_path):
    lin = lin_of(tmp_path, "unsigned char f(int x) { unsigned char c = x > 255 ? 255 : (x < 0 ? 0 : x); "
                           "return c; }", lo=-100, hi=400)
    assert lin.exact.all()


def test_an_enum_variable_is_an_int(tmp_path):
    """(It was 'a Enum variable', and the function unmodelled.)"""
    lin = lin_of(tmp_path, """
enum mode { ADD, SUB };
double f(double a, double b) { enum mode m = a > 0 ? SUB : ADD; return m == SUB ? a - b : a + b; }""")
    assert np.isfinite(lin.mean).all()


def _form_error(prog, j: int = 0, rows: int = 300) -> float:
    """Largest deviation of output j's form from the program run natively, relative to the output's spread."""
    run = sample_program(prog, rows, seed=3)
    lo, hi = prog.signature.ranges()
    u = (run.x - (lo + hi) / 2) / ((hi - lo) / 2)
    return float(np.abs(linearization(prog).forms[j].evaluate(u) - run.y[:, j]).max() / run.y[:, j].std())


def test_a_euclidean_length_of_affine_values_has_a_form(tmp_path):
    """sqrt of a sum of squares of affine values (a distance through a helper, hypot) is a closed form, and it
    matches the program; x * y of two different values is no square, and sqrt(x * x) is |x|, piecewise affine."""
    prog = program(tmp_path, """
static double sq(double v) { return v * v; }
void f(const double p[3], const double c[3], double *dist, double *h, double *a, double *no, double *pw) {
    double s = 0.0;
    for (int i = 0; i < 3; i++) s += sq(p[i] - c[i]);
    *dist = sqrt(s);
    *h = 2.0 * hypot(p[0] - 0.5 * p[1], c[2]) + 1.0;
    *a = sqrt(p[0] * p[0]);
    *no = sqrt(p[0] * p[1] + 2.0);
    *pw = sqrtf(powf(p[0] - c[0], 2) + pow(p[1] - c[1], 2.0) + 0.25);
}""", lo=0.0, hi=1.0)
    lin = linearization(prog)
    assert [len(f.norms) for f in lin.forms[:2]] == [1, 1] and lin.forms[3] is None and lin.forms[4].norms
    assert lin.forms[2].piecewise_affine and lin.forms[2].kinks
    for j in (0, 1, 2, 4):
        assert _form_error(prog, j) < 1e-5, j


def test_a_comparison_of_a_length_is_decided_by_its_bound_at_a_corner(tmp_path):
    """examples/sobel.c clamps its gradient magnitude at 255. The form's bound (its largest value, at a vertex
    of the box: 201.6, as Sobel's formula over all 512 black-or-white windows gives) decides that the clamp never
    binds, so the output keeps its form. A clamp that binds on part of the box leaves no form."""
    import itertools

    prog = load_program("examples/sobel.c")
    assert linearization(prog).forms[0].norms
    px = 255.0 * np.array(list(itertools.product((0, 1), repeat=9))).reshape(-1, 3, 3)
    gx = (px[:, :, 2] - px[:, :, 0]) @ np.array([1.0, 2.0, 1.0])
    gy = (px[:, 2, :] - px[:, 0, :]) @ np.array([1.0, 2.0, 1.0])
    assert linearization(prog).forms[0].bounds()[1] == pytest.approx(np.hypot(gx, gy).max() / 5.656854249)
    assert _form_error(prog) < 1e-5
    clamped = program(tmp_path, """
double f(double x, double y) { double m = sqrt(x * x + y * y); return m > 1.0 ? 1.0 : m; }""")
    assert linearization(clamped).forms[0] is None
    below = program(tmp_path, """
double f(double x, double y) { double m = sqrt(x * x + y * y); return m > 1.5 ? 1.5 : m; }""")
    assert linearization(below).forms[0].norms  # at most sqrt(2) < 1.5


def test_clamps_of_clamped_values_along_one_direction_have_forms(tmp_path):
    """examples/income_tax.c's tax is a chain of bands over a tapered allowance, all functions of income - pension:
    relus and selects of kinked values, exact along that one direction, and the form matches the program. A
    select that jumps, or kinks along two directions, has none."""
    prog = load_program("examples/income_tax.c")
    assert len(linearization(prog).forms[0].kinks) >= 4 and linearization(prog).forms[1] is None  # tax / income is no form
    assert _form_error(prog) < 1e-6
    jumps = program(tmp_path, """
double f(double x, double y) { double a = fmax(x - y, 0.0); return a > 0.5 ? a + 1.0 : a; }""")
    assert linearization(jumps).forms[0] is None
    two = program(tmp_path, """
double f(double x, double y) { double a = fmax(x, 0.0) + fmax(y, 0.0); return a > 0.5 ? 0.5 : a; }""")
    assert linearization(two).forms[0] is None
    one = program(tmp_path, """
double f(double x, double y) { double a = fmax(x - y, 0.0); return a > 0.5 ? 0.5 + 0.25 * (a - 0.5) : a; }""",
                  lo=-1.0, hi=1.0)
    assert linearization(one).forms[0] is not None and _form_error(one) < 1e-9
