"""What a user meets every day (issue 17 part 7): `nsc sample --inputs` takes rows inline as `nsc run` does, an
integer input given a fraction is refused by both, `nsc run` echoes inputs as given and writes float32 outputs
at their shortest text, and `nsc finetune` names each output's error."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from nsc.cli import main

PROGRAM = """\
#include <math.h>
#pragma nsc range t0 50 150
#pragma nsc range k 0 0.2
#pragma nsc range steps 1 20
double decay(double t0, double k, int steps) { return t0 * exp(-k * steps); }
"""
TWO = """\
#include <math.h>
#pragma nsc range x -2 2
#pragma nsc range y 0 3
void f(double x, double y, double *sum, double *wave) { *sum = x + y; *wave = 100 * sin(3 * x * y); }
"""


def nsc(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def assert_user_error(result, *needles):
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


@pytest.fixture
def prog(tmp_path):
    path = tmp_path / "decay.c"
    path.write_text(PROGRAM)
    return path


@pytest.fixture
def model(tmp_path, prog):
    out = tmp_path / "decay.onnx"
    assert nsc("compile", prog, "--init", "random", "-o", out).exit_code == 0
    return out


def data_rows(output: str) -> list[list[str]]:
    return [line.split(",") for line in output.strip().splitlines()[1:]]


# ----------------------------------------------------------------------------------------------- sample --inputs

def test_sample_takes_inputs_inline_as_run_does(prog):
    """(It said "cannot read the file": a user could not check one point against the real program.)"""
    r = nsc("sample", prog, "--inputs", "t0=100,k=0.05,steps=10")
    assert r.exit_code == 0, r.output
    head, *rows = r.stdout.strip().splitlines()
    assert head == "t0,k,steps,return" and len(rows) == 1
    t0, k, steps, ret = map(float, rows[0].split(","))
    assert (t0, k, steps) == (100, 0.05, 10) and ret == pytest.approx(100 * math.exp(-0.5), rel=1e-15)
    r = nsc("sample", prog, "--inputs", "steps=3, k=0.1, t0=90; t0=50,k=0,steps=1")
    assert r.exit_code == 0, r.output
    assert [row[:3] for row in data_rows(r.stdout)] == [["90", "0.10000000000000001", "3"], ["50", "0", "1"]]


@pytest.mark.parametrize("spec, message", [
    ("t0=100,k=0.05", "--inputs: missing value for steps"),
    ("t0=100,k=0.05,steps=2,z=1", "--inputs: unknown input 'z' (the inputs are: t0, k, steps)"),
    ("t0=100,k=abc,steps=2", "--inputs: 'abc' (for 'k') is not a number"),
    ("nofile.csv", "--inputs 'nofile.csv': no such file, and not of the form NAME=VALUE"),
])
def test_sample_and_run_word_bad_inline_inputs_alike(prog, model, spec, message):
    for command in (["sample", prog], ["run", model]):
        assert_user_error(nsc(*command, "--inputs", spec), f"error: {message}")


# ----------------------------------------------------------------------------------------------- integer inputs

def test_run_refuses_a_fraction_for_an_integer_input_as_sample_does(tmp_path, prog, model):
    """(nsc run predicted for steps=10.5 without a word, where the program can only see 10.)"""
    message = "input 'steps' is an integer (int), but row {row} gives it 10.5 (the program would see 10)"
    for command in (["sample", prog], ["run", model]):
        assert_user_error(nsc(*command, "--inputs", "t0=100,k=0.05,steps=10.5"),
                          "error: --inputs: " + message.format(row=1))
        csv = tmp_path / "q.csv"
        csv.write_text("t0,k,steps\n100,0.05,3\n100,0.05,10.5\n")
        assert_user_error(nsc(*command, "--inputs", csv), f"{csv}: error: " + message.format(row=2))
        npy, npz = tmp_path / "q.npy", tmp_path / "q.npz"
        np.save(npy, np.array([[100, 0.05, 10.5]]))
        np.savez(npz, x=np.array([[100, 0.05, 3], [100, 0.05, 10.5]]), inputs=np.array(["t0", "k", "steps"]))
        assert_user_error(nsc(*command, "--inputs", npy), f"{npy}: error: " + message.format(row=1))
        assert_user_error(nsc(*command, "--inputs", npz), f"{npz}: error: " + message.format(row=2))
        assert_user_error(nsc(*command, "--inputs", "t0=100,k=0.05,steps=3000000000"),
                          "input 'steps' is of type 'int', which holds -2147483648 to 2147483647, but row 1 gives "
                          "it 3000000000")
    r = nsc("run", model, "--inputs", "t0=100,k=0.05,steps=10.0")  # an integer written with a point is fine
    assert r.exit_code == 0, r.output


# ----------------------------------------------------------------------------------------------- run's text

def shortest(value) -> str:
    return np.format_float_positional(np.float32(value), unique=True, trim="-")


def test_run_echoes_inputs_as_given_and_writes_outputs_at_float32_width(tmp_path, model):
    """(It echoed 0.050000000000000003 for k=0.05 and wrote outputs at double width, 20.17802619934082.)"""
    import nsc_runtime

    surrogate = nsc_runtime.load(str(model))
    r = nsc("run", model, "--inputs", "t0=100,k=0.05,steps=10")
    assert r.exit_code == 0, r.output
    [[t0, k, steps, ret]] = data_rows(r.stdout)
    y = surrogate.predict(np.array([[100, 0.05, 10]]))[0, 0]
    assert (t0, k, steps) == ("100", "0.05", "10")
    assert ret == shortest(y) and np.float32(float(ret)) == y
    # a CSV's own text, whatever its width, in the surrogate's column order (the file's order is steps, t0, k)
    csv = tmp_path / "q.csv"
    csv.write_text("steps,t0,k,note\n3,100.000,0.050000000000000003,a\n7,1.5e2,\"0.1\",b\n")
    r = nsc("run", model, "--inputs", csv)
    assert r.exit_code == 0, r.output
    rows = data_rows(r.stdout)
    assert [row[:3] for row in rows] == [["100.000", "0.050000000000000003", "3"], ["1.5e2", "0.1", "7"]]
    y = surrogate.predict(np.array([[100, 0.05, 3], [150, 0.1, 7]]))[:, 0]
    assert [row[3] for row in rows] == [shortest(v) for v in y]
    # binary inputs: each value as its stored type writes it
    npy = tmp_path / "q.npy"
    np.save(npy, np.array([[100, 0.05, 3]], dtype=np.float32))
    [[t0, k, steps, _]] = data_rows(nsc("run", model, "--inputs", npy).stdout)
    assert (t0, k, steps) == ("100", "0.05", "3")


def test_run_output_reads_back_to_the_same_float32(tmp_path, model):
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(50, 150, 3000), rng.uniform(0, 0.2, 3000), rng.integers(1, 21, 3000)])
    csv, out = tmp_path / "q.csv", tmp_path / "p.csv"
    np.savetxt(csv, x, delimiter=",", header="t0,k,steps", comments="", fmt="%.10g")
    assert nsc("run", model, "--inputs", csv, "-o", out).exit_code == 0
    import nsc_runtime

    y = nsc_runtime.load(str(model)).predict(np.loadtxt(csv, delimiter=",", skiprows=1))[:, 0]
    lines = out.read_text().splitlines()[1:]
    text = [line.rsplit(",", 1)[1] for line in lines]
    assert np.array_equal(np.array(text, dtype=np.float64).astype(np.float32), y)
    assert text == [shortest(v) for v in y]
    assert [line.rsplit(",", 1)[0] for line in lines] == csv.read_text().splitlines()[1:]  # the inputs, verbatim


# ----------------------------------------------------------------------------------------------- finetune report

def test_finetune_names_each_output_and_the_worst(tmp_path):
    prog, model, train = tmp_path / "two.c", tmp_path / "two.onnx", tmp_path / "two.csv"
    prog.write_text(TWO)
    assert nsc("compile", prog, "--init", "random", "-o", model).exit_code == 0
    assert nsc("sample", prog, "-n", "300", "-o", train).exit_code == 0
    r = nsc("finetune", model, train, "-o", tmp_path / "t.onnx", "--epochs", "5", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert [o["name"] for o in summary["per_output"]] == ["sum", "wave"]
    assert [o["rmse"] for o in summary["per_output"]] == summary["val_rmse"]
    assert [o["rel_rmse"] for o in summary["per_output"]] == summary["val_rel_rmse_per_output"]
    worst = max(summary["per_output"], key=lambda o: o["rel_rmse"])["name"]
    assert summary["worst_output"] == worst
    r = nsc("finetune", model, train, "-o", tmp_path / "t.onnx", "--epochs", "5")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_path / 't.onnx'}: 5 epochs (best ") and "validation RMSE on 60 rows" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["sum", "wave"]
    assert all("RMSE " in line and "rel-RMSE " in line for line in lines[1:])
    assert [line.endswith("<- worst") for line in lines[1:]] == [name == worst for name in ("sum", "wave")]


def test_finetune_keeps_a_vouched_start_unless_the_data_show_better(tmp_path):
    """A structurally compiled start (a stated error) must be beaten significantly, by the fine-tuned weights and
    by the random restart alike; a learned start (the hypernetwork's) is compared as any start is."""
    prog, train = tmp_path / "decay.c", tmp_path / "decay.csv"
    prog.write_text(PROGRAM)
    assert nsc("sample", prog, "-n", "300", "-o", train).exit_code == 0
    starts = {}
    for init in ("compiled", "hypernetwork"):
        model = tmp_path / f"{init}.onnx"
        assert nsc("compile", prog, "--init", init, "-o", model).exit_code == 0
        r = nsc("finetune", model, train, "-o", tmp_path / "t.onnx", "--epochs", "5", "--json")
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert isinstance(summary["kept_start"], bool)
        starts[init] = summary["start"]
    assert starts["compiled"].startswith("compiled start (a random restart was not significantly better")
    assert "significantly" not in starts["hypernetwork"]
