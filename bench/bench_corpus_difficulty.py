"""How hard are the held-out corpus programs for simple per-program fits? A yardstick for the compiler's figures.

    python bench/bench_corpus_difficulty.py [--corpus corpus] [--programs 400]

For each held-out program (original variants only), least-squares fits on the first half of its stored samples
(inputs normalised to [-1, 1] by their ranges), scored on the second half with the rel-RMSE of NOTES.md section 5:
a linear fit, and a full quadratic fit. A hypernetwork whose generated surrogate (output map calibrated from data)
scores near 1.0 has learned less about a program than a linear regression on its samples would.
"""

from __future__ import annotations

import argparse

import numpy as np

from nsc.training.corpus_store import iter_programs


def fit_rel_rmse(features: np.ndarray, y: np.ndarray) -> float:
    """Train on the first half, test on the second; mean over non-constant output columns."""
    n = len(y) // 2
    scores = []
    for j in range(y.shape[1]):
        sd = y[n:, j].std()
        if sd == 0:
            continue
        coef = np.linalg.lstsq(features[:n], y[:n, j], rcond=None)[0]
        scores.append(np.sqrt(np.mean((features[n:] @ coef - y[n:, j]) ** 2)) / sd)
    return float(np.mean(scores)) if scores else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--programs", type=int, default=400)
    args = ap.parse_args()
    linear, quadratic = [], []
    for k, rec in enumerate(iter_programs(args.corpus, split="heldout", variants=False)):
        if k == args.programs:
            break
        lo, hi = rec.signature.ranges()
        u = (rec.x.astype(np.float64) - (lo + hi) / 2) / ((hi - lo) / 2)
        y = rec.y.astype(np.float64)
        ones = np.ones((len(u), 1))
        pairs = [u[:, [i]] * u[:, [j]] for i in range(u.shape[1]) for j in range(i, u.shape[1])]
        linear.append(fit_rel_rmse(np.hstack([u, ones]), y))
        quadratic.append(fit_rel_rmse(np.hstack([u, ones, *pairs]), y))
    print(f"{len(linear)} held-out programs of {args.corpus}; rel-RMSE quantiles (10/25/50/75/90 %):")
    for name, values in (("linear fit", linear), ("quadratic fit", quadratic)):
        q = np.nanpercentile(values, [10, 25, 50, 75, 90])
        print(f"  {name:14s} " + "  ".join(f"{v:.3f}" for v in q))


if __name__ == "__main__":
    main()
