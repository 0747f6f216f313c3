"""The validation kernels of bench/validation/ (compiler choices are made on them, not on examples/): each reads
through the front-end and gives finite, non-constant outputs over its declared ranges, and each is within the
compiler's limits (`make validation` compiles every kernel before it samples any, so one refusal stops it all)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nsc.compiler import compile_params
from nsc.execute import sample_program
from nsc.frontend import load_program

VALIDATION_DIR = Path(__file__).resolve().parent.parent / "bench" / "validation"
KERNELS = sorted(VALIDATION_DIR.glob("*.c"))

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")


@needs_cc
@pytest.mark.parametrize("path", KERNELS, ids=lambda p: p.name)
def test_validation_kernel_samples_finite_and_varied(path):
    program = load_program(str(path))
    result = sample_program(program, n=64, seed=1)
    assert result.error is None and result.x.shape[0] == 64
    assert np.isfinite(result.y).all()
    assert (result.y.std(axis=0) > 0).all()


@pytest.mark.parametrize("path", KERNELS, ids=lambda p: p.name)
def test_validation_kernel_compiles(path, monkeypatch):
    import nsc.compiler.distill as distill

    monkeypatch.setattr(distill, "STEP_BUDGET", 1e7)  # (a kernel distilled from its graph: fewer steps, same path)
    program = load_program(str(path))
    params, _, _ = compile_params(program, init="compiled", seed=1)
    assert (params.n_in, params.n_out) == (len(program.signature.input_names), len(program.signature.output_names))
