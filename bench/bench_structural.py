"""The structural compiler program by program: which compiler `nsc compile` uses (the structural network
`structural-1`, an MLP distilled from the computation graph `traced-1`, else the hypernetwork), the surrogate's
zero-shot rel-RMSE against the real program (onnxruntime, float32, three fresh test sets of 2000 samples), its
stated (estimated) error, its size and the compile time.

    python bench/bench_structural.py [--out bench/results/structural.csv] [FILES...]   (default: examples/, bench/validation/)

Zero-shot: the program runs only to score the surrogate, after it is compiled.
"""

from __future__ import annotations

import argparse
import csv
import glob
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def measure(path: str, seeds=(5, 7, 11)) -> dict:
    import onnxruntime as ort

    from nsc.compiler.inits import compile_params
    from nsc.evaluate import rel_rmse
    from nsc.execute import sample_program
    from nsc.frontend import load_program
    from nsc.surrogate.onnx_io import surrogate_bytes
    from nsc.toolchain import closed_form, model_size, stated_errors

    program = load_program(path)
    t0 = time.perf_counter()
    params, compiler_id, notes = compile_params(program)
    seconds = time.perf_counter() - t0
    model = surrogate_bytes(params, program.signature.to_json(), {"compiler": compiler_id, "source_sha256": "0"})
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    errors = []
    for seed in seeds:
        run = sample_program(program, n=2000, seed=seed)
        errors.append(rel_rmse(session.run(["y"], {"x": run.x.astype(np.float32)})[0], run.y))
    structural = params.extra.get("structural") or {}
    stated = stated_errors(closed_form(params.extra))
    return {"program": path, "compiler": compiler_id, "zero_shot": float(np.median(errors)),
            "zero_shot_worst_seed": float(max(errors)),
            "estimated": max(stated or [float("nan")]),
            "layers": structural.get("layers", len(params.hidden)), **model_size(params),
            "compile_ms": round(1000 * seconds), "why_not_structural": notes[0] if notes else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out", default="bench/results/structural.csv")
    args = ap.parse_args()
    os.chdir(ROOT)
    files = args.files or sorted(glob.glob("examples/*.c")) + sorted(glob.glob("bench/validation/*.c"))
    rows = []
    print(f"{'program':<40}{'compiler':<28}{'zero-shot':>10}{'worst':>10}{'stated':>10}{'layers':>7}"
          f"{'params':>10}{'FLOP/row':>11}{'ms':>7}")
    for path in files:
        r = measure(path)
        rows.append(r)
        print(f"{r['program']:<40}{r['compiler']:<28}{r['zero_shot']:>10.2e}{r['zero_shot_worst_seed']:>10.2e}"
              f"{r['estimated']:>10.2e}{r['layers']:>7}{r['parameters']:>10,}{r['flops_per_row']:>11,}"
              f"{r['compile_ms']:>7}", flush=True)
    structural = [r for r in rows if r["compiler"].startswith("structural")]
    traced = [r for r in rows if r["compiler"].startswith("traced")]
    zs = sorted(r["zero_shot"] for r in rows)
    print(f"structural network on {len(structural)} of {len(rows)}, distilled from the graph on {len(traced)}; "
          f"zero-shot median {np.median(zs):.3g} over all, "
          f"{np.median([r['zero_shot'] for r in structural]):.3g} over the structural networks, "
          f"{np.median([r['zero_shot'] for r in traced]) if traced else float('nan'):.3g} over the distilled ones")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
