"""Diagnostic: can the hypernetwork learn to read programs at all, and which ones?

Trains the compiler's model (nsc.training.train, the shipped model shape and optimiser unless overridden) on a
chosen set of programs and prints the held-out metrics of nsc.training.train (summary.json, losses.csv/png in
--out). The figure to read is the held-out calibrated rel-RMSE median (output map from data) against the
unconditioned init's: a model that reads its input must get below it.

  --data linear      generated linear functions, `return 2.5*p0 - 0.75*p2;` with random coefficients, signs,
                     missing inputs, ranges and an optional local variable; outputs computed in numpy (exact
                     for these programs, checked against the real program once by hand), so no corpus needed.
                     The unconditioned init, which cannot know the signs, scores ~1.0.
  --data short:N     the corpus's generated programs (no rewrites) of at most N canonical tokens (needs
                     `make corpus`); 256 of them, drawn at random, are held out.

    python bench/diag_learnability.py --steps 600                        # ~1 min on the 2-core CPU
    python bench/diag_learnability.py --steps 600 --lr 6e-4
    python bench/diag_learnability.py --programs 20000 --steps 3000      # ~4 min
    python bench/diag_learnability.py --data short:120 --steps 1800 --lr 6e-4     # ~6 min

Measured 2026-11-28 (seed 0):
  linear, 600 steps: calibrated median 0.74 at the shipped lr 1.5e-3; 0.76 at 3e-3, 0.48 at 6e-4, 0.52 at
    3e-4, 0.68 at 1.5e-4 (unconditioned 1.00). 3000 steps at 1.5e-3 (20000 programs): 0.56 (uncond 0.99,
    compiled better on 89% of programs). The zero-shot median stays ~2.9: the predicted output shift is far off.
  short:120 (5874 programs, 11% of the corpus), 1800 steps at 6e-4: calibrated loss 0.632 vs unconditioned
    0.659, median 0.948 vs 0.955, compiled better on 59%: a small edge that the full corpus (median ~270
    tokens) does not give, neither in 50 minutes at lr 1.5e-3 (the shipped model) nor at 6e-4 (`make compiler`'s
    training with that lr, stopped after 750 steps at held-out calibrated loss 0.689 vs unconditioned 0.681).
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


def corpus_records(corpus: str, max_tokens: int) -> list:
    """The corpus's generated programs of at most max_tokens canonical tokens, in a seeded random order."""
    from nsc.training.corpus_store import iter_programs

    records = [r for r in iter_programs(corpus, "all", variants=False) if len(r.tokens) <= max_tokens]
    np.random.default_rng(0).shuffle(records)
    return records


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="linear", help="linear, or short:N (corpus programs of <= N tokens)")
    ap.add_argument("--programs", type=int, default=6000, help="training programs (linear data)")
    ap.add_argument("--heldout", type=int, default=256)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=0.0, help="peak learning rate (default: the config's)")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--out", default="out/diag_learnability")
    ap.add_argument("--config", default="nsc/training/configs/compiler.json", help="model shape and optimiser")
    args = ap.parse_args(argv)
    if args.data == "linear":
        with tempfile.TemporaryDirectory() as tmp:
            records = make_records(args.programs + args.heldout, 256, 0, tmp)
        train_records, heldout_records = records[:args.programs], records[args.programs:]
    elif args.data.startswith("short:"):
        records = corpus_records(args.corpus, int(args.data.split(":", 1)[1]))
        train_records, heldout_records = records[args.heldout:], records[:args.heldout]
    else:
        ap.error(f"--data must be linear or short:N, not {args.data!r}")
    base = TrainConfig.load(args.config)
    lr = {"lr": args.lr, "min_lr": args.lr / 10} if args.lr else {}
    cfg = TrainConfig(**{**base.to_json(), **lr, "out_dir": args.out, "max_steps": args.steps,
                         "warmup_steps": 50, "eval_interval": max(args.steps // 4, 1),
                         "eval_programs": args.heldout, "checkpoint_interval": args.steps, "time_limit_min": 0.0,
                         "vocab_min_count": 1})
    summary = train(cfg, train_records=train_records, heldout_records=heldout_records,
                    corpus_id=f"diag-{args.data}")
    print(json.dumps(summary["metrics"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
