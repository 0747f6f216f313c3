"""Diagnostic: can the hypernetwork learn to read the simplest programs there are?

Trains the compiler's model (nsc.training.train, the shipped model shape and optimiser) on generated *linear*
functions, `return 2.5*p0 - 0.75*p2;` with random coefficients, signs, missing inputs, ranges and an optional
local variable, and prints the held-out metrics of nsc.training.train (summary.json, losses.csv/png in --out).
The figure to read is the held-out calibrated rel-RMSE median (output map from data): the unconditioned init,
which cannot know the signs, scores ~1.0; a model that reads its input must get well below it. Outputs are
computed in numpy (exact for these programs), so this needs no corpus and no C compiler run.

    python bench/diag_linear.py --programs 6000 --steps 600       # ~1 min on the 2-core CPU
    python bench/diag_linear.py --programs 20000 --steps 3000 --out out/diag_linear_3000    # ~4 min

Measured 2026-11-28: calibrated median 0.74 after 600 steps and 0.56 after 3000 (unconditioned 1.00 and 0.99;
compiled beats unconditioned on 84% and 89% of 256 held-out programs), still falling; the zero-shot median stays
~2.9, the predicted output shift being far off. So the model does learn to read programs, slowly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nsc.training.corpus_run import parse_batch  # noqa: E402
from nsc.training.train import TrainConfig, train  # noqa: E402

NAMES = ["x", "y", "z", "t", "a", "b", "rate", "gain", "level", "w"]


@dataclass
class Record:
    id: int
    signature: object
    tokens: tuple
    x: np.ndarray
    y: np.ndarray


def literal(v: float) -> str:
    return f"{v:.2f}"


def linear_program(rng, name: str):
    """C source of one linear function and its (coefficients, ranges)."""
    k = int(rng.integers(1, 5))
    names = list(rng.choice(NAMES, k, replace=False))
    coef = np.round(np.sign(rng.uniform(-1, 1, k)) * 10 ** rng.uniform(-0.7, 0.7, k), 2)
    coef[rng.random(k) < 0.25] = 0.0
    if not coef.any():
        coef[0] = 1.5
    lo = np.round(rng.uniform(-5, 5, k), 1)
    hi = np.round(lo + 10 ** rng.uniform(-0.5, 1.2, k), 1) + 0.1
    terms = [f"{'-' if c < 0 else '+'} {literal(abs(c))} * {n}" for c, n in zip(coef, names) if c != 0]
    expr = " ".join(terms).lstrip("+ ")
    if expr.startswith("- "):
        expr = "-" + expr[2:]
    pragmas = "\n".join(f"#pragma nsc range {n} {l:g} {h:g}" for n, l, h in zip(names, lo, hi))
    params = ", ".join(f"double {n}" for n in names)
    if rng.random() < 0.5 and len(terms) > 1:  # a local variable between the inputs and the result
        first, rest = terms[0], " ".join(terms[1:])
        body = f"    double acc = {first.lstrip('+ ').replace('- ', '-', 1)};\n    return acc {rest};"
    else:
        body = f"    return {expr};"
    src = f"{pragmas}\ndouble {name}({params}) {{\n{body}\n}}\n"
    return src, coef, lo, hi


def make_records(n: int, samples: int, seed: int, work_dir: str) -> list[Record]:
    rng = np.random.default_rng(seed)
    records, group = [], 32
    for g in range(0, n, group):
        progs = [(f"f{g + i}",) + linear_program(rng, f"f{g + i}") for i in range(min(group, n - g))]
        path = os.path.join(work_dir, f"lin_{g}.c")
        with open(path, "w") as f:
            f.write("\n".join(p[1] for p in progs))
        parsed = parse_batch(path, [p[0] for p in progs])
        for name, _, coef, lo, hi in progs:
            sig, tokens = parsed[name]
            x = rng.uniform(lo, hi, (samples, len(coef)))
            records.append(Record(len(records), sig, tokens, x.astype(np.float32),
                                  (x @ coef)[:, None].astype(np.float32)))
    return records


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=6000)
    ap.add_argument("--heldout", type=int, default=256)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--out", default="out/diag_linear")
    ap.add_argument("--config", default="nsc/training/configs/compiler.json", help="model shape and optimiser")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        records = make_records(args.programs + args.heldout, 256, 0, tmp)
    base = TrainConfig.load(args.config)
    cfg = TrainConfig(**{**base.to_json(), "out_dir": args.out, "max_steps": args.steps, "warmup_steps": 50,
                         "eval_interval": max(args.steps // 4, 1), "eval_programs": args.heldout,
                         "checkpoint_interval": args.steps, "time_limit_min": 0.0, "vocab_min_count": 1})
    summary = train(cfg, train_records=records[:args.programs], heldout_records=records[args.programs:],
                    corpus_id="diag-linear")
    print(json.dumps(summary["metrics"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
