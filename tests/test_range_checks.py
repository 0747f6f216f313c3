"""Input ranges that cannot be sampled faithfully are errors at the pragma (or naming the option): bounds outside
the input's C type or float32, non-finite bounds, conflicting duplicate pragmas, an array with a range for only
some of its elements; and -D macros can be used in range pragmas like the file's #defines (NOTES.md section 2)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from nsc.cli import main
from nsc.errors import NscError
from nsc.frontend import load_program, parse_bounds, parse_range_option


@pytest.fixture(autouse=True)
def here(tmp_path, monkeypatch):
    """Run in a temporary directory, so programs are named `prog.c` in diagnostics."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str, name: str = "prog.c") -> str:
    Path(name).write_text(textwrap.dedent(text).lstrip("\n"))
    return name


def error_of(text: str, **kw) -> str:
    path = write(text)
    with pytest.raises(NscError) as info:
        load_program(path, **kw)
    return str(info.value)


def bounds(text: str, **kw) -> dict[str, tuple[float, float]]:
    return {p.name: (p.lo, p.hi) for p in load_program(write(text), **kw).signature.inputs}


# ------------------------------------------------------------------------------------------ C type limits

@pytest.mark.parametrize("ctype, lo, hi, holds", [
    ("unsigned", "0", "5000000000", "0 to 4294967295"),
    ("unsigned int", "-1", "3", "0 to 4294967295"),
    ("unsigned char", "0", "300", "0 to 255"),
    ("char", "-129", "0", "-128 to 127"),
    ("signed char", "0", "128", "-128 to 127"),
    ("short", "-40000", "0", "-32768 to 32767"),
    ("unsigned short", "0", "65536", "0 to 65535"),
    ("int", "0", "3e9", "-2147483648 to 2147483647"),
    ("long", "0", "1e19", "-9223372036854775808 to 9223372036854775807"),
    ("long long", "-1e19", "0", "-9223372036854775808 to 9223372036854775807"),
    ("unsigned long", "-5", "5", "0 to 18446744073709551615"),
    ("_Bool", "0", "2", "0 to 1"),
    ("float", "0", "1e39", "-3.4028235e+38 to 3.4028235e+38"),
])
def test_range_outside_the_c_type_is_an_error_at_the_bound(ctype, lo, hi, holds):
    line = f"#pragma nsc range v {lo} {hi}"
    message = error_of(f"{line}\ndouble f({ctype} v) {{ return v; }}\n")
    bad = lo if lo.startswith("-") and hi in ("0", "3", "5") else hi
    col = line.index(f" {bad}", len("#pragma nsc range v")) + 2
    assert message.startswith(f"prog.c:1:{col}: error: range ")
    assert message.endswith(f"of 'v' does not fit its type '{ctype if ctype != 'unsigned' else 'unsigned int'}', "
                            f"which holds {holds}")


def test_ranges_at_the_c_type_limits_are_accepted():
    got = bounds("""
        #pragma nsc range c -128 127
        #pragma nsc range u 0 255
        #pragma nsc range i -2147483648 2147483647
        #pragma nsc range n -9223372036854775808 1e18
        #pragma nsc range w -0.5 4294967295.5
        #pragma nsc range y -3.4028235e38 3.4028235e38
        #pragma nsc range d -1e38 1e38
        double f(char c, unsigned char u, int i, long n, unsigned w, float y, double d) { return c + d; }
        """)
    assert got["u"] == (0.0, 255.0) and got["w"] == (-0.5, 4294967295.5)   # integers drawn in [ceil, floor]
    assert got["y"] == (-3.4028235e38, 3.4028235e38)


def test_range_too_wide_for_float32_is_an_error_for_any_input():
    message = error_of("""
        #pragma nsc range x 0 1
        #pragma nsc range y -1 1e300
        double f(double x, double y) { return x + y; }
        """)
    assert message == ("prog.c:2:24: error: range -1 to 1e+300 of 'y' is too wide for the surrogate, which holds "
                       "inputs as float32 (|LO|, |HI| <= 3.4028235e+38)")
    message = error_of("#pragma nsc range x 0 1\ndouble f(double x, double y) { return x + y; }\n",
                       ranges={"y": (0, 1e300)})
    assert message == ("error: --range y=0:1e+300: range of 'y' is too wide for the surrogate, which holds inputs "
                       "as float32 (|LO|, |HI| <= 3.4028235e+38)")


def test_command_line_range_and_default_range_are_checked_against_the_type():
    src = "#pragma nsc range u 0 5000000000\ndouble f(unsigned u, unsigned char c) { return u + c; }\n"
    assert error_of(src, ranges={"u": (-1, 3), "c": (0, 1)}) == (
        "error: --range u=-1:3: range of 'u' does not fit its type 'unsigned int', which holds 0 to 4294967295")
    # the command line wins, so the pragma's range is never used and not an error
    assert bounds(src, ranges={"u": (0, 3), "c": (0, 1)}) == {"u": (0.0, 3.0), "c": (0.0, 1.0)}
    assert error_of(src, ranges={"u": (0, 3)}, default_range=(0, 256)) == (
        "error: --default-range 0:256: range of input 'c' does not fit its type 'unsigned char', which holds 0 to "
        "255")


def test_array_element_ranges_are_checked_per_element():
    message = error_of("""
        #pragma nsc range a 0 255
        #pragma nsc range a[1] 0 256
        double f(const unsigned char a[2]) { return a[0] + a[1]; }
        """)
    assert message == ("prog.c:2:26: error: range 0 to 256 of 'a[1]' does not fit its type 'unsigned char', which "
                       "holds 0 to 255")


def test_cli_out_of_type_range_exits_1_without_traceback():
    write("#pragma nsc range x 0 1\ndouble f(double x, double y) { return x + y; }\n")
    result = CliRunner().invoke(main, ["compile", "prog.c", "--range", "y=0:1e300", "--init", "random",
                                       "-o", "out.onnx"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        "error: --range y=0:1e+300: range of 'y' is too wide for the surrogate, which holds inputs as float32 "
        "(|LO|, |HI| <= 3.4028235e+38)"]
    assert not Path("out.onnx").exists()
    write("#pragma nsc range u 0 5000000000\ndouble f(unsigned u) { return u * 0.5; }\n")
    result = CliRunner().invoke(main, ["sample", "prog.c", "-n", "4"], catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == ("prog.c:1:23: error: range 0 to 5000000000 of 'u' does not fit its type "
                                     "'unsigned int', which holds 0 to 4294967295")


# ------------------------------------------------------------------------------------------- not finite

def test_infinite_pragma_bound_says_a_range_must_be_finite():
    message = error_of("""
        #pragma nsc range x 1e-3 INFINITY
        #include <math.h>
        double f(double x) { return log(x); }
        """)
    assert message == "prog.c:1:26: error: 'INFINITY' is not finite: a range must be a finite number"
    assert "__builtin" not in message
    for bound, word in [("HUGE_VAL", "HUGE_VAL"), ("(-NAN)", "NAN"), ("BIG", "BIG"), ("1e400", "1e400")]:
        message = error_of(f"""
            #include <math.h>
            #define BIG (2 * HUGE_VALF)
            #pragma nsc range x 0 {bound}
            double f(double x) {{ return x; }}
            """)
        assert message == f"prog.c:3:23: error: '{word}' is not finite: a range must be a finite number"


def test_infinite_command_line_bounds_say_a_range_must_be_finite():
    for text, word in [("x=0:inf", "inf"), ("x=-INFINITY:0", "INFINITY"), ("x=nan:1", "nan"), ("x=0:1e999", "1e999")]:
        with pytest.raises(NscError) as info:
            parse_range_option(text)
        assert str(info.value) == f"error: bad --range '{text}': '{word}' is not finite: a range must be finite"
    with pytest.raises(NscError, match=r"^error: bad range '0:inf': 'inf' is not finite"):
        parse_bounds("0:inf")


# ------------------------------------------------------------------------------------------- duplicates

def test_conflicting_duplicate_range_pragmas_are_an_error_naming_the_first():
    message = error_of("""
        #pragma nsc range x 0 1
        #pragma nsc range x 2 3
        double f(double x) { return x; }
        """)
    assert message == "prog.c:2:19: error: conflicting ranges for 'x': 2 to 3 here, 0 to 1 at line 1; keep one"
    # the same with a helper function defined between the pragmas and the target
    message = error_of("""
        #pragma nsc range a[1] 0 1
        #pragma nsc range a[1] 0 2
        static double g(double v) { return v; }
        double f(const double a[2]) { return g(a[0]) + a[1]; }
        """, ranges={"a": (0, 1)})
    assert message == ("prog.c:2:19: error: conflicting ranges for 'a[1]': 0 to 2 here, 0 to 1 at line 1; "
                       "keep one")


def test_identical_duplicates_and_per_function_pragmas_are_accepted():
    assert bounds("""
        #pragma nsc range x 0 1
        #pragma nsc range x 0 1.0
        double f(double x) { return x; }
        """) == {"x": (0.0, 1.0)}
    src = """
        #pragma nsc range x 0 1
        double g(double x) { return x; }
        #pragma nsc range x 2 3
        #pragma nsc surrogate
        double f(double x) { return g(x); }
        """
    assert bounds(src) == {"x": (2.0, 3.0)}
    assert load_program("prog.c", function="g").signature.inputs[0].hi == 1.0


# --------------------------------------------------------------------------------------- array elements

def test_element_range_alone_says_the_array_range_covers_every_element():
    message = error_of("""
        #pragma nsc range x[1] 0 1
        double f(const double x[2]) { return x[0] * x[1]; }
        """)
    assert message == ("prog.c:2:23: error: no range for x[0]: only 'x[1]' of array 'x' has one, and a range for "
                       "an element covers only that element; a range for the array covers every element: add "
                       "'#pragma nsc range x LO HI' or pass --range x=LO:HI")
    # an element range next to the array's still overrides it
    assert bounds("""
        #pragma nsc range x 5 6
        #pragma nsc range x[1] 0 1
        double f(const double x[2]) { return x[0] * x[1]; }
        """) == {"x[0]": (5.0, 6.0), "x[1]": (0.0, 1.0)}


# ---------------------------------------------------------------------------------------------- -D macros

def test_command_line_defines_are_usable_in_range_pragmas():
    src = """
        #pragma nsc range x (-MAXV) MAXV
        #pragma nsc range n 0 N
        double f(double x, int n) { return x * SCALE + n; }
        """
    got = bounds(src, defines=("MAXV=3", ("SCALE", "2"), "N"))
    assert got == {"x": (-3.0, 3.0), "n": (0.0, 1.0)}
    # a #define of the file wins over -D, as in cc (it redefines the macro); #undef removes it
    write("""
        #define MAXV 4
        #pragma nsc range x 0 MAXV
        #undef N
        #pragma nsc range n 0 N
        double f(double x, int n) { return x * SCALE + n; }
        """)
    with pytest.raises(NscError, match=r"^prog.c:4:23: error: 'N' is not a number or a known constant macro$"):
        load_program("prog.c", defines=("MAXV=3", "SCALE=2", "N=5"))
    assert bounds("""
        #define MAXV 4
        #pragma nsc range x 0 MAXV
        double f(double x) { return x * SCALE; }
        """, defines=("MAXV=3", "SCALE=2")) == {"x": (0.0, 4.0)}


def test_cli_define_in_range_pragma():
    write("#pragma nsc range x 0 MAXV\ndouble f(double x) { return x * SCALE; }\n")
    result = CliRunner().invoke(main, ["sample", "prog.c", "-D", "MAXV=3", "-D", "SCALE=2", "-n", "64",
                                       "-o", "s.csv"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [list(map(float, line.split(","))) for line in Path("s.csv").read_text().splitlines()[1:]]
    assert len(rows) == 64 and all(0 <= x <= 3 and y == 2 * x for x, y in rows)
    assert max(x for x, _ in rows) > 1.5
