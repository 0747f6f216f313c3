"""What bench/bench_emit_c.py and bench/bench_runtime.py share: their command line (--program, --init, --pairs,
--out)
and writing a result into the results folder (bench/results/ by default) as JSON."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def arguments(doc: str, pairs: int) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--program", default=str(ROOT / "examples" / "blackscholes.c"))
    ap.add_argument("--init", default="hypernetwork", help="nsc compile --init: hypernetwork gives the 64-64 silu "
                    "MLP the targets are stated for; compiled, the structural network where nsc makes one")
    ap.add_argument("--pairs", type=int, default=pairs, help="interleaved measurements; figures are their medians")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="the results folder")
    return ap.parse_args()


def write_result(out: str, name: str, result: dict) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
