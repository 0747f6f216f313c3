"""The guard of `nsc emit-c --guard`: inputs outside the ranges, and (with `nsc check --guard`'s error predictor)
rows predicted to be worse than the threshold, are answered by the original function linked from the program;
where the surrogate answers, its error stays under the threshold; the counters count it all."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nsc.emit import harness
from nsc.execute import sample_inputs
from nsc.frontend.program import Signature
from nsc.surrogate import guard, onnx_io
from test_check import assert_user_error, nsc

POLY = """\
#include <math.h>
#pragma nsc range x -2 2
#pragma nsc range y 0 3
double poly(double x, double y, double *grad) { *grad = 2.0 * x * cos(y); return x * x - 0.5 * y + sin(x * y); }
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A surrogate of POLY fine-tuned briefly from random weights: its error varies over the domain."""
    tmp = tmp_path_factory.mktemp("guard")
    (tmp / "poly.c").write_text(POLY)
    model = tmp / "poly.onnx"
    assert nsc("compile", tmp / "poly.c", "--init", "random", "-o", model).exit_code == 0
    assert nsc("sample", tmp / "poly.c", "-n", "300", "--seed", "1", "-o", tmp / "train.csv").exit_code == 0
    assert nsc("finetune", model, tmp / "train.csv", "--epochs", "30").exit_code == 0
    return tmp, model


def build_guarded(tmp, model, name, *options):
    r = nsc("emit-c", model, "-o", tmp / f"{name}.c", "--name", name, "--guard", *options)
    assert r.exit_code == 0, r.output
    sig = Signature.from_json(onnx_io.load_surrogate(model).signature_json)
    (tmp / f"{name}_driver.c").write_text(harness.driver_source(sig, name, native=True))
    exe = harness.build(tmp / f"{name}.c", tmp / f"{name}_driver.c", tmp / name, flags=("-std=c99",),
                        extra_sources=[tmp / "poly.c"])
    return exe, sig


def test_the_range_guard_falls_back_outside_the_ranges(tuned):
    tmp, model = tuned
    exe, sig = build_guarded(tmp, model, "poly_ranged")
    x = sample_inputs(sig, 1000, np.random.default_rng(3)).astype(np.float32)
    x[:50, 0] = 2.5  # x beyond [-2, 2]
    x[50:60, 1] = -0.01  # y below [0, 3]
    x[60, 0] = np.nan
    native = harness.run(exe, "native", x, 2)
    for mode in ("batch", "rows"):
        y, stats = harness.run(exe, mode, x, 2, stats=True)
        assert stats == {"calls": 1000, "fallbacks": 61, "out_of_range": 61, "predicted_error": 0}
        np.testing.assert_array_equal(y[:60], native[:60])  # answered by the original
        assert np.all(y[61:] != native[61:])  # the surrogate's own values elsewhere
    # where the guard does not fall back, it is the plain surrogate
    r = nsc("emit-c", model, "-o", tmp / "poly_plain.c", "--name", "poly_plain")
    assert r.exit_code == 0
    (tmp / "poly_plain_driver.c").write_text(harness.driver_source(sig, "poly_plain"))
    plain = harness.build(tmp / "poly_plain.c", tmp / "poly_plain_driver.c", tmp / "poly_plain", flags=("-std=c99",))
    np.testing.assert_array_equal(harness.run(plain, "batch", x, 2)[61:], harness.run(exe, "batch", x, 2)[61:])


def test_where_the_guarded_surrogate_answers_its_error_stays_under_the_threshold(tuned):
    """The error predictor from `nsc check --guard`, at a threshold where about half the fresh rows are answered
    by the surrogate: every one of those is within the threshold of the real program (error = max over outputs
    of |error| / the output's standard deviation), and every other row is the real program's answer."""
    tmp, model = tuned
    r = nsc("check", model, tmp / "poly.c", "-n", "4000", "--guard", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)["guard"]
    assert summary["n_train"] + summary["n_calibration"] == 4000
    record = guard.read(onnx_io.load_surrogate(model).metadata)
    scale = np.array([record["error_scale"][n] for n in ("return", "grad")])
    sig = Signature.from_json(onnx_io.load_surrogate(model).signature_json)
    x = sample_inputs(sig, 4000, np.random.default_rng(99)).astype(np.float32)  # fresh: not the check's seed
    threshold = float(np.exp(np.median(guard.predictor_params(record).predict(x.astype(np.float64)))))
    exe, _ = build_guarded(tmp, model, "poly_guarded", "--max-error", repr(threshold))
    native = harness.run(exe, "native", x, 2).astype(np.float64)
    for mode in ("batch", "rows"):
        y, stats = harness.run(exe, mode, x, 2, stats=True)
        answered = np.any(y != native, axis=1)
        assert 0.3 < answered.mean() < 0.7, answered.mean()
        assert stats["calls"] == 4000 and stats["out_of_range"] == 0
        assert stats["fallbacks"] == stats["predicted_error"] == int((~answered).sum())
        errors = (np.abs(y - native) / scale).max(axis=1)
        assert errors[answered].max() <= threshold, (errors[answered].max(), threshold)
    # the predictor is informative: every row the surrogate would have got wrong is refused, so the refused rows
    # hold them at twice the overall rate (it is conservative: it also refuses rows that were fine)
    worse = (np.abs(onnx_io.load_surrogate(model).params.predict(x.astype(np.float64)) - native) / scale).max(
        axis=1) > threshold
    assert worse.any() and worse[~answered].mean() >= 1.9 * worse.mean()


def test_the_predictor_is_stored_checked_and_tied_to_the_weights(tuned, tmp_path):
    tmp, model = tuned
    assert nsc("check", model, tmp / "poly.c", "-n", "1000", "--guard", "-o", tmp_path / "g.onnx").exit_code == 0
    meta = onnx_io.load_surrogate(tmp_path / "g.onnx").metadata
    record = guard.read(meta)
    assert record["n_train"] == 700 and record["n_calibration"] == 300
    assert "error predictor: trained on 700 rows, calibrated on 300" in nsc("inspect", tmp_path / "g.onnx").output
    assert len(record["predictor"]["weights"]) == 3  # 2 -> 16 -> 16 -> 1
    # a tampered predictor is a damaged file
    import onnx

    m = onnx.load(str(tmp_path / "g.onnx"))
    for prop in m.metadata_props:
        if prop.key == "nsc.guard":
            prop.value = prop.value.replace('"n_train":700', '"n_train":-1')
    onnx.save(m, str(tmp_path / "bad.onnx"))
    assert_user_error(nsc("inspect", tmp_path / "bad.onnx"), "damaged nsc surrogate", "nsc.guard: n_train")
    # weights changed since (as fine-tuning changes them, keeping the metadata): the predictor no longer holds
    loaded = onnx_io.load_surrogate(tmp_path / "g.onnx")
    loaded.params.biases[0] = loaded.params.biases[0] + np.float32(0.01)
    onnx_io.save_onnx(onnx_io.surrogate_bytes(loaded.params, loaded.signature_json, loaded.metadata),
                      tmp_path / "g.onnx")
    assert_user_error(nsc("emit-c", tmp_path / "g.onnx", "--guard", "--max-error", "0.1", "-o", tmp_path / "g.c"),
                      "trained for other weights")
    assert json.loads(nsc("inspect", tmp_path / "g.onnx", "--json").output)["error_predictor"]["current"] is False
    assert_user_error(nsc("emit-c", model, "--guard", "--max-error", "-1", "-o", tmp_path / "g.c"), "positive")
    assert_user_error(nsc("check", model, tmp / "poly.c", "-n", "12", "--guard"), "more rows")


def test_the_stats_and_threshold_api_from_c(tuned, tmp_path):
    """The header's API as a program uses it: the original signature, counters, reset, and the threshold."""
    import subprocess

    tmp, model = tuned
    assert nsc("check", model, tmp / "poly.c", "-n", "1000", "--guard", "-o", tmp_path / "g.onnx").exit_code == 0
    assert nsc("emit-c", tmp_path / "g.onnx", "-o", tmp_path / "ps.c", "--name", "ps", "--guard",
               "--max-error", "1e-6").exit_code == 0
    (tmp_path / "main.c").write_text(r"""
#include <stdio.h>
#include "ps.h"
double poly(double x, double y, double *grad);
int main(void)
{
    ps_stats_t s;
    double g, r = ps(3.0, 1.0, &g), g0, r0 = poly(3.0, 1.0, &g0);  /* x out of range: the original answers */
    int same = r == r0 && g == g0;
    ps(0.5, 1.0, &g);                  /* in range, but no surrogate row is predicted within 1e-6 */
    ps_stats(&s);
    printf("%d %llu %llu %llu %llu\n", same, s.calls, s.fallbacks, s.out_of_range, s.predicted_error);
    ps_stats_reset();
    ps_set_max_error(1e30f);           /* any predicted error is accepted now */
    ps(0.5, 1.0, &g);
    ps_stats(&s);
    printf("%llu %llu %g\n", s.calls, s.fallbacks, ps_max_error());
    return 0;
}
""")
    subprocess.run(["cc", "-std=c99", "-O2", "-o", tmp_path / "main", tmp_path / "main.c", tmp_path / "ps.c",
                    tmp / "poly.c", "-lm"], check=True)
    out = subprocess.run([tmp_path / "main"], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "1 2 2 1 1" and out[1] == "1 0 1e+30"
