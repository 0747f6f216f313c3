"""`nsc run` on a large CSV: where its time goes (parsing, prediction, writing) and the whole process's time and peak
memory (a surrogate is a batch tool too).

    python bench/bench_run.py [--rows 1000000] [--repeats 3] [--init hypernetwork] [--out bench/results]

Compiles examples/blackscholes.c (`--init hypernetwork` by default: the 5 -> 64 -> 64 -> 1 MLP the target was
set against; `nsc compile`'s default is its structural network, whose prediction costs far more) and writes a
CSV of `--rows` input rows drawn in its ranges (10 significant digits). Then:
  - phases: runs nsc.toolchain.run_model (what `nsc run MODEL --inputs rows.csv -o predictions.csv` calls) in
    this process `--repeats` times, timing the three calls it makes, tables.parse_inputs (the CSV into numbers and
    the inputs' text), Surrogate.predict (onnxruntime) and data.write_predictions (the CSV out); the best of the
    repeats of each, and the ratio (parse + write) / predict, whose target is at most 1 (issue 17);
  - process: `nsc run` as a child process, its wall time and peak resident memory (ru_maxrss).
Prints the figures and writes them to OUT/run.json. Everything else goes to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NAMES = ("spot", "strike", "rate", "volatility", "time")
RANGES = ((50, 150), (50, 150), (0.005, 0.1), (0.1, 0.6), (0.1, 2.0))  # examples/blackscholes.c's pragmas


def timed_phases(model: str, rows: str, out: str) -> dict:
    """Seconds in each of run_model's three calls, for one run (the functions wrapped in place, then restored)."""
    import nsc_runtime

    from nsc import data, tables, toolchain

    seconds = {}

    def timing(owner, name, phase):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - t0
        setattr(owner, name, wrapper)
        return original

    wrapped = [(tables, "parse_inputs", "parse"), (nsc_runtime.Surrogate, "predict", "predict"),
               (data, "write_predictions", "write")]
    originals = [timing(*w) for w in wrapped]
    try:
        toolchain.run_model(model, rows, output=out)
    finally:
        for (owner, name, _), original in zip(wrapped, originals):
            setattr(owner, name, original)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--init", default="hypernetwork", help="nsc compile --init for the surrogate")
    ap.add_argument("--out", default="bench/results", help="folder for run.json")
    args = ap.parse_args()
    nsc = [sys.executable, "-m", "nsc.cli"]
    with tempfile.TemporaryDirectory(prefix="nsc-bench-run-") as tmp:
        model, rows, out = (os.path.join(tmp, name) for name in ("bs.onnx", "rows.csv", "predictions.csv"))
        subprocess.run([*nsc, "compile", "examples/blackscholes.c", "--init", args.init, "-o", model], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rng = np.random.default_rng(0)
        x = np.column_stack([rng.uniform(lo, hi, args.rows) for lo, hi in RANGES])
        np.savetxt(rows, x, delimiter=",", header=",".join(NAMES), comments="", fmt="%.10g")
        size_mb = os.path.getsize(rows) / 1e6
        runs = [timed_phases(model, rows, out) for _ in range(args.repeats)]
        phases = {phase: min(run[phase] for run in runs) for phase in ("parse", "predict", "write")}
        t0 = time.perf_counter()
        subprocess.run([*nsc, "run", model, "--inputs", rows, "-o", out], check=True, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: nsc run
    ratio = (phases["parse"] + phases["write"]) / phases["predict"]
    result = {"rows": args.rows, "init": args.init, "csv_mb": round(size_mb, 1), "repeats": args.repeats,
              **{f"{k}_s": round(v, 3) for k, v in phases.items()}, "ratio_parse_write_to_predict": round(ratio, 2),
              "process_wall_s": round(wall, 2), "process_peak_mb": round(peak_mb)}
    print(f"nsc run ({args.init} surrogate) on {args.rows:,} rows ({size_mb:.0f} MB of CSV), in process (best of "
          f"{args.repeats}): parse "
          f"{phases['parse']:.2f} s, predict {phases['predict']:.2f} s, write {phases['write']:.2f} s: "
          f"(parse + write) / predict = {ratio:.2f} (target <= 1)")
    print(f"as a process: {wall:.1f} s ({args.rows / wall / 1e3:.0f}k rows/s), peak memory {peak_mb:.0f} MB")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, "run.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
