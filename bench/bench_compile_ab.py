"""Before/after compile latency of a change: whole-process `nsc compile` of each example with two source trees
(say, `git archive main | tar -x -C /tmp/before` and this checkout), runs interleaved so that a busy machine slows
both alike. Prints each program's median and the median over programs.

    python bench/bench_compile_ab.py --before /tmp/before --after . [--repeats 9] [examples/*.c]

Both trees run with the same Python (this one), each from its own nsc and runtime/ (PYTHONPATH), byte-compiled
first as bench_compile.py does.
"""

from __future__ import annotations

import argparse
import compileall
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("programs", nargs="*")
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    for root in trees.values():
        for package in ("nsc", os.path.join("runtime", "nsc_runtime")):
            compileall.compile_dir(os.path.join(root, package), quiet=1)
    programs = [os.path.abspath(p) for p in (args.programs or sorted(glob.glob("examples/*.c")))]
    times = {k: {p: [] for p in programs} for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for p in programs:
                for k in (("before", "after") if r % 2 == 0 else ("after", "before")):
                    root = trees[k]
                    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{os.path.join(root, 'runtime')}")
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "nsc.cli", "compile", p, "-o", f"{tmp}/x.onnx"], cwd=root,
                                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    times[k][p].append(time.perf_counter() - t0)
    print(f"{'program':<22}{'before ms':>10}{'after ms':>10}")
    for p in programs:
        before, after = (1000 * statistics.median(times[k][p]) for k in ("before", "after"))
        print(f"{os.path.basename(p):<22}{before:>10.0f}{after:>10.0f}")
    before, after = (1000 * statistics.median(statistics.median(v) for v in times[k].values())
                     for k in ("before", "after"))
    print(f"median over programs of the median of {args.repeats} runs: before {before:.0f} ms, after {after:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
