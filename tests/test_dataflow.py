"""Which inputs reach which outputs (analysis/dataflow.py): hand-checked cases and soundness on real programs."""

from __future__ import annotations

import numpy as np
from nsc.execute.independence import independence_violations
from nsc.analysis import flows
from nsc.frontend import load_program
from nsc.analysis.dataflow import reach_matrix_of_tokens
from nsc.training.corpus_gen import generate_program


def flows_of(tmp_path, body: str, **kw) -> np.ndarray:
    path = tmp_path / "k.c"
    path.write_text("#include <math.h>\n" + body)
    return flows(load_program(str(path), default_range=(-2.0, 2.0), **kw))


def test_fft_butterfly_elements_are_told_apart():
    prog = load_program("examples/fft_butterfly.c")  # out[0] = a_re + t_re, out[1] = a_im + t_im, ...
    names = prog.signature.input_names
    want = np.ones((5, 4), bool)
    want[names.index("a_im"), [0, 2]] = False
    want[names.index("a_re"), [1, 3]] = False
    np.testing.assert_array_equal(flows(prog), want)


def test_data_and_control_dependence(tmp_path):
    m = flows_of(tmp_path, """
void f(double a, double b, double c, double d, double *x, double *y, double *z) {
    double t = a * 2.0;
    *x = t;
    if (b > 0) *y = 1.0; else *y = -1.0;   /* b decides y by control only */
    double s = 0;
    for (int i = 0; i < 3; i++) s += c;
    *z = s;                                /* d reaches nothing */
}""")
    np.testing.assert_array_equal(m, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])


def test_early_exit_conditions_reach_everything_after(tmp_path):
    m = flows_of(tmp_path, """
double f(double a, double b, double *o) {
    *o = 1.0;
    if (a > 0) return b;
    *o = 2.0;
    return 0.0;
}""")
    # outputs: return, o; a decides whether o is overwritten, b flows into return only
    np.testing.assert_array_equal(m, [[1, 1], [1, 0]])


def test_loop_carried_flow_and_break(tmp_path):
    m = flows_of(tmp_path, """
double f(double a, double b, double c) {
    double u = 0, v = 0;
    for (int i = 0; i < 10; i++) {
        v = u;        /* u's taint reaches v only through the loop back edge */
        u = a;
        if (b > 1.5) break;
    }
    return v;
}""")
    np.testing.assert_array_equal(m[:, 0], [True, True, False])


def test_array_elements_at_constant_and_variable_indices(tmp_path):
    m = flows_of(tmp_path, """
void f(const double x[3], int k, double out[3]) {
    out[0] = x[0];
    out[1] = x[1] + x[2];
    out[2] = 0.0;
    double tmp[2];
    tmp[0] = x[2];
    tmp[1] = 0.0;
    out[2] = tmp[1];
}""", ranges={"k": (0.0, 2.0)})
    # tmp[1] holds no input (elements of a local array are told apart too); k reaches nothing
    np.testing.assert_array_equal(m, [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0]])
    m = flows_of(tmp_path, """
void f(const double x[2], int k, double out[2]) {
    out[0] = 0.0;
    out[1] = 0.0;
    out[k] = x[0];
}""", ranges={"k": (0.0, 1.0)})
    np.testing.assert_array_equal(m, [[1, 1], [0, 0], [1, 1]])  # an unknown index writes every element


def test_helpers_calls_and_globals(tmp_path):
    m = flows_of(tmp_path, """
static double acc;
static void add(double v) { acc += v; }
static void split(double v, double *lo, double *hi) { *lo = v - 1; *hi = v + 1; }
void f(double a, double b, double c, double *x, double *y, double *z) {
    acc = 0;
    add(a);
    double l, h;
    split(b, &l, &h);
    *x = acc;
    *y = l;
    *z = sin(c);
}""")
    # helpers are summarised, not analysed: a helper call may write every global some code assigns (acc) and
    # may read every global, so a and b both reach x and y; a library call's value depends on its arguments only
    np.testing.assert_array_equal(m, [[1, 1, 0], [1, 1, 0], [0, 0, 1]])


def test_copied_pointers_make_everything_reach_everything(tmp_path):
    m = flows_of(tmp_path, """
void f(double a, double b, double out[2]) {
    double *q = out;
    q[0] = a;
    out[1] = 0.0;
}""")
    assert m.all()


def test_tokens_path_matches_the_front_end():
    for name in ("fft_butterfly", "color_adjust", "fir_filter", "kepler"):
        prog = load_program(f"examples/{name}.c")
        np.testing.assert_array_equal(reach_matrix_of_tokens(prog.tokens, prog.signature), flows(prog))


def test_inputs_that_cannot_reach_an_output_never_change_it(tmp_path):
    """Soundness on generated numeric kernels: perturb one input at a time, run the real program."""
    checked = 0
    for seed in range(2000, 2040):
        path = tmp_path / f"g{seed}.c"
        path.write_text(generate_program(seed).c_text)
        prog = load_program(str(path))
        assert flows(prog).shape == (prog.signature.n_in, prog.signature.n_out)
        if not flows(prog).all():
            checked += 1
            assert independence_violations(prog, flows(prog), np.random.default_rng(seed)) == [], seed
    assert checked >= 15  # most generated kernels have inputs that cannot reach some output (24 of these 40)


def test_a_wrong_claim_is_caught(tmp_path):
    prog = load_program("examples/fft_butterfly.c")
    wrong = flows(prog).copy()
    wrong[prog.signature.input_names.index("a_re"), 0] = False  # out[0] = a_re + t_re
    assert independence_violations(prog, wrong, np.random.default_rng(0)) == ["a_re -> out[0]"]
