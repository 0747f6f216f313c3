"""`nsc emit-c`: the emitted C agrees with onnxruntime to float32 rounding on every example and on every
architecture nsc makes (silu, relu, tanh, per-unit floors, deep and wide), through both entry points and every
kernel width; it compiles as strict C99 without malloc; the command's options and errors."""

from __future__ import annotations

import json
import re
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from nsc.emit import harness
from nsc.execute import sample_inputs
from nsc.frontend.program import Signature
from nsc.surrogate import onnx_io
from nsc.surrogate.init import random_params
from nsc.surrogate.params import LINEAR_FLOOR, SurrogateParams
from test_check import assert_user_error, nsc

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.c"))
WIDTHS = {"w8": (), "w4": ("-DNSC_NO_AVX2",), "w1": ("-DNSC_SCALAR",)}  # default: AVX2+FMA where the CPU has it


def emitted(tmp_path, model, name, *options):
    r = nsc("emit-c", model, "-o", tmp_path / f"{name}.c", "--name", name, *options)
    assert r.exit_code == 0, r.output
    return tmp_path / f"{name}.c"


def build(tmp_path, model, name, flags=(), native=None, options=()):
    """The emitted C and the test driver (nsc/emit/harness.py), compiled with `flags`."""
    loaded = onnx_io.load_surrogate(model)
    sig = Signature.from_json(loaded.signature_json)
    c_path = emitted(tmp_path, model, name, *options)
    driver = tmp_path / f"{name}_driver.c"
    driver.write_text(harness.driver_source(sig, name, native=native is not None))
    exe = tmp_path / f"{name}_{abs(hash(flags))}"
    return harness.build(c_path, driver, exe, flags=("-std=c99", *flags), extra_sources=[native] if native else []), \
        loaded, sig


def inputs(sig, n=509, seed=0, beyond=0.0):
    """Rows in the declared ranges, widened by `beyond` of their width on each side (extrapolation too)."""
    lo, hi = sig.ranges()
    wide = [p.__class__(**{**p.__dict__, "lo": l - beyond * (h - l), "hi": h + beyond * (h - l)})
            for p, l, h in zip(sig.inputs, lo, hi)]
    return sample_inputs(Signature(sig.function, sig.return_ctype, sig.params, tuple(wide), sig.outputs), n,
                         np.random.default_rng(seed)).astype(np.float32)


def assert_agrees(c, loaded, model, x, rounded=()):
    """The C's outputs against onnxruntime's: per output, within 4x onnxruntime's own float32 error (its distance
    from the same network in float64) plus 2e-6 of the output's magnitude. Columns in `rounded` are integer
    outputs through the original signature: the C rounds them, so they must be onnxruntime's value rounded, or
    one off where that is within the tolerance of a .5."""
    import nsc_runtime

    with warnings.catch_warnings():  # the rows reach beyond the ranges on purpose (the C must agree there too)
        warnings.simplefilter("ignore", nsc_runtime.RangeWarning)
        ort = nsc_runtime.load(model).predict(x).astype(np.float64)
    f64 = loaded.params.predict(x.astype(np.float64))
    for j in range(ort.shape[1]):
        tol = 4 * np.abs(ort[:, j] - f64[:, j]).max() + 2e-6 * np.abs(f64[:, j]).max() + 1e-30
        if j in rounded:
            diff = np.abs(c[:, j] - np.clip(np.floor(np.abs(ort[:, j]) + 0.5) * np.sign(ort[:, j]), -2**31, 2**31 - 1))
            near_half = np.abs(np.abs(ort[:, j]) % 1 - 0.5) <= tol
            assert np.all((diff == 0) | ((diff == 1) & near_half)), j
        else:
            err = np.abs(c[:, j] - ort[:, j])
            assert err.max() <= tol, (j, err.max(), tol)


# ------------------------------------------------------------------------------------------------ examples

@pytest.mark.parametrize("program", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_agrees_with_onnxruntime(tmp_path, program, monkeypatch):
    """Each example as `nsc compile` makes it (the structural network, an MLP distilled from the graph, or the
    trained compiler's), both entry points, in and around its ranges."""
    import nsc.compiler.distill as distill

    monkeypatch.setattr(distill, "STEP_BUDGET", 1e7)  # (fewer distillation steps: agreement is what is tested)
    model = tmp_path / "m.onnx"
    assert nsc("compile", program, "-o", model).exit_code == 0
    exe, loaded, sig = build(tmp_path, model, "surrogate")
    x = inputs(sig, beyond=0.1)
    rounded = [j for j, p in enumerate(sig.outputs) if p.is_integer]
    assert_agrees(harness.run(exe, "batch", x, sig.n_out), loaded, model, x)
    assert_agrees(harness.run(exe, "rows", x, sig.n_out), loaded, model, x, rounded)


# ------------------------------------------------------------------------------------------------ architectures

SIGNATURE = """\
#pragma nsc range a -3 3
#pragma nsc range b 0 1000
#pragma nsc range w -1 1
#pragma nsc range n 0 20
double f(double a, double b, const float w[3], int n, double *out)
{ double s = a * b + n; for (int i = 0; i < 3; i++) s += w[i]; *out = s * 0.5; return s; }
"""


def save_model(tmp_path, params: SurrogateParams, name="net.onnx", source=SIGNATURE):
    """`params` under the signature of SIGNATURE (6 inputs, 2 outputs), written as nsc writes surrogates."""
    from nsc.frontend import load_program

    (tmp_path / "f.c").write_text(source)
    program = load_program(str(tmp_path / "f.c"))
    path = tmp_path / name
    onnx_io.save_onnx(onnx_io.surrogate_bytes(params, program.signature.to_json(),
                                              {"source_sha256": program.sha256, "compiler": "test",
                                               "history": []}), path)
    return path


def floors_params(widths, seed=0) -> SurrogateParams:
    """A deep network of varying widths with per-unit floors: ReLU units (0), identities (LINEAR_FLOOR) and
    other floors, as the structural compiler lays them out; scaled so values stay O(1) through the depth."""
    rng = np.random.default_rng(seed)
    lo, hi = np.array([-3, 0, -1, -1, -1, 0.0]), np.array([3, 1000, 1, 1, 1, 20.0])
    p = random_params(6, 2, lo, hi, seed=seed, hidden=tuple(widths), activation="relu")
    p.floors = [rng.choice([0.0, LINEAR_FLOOR, -0.5, 0.25], size=w).astype(np.float32) for w in widths]
    p.weights = [(w * np.float32(1.7)).astype(np.float32) for w in p.weights]
    p.out_scale = np.array([3.0, 250.0], np.float32)
    p.out_shift = np.array([-1.0, 1e3], np.float32)
    return p


ARCHITECTURES = {
    "silu-64x64": lambda: random_params(6, 2, [-3, 0, -1, -1, -1, 0], [3, 1000, 1, 1, 1, 20], seed=1),
    "relu-3-layers": lambda: random_params(6, 2, [-3, 0, -1, -1, -1, 0], [3, 1000, 1, 1, 1, 20], seed=2,
                                           hidden=(33, 7, 100), activation="relu"),
    "tanh-wide": lambda: random_params(6, 2, [-3, 0, -1, -1, -1, 0], [3, 1000, 1, 1, 1, 20], seed=3,
                                       hidden=(300, 17), activation="tanh"),
    "floors-deep": lambda: floors_params([9, 40, 300, 64, 5, 128, 31, 8, 8, 200, 77, 1, 16, 24, 96, 3, 40, 12,
                                          64, 20, 33, 7, 250, 18, 6, 50, 10, 9, 64, 11]),
    "floors-shallow": lambda: floors_params([1]),
}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_architecture_and_kernel_width_agrees_with_onnxruntime(tmp_path, arch, width):
    """Hand-built networks nsc can produce (deep floors networks of varying widths included) through each kernel:
    32-byte vectors (AVX2, FMA), 16-byte vectors and plain C99 scalars; an int input, array input and pointer
    output; a few rows more than a whole number of blocks, so both the block and the row kernel run."""
    model = save_model(tmp_path, ARCHITECTURES[arch]())
    exe, loaded, sig = build(tmp_path, model, "net", WIDTHS[width])
    x = inputs(sig, n=16 * 13 + 7, seed=5, beyond=0.2)
    assert_agrees(harness.run(exe, "batch", x, sig.n_out), loaded, model, x)
    assert_agrees(harness.run(exe, "rows", x, sig.n_out), loaded, model, x)


def test_activations_are_accurate_to_float32_rounding(tmp_path):
    """One unit, weight 1, bias 0, between a scalar input and the output: the C's silu and tanh against float64
    over a dense grid in [-100, 100], within a few float32 ulps of the value, or 1e-35 where it is below that
    (silu(z) for z < -80: exp clamps its argument at -87)."""
    z = np.concatenate([np.linspace(-100, 100, 40001), np.linspace(-1, 1, 20001),
                        np.array([0.0, 1e-30, -1e-30, 0.25, -0.25, 87, -87, 88.5, -88.5])]).astype(np.float32)
    # (the range the identity normalisation in_shift 0, in_scale 1 stands for, as every surrogate file's must;
    # the grid goes beyond it, which the unguarded C computes all the same)
    src = "#pragma nsc range x -1 1\ndouble g(double x) { return x; }\n"
    for activation, ref in (("silu", lambda v: v / (1 + np.exp(-v))), ("tanh", np.tanh)):
        p = SurrogateParams(np.zeros(1, np.float32), np.ones(1, np.float32), [np.ones((1, 1), np.float32),
                            np.ones((1, 1), np.float32)], [np.zeros(1, np.float32), np.zeros(1, np.float32)],
                            np.ones(1, np.float32), np.zeros(1, np.float32), activation, True)
        model = save_model(tmp_path, p, f"{activation}.onnx", source=src)
        # -ffast-math lets the compiler undo exp's two-step range reduction: 1e-5 relative there (~100 ulps)
        for flags, mode, most in [((), "batch", 8), ((), "rows", 8), (("-DNSC_SCALAR",), "rows", 8),
                                  (("-ffast-math",), "batch", 100)]:
            exe, _, sig = build(tmp_path, model, activation, flags)
            got = harness.run(exe, mode, z[:, None], 1)[:, 0].astype(np.float64)
            want = ref(z.astype(np.float64))
            ulps = np.abs(got - want) / np.maximum(np.spacing(np.abs(want).astype(np.float32)), 1e-35)
            assert ulps.max() <= most, (activation, flags, mode, float(z[np.argmax(ulps)]), ulps.max())


# ------------------------------------------------------------------------------------------------ the C itself

def test_the_c_is_strict_c99_without_malloc_and_needs_no_library(tmp_path):
    model = save_model(tmp_path, floors_params([12, 5]))
    c_path = emitted(tmp_path, model, "strict")
    text = c_path.read_text() + (tmp_path / "strict.h").read_text()
    assert not re.search(r"\b(malloc|calloc|realloc|free|printf|fopen)\b", text)
    assert "static const float nsc_model_w0[" in text  # the weights are constants
    for flags in [(), ("-DNSC_SCALAR",), ("-DNSC_NO_AVX2",), ("-mavx2", "-mfma")]:
        done = subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", *flags, "-c",
                               str(c_path), "-o", str(tmp_path / "strict.o")], capture_output=True, text=True)
        assert done.returncode == 0, (flags, done.stderr)
    # the header alone is valid C and C++-safe; the object calls no library function (no libm either)
    undefined = subprocess.run(["nm", "-u", str(tmp_path / "strict.o")], capture_output=True, text=True).stdout
    assert not [s for s in undefined.split() if s not in ("U",) and not s.startswith("__")], undefined


def test_the_c_states_signature_ranges_and_certificate(tmp_path):
    program = ROOT / "examples" / "thermistor.c"
    model = tmp_path / "t.onnx"
    assert nsc("compile", program, "-o", model).exit_code == 0
    text = emitted(tmp_path, model, "therm").read_text()
    header = (tmp_path / "therm.h").read_text()
    assert "uncertified" in text and "#define THERM_CERTIFIED 0" in header
    assert nsc("check", model, program, "-n", "500").exit_code == 0
    text = emitted(tmp_path, model, "therm").read_text()
    header = (tmp_path / "therm.h").read_text()
    cert = json.loads(onnx_io.load_surrogate(model).metadata["certificate"])
    assert "#define THERM_CERTIFIED 1" in header and "#define THERM_CHECK_N 500" in header
    assert f"rel-RMSE {cert['outputs']['return']['rel_rmse']:.3g}" in text
    assert repr(cert["outputs"]["return"]["rmse"]) in text  # the constant therm_certificate[]
    sig = Signature.from_json(onnx_io.load_surrogate(model).signature_json)
    port = sig.inputs[0]
    assert re.search(rf"{re.escape(port.name)}\s+{port.ctype}\s+\[{port.lo:.9g}, {port.hi:.9g}\]", text)
    assert "double therm(int adc_code);" in header


# ------------------------------------------------------------------------------------------------ the command

def test_emit_c_names_and_paths(tmp_path):
    model = save_model(tmp_path, floors_params([4]))
    r = nsc("emit-c", model, "-o", tmp_path / "x.c", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["name"] == "f_surrogate" and summary["header"] == str(tmp_path / "x.h")
    assert '#include "x.h"' in (tmp_path / "x.c").read_text()
    assert "double f_surrogate(double a, double b, const float *w, int n, double *out);" in \
        (tmp_path / "x.h").read_text()
    assert_user_error(nsc("emit-c", model, "-o", tmp_path / "x.cpp"), "NAME.c")
    assert_user_error(nsc("emit-c", model, "-o", tmp_path / "missing" / "x.c"), "does not exist")
    for bad in ("2fast", "int", "a-b", "nsc_thing", "_Hidden", "x" * 60):
        assert_user_error(nsc("emit-c", model, "-o", tmp_path / "y.c", "--name", bad), "--name")
    assert not (tmp_path / "y.c").exists() and not (tmp_path / "y.h").exists()
    assert_user_error(nsc("emit-c", model, "--guard", "--name", "f", "-o", tmp_path / "y.c"), "original function")
    assert_user_error(nsc("emit-c", model, "--max-error", "0.1", "-o", tmp_path / "y.c"), "--guard")
    assert_user_error(nsc("emit-c", model, "--guard", "--max-error", "0.1", "-o", tmp_path / "y.c"),
                      "no error predictor", "nsc check --guard")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    assert_user_error(nsc("emit-c", tmp_path / "junk.onnx", "-o", tmp_path / "y.c"), "junk.onnx")
    # without a guard, the surrogate may take the original's name: a link-time swap
    assert nsc("emit-c", model, "--name", "f", "-o", tmp_path / "f_swap.c").exit_code == 0
