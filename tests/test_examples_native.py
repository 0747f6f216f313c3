"""The example kernels in examples/ compute what they claim.

Each example is compiled natively with cc (as a shared library, called through ctypes) and compared with an
independent Python reimplementation of the same maths, written from the textbook formula rather than from the C
code where one exists (erf for the normal CDF, colorsys for HSV, forward kinematics for inversek2j, bisection
for Kepler's equation, an FFT for the DCT, a separating-axis test for jmeint, the closed-form annuity, the
analytic damped oscillator).  The tests also check what nsc needs from every example: each file compiles with
`cc -Wall` without warnings, declares a range for every input, stays within 32 inputs / 16 outputs, and gives
finite, non-constant outputs over its ranges (corners included).
"""

from __future__ import annotations

import cmath
import colorsys
import ctypes
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
N_RANDOM = 64  # interior samples per example, compared with the reference
N_CORNERS = 32  # random corners of the input box, checked for finite outputs only

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")


@dataclass(frozen=True)
class Arg:
    """One C parameter: ctype is 'double', 'float' or 'int'; n is the array length (None: scalar);
    out marks a pointer/array the function writes (a scalar out-pointer has n None)."""

    name: str
    ctype: str
    n: int | None = None
    out: bool = False


@dataclass(frozen=True)
class Example:
    function: str
    args: tuple[Arg, ...]
    returns: str | None  # 'double', 'float', 'int' or None for void
    reference: Callable[[dict], dict]  # inputs by parameter name -> outputs by parameter name ('return')
    atol: float
    rtol: float = 0.0

    @property
    def inputs(self) -> list[Arg]:
        return [a for a in self.args if not a.out]

    def input_columns(self) -> list[str]:
        return [c for a in self.inputs for c in _columns(a)]

    def output_columns(self) -> list[str]:
        cols = ["return"] if self.returns else []
        return cols + [c for a in self.args if a.out for c in _columns(a)]


def _columns(arg: Arg) -> list[str]:
    return [arg.name] if arg.n is None else [f"{arg.name}[{i}]" for i in range(arg.n)]


# ----------------------------------------------------------------------------------------------------------
# Independent Python references
# ----------------------------------------------------------------------------------------------------------

def ref_blackscholes(v):
    s, k, r, sigma, t = v["spot"], v["strike"], v["rate"], v["volatility"], v["time"]
    norm_cdf = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731
    d1 = (math.log(s / k) + (r + sigma**2 / 2) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    return {"return": s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)}


def ref_inversek2j(v):
    x, y, l1, l2 = v["x"], v["y"], 0.5, 0.5
    theta2 = math.acos((x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2))
    k1, k2 = l1 + l2 * math.cos(theta2), l2 * math.sin(theta2)
    theta1 = math.atan2(y, x) - math.atan2(k2, k1)
    return {"theta1": theta1, "theta2": theta2}


def ref_sobel(v):
    p = np.array(v["px"], dtype=np.float64).reshape(3, 3)
    gx = (p[:, 2] - p[:, 0]) @ np.array([1.0, 2.0, 1.0])
    gy = (p[2, :] - p[0, :]) @ np.array([1.0, 2.0, 1.0])
    return {"return": min(255.0, math.hypot(gx, gy) / (4 * math.sqrt(2)))}


def ref_sepia(v):
    rgb = np.array([v["r"], v["g"], v["b"]])
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return {"out": list(np.minimum(m @ rgb, 255.0))}


def ref_color_adjust(v):
    def channel(c):
        level = min(1.0, max(0.0, 0.5 + (c - 0.5) * v["contrast"] + v["brightness"]))
        return level ** (1.0 / v["gamma"])

    return {"out": [channel(v["r"]), channel(v["g"]), channel(v["b"])]}


def ref_rgb_to_hsv(v):
    h, s, val = colorsys.rgb_to_hsv(v["r"], v["g"], v["b"])
    return {"hsv": [360.0 * h, s, val]}


def ref_rgb_to_ycbcr(v):
    r, g, b = v["r"], v["g"], v["b"]
    # The JFIF matrix as printed in the JPEG File Interchange Format spec (rounded to 6 digits).
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return {"ycbcr": [y, cb, cr]}


def ref_kepler(v):
    m, e = v["mean_anomaly"], v["eccentricity"]
    lo, hi = 0.0, 2 * math.pi  # f(E) = E - e sin E - M is increasing, f(0) <= 0 <= f(2 pi)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mid - e * math.sin(mid) - m < 0:
            lo = mid
        else:
            hi = mid
    ecc_anomaly = 0.5 * (lo + hi)
    nu = math.atan2(math.sqrt(1 - e * e) * math.sin(ecc_anomaly), math.cos(ecc_anomaly) - e)
    return {"return": ecc_anomaly, "true_anomaly": nu % (2 * math.pi)}


def spring_euler(x0, v0, k, c, m, dt=0.01, steps=200):
    x, vel = x0, v0
    for _ in range(steps):
        vel += (-k * x - c * vel) / m * dt
        x += vel * dt
    return x, vel


def ref_spring(v):
    x, vel = spring_euler(v["x0"], v["v0"], v["stiffness"], v["damping"], v["mass"])
    return {"x_final": x, "v_final": vel}


def spring_exact(x0, v0, k, c, m, t=2.0):
    """Closed-form solution of m x'' + c x' + k x = 0 (distinct characteristic roots)."""
    root = cmath.sqrt(c * c - 4 * k * m)
    l1, l2 = (-c + root) / (2 * m), (-c - root) / (2 * m)
    b = (v0 - l1 * x0) / (l2 - l1)
    a = x0 - b
    x = a * cmath.exp(l1 * t) + b * cmath.exp(l2 * t)
    vel = a * l1 * cmath.exp(l1 * t) + b * l2 * cmath.exp(l2 * t)
    return x.real, vel.real


def ref_projectile(v, dt=0.005, g=9.81):
    angle = math.radians(v["angle_deg"])
    vx, vy = v["speed"] * math.cos(angle), v["speed"] * math.sin(angle)
    x = y = t = 0.0
    while True:
        speed = math.hypot(vx, vy)
        x_new, y_new = x + vx * dt, y + vy * dt
        vx -= v["drag"] * speed * vx * dt
        vy -= (g + v["drag"] * speed * vy) * dt
        if y_new < 0:
            frac = y / (y - y_new)
            return {"return": x + frac * (x_new - x), "flight_time": t + frac * dt}
        x, y, t = x_new, y_new, t + dt


def ref_income_tax(v):
    adjusted = max(0.0, v["income"] - v["pension"])
    allowance = max(0.0, 12570.0 - max(0.0, adjusted - 100000.0) / 2)
    taxable = max(0.0, adjusted - allowance)
    bands = [(0.0, 37700.0, 0.20), (37700.0, 112570.0, 0.40), (112570.0, math.inf, 0.45)]
    tax = sum(rate * max(0.0, min(taxable, top) - bottom) for bottom, top, rate in bands)
    return {"return": tax, "effective_rate": tax / v["income"]}


def ref_thermistor(v):
    temps = np.arange(-20.0, 131.0, 10.0)
    # Calibration table from the B-parameter equation, rounded to 0.1 ohm like the C table.
    table = np.round(10000.0 * np.exp(3950.0 * (1 / (temps + 273.15) - 1 / 298.15)), 1)
    resistance = 10000.0 * v["adc_code"] / (4095 - v["adc_code"])
    return {"return": float(np.interp(resistance, table[::-1], temps[::-1]))}


def ref_fir(v):
    return {"y": list(np.convolve(np.array(v["x"]), [0.4, 0.3, 0.2, 0.1], mode="valid"))}


def ref_dct8(v):
    x = np.array(v["x"])
    n = len(x)
    # DCT-II through the FFT of the even extension [x, reversed x] (Makhoul's method), then ortho scaling.
    spectrum = np.fft.fft(np.concatenate([x, x[::-1]]))[:n]
    k = np.arange(n)
    dct = 0.5 * np.real(np.exp(-1j * np.pi * k / (2 * n)) * spectrum)
    dct *= np.where(k == 0, math.sqrt(1 / n), math.sqrt(2 / n))
    return {"out": list(dct)}


def ref_loan(v):
    per_year = {0: 12, 1: 4}.get(int(v["frequency"]), 1)
    n = int(v["years"]) * per_year
    r = v["annual_rate"] / per_year
    payment = v["principal"] * r / (1 - (1 + r) ** -n)
    return {"return": payment, "total_interest": n * payment - v["principal"]}


def triangles_intersect_sat(t1: np.ndarray, t2: np.ndarray) -> bool:
    """Separating-axis test: two triangles are disjoint iff their projections on some axis (a face normal
    or a cross product of two edges) do not overlap."""
    e1 = [t1[(i + 1) % 3] - t1[i] for i in range(3)]
    e2 = [t2[(i + 1) % 3] - t2[i] for i in range(3)]
    axes = [np.cross(e1[0], e1[1]), np.cross(e2[0], e2[1])] + [np.cross(a, b) for a in e1 for b in e2]
    for axis in axes:
        if np.linalg.norm(axis) < 1e-12:
            continue
        p1, p2 = t1 @ axis, t2 @ axis
        if p1.max() < p2.min() or p2.max() < p1.min():
            return False
    return True


def ref_jmeint(v):
    t1 = np.array(v["tri1"], dtype=np.float64).reshape(3, 3)
    t2 = np.array(v["tri2"], dtype=np.float64).reshape(3, 3)
    return {"return": float(triangles_intersect_sat(t1, t2))}


def ref_kmeans(v):
    return {"return": float(np.linalg.norm(np.array(v["pixel"]) - np.array(v["centroid"])))}


def ref_fft_butterfly(v):
    a, b = complex(v["a_re"], v["a_im"]), complex(v["b_re"], v["b_im"])
    wb = cmath.exp(-2j * math.pi * v["fraction"]) * b
    return {"out": [(a + wb).real, (a + wb).imag, (a - wb).real, (a - wb).imag]}


D, F, I = "double", "float", "int"  # noqa: E741

EXAMPLES: dict[str, Example] = {
    "blackscholes": Example("black_scholes_call", (Arg("spot", D), Arg("strike", D), Arg("rate", D),
                            Arg("volatility", D), Arg("time", D)), D, ref_blackscholes, atol=1e-4),
    "inversek2j": Example("inversek2j", (Arg("x", F), Arg("y", F), Arg("theta1", F, out=True),
                          Arg("theta2", F, out=True)), None, ref_inversek2j, atol=1e-4),
    "sobel": Example("sobel", (Arg("px", F, 9),), F, ref_sobel, atol=1e-3),
    "sepia": Example("sepia", (Arg("r", F), Arg("g", F), Arg("b", F), Arg("out", F, 3, out=True)), None,
                     ref_sepia, atol=1e-3),
    "color_adjust": Example("color_adjust", (Arg("r", D), Arg("g", D), Arg("b", D), Arg("brightness", D),
                            Arg("contrast", D), Arg("gamma", D), Arg("out", D, 3, out=True)), None,
                            ref_color_adjust, atol=1e-12),
    "rgb_to_hsv": Example("rgb_to_hsv", (Arg("r", D), Arg("g", D), Arg("b", D), Arg("hsv", D, 3, out=True)),
                          None, ref_rgb_to_hsv, atol=1e-9),
    "rgb_to_ycbcr": Example("rgb_to_ycbcr", (Arg("r", D), Arg("g", D), Arg("b", D),
                            Arg("ycbcr", D, 3, out=True)), None, ref_rgb_to_ycbcr, atol=1e-3),
    "kepler": Example("kepler_solve", (Arg("mean_anomaly", D), Arg("eccentricity", D),
                      Arg("true_anomaly", D, out=True)), D, ref_kepler, atol=1e-9),
    "spring": Example("damped_spring", (Arg("x0", D), Arg("v0", D), Arg("stiffness", D), Arg("damping", D),
                      Arg("mass", D), Arg("x_final", D, out=True), Arg("v_final", D, out=True)), None,
                      ref_spring, atol=1e-9),
    "projectile": Example("projectile_range", (Arg("speed", D), Arg("angle_deg", D), Arg("drag", D),
                          Arg("flight_time", D, out=True)), D, ref_projectile, atol=1e-7),
    "income_tax": Example("income_tax", (Arg("income", D), Arg("pension", D),
                          Arg("effective_rate", D, out=True)), D, ref_income_tax, atol=1e-6),
    "thermistor": Example("thermistor_celsius", (Arg("adc_code", I),), D, ref_thermistor, atol=1e-9),
    "fir_filter": Example("fir_filter", (Arg("x", F, 8), Arg("y", F, 5, out=True)), None, ref_fir, atol=1e-5),
    "dct8": Example("dct8", (Arg("x", D, 8), Arg("out", D, 8, out=True)), None, ref_dct8, atol=1e-9),
    "loan": Example("loan_payment", (Arg("principal", D), Arg("annual_rate", D), Arg("years", I),
                    Arg("frequency", I), Arg("total_interest", D, out=True)), D, ref_loan, atol=0.0, rtol=1e-7),
    "jmeint": Example("jmeint", (Arg("tri1", F, 9), Arg("tri2", F, 9)), I, ref_jmeint, atol=0.0),
    "kmeans": Example("color_distance", (Arg("pixel", F, 3), Arg("centroid", F, 3)), F, ref_kmeans, atol=1e-6),
    "fft_butterfly": Example("fft_butterfly", (Arg("a_re", F), Arg("a_im", F), Arg("b_re", F), Arg("b_im", F),
                             Arg("fraction", F), Arg("out", F, 4, out=True)), None, ref_fft_butterfly, atol=1e-5),
}

# Outputs that are angles: compared modulo 2 pi (or 360 degrees), since e.g. 359.9999 and 0 are the same hue.
ANGLE_PERIODS = {("rgb_to_hsv", "hsv[0]"): 360.0, ("kepler", "true_anomaly"): 2 * math.pi}


# ----------------------------------------------------------------------------------------------------------
# Native calls through ctypes
# ----------------------------------------------------------------------------------------------------------

CTYPES = {D: ctypes.c_double, F: ctypes.c_float, I: ctypes.c_int}
RANGE_PRAGMA = re.compile(r"^\s*#\s*pragma\s+nsc\s+range\s+(\w+)\s+(\S+)\s+(\S+)\s*$", re.M)


def declared_ranges(name: str) -> dict[str, tuple[float, float]]:
    text = (EXAMPLES_DIR / f"{name}.c").read_text()
    return {m[1]: (float(m[2]), float(m[3])) for m in RANGE_PRAGMA.finditer(text)}


_LIBS: dict[str, ctypes.CDLL] = {}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("examples_native")


def load_example(name: str, build_dir: Path) -> ctypes.CDLL:
    """Compile examples/NAME.c alone with -Wall into a shared library (once per test run)."""
    if name not in _LIBS:
        lib_path = build_dir / f"lib{name}.so"
        proc = subprocess.run(["cc", "-O2", "-Wall", "-fPIC", "-shared", str(EXAMPLES_DIR / f"{name}.c"),
                               "-o", str(lib_path), "-lm"], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stderr.strip(), f"{name}.c: cc -Wall says:\n{proc.stderr}"
        _LIBS[name] = ctypes.CDLL(str(lib_path))
    return _LIBS[name]


def call_native(lib: ctypes.CDLL, ex: Example, inputs: dict) -> dict:
    fn = getattr(lib, ex.function)
    fn.restype = CTYPES[ex.returns] if ex.returns else None
    c_args, outs = [], {}
    for arg in ex.args:
        ct = CTYPES[arg.ctype]
        if arg.out:
            buf = (ct * (arg.n or 1))()
            outs[arg.name] = buf
            c_args.append(buf)
        elif arg.n is None:
            c_args.append(ct(inputs[arg.name]))
        else:
            c_args.append((ct * arg.n)(*inputs[arg.name]))
    result = fn(*c_args)
    got = {"return": float(result)} if ex.returns else {}
    for arg in ex.args:
        if arg.out:
            got[arg.name] = float(outs[arg.name][0]) if arg.n is None else [float(v) for v in outs[arg.name]]
    return got


def flatten(values: dict) -> dict[str, float]:
    """{'out': [a, b], 'return': c} -> {'out[0]': a, 'out[1]': b, 'return': c}"""
    flat = {}
    for key, val in values.items():
        if isinstance(val, (list, tuple)):
            flat.update({f"{key}[{i}]": float(x) for i, x in enumerate(val)})
        else:
            flat[key] = float(val)
    return flat


def draw_inputs(ex: Example, ranges: dict, rng: np.random.Generator, corner: bool) -> dict:
    """One input point: uniform in the box (integers for int inputs), or a random corner of it."""
    def one(arg: Arg):
        lo, hi = ranges[arg.name]
        if corner:
            val = np.where(rng.random(arg.n or 1) < 0.5, lo, hi)
        elif arg.ctype == I:
            val = rng.integers(int(lo), int(hi) + 1, size=arg.n or 1)
        else:
            val = rng.uniform(lo, hi, size=arg.n or 1)
        if arg.ctype == F:  # what the C function will actually see
            val = val.astype(np.float32)
        val = [int(v) if arg.ctype == I else float(v) for v in val]
        return val[0] if arg.n is None else val

    return {arg.name: one(arg) for arg in ex.inputs}


# ----------------------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------------------

def test_every_example_file_has_a_reference():
    files = sorted(p.stem for p in EXAMPLES_DIR.glob("*.c"))
    assert len(files) >= 14
    assert files == sorted(EXAMPLES), "add a spec and a Python reference here for each new example"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_ranges_and_limits(name):
    ex = EXAMPLES[name]
    ranges = declared_ranges(name)
    assert set(ranges) == {a.name for a in ex.inputs}, "every input needs exactly one #pragma nsc range"
    for lo, hi in ranges.values():
        assert lo < hi
    assert 1 <= len(ex.input_columns()) <= 32
    assert 1 <= len(ex.output_columns()) <= 16


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_matches_reference(name, build_dir):
    ex, lib = EXAMPLES[name], load_example(name, build_dir)
    ranges = declared_ranges(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    rows = []
    for _ in range(N_RANDOM):
        inputs = draw_inputs(ex, ranges, rng, corner=False)
        got, want = flatten(call_native(lib, ex, inputs)), flatten(ex.reference(inputs))
        assert sorted(got) == sorted(ex.output_columns()) == sorted(want)
        for col in ex.output_columns():
            err = abs(got[col] - want[col])
            period = ANGLE_PERIODS.get((name, col))
            if period:
                err = min(err % period, period - err % period)
            assert err <= ex.atol + ex.rtol * abs(want[col]), f"{col} at {inputs}: C {got[col]} != {want[col]}"
        rows.append([got[c] for c in ex.output_columns()])
    y = np.array(rows)
    assert np.all(np.isfinite(y))
    assert np.all(y.std(axis=0) > 0), "every output must vary over the input ranges"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_finite_at_corners(name, build_dir):
    ex, lib = EXAMPLES[name], load_example(name, build_dir)
    ranges = declared_ranges(name)
    rng = np.random.default_rng(1 + sum(map(ord, name)))
    for _ in range(N_CORNERS):
        inputs = draw_inputs(ex, ranges, rng, corner=True)
        got = flatten(call_native(lib, ex, inputs))
        assert all(math.isfinite(v) for v in got.values()), f"non-finite output at {inputs}: {got}"


def test_inversek2j_forward_kinematics_reaches_target(build_dir):
    """Independent of any inverse formula: the returned joint angles put the arm's tip at (x, y)."""
    ex, lib = EXAMPLES["inversek2j"], load_example("inversek2j", build_dir)
    for x, y in [(0.1, 0.1), (0.3, 0.6), (0.7, 0.7), (0.55, 0.2)]:
        got = call_native(lib, ex, {"x": x, "y": y})
        t1, t2 = got["theta1"], got["theta2"]
        assert math.isclose(0.5 * math.cos(t1) + 0.5 * math.cos(t1 + t2), x, abs_tol=1e-5)
        assert math.isclose(0.5 * math.sin(t1) + 0.5 * math.sin(t1 + t2), y, abs_tol=1e-5)


def test_spring_close_to_analytic_solution(build_dir):
    """The time stepping approximates the true damped oscillator (within the Euler scheme's error)."""
    ex, lib = EXAMPLES["spring"], load_example("spring", build_dir)
    for x0, v0, k, c, m in [(1.0, 0.0, 4.0, 0.1, 1.0), (-0.5, 2.0, 50.0, 1.0, 2.0), (0.3, -1.0, 10.0, 2.0, 0.5),
                            (1.0, 1.0, 1.0, 2.0, 0.5)]:
        got = call_native(lib, ex, {"x0": x0, "v0": v0, "stiffness": k, "damping": c, "mass": m})
        x, v = spring_exact(x0, v0, k, c, m)
        scale = abs(x0) + abs(v0) / math.sqrt(k / m)
        assert abs(got["x_final"] - x) < 0.03 * scale
        assert abs(got["v_final"] - v) < 0.03 * scale * math.sqrt(k / m)


def test_projectile_without_drag_matches_ballistics(build_dir):
    ex, lib = EXAMPLES["projectile"], load_example("projectile", build_dir)
    for speed, angle in [(10.0, 45.0), (30.0, 20.0), (50.0, 70.0)]:
        got = call_native(lib, ex, {"speed": speed, "angle_deg": angle, "drag": 0.0})
        rad = math.radians(angle)
        assert math.isclose(got["return"], speed**2 * math.sin(2 * rad) / 9.81, rel_tol=0.01)
        assert math.isclose(got["flight_time"], 2 * speed * math.sin(rad) / 9.81, rel_tol=0.01)
        with_drag = call_native(lib, ex, {"speed": speed, "angle_deg": angle, "drag": 0.02})
        assert with_drag["return"] < got["return"]  # drag shortens the range


def test_jmeint_known_cases(build_dir):
    ex, lib = EXAMPLES["jmeint"], load_example("jmeint", build_dir)
    flat = [0.0, 0.0, 0.5, 1.0, 0.0, 0.5, 0.0, 1.0, 0.5]  # in the plane z = 0.5
    piercing = [0.2, 0.2, 0.0, 0.3, 0.2, 1.0, 0.2, 0.4, 1.0]  # crosses z = 0.5 near (0.25, 0.25)
    above = [0.2, 0.2, 0.8, 0.3, 0.2, 1.0, 0.2, 0.4, 1.0]  # entirely above the plane
    assert call_native(lib, ex, {"tri1": flat, "tri2": piercing})["return"] == 1
    assert call_native(lib, ex, {"tri1": piercing, "tri2": flat})["return"] == 1
    assert call_native(lib, ex, {"tri1": flat, "tri2": above})["return"] == 0


def test_signatures_agree_with_frontend():
    """Where the front-end exists, it reads each example as the spec above does (names, order of columns)."""
    frontend = pytest.importorskip("nsc.frontend")
    if not hasattr(frontend, "load_program"):
        pytest.skip("nsc.frontend.load_program not built yet")
    for name, ex in EXAMPLES.items():
        sig = frontend.load_program(str(EXAMPLES_DIR / f"{name}.c")).signature
        assert sig.function == ex.function, name
        assert [p.name for p in sig.inputs] == ex.input_columns(), name
        assert sorted(p.name for p in sig.outputs) == sorted(ex.output_columns()), name
        ranges = declared_ranges(name)
        for port in sig.inputs:
            assert (port.lo, port.hi) == ranges[port.param], (name, port.name)
