"""The requirements of nsc (with its `test` extra) and of nsc-runtime, each pinned at its floor: what `make floors`
installs to check that every lower bound the pyproject.toml files claim holds (the whole suite runs there).

Usage: python tools/floors.py TORCH_VERSION    (prints `numpy==1.24.2 onnx==1.14 ...`, one line)

A requirement named twice (click in the dependencies and in the test extra) takes the higher floor; torch takes
TORCH_VERSION (the Makefile's pin: the CPU build on this machine). A requirement without a floor is an error.
Needs Python 3.11 (tomllib) and `packaging`.
"""

from __future__ import annotations

import os
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def floors(torch_version: str) -> dict[str, str]:
    texts = []
    for path in ("pyproject.toml", os.path.join("runtime", "pyproject.toml")):
        with open(os.path.join(ROOT, path), "rb") as f:
            project = tomllib.load(f)["project"]
        texts += project.get("dependencies", []) + project.get("optional-dependencies", {}).get("test", [])
    pins: dict[str, str] = {}
    for text in texts:
        req = Requirement(text)
        if req.name in ("nsc", "nsc-runtime"):
            continue
        if req.name == "torch":
            pins["torch"] = torch_version
            continue
        lows = [s.version for s in req.specifier if s.operator in (">=", "==")]
        if not lows:
            sys.exit(f"{req}: no floor")
        low = max(lows, key=Version)
        if req.name not in pins or Version(low) > Version(pins[req.name]):
            pins[req.name] = low
    return pins


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    print(" ".join(f"{name}=={version}" for name, version in floors(sys.argv[1]).items()))
