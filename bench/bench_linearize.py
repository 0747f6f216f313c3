"""The front-end's statistical linearisation against the real programs: coverage, accuracy, time.

    python bench/bench_linearize.py [--corpus corpus] [--programs 1000] [--examples examples]

For held-out corpus programs (their stored samples are the truth) and for every examples/*.c (sampled natively,
2000 rows): the share the analysis models, the time it takes, and per program (mean over output columns, like
rel-RMSE everywhere in nsc) three errors relative to each output's standard deviation:
  linear model:  the analysis's linear model as it stands (mean + coefficients) - a zero-shot surrogate;
  calibrated:    its prediction with the best affine map per output (how right the shape is);
  least squares: the least-squares linear fit of the samples themselves (the best any linear model can do);
and how well it predicts each output's mean and spread, which set a zero-shot surrogate's output map:
  mean error:    |predicted mean - sample mean| / sample std;
  std error:     |log(predicted std / sample std)| (0.1: 10% off).
Medians are printed per set; --verbose prints every example. Also: how many outputs the analysis proves
piecewise affine (an exact `Form`), how many programs have every output so (`nsc compile` compiles those
exactly, nsc/compiler/exact.py), and the largest deviation of a form from the samples, relative to the output's
largest magnitude (float rounding of the real program only, if the forms are right).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import time

import numpy as np

from nsc.execute.sampling import sample_program
from nsc.analysis import linearization
from nsc.frontend import load_program
from nsc.analysis.linearize import Linearization, linearize_tokens
from nsc.training.corpus_store import iter_programs


def errors(lin: Linearization | None, u: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """(linear model, calibrated, least squares, mean error, std error) on normalised inputs u, outputs y (see
    the module's docstring); nan if no model."""
    sd = y.std(0)
    keep = sd > 0
    half = len(u) // 2  # least squares fitted on one half, scored on the other
    A = np.c_[u, np.ones(len(u))]
    coef = np.linalg.lstsq(A[:half], y[:half], rcond=None)[0]
    fit = np.sqrt(((A[half:] @ coef - y[half:]) ** 2).mean(0)) / np.where(keep, sd, 1)
    if lin is None:
        return np.nan, np.nan, float(fit[keep].mean()), np.nan, np.nan
    p = lin.predict(u)
    mean_err = np.abs(lin.mean - y.mean(0))[keep] / sd[keep]
    with np.errstate(divide="ignore"):
        std_err = np.abs(np.log(lin.std[keep] / sd[keep]))
    zero = np.sqrt(((p - y) ** 2).mean(0)) / np.where(keep, sd, 1)
    cal = []
    for j in np.where(keep)[0]:
        B = np.c_[p[:, j], np.ones(len(p))]
        c = np.linalg.lstsq(B, y[:, j], rcond=None)[0]
        cal.append(np.sqrt(((B @ c - y[:, j]) ** 2).mean()) / sd[j])
    return (float(zero[keep].mean()), float(np.mean(cal)), float(fit[keep].mean()), float(mean_err.mean()),
            float(std_err.mean()))


def exact_stats(lin: Linearization | None, u: np.ndarray, y: np.ndarray) -> tuple[int, int, bool, float]:
    """(outputs with an exact form, outputs, whether all have one, largest relative deviation of a form)."""
    n_out = y.shape[1]
    if lin is None:
        return 0, n_out, False, 0.0
    dev = [float(np.abs(f.evaluate(u) - y[:, j]).max() / (np.abs(y[:, j]).max() + 1e-30))
           for j, f in enumerate(lin.forms) if f is not None]
    return len(dev), n_out, len(dev) == n_out, max(dev, default=0.0)


def report_exact(name: str, stats: list) -> None:
    s = np.array(stats, dtype=float)
    print(f"  {name}: exact forms for {s[:, 0].sum() / s[:, 1].sum():.1%} of outputs; every output exact in "
          f"{int(s[:, 2].sum())} of {len(s)} programs; largest deviation from the samples {s[:, 3].max():.1e}")


def normalised(signature, x: np.ndarray) -> np.ndarray:
    lo, hi = signature.ranges()
    return (x - (lo + hi) / 2) / np.maximum((hi - lo) / 2, 1e-300)


def report(name: str, rows: list, times: list) -> None:
    r = np.array([e for e in rows], dtype=float)
    modelled = ~np.isnan(r[:, 0])
    print(f"{name}: {len(rows)} programs, {modelled.mean():.1%} modelled, {np.median(times) * 1e3:.1f} ms median "
          f"({np.max(times) * 1e3:.0f} ms max)")
    print(f"  median rel-RMSE over the modelled: linear model {np.median(r[modelled, 0]):.3f}, calibrated "
          f"{np.median(r[modelled, 1]):.3f}, least squares {np.median(r[modelled, 2]):.3f}; least squares over "
          f"all {np.median(r[:, 2]):.3f}")
    print(f"  output map: mean error median {np.median(r[modelled, 3]):.3f} (90th percentile "
          f"{np.percentile(r[modelled, 3], 90):.3f}), std error median {np.median(r[modelled, 4]):.3f} (90th "
          f"percentile {np.percentile(r[modelled, 4], 90):.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--programs", type=int, default=1000)
    ap.add_argument("--examples", default="examples")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    if args.programs and os.path.isdir(args.corpus):
        held = iter_programs(args.corpus, split="heldout", variants=False)
        rows, times, exact = [], [], []
        for rec in itertools.islice(held, args.programs):
            t0 = time.perf_counter()
            lin = linearize_tokens(rec.tokens, rec.signature)
            times.append(time.perf_counter() - t0)
            lin = lin if isinstance(lin, Linearization) else None
            u, y = normalised(rec.signature, rec.x.astype(np.float64)), rec.y.astype(np.float64)
            rows.append(errors(lin, u, y))
            exact.append(exact_stats(lin, u, y))
        report(f"held-out corpus ({args.corpus}; time: the analysis from tokens)", rows, times)
        report_exact("held-out corpus", exact)

    rows, times, exact = [], [], []
    for path in sorted(glob.glob(os.path.join(args.examples, "*.c"))):
        prog = load_program(path)
        t0 = time.perf_counter()
        load_program(path)  # timed without the analysis's share of the front-end: see below
        t_front = time.perf_counter() - t0
        run = sample_program(prog, 2000, seed=12345)
        x, y = run.x, run.y
        lin = linearization(prog) if isinstance(linearization(prog), Linearization) else None
        row = errors(lin, normalised(prog.signature, x), y)
        rows.append(row)
        exact.append(exact_stats(lin, normalised(prog.signature, x), y))
        times.append(t_front)
        if args.verbose:
            print(f"  {os.path.basename(path):18s} linear model {row[0]:7.3f}  calibrated {row[1]:.3f}  "
                  f"least squares {row[2]:.3f}  mean error {row[3]:.3f}  std error {row[4]:.3f}")
    report(f"{args.examples}/ (time: the whole front-end)", rows, times)
    report_exact(f"{args.examples}/", exact)


if __name__ == "__main__":
    main()
