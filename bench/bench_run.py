"""`nsc run` on a large CSV: wall time and peak memory of the whole process (a surrogate is a batch tool too).

    python bench/bench_run.py [--rows 2000000]

Compiles examples/blackscholes.c, writes a CSV of `--rows` input rows drawn in its ranges, then runs
`nsc run MODEL --inputs rows.csv -o predictions.csv` as a child process and reports its wall time and its peak
resident memory (the child's ru_maxrss), with the input file's size for scale. Everything goes to a temporary
directory.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

NAMES = ("spot", "strike", "rate", "volatility", "time")
RANGES = ((50, 150), (50, 150), (0.005, 0.1), (0.1, 0.6), (0.1, 2.0))  # examples/blackscholes.c's pragmas


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    nsc = [sys.executable, "-m", "nsc.cli"]
    with tempfile.TemporaryDirectory(prefix="nsc-bench-run-") as tmp:
        model, rows, out = (os.path.join(tmp, name) for name in ("bs.onnx", "rows.csv", "predictions.csv"))
        subprocess.run([*nsc, "compile", "examples/blackscholes.c", "-o", model], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rng = np.random.default_rng(0)
        x = np.column_stack([rng.uniform(lo, hi, args.rows) for lo, hi in RANGES])
        np.savetxt(rows, x, delimiter=",", header=",".join(NAMES), comments="", fmt="%.10g")
        t0 = time.perf_counter()
        subprocess.run([*nsc, "run", model, "--inputs", rows, "-o", out], check=True, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: nsc run
        size_mb = os.path.getsize(rows) / 1e6
    print(f"nsc run on {args.rows:,} rows ({size_mb:.0f} MB of CSV): {wall:.1f} s "
          f"({args.rows / wall / 1e3:.0f}k rows/s), peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
