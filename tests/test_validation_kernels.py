"""The validation kernels of bench/validation/ (compiler choices are made on them, not on examples/): each reads
through the front-end and gives finite, non-constant outputs over its declared ranges."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nsc.execute import sample_program
from nsc.frontend import load_program

VALIDATION_DIR = Path(__file__).resolve().parent.parent / "bench" / "validation"

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")


@pytest.mark.parametrize("path", sorted(VALIDATION_DIR.glob("*.c")), ids=lambda p: p.name)
def test_validation_kernel_samples_finite_and_varied(path):
    program = load_program(str(path))
    result = sample_program(program, n=64, seed=1)
    assert result.error is None and result.x.shape[0] == 64
    assert np.isfinite(result.y).all()
    assert (result.y.std(axis=0) > 0).all()
