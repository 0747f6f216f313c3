"""Compile latency: `nsc compile` as a whole process vs `cc -O2 -c` on the same file (issue 3 target: median
ratio <= 10x), and the hypernetwork's own inference time inside the process (target < 50 ms).

    python bench/bench_compile.py [--repeats 7] [examples/*.c]

nsc's modules are byte-compiled first, as `pip install` does and as Python does on a first run: where
PYTHONDONTWRITEBYTECODE is set (as on the development machine) an editable install would otherwise recompile
nsc's sources on every run, ~40 ms that an installed nsc does not pay.
"""

from __future__ import annotations

import argparse
import compileall
import glob
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def inference_ms(path: str, repeats: int) -> float:
    from nsc.compiler import compile_params
    from nsc.frontend import load_program

    program = load_program(path)
    compile_params(program)  # warm: session creation is start-up, measured in the whole-process figure
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        compile_params(program)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("programs", nargs="*")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    programs = args.programs or sorted(glob.glob("examples/*.c"))
    nsc = [sys.executable, "-m", "nsc.cli"]
    root = Path(__file__).resolve().parents[1]
    for package in (root / "nsc", root / "runtime" / "nsc_runtime"):
        compileall.compile_dir(str(package), quiet=1)
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path in programs:
            cc = wall(["cc", "-O2", "-Iexamples/include", "-c", path, "-o", f"{tmp}/x.o"], args.repeats)
            nc = wall([*nsc, "compile", path, "-o", f"{tmp}/x.onnx"], args.repeats)
            inf = inference_ms(path, args.repeats)
            ratios.append(nc / cc)
            rows.append((Path(path).name, cc * 1000, nc * 1000, nc / cc, inf))
    print(f"{'program':<22}{'cc -O2 -c ms':>14}{'nsc compile ms':>16}{'ratio':>8}{'hypernet ms':>13}")
    for name, cc, nc, ratio, inf in rows:
        print(f"{name:<22}{cc:>14.1f}{nc:>16.1f}{ratio:>8.1f}{inf:>13.1f}")
    print(f"median ratio nsc compile / cc -O2 -c: {statistics.median(ratios):.1f}x (target <= 10x); "
          f"median hypernetwork inference {statistics.median(r[4] for r in rows):.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
