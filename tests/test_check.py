"""`nsc check`: the certificate's figures, where it is stored and shown, when it stops holding, and tampering."""

from __future__ import annotations

import json
import math

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from nsc.cli import main
from nsc.evaluate import error_figures
from nsc.surrogate import certificate, onnx_io

POLY = """\
#include <math.h>
#pragma nsc range x -2 2
#pragma nsc range y 0 3
double poly(double x, double y, double *grad) { *grad = 2.0 * x; return x * x - 0.5 * y + sin(x * y); }
"""


def nsc(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_user_error(result, *needles):
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output and "error:" in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


@pytest.fixture
def model(tmp_path):
    (tmp_path / "poly.c").write_text(POLY)
    out = tmp_path / "poly.onnx"
    assert nsc("compile", tmp_path / "poly.c", "--init", "random", "-o", out).exit_code == 0
    return out


def test_error_figures_follow_their_definitions():
    y_true = np.array([[1.0], [2.0], [-4.0], [0.0]])
    y_pred = np.array([[1.5], [2.0], [-3.0], [0.002]])
    f = error_figures(y_pred, y_true, ["r"])["r"]
    err = np.array([0.5, 0.0, 1.0, 0.002])
    assert f["rmse"] == pytest.approx(math.sqrt(np.mean(err ** 2)))
    assert f["rel_rmse"] == pytest.approx(f["rmse"] / y_true.std())
    assert f["abs_max"] == pytest.approx(1.0) and f["abs_p50"] == pytest.approx(np.median(err))
    # relative to |true|, floored at 1e-3 of the column's largest |value| (4): the zero divides by 0.004
    assert f["relative_floor"] == pytest.approx(0.004)
    assert f["rel_max"] == pytest.approx(0.5) and f["rel_p50"] == pytest.approx(np.median([0.5, 0, 0.25, 0.5]))


def test_check_measures_against_the_program_and_stores_the_certificate(tmp_path, model):
    r = nsc("check", model, tmp_path / "poly.c", "-n", "3000", "--seed", "7", "--json",
            "--plot", tmp_path / "parity.png")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    cert = summary["certificate"]
    assert summary["certified"] and cert["n"] == 3000 and cert["seed"] == 7
    assert (tmp_path / "parity.png").read_bytes()[:4] == b"\x89PNG"
    # the same figures from the real program and the runtime, recomputed here
    import nsc_runtime

    from nsc.execute import sample_program
    from nsc.frontend import load_program

    sample = sample_program(load_program(str(tmp_path / "poly.c")), n=3000, seed=7)
    y_pred = nsc_runtime.load(model).predict(sample.x)
    expected = error_figures(y_pred, sample.y, ["return", "grad"])
    for name in ("return", "grad"):
        for key, value in expected[name].items():
            assert cert["outputs"][name][key] == pytest.approx(value, rel=1e-9), (name, key)
    assert cert["outside_ranges"] == 0.0 and cert["program_sha256"] == certificate.hashlib.sha256(
        (tmp_path / "poly.c").read_bytes()).hexdigest()
    # stored in the model, and shown by inspect (text and JSON)
    loaded = onnx_io.load_surrogate(model)
    assert json.loads(loaded.metadata["certificate"]) == cert
    info = json.loads(nsc("inspect", model, "--json").output)
    assert info["certified"] is True and info["certificate"] == cert
    text = nsc("inspect", model).output
    assert "certified against" in text and "rel p99" in text and "3000 fresh inputs" in text


def test_a_wider_range_measures_extrapolation_and_counts_the_rows_outside(tmp_path, model):
    r = nsc("check", model, tmp_path / "poly.c", "-n", "4000", "--range", "x=-4:4", "--json")
    assert r.exit_code == 0, r.output
    cert = json.loads(r.stdout)["certificate"]
    assert cert["sampled_ranges"]["x"] == [-4.0, 4.0] and cert["sampled_ranges"]["y"] == [0.0, 3.0]
    assert cert["outside_by_input"]["x"] == pytest.approx(0.5, abs=0.05) and cert["outside_by_input"]["y"] == 0
    assert cert["outside_ranges"] == cert["outside_by_input"]["x"]
    assert "outside the declared ranges" in nsc("check", model, tmp_path / "poly.c", "-n", "50").output


def test_the_certificate_lapses_when_the_weights_or_the_program_change(tmp_path, model):
    assert nsc("check", model, tmp_path / "poly.c", "-n", "300").exit_code == 0
    train = tmp_path / "train.csv"
    assert nsc("sample", tmp_path / "poly.c", "-n", "200", "-o", train).exit_code == 0
    tuned = tmp_path / "tuned.onnx"
    assert nsc("finetune", model, train, "-o", tuned, "--epochs", "2").exit_code == 0
    info = json.loads(nsc("inspect", tuned, "--json").output)
    assert info["certified"] is False and "weights changed" in info["certificate_status"]
    assert json.loads(nsc("inspect", model, "--json").output)["certified"] is True
    (tmp_path / "poly.c").write_text(POLY.replace("0.5 * y", "0.25 * y"))
    info = json.loads(nsc("inspect", model, "--json").output)
    assert info["certified"] is False and "changed since" in info["certificate_status"]
    assert "uncertified" in nsc("inspect", model).output


def test_an_unchecked_model_reads_as_uncertified(model):
    info = json.loads(nsc("inspect", model, "--json").output)
    assert info["certificate"] is None and info["certified"] is False
    assert "uncertified" in nsc("inspect", model).output


def test_check_refuses_another_program_and_leaves_the_model_alone(tmp_path, model):
    other = tmp_path / "other.c"
    other.write_text("#pragma nsc range x -2 2\n#pragma nsc range z 0 3\ndouble poly(double x, double z) "
                     "{ return x * z; }\n")
    before = model.read_bytes()
    assert_user_error(nsc("check", model, other), "is not the surrogate's", "poly(x, y)")
    assert_user_error(nsc("check", model, tmp_path / "poly.c", "--plot", tmp_path / "p.gif"), ".png")
    assert_user_error(nsc("check", model, tmp_path / "poly.c", "-o", tmp_path / "poly.c"), "same as the output")
    assert_user_error(nsc("check", model, tmp_path / "poly.c", "--plot", tmp_path / "no" / "p.png"),
                      "does not exist")
    assert model.read_bytes() == before


def test_check_names_a_row_where_the_program_crashes(tmp_path):
    src = tmp_path / "crash.c"
    src.write_text("#pragma nsc range x 0 1\ndouble f(double x) { if (x > 0.5) { int *p = 0; return *p; } "
                   "return x; }\n")
    out = tmp_path / "f.onnx"
    assert nsc("compile", src, "--init", "random", "-o", out).exit_code == 0
    before = out.read_bytes()
    assert_user_error(nsc("check", out, src, "-n", "100"), "input row")
    assert out.read_bytes() == before


def test_check_says_how_many_rows_gave_nan_and_were_left_out(tmp_path):
    src = tmp_path / "root.c"
    src.write_text("#include <math.h>\n#pragma nsc range a -1 3\ndouble f(double a) { return sqrt(a) + 1.0; }\n")
    out = tmp_path / "f.onnx"
    assert nsc("compile", src, "-o", out).exit_code == 0
    result = nsc("check", out, src, "-n", "400")
    assert result.exit_code == 0, result.output
    kept = int(result.output.split(" fresh inputs")[0].rsplit(" ", 1)[1])
    assert 0 < kept < 400 and f"{400 - kept} more gave the program NaN or Inf outputs and were left out" in \
        result.output, result.output


def _tamper(path, out, edit):
    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == "nsc.certificate":
            prop.value = edit(prop.value)
    onnx.save(model, str(out))


@pytest.mark.parametrize("edit, needle", [
    (lambda t: t[:-5], "not valid JSON"),
    (lambda t: "[]", "not a JSON object"),
    (lambda t: t.replace('"version":1', '"version":7'), "version 7"),
    (lambda t: t.replace('"n":300', '"n":-3'), "n is -3"),
    (lambda t: t.replace('"weights_sha256":"', '"weights_sha256":"zz'), "weights_sha256"),
    (lambda t: t.replace('"grad":{', '"gradient":{'), "outputs does not name"),
    (lambda t: t.replace('"rmse":', '"rmse":NaN,"x":'), "NaN is not JSON"),  # (JSON has no NaN: refused as it is read)
    (lambda t: t.replace('"outside_ranges":0.0', '"outside_ranges":2'), "outside_ranges"),
    (lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "program"}), "program"),
])
def test_a_tampered_certificate_is_a_one_line_error(tmp_path, model, edit, needle):
    assert nsc("check", model, tmp_path / "poly.c", "-n", "300").exit_code == 0
    bad = tmp_path / "bad.onnx"
    _tamper(model, bad, edit)
    r = nsc("inspect", bad)
    assert_user_error(r, "damaged nsc surrogate", needle)
    assert len(r.output.strip().splitlines()) == 1


def test_the_runtime_reads_the_certificate_as_json(tmp_path, model):
    import nsc_runtime

    assert nsc("check", model, tmp_path / "poly.c", "-n", "300").exit_code == 0
    meta = nsc_runtime.load(model).metadata
    assert meta["certificate"]["n"] == 300 and set(meta["certificate"]["outputs"]) == {"return", "grad"}


def test_the_python_api_checks_too(tmp_path, model):
    import nsc as api

    summary = api.check_file(str(model), str(tmp_path / "poly.c"), n=200, output=str(tmp_path / "c.onnx"))
    assert summary["certified"] and summary["certificate"]["n"] == 200
    assert "certificate" not in onnx_io.load_surrogate(model).metadata  # -o: the input model is left as it was
    with pytest.raises(api.NscError, match="positive integer"):
        api.check_file(str(model), str(tmp_path / "poly.c"), n=0)
