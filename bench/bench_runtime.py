"""`nsc_runtime.predict` against a raw onnxruntime session on the same model, side by side in one process.

    python bench/bench_runtime.py [--program examples/blackscholes.c] [--init hypernetwork] [--pairs 25]
                                  [--out bench/results]

Compiles the program's surrogate (`--init hypernetwork`: 5-64-64-1 silu for blackscholes, the network the
issue's figures are for) and times, alternately (`--pairs` times),
`session.run(["y"], {"x": x32})` on a plain onnxruntime session and `nsc_runtime.load(...).predict(x)`, both with
one intra-op thread, on 1, 4096 and 262,144 rows drawn in the ranges: x32 float32 for the session, and for
predict the same float32 array (what it is given is what the session needs) and the float64 one (predict casts
it). Times are the thread's CPU time (time.thread_time: the session runs in the calling thread), so other
processes on a shared machine do not count. Each figure is the median over the pairs of predict's time / the
session's (targets: <= 2x at 1 row, <= 1.05x from 4096 rows); also the best time against the best, and the time of
predict's own work on float32 rows (its range test) alone. Also checks that both give the same predictions.
Writes bench/results/runtime.json (--out: another folder).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np
from bench_common import ROOT, arguments, write_result

SIZES = (1, 4096, 262_144)
CALLS = {1: 2000, 4096: 30, 262_144: 1}  # calls per timed stretch


def per_call(fn, calls: int) -> float:
    t = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - t) / calls


def main() -> int:
    args = arguments(__doc__, pairs=25)
    import onnxruntime

    import nsc_runtime
    from nsc import toolchain

    with tempfile.TemporaryDirectory(prefix="nsc-bench-runtime-") as tmp:
        model = os.path.join(tmp, "model.onnx")
        toolchain.compile_file(args.program, output=model, init=args.init)
        surrogate = nsc_runtime.load(model, threads=1)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    lo, hi = surrogate._lo, surrogate._hi
    rows = []
    for n in SIZES:
        x64 = np.random.default_rng(n).uniform(lo, hi, size=(n, surrogate.n_inputs))
        x32 = x64.astype(np.float32)
        raw = lambda: session.run(["y"], {"x": x32})[0]  # noqa: E731
        same = np.array_equal(surrogate.predict(x32), raw())
        close = np.allclose(surrogate.predict(x32), raw(), rtol=1e-6, atol=1e-6 * float(np.abs(raw()).max()))
        ratios32, ratios64, raw_times, t32s, checks = [], [], [], [], []
        for _ in range(args.pairs):
            t_raw = per_call(raw, CALLS[n])
            t32 = per_call(lambda: surrogate.predict(x32), CALLS[n])
            t64 = per_call(lambda: surrogate.predict(x64), CALLS[n])
            checks.append(per_call(lambda: surrogate._inside(x32), CALLS[n]))  # its own work: the range test
            raw_times.append(t_raw)
            t32s.append(t32)
            ratios32.append(t32 / t_raw)
            ratios64.append(t64 / t_raw)
        rows.append({"rows": n, "raw_seconds": statistics.median(raw_times),
                     "ratio_float32": statistics.median(ratios32), "ratio_float64": statistics.median(ratios64),
                     "ratio_float32_best": min(t32s) / min(raw_times), "check_seconds": statistics.median(checks),
                     "identical": bool(same), "close": bool(close)})
    result = {"program": os.path.relpath(args.program, ROOT), "init": args.init, "pairs": args.pairs,
              "onnxruntime": onnxruntime.__version__, "batch_rows": nsc_runtime.surrogate.BATCH_ROWS,
              "sizes": rows, "command": "python bench/bench_runtime.py"}
    write_result(args.out, "runtime.json", result)
    print(f"nsc_runtime.predict vs a raw onnxruntime session ({result['program']}, 1 thread, median of "
          f"{args.pairs} pairs, thread CPU time):")
    for r in rows:
        agree = "identical" if r["identical"] else "within 1e-6" if r["close"] else "DIFFERENT"
        print(f"  {r['rows']:>7} rows: session {r['raw_seconds'] * 1e6:9.1f} us; predict {r['ratio_float32']:.3f}x "
              f"(float32 rows; best against best {r['ratio_float32_best']:.3f}x), {r['ratio_float64']:.3f}x (float64 "
              f"rows); its range test alone {r['check_seconds'] * 1e6:.1f} us; predictions {agree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
