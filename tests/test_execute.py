"""Native execution: the harness computes what the C code computes, and every failure is pinned to its row.

Signatures are built by hand here (the front-end is tested on its own); expected values are computed
independently in Python/numpy from the same formulas.
"""

from __future__ import annotations

import math
import os
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nsc.errors import NscError
from nsc.execute import run_functions, run_program, sample_inputs, sample_program
from nsc.execute import build, sandbox
from nsc.frontend.program import Param, Port, Program, Signature

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")


@pytest.fixture(scope="module", autouse=True)
def harness_cache(tmp_path_factory):
    """A private harness cache for this module, so tests neither read nor fill the user's cache."""
    old = os.environ.get("NSC_CACHE_DIR")
    os.environ["NSC_CACHE_DIR"] = str(tmp_path_factory.mktemp("harness-cache"))
    yield
    if old is None:
        del os.environ["NSC_CACHE_DIR"]
    else:
        os.environ["NSC_CACHE_DIR"] = old


# ----------------------------------------------------------------------------------------- signature helpers

def scalar_in(name, ctype="double", lo=0.0, hi=1.0):
    return Param(name, ctype), [Port(name, name, None, ctype, lo, hi)], []


def array_in(name, n, ctype="double", lo=0.0, hi=1.0):
    return (Param(name, ctype, n, False, True, True, False),
            [Port(f"{name}[{i}]", name, i, ctype, lo, hi) for i in range(n)], [])


def array_out(name, n, ctype="double"):
    return Param(name, ctype, n, False, False, False, True), [], [Port(f"{name}[{i}]", name, i, ctype)
                                                                  for i in range(n)]


def pointer_out(name, ctype="double"):
    return Param(name, ctype, 1, True, False, False, True), [], [Port(name, name, None, ctype)]


def pointer_inout(name, ctype="double", lo=0.0, hi=1.0):
    return (Param(name, ctype, 1, True, False, True, True), [Port(name, name, None, ctype, lo, hi)],
            [Port(name, name, None, ctype)])


def signature(function, return_ctype, *specs):
    params = tuple(s[0] for s in specs)
    inputs = tuple(p for s in specs for p in s[1])
    outputs = (() if return_ctype is None else (Port("return", "return", None, return_ctype),))
    outputs += tuple(p for s in specs for p in s[2])
    return Signature(function, return_ctype, params, inputs, outputs)


def write_program(tmp_path, text, name="prog.c"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def program(path, sig, **kw):
    return Program(path, open(path).read(), "", sig, **kw)


def uniform(rng, n, *ranges):
    return np.column_stack([rng.uniform(lo, hi, n) for lo, hi in ranges])


# ----------------------------------------------------------------------------------------- correctness

def test_doubles_match_numpy(tmp_path):
    path = write_program(tmp_path, """
        #include <math.h>
        double f(double x, double y) { return x * y + sin(x) - exp(-y * y); }
        """)
    sig = signature("f", "double", scalar_in("x", lo=-3, hi=3), scalar_in("y", lo=-2, hi=2))
    x = uniform(np.random.default_rng(0), 500, (-3, 3), (-2, 2))
    r = run_program(program(path, sig), x)
    assert r.error is None and r.n_done == 500 and r.y.shape == (500, 1)
    expected = x[:, 0] * x[:, 1] + np.sin(x[:, 0]) - np.exp(-x[:, 1] ** 2)
    np.testing.assert_allclose(r.y[:, 0], expected, rtol=1e-13, atol=1e-13)


def test_integer_inputs_take_integer_values_in_their_range(tmp_path):
    path = write_program(tmp_path, """
        int g(int n, unsigned k, short s, char c) { return n * 3 - (int)k + s * c; }
        """)
    sig = signature("g", "int", scalar_in("n", "int", -2.5, 3.7), scalar_in("k", "unsigned int", 0, 9),
                    scalar_in("s", "short", -100, 100), scalar_in("c", "char", 1, 3))
    res = sample_program(program(path, sig), 2000, seed=3)
    assert res.error is None and res.x.shape == (2000, 4)
    n, k, s, c = res.x.T
    assert np.all(res.x == np.round(res.x))
    assert set(n) == {-2, -1, 0, 1, 2, 3} and set(c) == {1, 2, 3}
    assert k.min() >= 0 and k.max() <= 9 and s.min() >= -100 and s.max() <= 100
    np.testing.assert_array_equal(res.y[:, 0], n * 3 - k + s * c)


def test_float_inputs_are_recorded_as_the_float_the_function_receives(tmp_path):
    # the function returns its argument: the recorded input must equal what C computed with, bit for bit
    path = write_program(tmp_path, "double f(float v, double w) { return (double)v; }\n")
    sig = signature("f", "double", scalar_in("v", "float", -1.0, 1.0), scalar_in("w", "double", -1.0, 1.0))
    res = sample_program(program(path, sig), 500, seed=2)
    assert res.error is None
    np.testing.assert_array_equal(res.y[:, 0], res.x[:, 0])
    np.testing.assert_array_equal(res.x[:, 0], res.x[:, 0].astype(np.float32))
    assert np.any(res.x[:, 1] != res.x[:, 1].astype(np.float32))  # a double input keeps its double draw


def test_unsigned_wraps_like_c(tmp_path):
    path = write_program(tmp_path, "unsigned char u(unsigned char v) { return v + 10; }\n")
    sig = signature("u", "unsigned char", scalar_in("v", "unsigned char", 0, 255))
    r = run_program(program(path, sig), np.array([[0.0], [250.0], [255.0]]))
    np.testing.assert_array_equal(r.y[:, 0], [10, 4, 9])


def test_arrays_in_and_out(tmp_path):
    path = write_program(tmp_path, """
        void h(const double a[4], double scale, double out[3]) {
            out[0] = (a[0] + a[1]) * scale;
            out[1] = a[2] * a[3];
            out[2] = a[3] - a[0];
        }
        """)
    sig = signature("h", None, array_in("a", 4, lo=-1, hi=1), scalar_in("scale", lo=1, hi=2), array_out("out", 3))
    assert sig.output_names == ["out[0]", "out[1]", "out[2]"]
    x = uniform(np.random.default_rng(1), 300, *([(-1, 1)] * 4), (1, 2))
    r = run_program(program(path, sig), x)
    a, scale = x[:, :4], x[:, 4]
    expected = np.column_stack([(a[:, 0] + a[:, 1]) * scale, a[:, 2] * a[:, 3], a[:, 3] - a[:, 0]])
    np.testing.assert_allclose(r.y, expected, rtol=1e-15, atol=1e-15)


def test_inout_pointer_and_output_pointer(tmp_path):
    path = write_program(tmp_path, """
        double acc(double *total, double x, int *count) {
            *total += x;
            *count = (int)(*total * 10.0);
            return *total * 2.0;
        }
        """)
    sig = signature("acc", "double", pointer_inout("total", lo=-1, hi=1), scalar_in("x", lo=0, hi=1),
                    pointer_out("count", "int"))
    assert sig.input_names == ["total", "x"] and sig.output_names == ["return", "total", "count"]
    x = uniform(np.random.default_rng(2), 200, (-1, 1), (0, 1))
    r = run_program(program(path, sig), x)
    total = x[:, 0] + x[:, 1]
    np.testing.assert_allclose(r.y[:, 0], 2 * total, rtol=1e-15)
    np.testing.assert_allclose(r.y[:, 1], total, rtol=1e-15)
    np.testing.assert_array_equal(r.y[:, 2], np.trunc(total * 10.0))


def test_float_return_is_computed_in_single_precision(tmp_path):
    path = write_program(tmp_path, "float fl(float x) { return x * 0.1f + 1.0f / 3.0f; }\n")
    sig = signature("fl", "float", scalar_in("x", "float", -5, 5))
    x = uniform(np.random.default_rng(4), 200, (-5, 5))
    r = run_program(program(path, sig), x)
    xf = x[:, 0].astype(np.float32)
    expected = xf * np.float32(0.1) + np.float32(1.0) / np.float32(3.0)
    np.testing.assert_array_equal(r.y[:, 0], expected.astype(np.float64))


def test_static_function_local_header_and_user_main(tmp_path):
    (tmp_path / "helper.h").write_text("#define SCALE 3.0\nstatic inline double sq(double v) { return v * v; }\n")
    path = write_program(tmp_path, """
        #include <stdio.h>
        #include "helper.h"
        static double kernel(double x) { return SCALE * sq(x) + 1.0; }
        int main(void) { printf("%g\\n", kernel(2.0)); return 0; }
        """)
    sig = signature("kernel", "double", scalar_in("x", lo=-1, hi=1))
    res = sample_program(program(path, sig), 100, seed=0)
    assert res.error is None
    np.testing.assert_allclose(res.y[:, 0], 3.0 * res.x[:, 0] ** 2 + 1.0, rtol=1e-15)


def test_include_dirs_and_defines(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "params.h").write_text("#define OFFSET 7.5\n")
    path = write_program(tmp_path, """
        #include "params.h"
        double k(double x) { return x * GAIN + OFFSET; }
        """)
    sig = signature("k", "double", scalar_in("x"))
    prog = program(path, sig, include_dirs=(str(inc),), defines=(("GAIN", "4"),))
    r = run_program(prog, np.array([[0.5], [2.0]]))
    np.testing.assert_array_equal(r.y[:, 0], [9.5, 15.5])


def test_cached_harness_is_rebuilt_when_a_header_changes(tmp_path):
    header = tmp_path / "c.h"
    header.write_text("#define C 2.0\n")
    path = write_program(tmp_path, '#include "c.h"\ndouble f(double x) { return C * x; }\n')
    sig = signature("f", "double", scalar_in("x"))
    exe1 = build.build_file(path, path, [sig])
    assert build.build_file(path, path, [sig]) == exe1  # cache hit
    assert run_program(program(path, sig), [[3.0]]).y[0, 0] == 6.0
    header.write_text("#define C 5.0\n")
    assert run_program(program(path, sig), [[3.0]]).y[0, 0] == 15.0


def test_large_run_crosses_batches(tmp_path):
    path = write_program(tmp_path, "double f(double a, double b) { return a - 2.0 * b; }\n")
    sig = signature("f", "double", scalar_in("a"), scalar_in("b"))
    x = uniform(np.random.default_rng(5), 150_000, (0, 1), (0, 1))
    r = run_program(program(path, sig), x)
    assert r.n_done == 150_000
    np.testing.assert_array_equal(r.y[:, 0], x[:, 0] - 2.0 * x[:, 1])


def test_program_output_does_not_disturb_the_protocol(tmp_path):
    path = write_program(tmp_path, """
        #include <stdio.h>
        double noisy(double x) { printf("x = %f\\n", x); fprintf(stderr, "err\\n"); return x + 1; }
        """)
    sig = signature("noisy", "double", scalar_in("x"))
    r = run_program(program(path, sig), np.arange(1000.0)[:, None])
    np.testing.assert_array_equal(r.y[:, 0], np.arange(1000.0) + 1)


def test_child_is_isolated(tmp_path):
    path = write_program(tmp_path, """
        #include <dirent.h>
        #include <fcntl.h>
        #include <stdlib.h>
        #include <sys/resource.h>
        extern char **environ;
        /* What the child can see: environment variables, entries in its working directory, open fds,
           its memory limit in MiB, its core limit. */
        void probe(double *n_env, double *n_files, double *n_fds, double *as_mib, double *core) {
            int k = 0;
            for (char **e = environ; e && *e; e++) k++;
            *n_env = k;
            k = 0;
            DIR *d = opendir(".");
            for (struct dirent *ent; d && (ent = readdir(d));) k++;
            if (d) closedir(d);
            *n_files = k;
            k = 0;
            for (int fd = 0; fd < 1024; fd++) if (fcntl(fd, F_GETFD) != -1) k++;
            *n_fds = k;
            struct rlimit lim;
            getrlimit(RLIMIT_AS, &lim);
            *as_mib = (double)(lim.rlim_cur >> 20);
            getrlimit(RLIMIT_CORE, &lim);
            *core = (double)lim.rlim_cur;
        }
        """)
    sig = signature("probe", None, *[pointer_out(n) for n in ("n_env", "n_files", "n_fds", "as_mib", "core")])
    r = run_program(program(path, sig), np.zeros((1, 0)), memory_mb=300)
    n_env, n_files, n_fds, as_mib, core = r.y[0]  # n_files counts '.' and '..'
    assert n_env == 0 and n_files == 2 and as_mib == 300 and core == 0
    # stdin, stdout, stderr, the two control pipes and the shared memory region; nothing of the parent's.
    assert n_fds == 6


def test_zero_input_function(tmp_path):
    path = write_program(tmp_path, "static const double T[3] = {1, 2, 3};\ndouble c(void) { return T[0] + T[2]; }\n")
    sig = signature("c", "double")
    r = run_program(program(path, sig), np.zeros((5, 0)))
    np.testing.assert_array_equal(r.y[:, 0], [4.0] * 5)


# ----------------------------------------------------------------------------------------- many functions per unit

CORPUS_UNIT = """
#include <math.h>
static double helper(double v) { return v * v; }
double f0(double x) { return helper(x) + 1.0; }
void f1(const float a[3], float out[2]) { out[0] = a[0] * a[1]; out[1] = a[2] - a[0]; }
double f2(double x) { if (x > 0.5) { volatile int *p = 0; return *p; } return x; }
int f3(int a, int b) { return a * b - 3; }
double f4(double x) { return log(x); }
"""


def corpus_signatures():
    return [
        signature("f0", "double", scalar_in("x", lo=-2, hi=2)),
        signature("f1", None, array_in("a", 3, "float", -1, 1), array_out("out", 2, "float")),
        signature("f2", "double", scalar_in("x")),
        signature("f3", "int", scalar_in("a", "int", -5, 5), scalar_in("b", "int", 0, 4)),
        signature("f4", "double", scalar_in("x", lo=-1, hi=1)),
    ]


def test_many_functions_one_unit_and_a_crash_loses_only_its_own_rows():
    sigs = corpus_signatures()
    rng = np.random.default_rng(7)
    xs = [sample_inputs(s, 64, rng) for s in sigs]
    xs[2][:, 0] = np.linspace(0, 1, 64)  # rows with x > 0.5 crash; the first is row 33
    results = run_functions(CORPUS_UNIT, sigs, xs, timeout=2.0)
    assert len(results) == 5

    np.testing.assert_allclose(results[0].y[:, 0], xs[0][:, 0] ** 2 + 1.0, rtol=1e-15)
    a = xs[1].astype(np.float32)
    np.testing.assert_array_equal(results[1].y, np.column_stack([a[:, 0] * a[:, 1], a[:, 2] - a[:, 0]]))
    crashed = results[2]
    assert crashed.n_done == 32 and crashed.failure == "crash"
    np.testing.assert_array_equal(crashed.y[:, 0], xs[2][:32, 0])
    assert "SIGSEGV" in str(crashed.error) and "on input row 33: x=0.5079" in str(crashed.error)
    np.testing.assert_array_equal(results[3].y[:, 0], xs[3][:, 0] * xs[3][:, 1] - 3)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(results[4].y[:, 0], np.log(xs[4][:, 0]), rtol=1e-15)
    assert all(r.error is None for k, r in enumerate(results) if k != 2)


def test_run_functions_compile_error_names_the_line():
    with pytest.raises(NscError) as e:
        run_functions("double f(double x) {\n  return x +;\n}\n", [signature("f", "double", scalar_in("x"))],
                      [np.zeros((1, 1))], path="unit7.c")
    assert str(e.value).startswith("unit7.c:2:")


# ----------------------------------------------------------------------------------------- failures

FAILING = """
#include <stdlib.h>
#include <assert.h>
#include <string.h>
double null_deref(double x) { if (x > 5) { volatile int *p = 0; return *p; } return x; }
double aborts(double x) { assert(x < 5); return x; }
int divides(int a, int b) { return a / b; }
double loops(double x) { if (x > 5) { volatile int k = 1; while (k) {} } return x; }
char *volatile sink;
double grabs(double x) { if (x > 5) { for (;;) { char *p = malloc(1 << 20); p[0] = 1; sink = p; } } return x; }
double big_vla(double x) { if (x > 5) { volatile double a[(int)(x * 1e7)]; memset((void *)a, 0, sizeof a);
                                        return a[3]; } return x; }
double recurse(double x) { volatile double pad[64]; pad[0] = x; return x > 5 ? recurse(x) + pad[0] : x; }
double exits(double x) { if (x > 5) exit(3); return x; }
"""


@pytest.fixture(scope="module")
def failing_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("failing") / "bad.c"
    path.write_text(FAILING)
    return str(path)


def run_failing(path, function, x, **kw):
    sig = signature(function, "double", scalar_in("x", lo=0, hi=10))
    return run_program(program(path, sig), x, **kw)


ROWS = np.arange(10.0)[:, None]  # rows 1..6 (x = 0..5) succeed, row 7 (x = 6) fails


@pytest.mark.parametrize("function, failure, words", [
    ("null_deref", "crash", "crashed with SIGSEGV (segmentation fault)"),
    ("big_vla", "stack", "ran out of stack space"),
    ("recurse", "stack", "ran out of stack space"),
    ("grabs", "memory", "ran out of memory (limit 128 MiB)"),
    ("exits", "exit", "exited with status 3"),
])
def test_failure_keeps_earlier_rows_and_names_the_row(failing_file, function, failure, words):
    r = run_failing(failing_file, function, ROWS, memory_mb=128)
    assert r.failure == failure
    assert r.n_done == 6
    np.testing.assert_array_equal(r.y[:, 0], np.arange(6.0))
    assert str(r.error).startswith(f"{failing_file}: error: the program {words}")
    assert str(r.error).endswith("on input row 7: x=6.0")


def test_abort_reports_the_assertion(failing_file):
    r = run_failing(failing_file, "aborts", ROWS)
    assert r.failure == "crash" and r.n_done == 5
    assert "crashed with SIGABRT (abort) on input row 6: x=5.0" in str(r.error)
    assert "Assertion `x < 5' failed" in str(r.error)


def test_integer_division_by_zero_is_sigfpe(failing_file):
    sig = signature("divides", "int", scalar_in("a", "int", 0, 9), scalar_in("b", "int", 0, 9))
    r = run_program(program(failing_file, sig), np.array([[6, 3], [9, 2], [5, 0], [1, 1]]))
    assert r.n_done == 2 and r.y[:, 0].tolist() == [2, 4]
    assert "crashed with SIGFPE" in str(r.error) and "on input row 3: a=5, b=0" in str(r.error)


def test_infinite_loop_times_out_on_its_row(failing_file):
    r = run_failing(failing_file, "loops", ROWS, timeout=0.3)
    assert r.failure == "timeout" and r.n_done == 6
    assert "did not finish within 0.3 s on input row 7: x=6.0" in str(r.error)


def test_crash_in_a_later_batch(failing_file):
    sig = signature("null_deref", "double", scalar_in("x", lo=0, hi=10))
    exe = build.build_file(failing_file, failing_file, [sig])
    x = np.zeros((50, 1))
    x[37] = 9.0
    [out] = sandbox.run_jobs(str(exe), [sandbox.Job(0, x, 1)], sandbox.Limits(batch_rows=8))
    assert out.n_done == 37 and out.failure.kind == "crash" and out.y.shape == (37, 1)


def test_nonfinite_rows_are_dropped_and_counted(tmp_path):
    path = write_program(tmp_path, "#include <math.h>\ndouble f(double x) { return x < 0 ? NAN : 1.0 / x; }\n")
    sig = signature("f", "double", scalar_in("x", lo=-1, hi=1))
    x = np.array([[-0.5], [0.5], [0.0], [2.0], [-1.0]])
    res = sample_program(program(path, sig), inputs=x)
    assert res.error is None and res.n_requested == 5 and res.n_nonfinite_dropped == 3
    np.testing.assert_array_equal(res.x[:, 0], [0.5, 2.0])
    np.testing.assert_array_equal(res.y[:, 0], [2.0, 0.5])
    kept = sample_program(program(path, sig), inputs=x, keep_nonfinite=True)
    assert kept.n_nonfinite_dropped == 0 and kept.y.shape == (5, 1) and np.isinf(kept.y[2, 0])


def test_all_nan_is_an_error(tmp_path):
    path = write_program(tmp_path, "#include <math.h>\ndouble f(double x) { return sqrt(-1.0 - x * x); }\n")
    res = sample_program(program(path, signature("f", "double", scalar_in("x"))), 50, seed=1)
    assert res.x.shape == (0, 1) and res.n_nonfinite_dropped == 50
    assert str(res.error) == f"{path}: error: the program returned NaN or Inf for all 50 inputs"


def test_sample_program_returns_rows_before_a_crash(failing_file):
    sig = signature("null_deref", "double", scalar_in("x", lo=0, hi=10))
    res = sample_program(program(failing_file, sig), inputs=ROWS)
    assert res.x.shape == (6, 1) and res.y.shape == (6, 1) and res.n_requested == 10
    assert "on input row 7" in str(res.error) and res.failure == "crash"


# ----------------------------------------------------------------------------------------- compile errors

def test_compile_error_points_at_the_users_file(tmp_path):
    path = write_program(tmp_path, "double f(double x) {\n  return x +;\n}\n")
    with pytest.raises(NscError) as e:
        run_program(program(path, signature("f", "double", scalar_in("x"))), [[1.0]])
    assert str(e.value) == f"{path}:2:13: error: expected expression before ';' token"


def test_missing_header_and_link_error(tmp_path):
    path = write_program(tmp_path, '#include "nothere.h"\ndouble f(double x) { return x; }\n', "a.c")
    with pytest.raises(NscError, match=r"a\.c:1:10: error: nothere\.h: No such file or directory"):
        run_program(program(path, signature("f", "double", scalar_in("x"))), [[1.0]])
    path = write_program(tmp_path, "double g(double);\ndouble f(double x) { return g(x); }\n", "b.c")
    with pytest.raises(NscError, match=r"b\.c: error: the program does not link: undefined reference to `g'"):
        run_program(program(path, signature("f", "double", scalar_in("x"))), [[1.0]])


def test_signature_that_does_not_fit_the_function(tmp_path):
    path = write_program(tmp_path, "struct s { int a; };\ndouble f(struct s v) { return v.a; }\n")
    with pytest.raises(NscError, match="cannot call the function from the native harness"):
        run_program(program(path, signature("f", "double", scalar_in("v"))), [[1.0]])


def test_wrong_input_width(tmp_path):
    path = write_program(tmp_path, "double f(double x, double y) { return x + y; }\n")
    sig = signature("f", "double", scalar_in("x"), scalar_in("y"))
    with pytest.raises(NscError, match="takes 2 input columns"):
        run_program(program(path, sig), np.zeros((3, 3)))


# ----------------------------------------------------------------------------------------- sampling inputs

def test_sample_inputs_ranges_and_reproducibility():
    sig = signature("f", "double", scalar_in("x", lo=-3.0, hi=-1.0), scalar_in("n", "int", 0.5, 4.2),
                    scalar_in("b", "_Bool", 0, 1))
    x = sample_inputs(sig, 20000, np.random.default_rng(11))
    assert x.shape == (20000, 3) and x.dtype == np.float64
    assert -3.0 <= x[:, 0].min() and x[:, 0].max() <= -1.0
    assert abs(x[:, 0].mean() + 2.0) < 0.02  # uniform: mean at the centre
    assert set(np.unique(x[:, 1])) == {1, 2, 3, 4} and set(np.unique(x[:, 2])) == {0, 1}
    counts = np.bincount(x[:, 1].astype(int))[1:]
    assert counts.min() > 4500  # each integer about equally likely (5000 expected)
    np.testing.assert_array_equal(x, sample_inputs(sig, 20000, np.random.default_rng(11)))


def test_integer_input_without_an_integer_in_range():
    sig = signature("f", "int", scalar_in("n", "int", 0.2, 0.8))
    with pytest.raises(NscError, match="no integer in its range"):
        sample_inputs(sig, 10, np.random.default_rng(0))


def test_bad_limits_are_user_errors(failing_file):
    with pytest.raises(NscError, match="timeout"):
        run_failing(failing_file, "null_deref", ROWS, timeout=0)


def test_frontend_program_when_available(tmp_path):
    frontend = pytest.importorskip("nsc.frontend")
    if not hasattr(frontend, "load_program"):
        pytest.skip("nsc.frontend.load_program is not there yet")
    path = write_program(tmp_path, """
        #include <math.h>
        #pragma nsc range x 0 2
        #pragma nsc range n 1 4
        double f(double x, int n) { return pow(x, n) + M_PI; }
        """)
    prog = frontend.load_program(path)
    res = sample_program(prog, 300, seed=2)
    assert res.error is None
    np.testing.assert_allclose(res.y[:, 0], res.x[:, 0] ** res.x[:, 1] + math.pi, rtol=1e-14)


def test_every_example_samples_through_the_front_end():
    frontend = pytest.importorskip("nsc.frontend")
    if not hasattr(frontend, "load_program"):
        pytest.skip("nsc.frontend.load_program is not there yet")
    examples = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.c"))
    if not examples:
        pytest.skip("no examples")
    for path in examples:
        prog = frontend.load_program(str(path), include_dirs=(str(path.parent / "include"),))
        res = sample_program(prog, 256, seed=0)
        assert res.error is None, f"{path.name}: {res.error}"
        assert res.x.shape == (256, prog.signature.n_in) and res.y.shape == (256, prog.signature.n_out)
        lo, hi = prog.signature.ranges()
        assert np.all((res.x >= lo) & (res.x <= hi)), path.name


# --------------------------------------------------------------------------------------------- state

def test_file_scope_state_is_reset_before_every_call(tmp_path):
    """A function that writes a global gives every sample from the program's initial state (a surrogate models
    one call; the running total made samples depend on their order). A static local cannot be reset: a warning."""
    from nsc.frontend import load_program

    path = tmp_path / "acc.c"
    path.write_text("static double acc = 1.0;\nstatic int calls[2];\n#pragma nsc range x -1 1\n"
                    "double f(double x) { acc += x; calls[0]++; return acc + calls[0]; }\n")
    prog = load_program(str(path))
    assert prog.signature.state == ("acc", "calls")
    assert "writes file-scope state (acc, calls)" in prog.notes[0]
    assert Signature.loads(prog.signature.dumps()) == prog.signature
    result = sample_program(prog, n=50, seed=1)
    np.testing.assert_allclose(result.y[:, 0], 1.0 + result.x[:, 0] + 1.0, rtol=0, atol=1e-15)

    path.write_text("#pragma nsc range x -1 1\ndouble f(double x) { static double s; s += x; return s; }\n")
    prog = load_program(str(path))
    assert prog.signature.state == () and "static local 's' (line 2)" in prog.notes[0]
