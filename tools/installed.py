"""Is this checkout's nsc installed in the running Python, with every requirement met? `make install` asks before it
runs pip (which takes ~17 s even when there is nothing to do), and installs when the answer is no.

Usage: python tools/installed.py TORCH_VERSION    (exit 0: installed; exit 1: the reason, on one line)

Installed means all of:
- nsc and nsc-runtime are editable installs of this checkout (their direct_url.json names it and runtime/);
- neither pyproject.toml has changed since (it is no newer than the installed metadata, as make would judge);
- every requirement in that metadata (nsc's with its `test` extra, and nsc-runtime's) is met by an installed
  distribution, read with `packaging` (which pytest and matplotlib need anyway: without it, install);
- torch is exactly TORCH_VERSION's release (the Makefile's pin, the CPU build: 2.13.0 and 2.13.0+cpu alike).

Standard library only, apart from `packaging`; never imports nsc.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _distribution(name: str, search: list[str]):
    """The installed distribution `name`, looked up in the environment, not in the checkout (whose nsc.egg-info,
    left by the editable build, would be found first when Python runs from the repository root)."""
    return next(iter(metadata.distributions(name=name, path=search)), None)


def problem(torch_version: str) -> str | None:
    """Why this checkout's nsc is not installed here (None: it is)."""
    search = [p for p in sys.path if p and os.path.abspath(p) != ROOT]
    try:
        from packaging.requirements import Requirement
        from packaging.version import Version
    except ImportError:
        return "packaging is not installed"
    for name, source in (("nsc", ROOT), ("nsc-runtime", os.path.join(ROOT, "runtime"))):
        dist = _distribution(name, search)
        if dist is None:
            return f"{name} is not installed"
        try:
            origin = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            origin = {}
        if origin.get("url") != "file://" + source or not origin.get("dir_info", {}).get("editable"):
            return f"{name} is not installed from this checkout (editable)"
        record = next((f for f in dist.files or [] if f.name == "METADATA"), None)
        installed_at = os.path.getmtime(dist.locate_file(record)) if record is not None else 0.0
        pyproject = os.path.join(source, "pyproject.toml")
        if os.path.getmtime(pyproject) > installed_at:
            return f"{os.path.relpath(pyproject, ROOT)} changed since {name} was installed"
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": "test"}):
                continue
            found = _distribution(requirement.name, search)
            if found is None:
                return f"{requirement.name} (required by {name}) is not installed"
            if not requirement.specifier.contains(found.version, prereleases=True):
                return f"{requirement.name} {found.version} does not meet {name}'s {requirement}"
    torch = _distribution("torch", search)
    if torch is None or Version(torch.version).release != Version(torch_version).release:
        return f"torch {torch_version} is not installed"
    return None


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    reason = problem(sys.argv[1])
    if reason:
        print(f"installing nsc: {reason}")
    sys.exit(1 if reason else 0)
