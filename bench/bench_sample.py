"""Sampling throughput: 1M samples of a 5-input arithmetic C function into numpy arrays, from a fresh process.

Each measurement runs a new Python process that imports nsc, draws 1M inputs uniformly in their ranges, builds the
harness (cc; from the cache when warm), runs it in the sandbox and gets y as a numpy array. The wall time of the
whole process (interpreter start-up included) gives samples/s. "cold" uses an empty harness cache (the sandbox
launcher and the harness runtime are compiled too), "warm" reuses it; both run the harness in its namespaces
where the kernel allows it (the table says how each ran). "warm, rlimits only" is the same run with
NSC_SANDBOX=off, without namespaces (how nsc ran programs before issue 17): the namespaces' cost. The three
runs of a repeat are interleaved, so that the machine's state is shared. `--baseline DIR` adds a fourth, warm
run of another checkout of nsc (DIR on PYTHONPATH, its own cache), e.g. the code before a change:
`git archive REV nsc | tar -x -C DIR`. `--best-of K` runs sample_program K times in each warm process and
compares the fastest (steadier where other work shares the machine). Last, what one harness process costs (start,
a 1-row job, close), with and without namespaces, in `--starts` interleaved pairs: wall time and the CPU time of
the child processes.
Target (issue 2): at least 200k samples/s; issue 17: the namespaces cost at most 10% of the throughput.

    python bench/bench_sample.py [--n 1000000] [--repeats 3] [--baseline DIR] [--best-of 1] [--starts 100]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    path, n, best_of = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = "abcde"
    sig = Signature("kernel", "double", tuple(Param(v, "double") for v in names),
                    tuple(Port(v, v, None, "double", -1.0, 1.0) for v in names),
                    (Port("return", "return", None, "double"),))
    prog = Program(path, open(path).read(), "", sig)
    res = sample_program(prog, n, seed=0)
    t_end = time.perf_counter()
    best_s = t_end - t_import
    for seed in range(1, best_of):  # (steadier on a busy machine than one run)
        t = time.perf_counter()
        sample_program(prog, n, seed=seed)
        best_s = min(best_s, time.perf_counter() - t)
    extra_s = time.perf_counter() - t_end
    assert res.error is None and res.y.shape == (n, 1), res.error
    x = res.x
    expected = x[:, 0] * x[:, 1] + x[:, 2] * x[:, 3] - x[:, 4] / (1 + x[:, 0] ** 2) + 0.5 * (x[:, 1] - x[:, 2])
    assert np.allclose(res.y[:, 0], expected, rtol=1e-12, atol=1e-12)
    sandbox = getattr(res, "sandbox", "rlimits only (before issue 17)")
    print(json.dumps({"import_s": t_import - t0, "sample_s": t_end - t_import, "best_s": best_s, "extra_s": extra_s,
                      "sandbox": sandbox}))
""")


def run_once(path: str, n: int, cache: str, best_of: int, namespaces: bool = True, nsc_dir: str | None = None) -> dict:
    env = {**os.environ, "NSC_CACHE_DIR": cache}
    env.pop("NSC_SANDBOX", None)
    if not namespaces:
        env["NSC_SANDBOX"] = "off"
    if nsc_dir is not None:
        env["PYTHONPATH"] = os.path.abspath(nsc_dir)
    start = time.perf_counter()
    # (cwd: the file's folder, as `python -c` puts the working directory, a checkout perhaps, before PYTHONPATH)
    out = subprocess.run([sys.executable, "-c", CHILD, path, str(n), str(best_of)], env=env, capture_output=True,
                         text=True, cwd=os.path.dirname(path))
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"benchmark child failed:\n{out.stderr}")
    times = json.loads(out.stdout)
    return {**times, "wall_s": wall - times["extra_s"]}  # (the process up to its first run's end)


def harness_starts(path: str, cache: str, pairs: int) -> dict:
    """{mode: (median wall s, mean child CPU s)} of one harness start + 1-row job + close, in this process."""
    os.environ["NSC_CACHE_DIR"] = cache
    import numpy as np

    from nsc.execute import build, sandbox
    from nsc.frontend.program import Param, Port, Signature

    sig = Signature("kernel", "double", tuple(Param(v, "double") for v in "abcde"),
                    tuple(Port(v, v, None, "double", -1.0, 1.0) for v in "abcde"),
                    (Port("return", "return", None, "double"),))
    exe = str(build.build_file(path, path, [sig]))
    x = np.zeros((1, 5))
    walls, cpu = {"namespaces": [], "rlimits only": []}, {"namespaces": 0.0, "rlimits only": 0.0}
    for k in range(pairs):
        for mode in (("namespaces", "rlimits only") if k % 2 == 0 else ("rlimits only", "namespaces")):
            os.environ.pop("NSC_SANDBOX", None)
            if mode == "rlimits only":
                os.environ["NSC_SANDBOX"] = "off"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            [out] = sandbox.run_jobs(exe, [sandbox.Job(0, x, 1)])
            walls[mode].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[mode] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if out.failure is not None or not out.isolation.startswith(mode):
                sys.exit(f"harness start ({mode}) went wrong: {out.failure or out.isolation}")
    os.environ.pop("NSC_SANDBOX", None)
    return {mode: (statistics.median(walls[mode]), cpu[mode] / pairs) for mode in walls}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", metavar="DIR", help="also time the nsc package in DIR (warm), interleaved")
    ap.add_argument("--starts", type=int, default=100, help="pairs of harness starts to time (0: none)")
    ap.add_argument("--best-of", type=int, default=1,
                    help="warm processes run sample_program this often; the comparisons take each one's fastest")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nsc-bench-") as tmp:
        path = os.path.join(tmp, "kernel.c")
        with open(path, "w") as f:
            f.write(PROGRAM)
        rows = []
        for k in range(args.repeats):
            cache = os.path.join(tmp, f"cache-{k}")  # a fresh, empty cache: cold
            runs = {"cold": run_once(path, args.n, cache, 1)}
            warm = {"warm": lambda: run_once(path, args.n, cache, args.best_of),
                    "warm, rlimits only": lambda: run_once(path, args.n, cache, args.best_of, namespaces=False)}
            if args.baseline:
                base_cache = os.path.join(tmp, "cache-baseline")
                if k == 0:
                    run_once(path, args.n, base_cache, 1, nsc_dir=args.baseline)  # (warm its cache)
                warm["warm, baseline"] = lambda: run_once(path, args.n, base_cache, args.best_of,
                                                          nsc_dir=args.baseline)
            order = list(warm) if k % 2 == 0 else list(warm)[::-1]  # (the warm runs take turns going first)
            runs.update({label: warm[label]() for label in order})
            rows.append(runs)
        starts = harness_starts(path, os.path.join(tmp, "cache-0"), args.starts) if args.starts > 0 else {}
    print(f"nsc sampling benchmark: {args.n} samples of a 5-input arithmetic function, fresh process each "
          f"(median of {args.repeats})")
    print(f"{'cache':<20} {'wall s':>8} {'import s':>9} {'sample s':>9} {'samples/s':>12}  sandbox")
    for label in rows[0]:
        wall = statistics.median(r[label]["wall_s"] for r in rows)
        imp = statistics.median(r[label]["import_s"] for r in rows)
        smp = statistics.median(r[label]["sample_s"] for r in rows)
        modes = sorted({r[label]["sandbox"] for r in rows})
        print(f"{label:<20} {wall:>8.3f} {imp:>9.3f} {smp:>9.3f} {args.n / wall:>12,.0f}  {'; '.join(modes)}")
    # each repeat's runs ran back to back: the median of the pairs' ratios is steadier than a ratio of medians
    for other in [label for label in rows[0] if label not in ("cold", "warm")]:
        wall_ratio = statistics.median(r[other]["wall_s"] / r["warm"]["wall_s"] for r in rows)
        sample_ratio = statistics.median(r[other]["best_s"] / r["warm"]["best_s"] for r in rows)
        best = f", best of {args.best_of} in each process" if args.best_of > 1 else ""
        print(f"warm vs {other[6:]}, median over the repeats: {wall_ratio:.3f}x the throughput (whole process), "
              f"{sample_ratio:.3f}x in sample_program{best} (target: at least 0.9x)")
    for mode, (wall, cpu) in starts.items():
        print(f"one harness process ({mode}): {1000 * wall:.1f} ms start + 1 row + close (median of "
              f"{args.starts}), {1000 * cpu:.1f} ms CPU in its processes")
    print("target: >= 200,000 samples/s (start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
