"""examples/app: the application builds exact and with the surrogate (make APPROX=1 through nsc compile, sample,
finetune, check and emit-c), guarded too, and `make compare` prints its quality and the speed of both. A small
training budget keeps this quick; the figures in the README come from the Makefile's defaults."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "examples" / "app"


def make(tmp_path, *args):
    cmd = ["make", "-C", str(APP), f"BUILD={tmp_path}", f"NSC={sys.executable} -m nsc.cli", "N_TRAIN=256",
           "EPOCHS=3", "BODIES=3000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_app_builds_both_ways_and_compares(tmp_path):
    out = make(tmp_path, "compare")
    quality = re.search(r"quality: mean relative position error ([\d.]+)%", out)
    speed = re.search(r"speed: +exact ([\d.]+) M bodies/s, surrogate ([\d.]+) M bodies/s: ([\d.]+)x", out)
    assert quality and speed, out
    assert 0 < float(quality.group(1)) < 100
    assert (tmp_path / "orbits").exists() and (tmp_path / "kepler_surrogate.h").exists()
    assert "certified against" in (tmp_path / "kepler_surrogate.c").read_text()
    # exact alone, without nsc; then a guarded surrogate: the fallback share is printed, and it is re-emitted
    assert "nsc" not in make(tmp_path, "-B", f"{tmp_path}/orbits")
    out = make(tmp_path, "compare", "MAX_ERROR=0.05")
    assert re.search(r"the guard handed \d+ of 3000 bodies to kepler_solve", out), out
    assert "--guard --max-error 0.05" in out
