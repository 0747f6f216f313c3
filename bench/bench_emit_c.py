"""`nsc emit-c` speed: the emitted C surrogate against the native C function, side by side in one process.

    python bench/bench_emit_c.py [--program examples/blackscholes.c] [--init hypernetwork] [--pairs 21]
                                 [--out bench/results]

Compiles the program's surrogate (`nsc compile --init hypernetwork`: 5-64-64-1 silu for blackscholes, the network
the issue's targets are stated for; `--init compiled` takes nsc's default, the structural network where it makes
one: for blackscholes 11 layers of up to 533 units), emits it as C, and builds one
C program with `cc -O2` holding the surrogate, the program and a timing loop. Over 4096 rows drawn in the ranges
it times, in alternation (`--pairs` times; each figure is the median of the pairs' ratios):

  - native: the original function called once per row;
  - batch 1: the surrogate through its original signature, once per row;
  - batch 4096: NAME_batch on all rows;
  - an FMA loop of 12 independent 8-wide chains under target("avx2,fma"): this core's float32 peak as measured.

Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine wall time counts other
processes' turns. Reported: rows/s of each; the surrogate's rows/s as a ratio of native's at batch 1 and 4096;
its float32 rate (2 FLOP per weight a row, 8960 for 5-64-64-1, activations not counted) as a share of one core's
nominal peak (2 FMA units x 8 lanes x 2 FLOP x 2.45 GHz = 78.4 GFLOP/s, the issue's figure for this EPYC's base
clock) and of the measured peak (the core runs above its base clock). Writes bench/results/emit_c.json
(--out: another folder).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_common import ROOT, arguments, write_result

NOMINAL_PEAK = 78.4e9  # FLOP/s: 2 x 8 x 2 x 2.45 GHz (AVX2 + FMA on this machine's EPYC at base clock)
ROWS = 4096

TIMING = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* seconds per row over `reps` passes of N rows */
static double per_row(int what, const float *x, float *y, int reps)
{
    double t = cpu_seconds();
    int r;
    size_t i;
    for (r = 0; r < reps; r++) {
        if (what == 0) for (i = 0; i < N; i++) call_native(x + i * N_IN, y + i * N_OUT);
        else if (what == 1) for (i = 0; i < N; i++) call_surrogate(x + i * N_IN, y + i * N_OUT);
        else @NAME@_batch(x, y, N);
    }
    return (cpu_seconds() - t) / ((double)reps * N);
}

#if defined(__GNUC__) && defined(__x86_64__)
typedef float nsc_bench_v8 __attribute__((vector_size(32)));
__attribute__((target("avx2,fma"), noinline)) static float fma_loop(long iters)
{
    nsc_bench_v8 a[12], m = {0.999999f, 0.999999f, 0.999999f, 0.999999f, 0.999999f, 0.999999f, 0.999999f,
                             0.999999f}, c = {1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f}, s;
    long i;
    int k;
    for (k = 0; k < 12; k++) a[k] = c * (float)k;
    for (i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (k = 0; k < 12; k++) a[k] = a[k] * m + c;
    }
    s = a[0];
    for (k = 1; k < 12; k++) s += a[k];
    return s[0] + s[7];
}
static double peak_flops(void)
{
    const long iters = 20000000;
    double t = cpu_seconds();
    volatile float sink = fma_loop(iters);
    (void)sink;
    return iters * 12.0 * 8 * 2 / (cpu_seconds() - t);
}
#else
static double peak_flops(void) { return 0; }
#endif

int main(int argc, char **argv)
{
    float *x = malloc(sizeof(float) * N * N_IN), *y = malloc(sizeof(float) * N * N_OUT);
    FILE *f = argc > 2 ? fopen(argv[1], "rb") : 0;
    int p, pairs = argc > 2 ? atoi(argv[2]) : 0;
    if (!f || !x || !y || fread(x, sizeof(float) * N_IN, N, f) != N) return 2;
    per_row(0, x, y, 20); per_row(1, x, y, 2); per_row(2, x, y, 20);  /* warm */
    for (p = 0; p < pairs; p++) {
        double native = per_row(0, x, y, 50), row = per_row(1, x, y, 5), batch = per_row(2, x, y, 50);
        double peak = peak_flops();
        printf("{\"native\": %.6e, \"row\": %.6e, \"batch\": %.6e, \"peak\": %.6e}\n", native, row, batch, peak);
    }
    return 0;
}
"""


def main() -> int:
    args = arguments(__doc__, pairs=21)
    from nsc import toolchain
    from nsc.emit import harness
    from nsc.execute import sample_inputs
    from nsc.frontend.program import Signature
    from nsc.surrogate import onnx_io

    with tempfile.TemporaryDirectory(prefix="nsc-bench-emit-") as tmp:
        model = os.path.join(tmp, "model.onnx")
        toolchain.compile_file(args.program, output=model, init=args.init)
        name = "bench_surrogate"
        toolchain.emit_c_file(model, output=os.path.join(tmp, f"{name}.c"), name=name)
        loaded = onnx_io.load_surrogate(model)
        sig = Signature.from_json(loaded.signature_json)
        driver = harness.driver_source(sig, name, native=True).split("\nint main")[0]  # the stubs, not its main
        Path(tmp, "timing.c").write_text(driver + f"\n#define N {ROWS}\n" + TIMING.replace("@NAME@", name))
        exe = harness.build(os.path.join(tmp, f"{name}.c"), os.path.join(tmp, "timing.c"), os.path.join(tmp, "t"),
                            extra_sources=[args.program])
        x = sample_inputs(sig, ROWS, np.random.default_rng(0)).astype("<f4")
        x.tofile(os.path.join(tmp, "x.bin"))
        out = subprocess.run([exe, os.path.join(tmp, "x.bin"), str(args.pairs)], check=True, capture_output=True,
                             text=True).stdout
    pairs = [json.loads(line) for line in out.splitlines()]
    flops_per_row = 2 * sum(int(w.size) for w in loaded.params.weights)
    med = lambda key: statistics.median(p[key] for p in pairs)  # noqa: E731
    batch_rate = 1 / med("batch")
    result = {
        "program": os.path.relpath(args.program, ROOT), "init": args.init,
        "architecture": f"{sig.n_in}-" + "-".join(map(str, loaded.params.hidden)) + f"-{sig.n_out} "
        + ("relu/identity units" if loaded.params.floors is not None else loaded.params.activation),
        "rows": ROWS, "pairs": len(pairs), "cpu": platform.processor() or platform.machine(),
        "native_rows_per_s": 1 / med("native"), "batch1_rows_per_s": 1 / med("row"),
        "batch4096_rows_per_s": batch_rate,
        "ratio_batch1_vs_native": statistics.median(p["native"] / p["row"] for p in pairs),
        "ratio_batch4096_vs_native": statistics.median(p["native"] / p["batch"] for p in pairs),
        "flops_per_row": flops_per_row, "batch4096_gflops": batch_rate * flops_per_row / 1e9,
        "nominal_peak_gflops": NOMINAL_PEAK / 1e9, "measured_peak_gflops": med("peak") / 1e9,
        "share_of_nominal_peak": batch_rate * flops_per_row / NOMINAL_PEAK,
        "share_of_measured_peak": batch_rate * flops_per_row / med("peak"),
        "command": "python bench/bench_emit_c.py",
    }
    write_result(args.out, "emit_c.json", result)
    print(f"emitted C surrogate of {result['program']} (--init {args.init}: {result['architecture']}) vs native, "
          f"{len(pairs)} pairs, thread CPU time:")
    print(f"  native      {result['native_rows_per_s'] / 1e6:8.2f} M rows/s")
    print(f"  batch 1     {result['batch1_rows_per_s'] / 1e6:8.2f} M rows/s   {result['ratio_batch1_vs_native']:.3f}x "
          "native")
    print(f"  batch 4096  {batch_rate / 1e6:8.2f} M rows/s   {result['ratio_batch4096_vs_native']:.3f}x native, "
          f"{result['batch4096_gflops']:.1f} GFLOP/s = {result['share_of_nominal_peak']:.0%} of the nominal "
          f"{NOMINAL_PEAK / 1e9:.1f}, {result['share_of_measured_peak']:.0%} of the measured "
          f"{result['measured_peak_gflops']:.1f} GFLOP/s peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
