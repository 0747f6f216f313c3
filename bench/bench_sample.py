"""Sampling throughput: 1M samples of a 5-input arithmetic C function into numpy arrays, from a fresh process.

Each measurement runs a new Python process that imports nsc, draws 1M inputs uniformly in their ranges, builds the
harness (cc; from the cache when warm), runs it in the sandbox and gets y as a numpy array. The wall time of the
whole process (interpreter start-up included) gives samples/s. "cold" uses an empty harness cache (the sandbox
launcher and the harness runtime are compiled too), "warm" reuses it; both run the harness in its namespaces
where the kernel allows it (the table says how each ran). "warm, rlimits only" is the same run with
NSC_SANDBOX=off, without namespaces (how nsc ran programs before issue 17): the namespaces' cost. The three
runs of a repeat are interleaved, so that the machine's state is shared. Target (issue 2): at least 200k
samples/s; issue 17: the namespaces cost at most 10% of the throughput.

    python bench/bench_sample.py [--n 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

PROGRAM = """\
double kernel(double a, double b, double c, double d, double e) {
    double t = a * b + c * d;
    return t - e / (1.0 + a * a) + 0.5 * (b - c);
}
"""

CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    from nsc.execute import sample_program
    from nsc.frontend.program import Param, Port, Program, Signature
    t_import = time.perf_counter()
    path, n = sys.argv[1], int(sys.argv[2])
    names = "abcde"
    sig = Signature("kernel", "double", tuple(Param(v, "double") for v in names),
                    tuple(Port(v, v, None, "double", -1.0, 1.0) for v in names),
                    (Port("return", "return", None, "double"),))
    prog = Program(path, open(path).read(), "", sig)
    res = sample_program(prog, n, seed=0)
    t_end = time.perf_counter()
    assert res.error is None and res.y.shape == (n, 1), res.error
    x = res.x
    expected = x[:, 0] * x[:, 1] + x[:, 2] * x[:, 3] - x[:, 4] / (1 + x[:, 0] ** 2) + 0.5 * (x[:, 1] - x[:, 2])
    assert np.allclose(res.y[:, 0], expected, rtol=1e-12, atol=1e-12)
    print(json.dumps({"import_s": t_import - t0, "sample_s": t_end - t_import, "sandbox": res.sandbox}))
""")


def run_once(path: str, n: int, cache: str, namespaces: bool = True) -> dict:
    env = {**os.environ, "NSC_CACHE_DIR": cache}
    env.pop("NSC_SANDBOX", None)
    if not namespaces:
        env["NSC_SANDBOX"] = "off"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, path, str(n)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"benchmark child failed:\n{out.stderr}")
    return {"wall_s": wall, **json.loads(out.stdout)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nsc-bench-") as tmp:
        path = os.path.join(tmp, "kernel.c")
        with open(path, "w") as f:
            f.write(PROGRAM)
        rows = []
        for k in range(args.repeats):
            cache = os.path.join(tmp, f"cache-{k}")  # a fresh, empty cache: cold
            cold = run_once(path, args.n, cache)
            if k % 2 == 0:  # (the two warm runs take turns going first)
                warm = run_once(path, args.n, cache)
                plain = run_once(path, args.n, cache, namespaces=False)
            else:
                plain = run_once(path, args.n, cache, namespaces=False)
                warm = run_once(path, args.n, cache)
            rows.append((cold, warm, plain))
    print(f"nsc sampling benchmark: {args.n} samples of a 5-input arithmetic function, fresh process each "
          f"(median of {args.repeats})")
    print(f"{'cache':<20} {'wall s':>8} {'import s':>9} {'sample s':>9} {'samples/s':>12}  sandbox")
    for label, idx in (("cold", 0), ("warm", 1), ("warm, rlimits only", 2)):
        wall = statistics.median(r[idx]["wall_s"] for r in rows)
        imp = statistics.median(r[idx]["import_s"] for r in rows)
        smp = statistics.median(r[idx]["sample_s"] for r in rows)
        modes = sorted({r[idx]["sandbox"] for r in rows})
        print(f"{label:<20} {wall:>8.3f} {imp:>9.3f} {smp:>9.3f} {args.n / wall:>12,.0f}  {'; '.join(modes)}")
    # each repeat's pair ran back to back: the median of the pairs' ratios is steadier than a ratio of medians
    wall_ratio = statistics.median(r[2]["wall_s"] / r[1]["wall_s"] for r in rows)
    sample_ratio = statistics.median(r[2]["sample_s"] / r[1]["sample_s"] for r in rows)
    print(f"namespaces vs rlimits only (warm), median over the repeats' pairs: {wall_ratio:.3f}x the throughput "
          f"(whole process), {sample_ratio:.3f}x in sample_program (target: at least 0.9x)")
    print("target: >= 200,000 samples/s (start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
