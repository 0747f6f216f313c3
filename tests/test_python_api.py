"""The Python API is a library, not the command line in disguise (issue 17 part 6): `nsc.run_model` returns the
predictions and prints nothing; every function takes real, documented keyword arguments; a wrong argument type
is an NscError naming the argument, never a silent reinterpretation (include_dirs="include" read as the
directories i, n, c, ...) or a traceback."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import nsc
from nsc import toolchain
from nsc.errors import NscError

POLY = """\
#include <math.h>
#pragma nsc range x -2 2
#pragma nsc range y 0 3
double poly(double x, double y) { return x * x - 0.5 * y + sin(x * y); }
"""
HEADER_PROGRAM = """\
#include "scale.h"
#pragma nsc range x 0 1
double f(double x) { return SCALE * x; }
"""


@pytest.fixture()
def poly(tmp_path):
    path = tmp_path / "poly.c"
    path.write_text(POLY)
    return path


@pytest.fixture()
def model(tmp_path, poly):
    out = tmp_path / "poly.onnx"
    nsc.compile_file(poly, out, init="random", seed=1)
    return out


def test_run_model_returns_the_predictions_and_prints_nothing(model, capsys):
    columns = nsc.run_model(model, "x=0.5,y=1;x=-1,y=2")
    assert list(columns) == ["x", "y", "return"]  # inputs as read, then predictions: the CSV's columns
    np.testing.assert_array_equal(columns["x"], [0.5, -1.0])
    assert columns["return"].dtype == np.float32 and columns["return"].shape == (2,)
    import nsc_runtime

    expected = nsc_runtime.load(model).predict({"x": [0.5, -1.0], "y": [1.0, 2.0]})[:, 0]
    np.testing.assert_array_equal(columns["return"], expected)
    assert capsys.readouterr().out == ""


def test_run_model_writes_a_file_or_stdout_only_when_asked(tmp_path, model, capsys):
    out = tmp_path / "p.json"
    columns = nsc.run_model(model, "x=0.5,y=1", output=out)
    [row] = json.loads(out.read_text())
    assert row["return"] == pytest.approx(float(columns["return"][0]), rel=1e-6)
    assert capsys.readouterr().out == ""
    nsc.run_model(model, "x=0.5,y=1", output="-")
    assert capsys.readouterr().out.splitlines()[0] == "x,y,return"


def test_run_model_refuses_arrays_and_points_to_the_runtime(model):
    with pytest.raises(NscError, match=r"inputs must be .* not ndarray: .*nsc_runtime\.load\(model\)\.predict"):
        nsc.run_model(model, np.array([[0.5, 1.0]]))
    with pytest.raises(NscError, match="device must be one of 'cpu', 'cuda'"):
        nsc.run_model(model, "x=0.5,y=1", device="gpu")
    with pytest.raises(NscError, match="fmt must be one of 'csv', 'json'"):
        nsc.run_model(model, "x=0.5,y=1", output="-", fmt="xml")


@pytest.mark.parametrize("call, message", [
    (lambda p, t: nsc.compile_file({"path": str(p)}), r"the program must be a file path .* not dict"),
    (lambda p, t: nsc.compile_file(p, output=3), "output must be a file path"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", include_dirs="include"),
     r"include_dirs must be a list of paths, not one str: write include_dirs=\['include'\]"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", defines="N=4"), r"write defines=\['N=4'\]"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", ranges=5), "ranges must be a list of 'NAME=LO:HI'"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", ranges={"x": "0:1"}), r"a dict's items are NAME: \(LO, HI\)"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", default_range=[0]), "default_range must be 'LO:HI' or a pair"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", function=["poly"]), "function must be a str or None"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", init="rand"), "init must be one of 'compiled', 'structural'"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", init="random", seed=1.5), "seed must be an integer"),
    (lambda p, t: nsc.compile_file(p, t / "o.onnx", write_md="yes"), "write_md must be True or False"),
    (lambda p, t: nsc.sample_file(p, n=10, timeout="5"), "timeout must be a finite positive number"),
    (lambda p, t: nsc.sample_file(p, n=10, memory_mb=8), "memory_mb must be an integer >= 16"),
    (lambda p, t: nsc.sample_file(p), "give exactly one of n .* and inputs_path"),
    (lambda p, t: nsc.sample_file(p, n=10, keep_nonfinite=1), "keep_nonfinite must be True or False"),
    (lambda p, t: nsc.evaluate_files(str(p)), r"paths must be a list of paths, not one str"),
    (lambda p, t: nsc.evaluate_files([p], test_size=10), "test_size must be an integer >= 100"),
    (lambda p, t: nsc.evaluate_files([p], echo="log.txt"), "echo must be a function"),
    (lambda p, t: nsc.inspect_model(None), "the model must be a file path"),
    (lambda p, t: nsc.finetune_file(t / "m.onnx", {"x": [1]}), "the data must be a file path"),
])
def test_a_wrong_argument_is_an_nsc_error_naming_it(tmp_path, poly, call, message):
    with pytest.raises(NscError, match=message):
        call(poly, tmp_path)
    assert not (tmp_path / "o.onnx").exists()


def test_finetune_checks_recipe_and_warns_on_stderr(tmp_path, model, poly, capsys):
    data = tmp_path / "d.csv"
    nsc.sample_file(poly, n=40, output=data, seed=2)
    with pytest.raises(NscError, match="recipe must be a dict"):
        nsc.finetune_file(model, data, output=tmp_path / "t.onnx", recipe=[("max_epochs", 2)])
    data.write_text(data.read_text().replace("x,y,return", "x,y,return,note").replace("\n", ",1\n")
                    .replace("note,1", "note"))
    capsys.readouterr()
    summary = nsc.finetune_file(model, data, output=tmp_path / "t.onnx", recipe={"max_epochs": 2})
    assert summary["epochs"] >= 1
    captured = capsys.readouterr()
    assert captured.out == "" and "warning" in captured.err  # the ignored column 'note', on standard error


def test_program_options_are_real_keywords_and_accept_python_values(tmp_path, poly):
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "scale.h").write_text("#ifndef SCALE\n#define SCALE 2.0\n#endif\n")
    prog = tmp_path / "h.c"
    prog.write_text(HEADER_PROGRAM)
    summary = nsc.compile_file(prog, tmp_path / "h.onnx", init="random", include_dirs=[tmp_path / "include"],
                               defines={"SCALE": 3})
    assert summary["inputs"] == ["x"]
    out = tmp_path / "h.csv"
    nsc.sample_file(prog, n=3, output=out, include_dirs=[tmp_path / "include"], defines=[("SCALE", "3")],
                    ranges={"x": (0, 10)})
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(rows[:, 1], 3 * rows[:, 0])
    assert rows[:, 0].max() > 1  # the range from the dict, not the pragma's [0, 1]
    p = toolchain.load_program(poly, ranges={"x": (0, 1)}, default_range=(0, 5))
    assert p.signature.inputs[0].hi == 1.0


def test_every_api_function_documents_every_argument():
    program_options = {"function", "ranges", "default_range", "include_dirs", "defines"}
    for name in nsc.__all__:
        if name == "NscError":
            continue
        fn = getattr(nsc, name)
        params = set(inspect.signature(fn).parameters)
        assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()), name
        if name in ("compile_file", "sample_file", "evaluate_files"):
            assert program_options <= params, name
        doc = fn.__doc__
        for param in params - {"path", "paths", "model_path", "data_path", "inputs", "output"}:
            assert param in doc, (name, param)
