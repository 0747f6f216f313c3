"""Pointer parameters that are read and written (input ``p``, output ``p'``), and outputs written before they are
read back (output only): the front-end's column names and access analysis, and a sample -> finetune -> run
round trip through the command line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nsc.cli import main
from nsc.tables import read_table
from nsc.errors import NscError
from nsc.frontend import load_program
from nsc.frontend.program import Port
from nsc.frontend.signature import _check_unique

PID = """\
#pragma nsc range e -1 1
#pragma nsc range integ -2 2
#pragma nsc range state -1 1
double pid(double e, double *integ, double state[2]) {
    *integ = *integ + 0.1 * e;
    state[0] = 0.5 * state[0] + e;
    state[1] = state[0] - state[1];
    return 1.2 * e + 0.4 * *integ;
}
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "prog.c"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_program(str(path))


def nsc(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


# ------------------------------------------------------------------------------------------------ names

def test_read_and_written_outputs_are_primed_and_unique(tmp_path):
    sig = load(tmp_path, PID).signature
    assert sig.input_names == ["e", "integ", "state[0]", "state[1]"]
    assert sig.output_names == ["return", "integ'", "state[0]'", "state[1]'"]
    names = sig.input_names + sig.output_names
    assert len(set(names)) == len(names)
    integ = next(p for p in sig.outputs if p.name == "integ'")
    assert (integ.param, integ.index) == ("integ", None)
    assert [(p.param, p.index) for p in sig.outputs[2:]] == [("state", 0), ("state", 1)]


def test_colliding_names_are_an_error():
    ports = [Port("x", "x", None, "double"), Port("x", "y", None, "double")]

    class Decl:
        name, coord = "f", None

    with pytest.raises(NscError, match="two columns of 'f' are both named 'x'"):
        _check_unique(ports, Decl())


# ------------------------------------------------------------------------------------------------ access

@pytest.mark.parametrize("body, inputs", [
    ("memcpy(out, v, 3 * sizeof(double)); out[1] *= 2;", ["v[0]", "v[1]", "v[2]"]),
    ("memset(out, 0, sizeof(double) * 3); for (int i = 0; i < 3; i++) out[i] += v[i];", ["v[0]", "v[1]", "v[2]"]),
    ("memset(out, 0, sizeof(double) * 2); for (int i = 0; i < 3; i++) out[i] += v[i];",  # out[2] is read first
     ["v[0]", "v[1]", "v[2]", "out[0]", "out[1]", "out[2]"]),
    # a zeroing loop writes what it counts over: out[k] += at a computed k reads the function's own zeros
    ("for (int i = 0; i < 3; i++) out[i] = 0.0; out[(int)(v[0] + 1.5)] += v[1];", ["v[0]", "v[1]", "v[2]"]),
    ("int i; for (i = 0; i <= 2; i++) { out[i] = v[i]; } out[(int)(v[0] + 1.5)] *= 2;", ["v[0]", "v[1]", "v[2]"]),
    ("for (int i = 0; i < 2; i++) out[i] = 0.0; out[(int)(v[0] + 1.5)] += v[1];",  # out[2] is not written
     ["v[0]", "v[1]", "v[2]", "out[0]", "out[1]", "out[2]"]),
    ("for (int i = 0; i < 3; i++) out[i] = out[i] * 0.5; out[(int)(v[0] + 1.5)] += 1;",  # read in the loop
     ["v[0]", "v[1]", "v[2]", "out[0]", "out[1]", "out[2]"]),
])
def test_memcpy_and_memset_write_what_they_cover(tmp_path, body, inputs):
    """An output filled by memcpy/memset or a counted loop and then updated was read first, so an input that needed a
    range; a read of one that was written whole first is not."""
    sig = load(tmp_path, f"""
        #include <string.h>
        #pragma nsc range v -1 1
        #pragma nsc range out -1 1
        void f(const double v[3], double out[3]) {{ {body} }}
        """).signature
    assert sig.input_names == inputs
    assert sig.output_names == ["out[0]", "out[1]", "out[2]"] if len(inputs) == 3 else \
        ["out[0]'", "out[1]'", "out[2]'"]



def params(tmp_path, body: str) -> dict:
    sig = load(tmp_path, "#pragma nsc range x -1 1\n" + textwrap.dedent(body)).signature
    return {p.name: (p.reads, p.writes) for p in sig.params}


def test_written_then_read_is_output_only(tmp_path):
    got = params(tmp_path, """
        double f(double x, double *lse, double *out) {
            *lse = x + 1.0;
            {
                out[0] = x;
                out[1] = *lse * out[0];
            }
            out[1] += *lse;
            if (x > 0) out[1] *= out[0];
            for (int i = 0; i < 3; i++) out[1] += *lse;
            return *lse * 2.0;
        }
        """)
    assert got["lse"] == (False, True) and got["out"] == (False, True)


def test_read_then_written_stays_both(tmp_path):
    got = params(tmp_path, """
        #pragma nsc range p -1 1
        double f(double x, double *p) {
            double old = *p;
            *p = x;
            return old + *p;
        }
        """)
    assert got["p"] == (True, True)


def test_read_in_the_writing_statement_stays_both(tmp_path):
    got = params(tmp_path, """
        #pragma nsc range p -1 1
        void f(double x, double *p) { *p = *p + x; }
        """)
    assert got["p"] == (True, True)


@pytest.mark.parametrize("body", [
    "if (x > 0) *p = x; return *p;",                         # conditional write
    "for (int i = 0; i < 2; i++) { y += *p; *p = x; } return y;",  # read before the write in a loop
    "x > 0 && (*p = x); return *p;",                         # conditional in an expression
    "if (x > 0) goto done; *p = x; done: return *p;",        # a goto may skip the write
    "p[1] = x; return p[0];",                                # another element
    "int i = 0; p[0] = x; return p[i];",                      # an index not known to be written
])
def test_uncertain_writes_keep_the_read(tmp_path, body):
    got = params(tmp_path, f"""
        #pragma nsc range p -1 1
        #pragma nsc shape p 2
        double f(double x, double *p) {{ double y = 0; {body} }}
        """)
    assert got["p"][0] is True


def test_helper_writing_then_reading_is_output_only(tmp_path):
    got = params(tmp_path, """
        static void h(double x, double *q) { *q = x; *q = *q * 2.0; }
        double f(double x, double *p) { h(x, p); return x; }
        """)
    assert got["p"] == (False, True)


# ------------------------------------------------------------------------------------------------ command line

def test_sample_finetune_run_round_trip(tmp_path):
    src = tmp_path / "pid.c"
    src.write_text(PID)
    model, tuned = tmp_path / "pid.onnx", tmp_path / "t.onnx"
    nsc("compile", src, "-o", model, "--init", "random")
    for data in (tmp_path / "s.csv", tmp_path / "s.npz"):
        nsc("sample", src, "-n", 64, "--seed", 1, "-o", data)
        nsc("finetune", model, data, "-o", tuned, "--epochs", 2)
    header = (tmp_path / "s.csv").read_text().splitlines()[0]
    assert header == "e,integ,state[0],state[1],return,integ',state[0]',state[1]'"
    columns, _ = read_table(tmp_path / "s.csv", ["e", "integ", "integ'"])
    np.testing.assert_allclose(columns["integ'"], columns["integ"] + 0.1 * columns["e"], rtol=1e-12)

    rows = json.loads(nsc("run", tuned, "--inputs", "e=0.5,integ=1,state[0]=0.2,state[1]=-0.1",
                          "--format", "json"))
    row = rows[0] if isinstance(rows, list) else rows
    assert {"integ", "integ'", "state[0]", "state[0]'", "state[1]", "state[1]'", "return"} <= set(row)
    assert row["integ"] == 1 and row["state[0]"] == pytest.approx(0.2)
    out = nsc("run", tuned, "--inputs", tmp_path / "s.csv")
    assert out.splitlines()[0] == header
