"""What nsc relies on in its dependencies stays as it was when the shipped compiler was trained.

The hypernetwork reads each program's canonical token stream (nsc/frontend/tokens.py: pycparser's CGenerator
output, read by nsc's own lexer). pycparser 3.12 prints `(-0.5) * x` as `-0.5 * x`, which changes the stream of
8 of these files, so pyproject.toml admits pycparser >=3.0,<3.12; this test pins the streams themselves (hashes
taken with pycparser 3.0, the version the corpus was encoded with) and fails on any version that changes them.
"""

import hashlib
from pathlib import Path

import pytest

from nsc.frontend import load_program

ROOT = Path(__file__).resolve().parent.parent
TOKEN_HASHES = {
    "bench/validation/efficiency_map.c": "21731d2d2fbe2a8d",
    "bench/validation/haversine.c": "152cebea3afc0565",
    "bench/validation/logistic_harvest.c": "3127bfe72d55c99f",
    "bench/validation/pid_step.c": "f760baaf4aa8cf85",
    "bench/validation/planck.c": "6147ae4d153328d1",
    "bench/validation/quadratic_roots.c": "834cfb3e8ede3d32",
    "bench/validation/rc_filter.c": "54b025fe8c175f70",
    "bench/validation/wind_chill.c": "853008f574023724",
    "examples/blackscholes.c": "9dbb36f440fc0c12",
    "examples/color_adjust.c": "170fa23a6cc6a690",
    "examples/dct8.c": "6962a8ae9dff2648",
    "examples/fft_butterfly.c": "d2c179194dd1d9f9",
    "examples/fir_filter.c": "0ae46fcc04226eb3",
    "examples/income_tax.c": "caeb808be198785a",
    "examples/inversek2j.c": "b35d441a4a010faf",
    "examples/jmeint.c": "a1d3803c34ea05a7",
    "examples/kepler.c": "9ef839a412249fb1",
    "examples/kmeans.c": "8e233006fc273bbc",
    "examples/loan.c": "b31fb754ddd7746a",
    "examples/projectile.c": "7ff96018129e583d",
    "examples/rgb_to_hsv.c": "b391179dc4392553",
    "examples/rgb_to_ycbcr.c": "34d6c32ad7e5bc8d",
    "examples/sepia.c": "ff332d5076e06c70",
    "examples/sobel.c": "e98c16c84fa6a690",
    "examples/spring.c": "a8b19ed82304f8ed",
    "examples/thermistor.c": "16fa80cfa0096009",
}


@pytest.mark.parametrize("path", sorted(TOKEN_HASHES))
def test_canonical_tokens_unchanged(path):
    program = load_program(str(ROOT / path), include_dirs=[str(ROOT / "examples" / "include")])
    assert hashlib.sha256(repr(program.tokens).encode()).hexdigest()[:16] == TOKEN_HASHES[path]


def test_lexer_reads_every_literal_form():
    from nsc.frontend.tokens import _lex

    text = "int f(){return 'a'+L'b'+u'\\n'+'\\x41'+0x1Fu+017+0b101+10ULL+1e3f+.5L+0x1.8p3+1.+0xEEl+\"s\\\"x\"[0];}"
    values = [t.value for t in _lex(text) if t.text == "<num>"]
    assert values == [97.0, 98.0, 10.0, 65.0, 31.0, 15.0, 5.0, 10.0, 1000.0, 0.5, 12.0, 1.0, 238.0, 0.0]
    assert [t.text for t in _lex("a<<=b->c...d")] == ["a", "<<=", "b", "->", "c", "...", "d"]

