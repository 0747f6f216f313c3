"""Front-end: C text -> Program (nsc.frontend). Each test writes a small C file and checks what the front-end
made of it; bad inputs must give one exact compiler-style error, never a traceback."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from nsc.errors import NscError
from nsc.frontend import load_program, load_programs, parse_bounds, parse_range_option
from nsc.frontend.preprocess import INCLUDE_DIR, preprocess, start_preprocessing
from nsc.frontend.program import Signature, Token

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Run in a temporary directory, so programs are named `prog.c` in diagnostics."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str) -> str:
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_text(textwrap.dedent(text).lstrip("\n"))
    return name


def load(text: str, name: str = "prog.c", **kw):
    return load_program(write(name, text), **kw)


def error_of(text: str | bytes, name: str = "prog.c", **kw) -> str:
    if isinstance(text, bytes):
        Path(name).write_bytes(text)
    else:
        write(name, text)
    with pytest.raises(NscError) as info:
        load_program(name, **kw)
    return str(info.value)


def spelled(tokens) -> str:
    return " ".join(t.text if t.value is None else f"{t.text}={t.value:g}" for t in tokens)


def nums(program) -> list[float]:
    return [t.value for t in program.tokens if t.text == "<num>"]


# ------------------------------------------------------------------------------------------------ headers

def test_math_h_constants_and_functions(here):
    p = load("""
        #include <math.h>
        #pragma nsc range x -1 1
        double f(double x) {
            return sin(M_PI * x) + cosf((float)x) * M_PI_2 + M_E + M_SQRT2 + M_LN2 + M_1_PI + fmax(x, 0.0);
        }
        """)
    sig = p.signature
    assert sig.function == "f" and sig.input_names == ["x"] and sig.output_names == ["return"]
    assert (sig.inputs[0].lo, sig.inputs[0].hi) == (-1.0, 1.0)
    values = nums(p)
    for constant in (math.pi, math.pi / 2, math.e, math.sqrt(2), math.log(2), 1 / math.pi):
        assert constant in values
    text = spelled(p.tokens)
    assert "sin (" in text and "cosf (" in text and "fmax (" in text  # library names are kept
    assert p.headers == ()  # stand-ins are nsc's, not the program's


def test_infinity_nan_and_classification_parse(here):
    p = load("""
        #include <math.h>
        #include <float.h>
        #pragma nsc range x -1 1
        double f(double x) {
            if (isnan(x) || isinf(x) || !isfinite(x) || signbit(x)) return NAN;
            if (fpclassify(x) == FP_ZERO) return INFINITY;
            return x > 0 ? HUGE_VAL : -DBL_MAX + DBL_EPSILON;
        }
        """)
    text = spelled(p.tokens)
    assert "__builtin_nanf" in text and "__builtin_inff" in text and "__builtin_huge_val" in text
    assert 2.0 in nums(p)  # FP_ZERO
    assert 2.220446049250313e-16 in nums(p)


def _eval_stand_in(name: str, macros: dict) -> float:
    from nsc.frontend import arith
    return arith.evaluate(name, macros)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs cc")
def test_stand_in_values_and_types_match_the_system_headers(here):
    """Every constant and integer typedef of the stand-ins equals the real headers' (compiled with them)."""
    constants = ("M_E M_LOG2E M_LOG10E M_LN2 M_LN10 M_PI M_PI_2 M_PI_4 M_1_PI M_2_PI M_2_SQRTPI M_SQRT2 "
                 "M_SQRT1_2 FLT_MAX FLT_MIN FLT_EPSILON DBL_MAX DBL_MIN DBL_EPSILON FLT_DIG DBL_DIG "
                 "DBL_MANT_DIG FLT_MANT_DIG CHAR_BIT SCHAR_MIN SCHAR_MAX UCHAR_MAX SHRT_MIN SHRT_MAX USHRT_MAX "
                 "INT_MIN INT_MAX UINT_MAX LONG_MIN LONG_MAX ULONG_MAX LLONG_MAX INT8_MIN INT8_MAX INT16_MIN "
                 "INT16_MAX INT32_MIN INT32_MAX INT64_MIN INT64_MAX UINT8_MAX UINT16_MAX UINT32_MAX UINT64_MAX "
                 "SIZE_MAX RAND_MAX EXIT_FAILURE FP_NAN FP_INFINITE FP_ZERO FP_SUBNORMAL FP_NORMAL").split()
    types = ("int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intptr_t uintptr_t size_t "
             "ptrdiff_t intmax_t uintmax_t int_fast16_t uint_fast32_t int_least8_t").split()
    generic = ", ".join(f"{t}: \"{t}\"" for t in (
        "signed char", "unsigned char", "char", "short", "unsigned short", "int", "unsigned int", "long",
        "unsigned long", "long long", "unsigned long long"))
    program = ["#define _GNU_SOURCE", "#include <math.h>", "#include <float.h>", "#include <limits.h>",
               "#include <stdint.h>", "#include <stdlib.h>", "#include <stddef.h>", "#include <stdio.h>",
               "int main(void) {"]
    program += [f'printf("{c} %a\\n", (double)({c}));' for c in constants]
    program += [f'printf("{t} %s\\n", _Generic(({t})0, {generic}));' for t in types]
    program += ["return 0; }"]
    Path("check.c").write_text("\n".join(program))
    subprocess.run(["cc", "-std=c11", "-o", "check", "check.c"], check=True)
    real = dict(line.split(" ", 1) for line in subprocess.run(["./check"], capture_output=True, text=True,
                                                              check=True).stdout.splitlines())

    includes = "".join(f"#include <{h}>\n" for h in ("math.h", "float.h", "limits.h", "stdint.h", "stdlib.h"))
    Path("ours.c").write_text(includes + "".join(f"{t} v_{t};\n" for t in types) + "int main(void){return 0;}\n")
    pp = preprocess("ours.c")
    for c in constants:
        assert _eval_stand_in(c, pp.macros) == float.fromhex(real[c]), c
    from nsc.frontend.c_types import resolve
    from nsc.frontend.index import FileIndex
    from nsc.frontend.parse import parse
    index = FileIndex(parse(pp, ""))
    for t in types:
        ours = resolve(index.lookup(f"v_{t}").node.type, index).name
        assert ours == real[t], t


def test_stand_in_headers_hold_one_declaration_per_line(here):
    """preprocess.py keeps only the stand-in lines whose names a program uses, which needs every declaration
    on one line; and a kept declaration pulls in the types it names (imaxdiv -> imaxdiv_t -> intmax_t)."""
    headers = sorted(n for n in os.listdir(INCLUDE_DIR) if n.endswith(".h"))
    for name in headers:
        out = subprocess.run(["cc", "-E", "-P", "-nostdinc", "-isystem", INCLUDE_DIR, os.path.join(INCLUDE_DIR, name)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            assert not line.strip() or line.rstrip().endswith(";"), (name, line)
    p = load("""
        #include <inttypes.h>
        #include <stdio.h>
        #pragma nsc range n -9 9
        long f(long n) { imaxdiv_t d = imaxdiv(n, 4); return d.quot + d.rem; }
        """)
    assert p.signature.function == "f"


def test_local_header_with_include_dir_and_recorded_headers(here):
    write("inc/params.h", """
        #pragma once
        #define GAIN 3.0
        typedef float sample_t;
        static inline sample_t scale(sample_t v) { return (sample_t)(GAIN * v); }
        """)
    write("inc/other.h", "#include \"params.h\"\n")
    p = load("""
        #include <math.h>
        #include "params.h"
        #include "other.h"
        #pragma nsc range v 0 1
        sample_t f(sample_t v) { return scale(v) + 1.0f; }
        """, include_dirs=["inc"])
    assert p.headers == ("inc/params.h", "inc/other.h")  # as cc -MD spells them: relative to a relative -I
    assert not any(h.startswith(INCLUDE_DIR) for h in p.headers)
    assert p.signature.inputs[0].ctype == "float" and p.signature.outputs[0].ctype == "float"
    assert p.include_dirs == ("inc",)
    assert 3.0 in nums(p) and "f0" in spelled(p.tokens)
    # a helper defined in a header can be the target, chosen by name
    assert load_program("prog.c", function="scale", include_dirs=["inc"],
                        default_range=(0, 1)).signature.function == "scale"


def test_defines_from_the_command_line(here):
    write("prog.c", """
        #ifndef ORDER
        #error ORDER not defined
        #endif
        #pragma nsc range x 0 1
        double f(double x) { return ORDER * x + OFFSET; }
        """)
    p = load_program("prog.c", defines=["ORDER=7", ("OFFSET", "0.5")])
    assert p.defines == (("ORDER", "7"), ("OFFSET", "0.5"))
    assert nums(p) == [7.0, 0.5]
    err = error_of(Path("prog.c").read_text())
    assert err == "prog.c:2:2: error: #error ORDER not defined"


# ---------------------------------------------------------------------------------------------- constructs

def test_defines_macros_typedefs_helpers_tables_globals(here):
    p = load("""
        #include <stdint.h>
        #include <stdbool.h>
        #define N 3
        #define SQUARE(v) ((v) * (v))
        typedef double real_t;
        typedef real_t vec_t;
        static const double weights[N] = {0.25, 0.5, 0.25};
        double bias = 0.125;
        static double unused_table[2] = {9, 9};
        static inline real_t helper(real_t v) { return SQUARE(v) + bias; }
        static double unused(double v) { return unused_table[0] * v; }
        #pragma nsc range a -1 1
        #pragma nsc range u 0 255
        #pragma nsc range k 0 9
        #pragma nsc range l 0 9
        vec_t f(const vec_t a[N], uint8_t u, unsigned k, long int l, bool flag) {
            real_t s = 0;
            for (int i = 0; i < N; i++) s += weights[i] * helper(a[i]);
            return flag ? s : s + u + k + l;
        }
        """)
    sig = p.signature
    assert sig.input_names == ["a[0]", "a[1]", "a[2]", "u", "k", "l", "flag"]
    assert [q.ctype for q in sig.inputs] == ["double"] * 3 + ["unsigned char", "unsigned int", "long", "_Bool"]
    assert sig.return_ctype == "double"
    assert (sig.inputs[-1].lo, sig.inputs[-1].hi) == (0.0, 1.0)  # _Bool needs no range
    assert list(sig.integer_inputs()) == [False] * 3 + [True] * 4
    text = spelled(p.tokens)
    assert text.startswith("const double g0 [ <num>=3 ] = { <num>=0.25 , <num>=0.5 , <num>=0.25 } ;")
    assert "double g1 = <num>=0.125 ;" in text
    assert "double f0 ( double q0 ) { return q0 * q0 + g1 ; }" in text
    assert "unused" not in text and "<num>=9" not in text and "real_t" not in text and "static" not in text
    assert text.endswith("return ( p4 ) ? ( v0 ) : ( v0 + p1 + p2 + p3 ) ; }")


def test_pragmas_other_than_nsc_are_ignored(here):
    write("guard.h", "#pragma once\n#pragma GCC visibility push(default)\nstatic const int K = 2;\n")
    p = load("""
        #include "guard.h"
        #include "guard.h"
        #pragma GCC optimize("O3")
        #pragma STDC FP_CONTRACT ON
        #pragma nsc range x 0 1
        #if 0
        #pragma nsc range x 5 6
        #pragma nsc bogus
        #endif
        double f(double x) {
            double s = 0;
            #pragma omp parallel for reduction(+:s)
            for (int i = 0; i < K; i++)
                s += x;
            _Pragma("GCC ivdep")
            for (int i = 0; i < K; i++)
        #pragma unroll
                s *= x;
            return s;
        }
        """)
    assert (p.signature.inputs[0].lo, p.signature.inputs[0].hi) == (0.0, 1.0)
    assert "pragma" not in spelled(p.tokens)


def test_gnu_spellings(here):
    p = load("""
        #include <math.h>
        __extension__ typedef long long big_t;
        static __inline__ __attribute__((always_inline, unused)) double twice(double v) { return 2 * v; }
        static __inline double thrice(const double * __restrict__ v) { return 3 * *v; }
        #pragma nsc range x 0 1
        __attribute__((noinline)) double f(double x, double * __restrict out) {
            __const double c = 1.0;
            if (__builtin_expect(x > 0.5, 0)) x = twice(x);
            __asm__ volatile ("" ::: "memory");
            *out = thrice(&x);
            return (big_t)c + x;
        }
        """.replace('__asm__ volatile ("" ::: "memory");', ""))
    assert p.signature.input_names == ["x"] and p.signature.output_names == ["return", "out"]
    assert "long long" in spelled(p.tokens)


def test_c99_features(here):
    p = load("""
        #include <stdbool.h>
        struct point { double x, y; };
        static const double table[4] = { [0] = 1.0, [3] = 4.0 };
        #pragma nsc range x 0 1
        double f(double x) {
            struct point p = { .y = x, .x = 2 * x };   // designated initialisers
            double v = ((double[]){ 0.5, 1.5 })[x > 0.5];  /* compound literal */
            bool big = x > 0.9;
            for (int i = 0; i < 2; i++) { v += table[i] + 0x1p-1; }
            _Bool small = x < 0.1;
            return p.x + p.y + v + big - small + 'A';
        }
        """)
    text = spelled(p.tokens)
    assert "struct s0 { double m0 ; double m1 ; } ;" in text
    assert ". m1 = p0" in text and "[ <num>=3 ] = <num>=4" in text
    assert "<num>=0.5" in text and "<num>=65" in text and "_Bool" in text


def test_long_initialisers_are_summarised(here):
    values = ", ".join(str(i) for i in range(40))
    p = load(f"""
        static const int lut[40] = {{ {values} }};
        #pragma nsc range i 0 39
        int f(int i) {{ return lut[i]; }}
        """)
    text = spelled(p.tokens)
    assert "<num>=15 , <more>=40 }" in text and "<num>=16 ," not in text


# ---------------------------------------------------------------------------------------------- signature

def test_array_sizes_from_constant_expressions(here):
    p = load("""
        #define HALF 2
        enum { BASE = 1, COUNT };
        #pragma nsc range a 0 1
        #pragma nsc range b 0 1
        #pragma nsc range c 0 1
        void f(const double a[2 * HALF + 1], const double b[COUNT], const float c[sizeof(double) / 4],
               double out[COUNT]) {
            out[0] = a[0] + b[1] + c[1];
            out[1] = a[4];
        }
        """)
    sig = p.signature
    assert [q.name for q in sig.inputs] == [f"a[{i}]" for i in range(5)] + ["b[0]", "b[1]", "c[0]", "c[1]"]
    assert sig.output_names == ["out[0]", "out[1]"]
    out = sig.params[-1]
    assert (out.shape, out.is_pointer, out.is_const, out.reads, out.writes) == (2, False, False, False, True)


def test_shape_pragma_and_unknown_shape(here):
    p = load("""
        #pragma nsc shape a 4
        #pragma nsc range a -2 2
        double f(const double *a) { double s = 0; for (int i = 0; i < 4; i++) s += a[i]; return s; }
        """)
    assert p.signature.input_names == ["a[0]", "a[1]", "a[2]", "a[3]"]
    assert p.signature.params[0].is_pointer and p.signature.params[0].shape == 4
    err = error_of("""
        #pragma nsc range a -2 2
        double f(const double *a) { double s = 0; for (int i = 0; i < 4; i++) s += a[i]; return s; }
        """)
    assert err == ("prog.c:2:24: error: the number of elements of 'a' is unknown (it is indexed with a "
                   "variable or its address escapes); add '#pragma nsc shape a N'")


def test_scalar_pointer_outputs_inout_and_inferred_extent(here):
    p = load("""
        #pragma nsc range x 0 1
        #pragma nsc range acc -1 1
        void f(double x, double *acc, double *y, float *pair) {
            *acc += x;
            *y = 2 * x;
            pair[0] = x;
            pair[1] = -x;
        }
        """)
    sig = p.signature
    assert sig.return_ctype is None
    assert sig.input_names == ["x", "acc"]
    assert sig.output_names == ["acc'", "y", "pair[0]", "pair[1]"]
    acc, y, pair = sig.params[1:]
    assert (acc.shape, acc.is_pointer, acc.reads, acc.writes) == (1, True, True, True)
    assert (y.shape, y.reads, y.writes) == (1, False, True)
    assert (pair.ctype, pair.shape) == ("float", 2)
    assert Signature.loads(sig.dumps()) == sig


def test_writes_through_helpers_and_library_calls(here):
    p = load("""
        #include <string.h>
        static void set3(double *o, double v) { o[0] = v; o[1] = v; o[2] = v; }
        static double get(const double *src, int k) { return src[k]; }
        #pragma nsc range x 0 1
        #pragma nsc range in 0 1
        #pragma nsc range out -1 1
        void f(double x, const double in[3], double out[3], double copy[3]) {
            set3(out, x);
            out[1] += get(in, 1);
            memcpy(copy, in, sizeof(double) * 3);
        }
        """)
    sig = p.signature
    out, copy = sig.params[2:]
    assert (out.reads, out.writes) == (True, True)  # += reads
    assert (copy.reads, copy.writes) == (False, True)  # memcpy's destination
    p = load("""
        static void set3(double *o, double v) { o[0] = v; o[1] = v; o[2] = v; }
        #pragma nsc range x 0 1
        void f(double x, double *out) { set3(out, x); }
        """)
    assert p.signature.input_names == ["x"] and p.signature.output_names == ["out[0]", "out[1]", "out[2]"]
    assert p.signature.params[1].shape == 3  # the extent comes from the helper's constant indices


def test_aliasing_through_local_pointers_is_conservative(here):
    p = load("""
        #pragma nsc range x 0 1
        #pragma nsc range out 0 1
        void f(double x, double out[2]) { double *q = out; q[1] = x; }
        """)
    assert p.signature.input_names == ["x", "out[0]", "out[1]"]
    assert p.signature.output_names == ["out[0]'", "out[1]'"]  # read (for all we know) and written


def test_int_double_mix_and_integer_ranges_kept(here):
    p = load("""
        #pragma nsc range n 1.5 7.5
        #pragma nsc range x -1 1
        double f(int n, double x, short s, char c) { return n * x + s + c; }
        """, ranges={"s": (-3, 3), "c": (0, 100)})
    sig = p.signature
    assert [(q.name, q.ctype, q.lo, q.hi) for q in sig.inputs] == [
        ("n", "int", 1.5, 7.5), ("x", "double", -1.0, 1.0), ("s", "short", -3.0, 3.0), ("c", "char", 0.0, 100.0)]


def test_ranges_command_line_wins_default_fills_elements_override(here):
    src = """
        #pragma nsc range x 0 1
        #pragma nsc range a 0 1
        #pragma nsc range a[1] 5 6
        double f(double x, double y, const double a[3]) { return x + y + a[0] + a[1] + a[2]; }
        """
    p = load(src, ranges={"x": (-10, 10), "a[2]": (7, 8)}, default_range=(-1, 2))
    got = {q.name: (q.lo, q.hi) for q in p.signature.inputs}
    assert got == {"x": (-10.0, 10.0), "y": (-1.0, 2.0), "a[0]": (0.0, 1.0), "a[1]": (5.0, 6.0),
                   "a[2]": (7.0, 8.0)}
    p = load(src, ranges={"a": (2, 3)}, default_range=(-1, 2))
    assert {q.name: (q.lo, q.hi) for q in p.signature.inputs if q.param == "a"} == {
        "a[0]": (2.0, 3.0), "a[1]": (2.0, 3.0), "a[2]": (2.0, 3.0)}
    with pytest.raises(NscError, match=r"--range names 'z', which is not an input \(inputs: x, y, a\)"):
        load_program("prog.c", ranges={"z": (0, 1)}, default_range=(0, 1))


def test_range_pragma_expressions_and_per_function_pragmas(here):
    p = load("""
        #include <math.h>
        #define LIMIT 4
        #pragma nsc range x 0 1
        double g(double x) { return x; }
        #pragma nsc range x -M_PI M_PI
        #pragma nsc range y (-LIMIT/2) 1e3
        #pragma nsc surrogate
        double f(double x, double y) { return g(x) * y; }
        """)
    assert [(q.lo, q.hi) for q in p.signature.inputs] == [(-math.pi, math.pi), (-2.0, 1000.0)]
    assert load_program("prog.c", function="g").signature.inputs[0].hi == 1.0


def test_parse_range_option_and_bounds():
    assert parse_range_option("a=0:1") == ("a", (0.0, 1.0))
    assert parse_range_option("x=-3.5:1e3") == ("x", (-3.5, 1000.0))
    assert parse_range_option(" a[2] = -2:-1 ") == ("a[2]", (-2.0, -1.0))
    assert parse_bounds("-1:1") == (-1.0, 1.0)
    for bad in ("a", "a=1", "a=0:1:2", "=0:1", "a=x:1", "a=1:0", "a=1:1", "2a=0:1"):
        with pytest.raises(NscError):
            parse_range_option(bad)


def test_goto_long_double_and_static_locals(here):
    p = load("""
        #pragma nsc range x 0 1
        long double f(long double x) {
            static int calls;
            int i = 0;
        again:
            x = x * x;
            if (++i < 3) goto again;
            calls++;
            return x;
        }
        """)
    assert p.signature.inputs[0].ctype == "long double" and p.signature.return_ctype == "long double"
    text = spelled(p.tokens)
    assert "l0 : p0 = p0 * p0 ;" in text and "goto l0 ;" in text and "static int v0 ;" in text


def test_shape_pragma_disagreeing_with_declared_size(here):
    err = error_of("""
        #pragma nsc shape a 4
        #pragma nsc range a 0 1
        double f(const double a[3]) { return a[0]; }
        """)
    assert err == "prog.c:1:19: error: '#pragma nsc shape a 4' disagrees with its declared size 3"
    err = error_of("""
        #pragma nsc range a 0 1
        double f(const double a[3]) { return a[3]; }
        """)
    assert err == "prog.c:2:23: error: 'a' is accessed at index 3, outside its 3 element(s)"


# ------------------------------------------------------------------------------------------------ selection

def test_function_selection(here):
    src = """
        #pragma nsc range x 0 1
        static double helper(double x) { return x; }
        double only(double x) { return helper(x); }
        int main(void) { return (int)only(0.5); }
        """
    assert load(src).signature.function == "only"
    assert load_program("prog.c", function="helper").signature.function == "helper"
    marked = load("""
        #pragma nsc range x 0 1
        double a(double x) { return x; }
        #pragma nsc surrogate
        double b(double x) { return a(x); }
        double c(double x) { return x; }
        """)
    assert marked.signature.function == "b"


def test_several_surrogate_pragmas(here):
    err = error_of("""
        #pragma nsc range x 0 1
        #pragma nsc surrogate
        double a(double x) { return x; }
        #pragma nsc surrogate
        double b(double x) { return x; }
        """)
    assert err == ("prog.c: error: several functions are marked '#pragma nsc surrogate': a (line 3), b (line 5); "
                   "choose one with -f NAME")
    assert load_program("prog.c", function="b").signature.function == "b"


def test_load_programs_parses_once_and_reports_per_target(here):
    write("prog.c", """
        #pragma nsc range x 0 1
        double a(double x) { return x; }
        double b(double x, double y) { return x * y; }
        struct s { double v; };
        double c(struct s q) { return q.v; }
        """)
    got = load_programs("prog.c", ["a", "b", "c", "zz"])
    assert got["a"].signature.input_names == ["x"]
    assert got["a"].tokens == load_program("prog.c", function="a").tokens
    assert isinstance(got["b"], NscError) and "no range for input 'y'" in str(got["b"])
    assert isinstance(got["c"], NscError) and "struct parameter 'q'" in str(got["c"])
    assert isinstance(got["zz"], NscError)
    with pytest.raises(NscError):
        load_programs("missing.c", ["a"])


def test_unknown_function_lists_candidates(here):
    err = error_of("""
        double a(double x) { return x; }
        static double b(double x) { return x; }
        """, function="nope")
    assert err == "prog.c: error: no function named 'nope' in prog.c (functions defined: a, b)"


def test_several_candidates_without_f(here):
    err = error_of("""
        double a(double x) { return x; }
        double b(double x) { return x; }
        int main(void) { return 0; }
        """)
    assert err == ("prog.c: error: several candidate functions: a, b; choose one with -f NAME or mark it "
                   "with '#pragma nsc surrogate'")


# ------------------------------------------------------------------------------------------------ bad input

def test_syntax_error_location(here):
    err = error_of("""
        #define K 2
        double f(double x) {
          double y = K *  x  +  ;
          return y;
        }
        """)
    assert err == "prog.c:3:25: error: syntax error: invalid expression before ';'"
    err = error_of("double f(double x) {\n\treturn x @ 2;\n}\n")
    assert err == "prog.c:2:11: error: syntax error: illegal character '@'"
    err = error_of("double f(double x) {\n  return x\n}\n")
    assert err == "prog.c:3:1: error: syntax error before '}'"
    err = error_of("double f(double x) {\n  return x *\n")
    assert err == "prog.c:2:12: error: syntax error: unexpected end of input"


def test_typeof_is_named_and_a_column_stays_inside_its_line(here):
    """typeof was a bare "syntax error before 'y'"; inside a macro's expansion the column lay past the line's end
    (now no column: the line alone)."""
    err = error_of("double f(double x) { typeof(x) y = x * 3; return y; }\n")
    assert err == "prog.c:1:22: error: 'typeof' is not supported (nsc parses ISO C with pycparser): write the type out"
    err = error_of("#define TWICE(a) ({ __typeof__(a) t_ = (a); t_ + t_; })\ndouble f(double x) { return TWICE(x); }\n")
    assert err.startswith("prog.c:2: error: 'typeof' is not supported")


def test_syntax_error_in_a_header(here):
    write("bad.h", "typedef double real_t\n")
    err = error_of('#include "bad.h"\nreal_t f(real_t x) { return x; }\n')
    assert err == "prog.c:2:1: error: syntax error before 'real_t'"  # where the missing ';' is noticed
    write("bad.h", "static double g(double x) {\n  return x +;\n}\n")
    err = error_of('#include "bad.h"\ndouble f(double x) { return g(x); }\n')
    assert err == "bad.h:2:13: error: syntax error: invalid expression before ';'"


def test_struct_and_function_pointer_parameters(here):
    err = error_of("""
        struct pt { double x, y; };
        double f(struct pt p, double x) { return p.x * x; }
        """)
    assert err == ("prog.c:2:20: error: struct parameter 'p' (struct pt) is not supported; pass its fields as "
                   "separate parameters")
    err = error_of("double f(double (*g)(double), double x) { return g(x); }\n")
    assert err == "prog.c:1:19: error: function-pointer parameter 'g' is not supported"
    err = error_of("typedef double (*fn_t)(double);\ndouble f(double x, fn_t g) { return g(x); }\n")
    assert err == "prog.c:2:25: error: function-pointer parameter 'g' is not supported"
    err = error_of("typedef struct { double v; } box;\ndouble f(const box *b) { return b->v; }\n")
    assert "parameter 'b' points to a struct" in err and err.startswith("prog.c:2:21: error:")
    err = error_of("#include <stdarg.h>\ndouble f(double x, ...) { return x; }\n")
    assert err == "prog.c:2:8: error: variadic function 'f' is not supported"


def test_missing_range(here):
    err = error_of("""
        #pragma nsc range x 0 1
        double f(double x,
                 double y) { return x + y; }
        """)
    assert err == ("prog.c:3:17: error: no range for input 'y'; add '#pragma nsc range y LO HI' or pass "
                   "--range y=LO:HI")
    err = error_of("double f(double x, double y) { return x + y; }\n")
    assert err.startswith("prog.c:1:17: error: no range for inputs 'x', 'y';")


def test_empty_range(here):
    err = error_of("""
        #include <math.h>
        #pragma nsc range x 1 -1
        double f(double x) { return x; }
        """)
    assert err == "prog.c:2:21: error: empty range for 'x': LO (1) must be less than HI (-1)"
    err = error_of("#pragma nsc range x 0 0\ndouble f(double x) { return x; }\n")
    assert err == "prog.c:1:21: error: empty range for 'x': LO (0) must be less than HI (0)"
    with pytest.raises(NscError, match="LO .* must be less than HI"):
        load_program("prog.c", ranges={"x": (2, 1)})


def test_bad_pragmas(here):
    assert error_of("#pragma nsc range x zero 1\ndouble f(double x) { return x; }\n") == (
        "prog.c:1:21: error: 'zero' is not a number or a known constant macro")
    assert error_of("#pragma nsc speed 3\ndouble f(double x) { return x; }\n") == (
        "prog.c:1:13: error: unknown nsc pragma 'speed' (expected surrogate, range or shape)")
    assert error_of("#pragma nsc range z 0 1\ndouble f(double x) { return x; }\n") == (
        "prog.c:1:19: error: '#pragma nsc range' names 'z', which is not a parameter of any function")


def test_missing_header(here):
    assert error_of('#include "foo.h"\ndouble f(double x) { return x; }\n') == (
        "prog.c:1:10: error: 'foo.h' file not found")
    err = error_of("#include <unistd.h>\ndouble f(double x) { return x; }\n")
    assert err.startswith("prog.c:1:10: error: 'unistd.h' file not found (nsc parses with its own stand-ins")


def test_empty_binary_missing_files(here):
    assert error_of("") == "prog.c: error: file is empty: expected C source code"
    assert error_of("  \n\n") == "prog.c: error: file is empty: expected C source code"
    assert error_of(b"\x7fELF\x02\x01\x01\x00\x00") == (
        "prog.c:1: error: binary file (contains NUL bytes), not C source code")
    assert error_of(b"double f(double x)\n{ return x; } \xff\xfe") == (
        "prog.c:2: error: not a UTF-8 text file (invalid byte 0xff), not C source code")
    assert error_of("/* only a comment */\n") == "prog.c: error: no function definitions in the file"
    with pytest.raises(NscError, match="no such file"):
        load_program("missing.c")


def test_recursion(here):
    err = error_of("""
        #pragma nsc range x 0 1
        double f(double x) { return x < 1 ? x : f(x / 2); }
        """)
    assert err == "prog.c:2:41: error: recursion is not supported: 'f' calls itself"
    err = error_of("""
        #pragma nsc range x 0 1
        double h(double x);
        static double g(double x) { return x < 1 ? x : h(x / 2); }
        static double h(double x) { return g(x) + 1; }
        double f(double x) { return g(x); }
        """)
    assert err == "prog.c:4:36: error: recursion is not supported: g -> h -> g"


def test_io_and_process_calls(here):
    err = error_of("""
        #include <stdio.h>
        #pragma nsc range x 0 1
        double f(double x) {
            printf("%g\\n", x);
            return x;
        }
        """)
    assert err.startswith("prog.c:4:5: error: 'printf' does I/O, which a surrogate cannot do")
    err = error_of("""
        #include <stdio.h>
        #include <stdlib.h>
        #pragma nsc range x 0 1
        static double check(double x) { if (x < 0) exit(1); return x; }
        double f(double x) { return check(x); }
        int main(void) { printf("%g\\n", f(0.5)); return 0; }
        """)
    assert err == ("prog.c:4:44: error: call to 'exit' is not supported: a surrogate's code must be a pure "
                   "computation")
    ok = load("""
        #include <stdio.h>
        #include <stdlib.h>
        #pragma nsc range x 0 1
        double f(double x) { double *t = malloc(sizeof(double)); *t = x; x = *t; free(t); return x; }
        int main(void) { printf("%g\\n", f(0.5)); return 0; }
        """)
    assert ok.signature.function == "f"


def test_undeclared_and_undefined_functions(here):
    assert error_of("#pragma nsc range x 0 1\ndouble f(double x) { return y; }\n") == (
        "prog.c:2:29: error: use of undeclared identifier 'y'")
    assert error_of("#pragma nsc range x 0 1\ndouble g(double);\ndouble f(double x) { return g(x); }\n") == (
        "prog.c:3:29: error: function 'g' is declared but not defined in the program")


# ------------------------------------------------------------------------------------------------ tokens

def test_tokens_do_not_depend_on_names_layout_or_helper_order(here):
    a = load("""
        #include <math.h>
        #define SCALE 2.0
        static const double coeffs[3] = {1.0, 0.5, 0.25};
        static double sq(double v) { return v * v; }
        static double cube(double v) { return v * sq(v); }
        #pragma nsc range x -1 1
        #pragma nsc range n 0 3
        double poly(double x, int n) {
            double acc = 0.0;
            for (int i = 0; i < 3; i++) {
                acc += coeffs[i] * cube(x) + sq(x);
            }
            return SCALE * acc + sin(x) + n;
        }
        """, name="a.c")
    b = load("""
        #include <math.h>
        static double square(double t) { return (t * t); }   /* renamed, reordered, reformatted */
        static const double K[3] = { 1., .5, 0.25, };
        static double cubed(double t)
        {
            return t*square(t);
        }
        #pragma nsc range z -1 1
        #pragma nsc range m 0 3
        double other_name(double z, int m)
        {
            double total = 0;
            for (int j = 0; j < 3; j++)
                acc_label: total += K[j] * cubed(z) + square(z);
            return 2.0 * total + sin(z) + m;
        }
        """.replace("acc_label: ", ""), name="b.c")
    assert spelled(a.tokens) == spelled(b.tokens)
    assert a.tokens == b.tokens and all(isinstance(t, Token) for t in a.tokens)
    assert spelled(a.tokens).startswith("const double g0 [ <num>=3 ] = {")
    assert "double f0 ( double q0 ) { return q0 * q0 ; }" in spelled(a.tokens)
    assert "double target ( double p0 , int p1 )" in spelled(a.tokens)
    c = load(Path("a.c").read_text().replace("0.25", "0.3"), name="c.c")
    assert c.tokens != a.tokens  # a different constant is a different program


def test_shadowed_names_are_resolved_by_scope(here):
    p = load("""
        double scale = 3.0;
        #pragma nsc range x 0 1
        double f(double x) {
            double y = scale * x;
            { double scale = 2.0; y += scale; }
            for (int x = 0; x < 2; x++) y += x;
            return y + x;
        }
        """)
    assert spelled(p.tokens) == (
        "double g0 = <num>=3 ; double target ( double p0 ) { double v0 = g0 * p0 ; { double v1 = <num>=2 ; "
        "v0 += v1 ; } for ( int v2 = <num>=0 ; v2 < <num>=2 ; v2 ++ ) v0 += v2 ; return v0 + p0 ; }")


def test_program_fields(here):
    src = "#pragma nsc range x 0 1\ndouble f(double x) { return x; }\n"
    p = load(src)
    import hashlib
    assert p.path == "prog.c" and p.source == src and p.function == "f"
    assert p.sha256 == hashlib.sha256(src.encode()).hexdigest()
    assert p.headers == () and p.include_dirs == () and p.defines == ()


# ------------------------------------------------------------------------------------------------ examples

def test_every_example_loads():
    programs = sorted(EXAMPLES.glob("*.c"))
    if not programs:
        pytest.skip("no examples yet")
    include = EXAMPLES / "include"
    for path in programs:
        p = load_program(str(path), include_dirs=[str(include)] if include.is_dir() else [])
        sig = p.signature
        assert sig.n_in >= 1 and sig.n_out >= 1, path.name
        assert all(q.lo is not None and q.lo < q.hi for q in sig.inputs), path.name
        assert p.tokens and p.tokens[-1].text == "}", path.name
        assert Signature.loads(sig.dumps()) == sig


def test_started_preprocessing_is_the_same_and_refuses_other_arguments(tmp_path):
    # nsc compile starts the preprocessor early (toolchain.compile_file); what it collects is what preprocess gives
    src = tmp_path / "m.c"
    src.write_text("#define SCALE 2.0\n#pragma nsc range x 0 SCALE\ndouble f(double x) { return SCALE * x; }\n")
    started = start_preprocessing(str(src), (), (("EXTRA", "1"),))
    assert preprocess(str(src), (), (("EXTRA", "1"),), started) == preprocess(str(src), (), (("EXTRA", "1"),))
    with pytest.raises(ValueError, match="started as"):
        preprocess(str(src), (), (), start_preprocessing(str(src), (), (("EXTRA", "1"),)))
    program = load_program(str(src), preprocessed=start_preprocessing(str(src)))
    assert (program.signature.inputs[0].lo, program.signature.inputs[0].hi) == (0.0, 2.0)


def test_started_preprocessing_reports_the_preprocessors_error(tmp_path):
    src = tmp_path / "e.c"
    src.write_text('#include "missing.h"\ndouble f(double x) { return x; }\n')
    with pytest.raises(NscError, match="missing.h"):
        load_program(str(src), preprocessed=start_preprocessing(str(src)))


@pytest.mark.parametrize("body, outputs", [
    # they store one value through their second argument (it escaped, and needed a shape pragma)
    ("void f(double x, double *m, int *e, double w[2]) { *m = frexp(x, e); w[0] = modf(x, &w[1]); }",
     ["m", "e", "w[0]", "w[1]"]),
    # `*e = *e * 2 + 1` after frexp stored e: e is an output only (it asked for a range, as an input)
    ("void f(double x, double *m, int *e, double *whole) { *m = frexp(x, e) * 3.0;\n"
     "  double fr = modf(x, whole); *e = *e * 2 + 1; *m += fr * *whole; }", ["m", "e", "whole"]),
], ids=["stored", "stored, then read"])
def test_the_pointers_modf_and_frexp_store_through_are_outputs(tmp_path, body, outputs):
    src = tmp_path / "split.c"
    src.write_text("#include <math.h>\n#pragma nsc range x 0.1 4\n" + body + "\n")
    sig = load_program(str(src)).signature
    assert [p.name for p in sig.inputs] == ["x"] and [p.name for p in sig.outputs] == outputs


def test_a_write_before_the_first_goto_is_certain_after_it(tmp_path):
    # a function with a label kept every read: out, written first, asked for a range as an input
    src = tmp_path / "exit.c"
    src.write_text("#pragma nsc range x -2 2\n"
                   "void f(double x, double out[2]) { out[0] = x; if (x > 1.0) goto done; out[0] = x * x;\n"
                   "  out[1] = 3; done: out[0] += 0.5; }\n")
    sig = load_program(str(src)).signature
    assert [p.name for p in sig.inputs] == ["x"] and [p.name for p in sig.outputs] == ["out[0]", "out[1]"]
    # a write after a goto may be jumped past: out[1] is read where it may hold the caller's value
    src.write_text("#pragma nsc range x -2 2\n#pragma nsc range out -1 1\n"
                   "void f(double x, double out[2]) { if (x > 1.0) goto done; out[1] = 3;\n"
                   "  done: out[0] = out[1] + x; }\n")
    assert "out[1]" in [p.name for p in load_program(str(src)).signature.inputs]
