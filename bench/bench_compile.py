"""Compile latency: `nsc compile` as a whole process vs `cc -O2 -c` on the same file (target: median ratio <=
10x over examples/), which compiler made the surrogate, the structural compiler's own time in the process (trace
and network, a fresh program each time), the hypernetwork's inference time (target < 50 ms), and `nsc compile
--arch 64,64` (target <= 10 s).

    python bench/bench_compile.py [--repeats 7] [--arch-repeats 1] [--out bench/results] [examples/*.c]

nsc's modules are byte-compiled first, as `pip install` does and as Python does on a first run: where
PYTHONDONTWRITEBYTECODE is set (as on the development machine) an editable install would otherwise recompile
nsc's sources on every run, ~40 ms that an installed nsc does not pay.
"""

from __future__ import annotations

import argparse
import compileall
import glob
import json
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
    compile_params(program, init="hypernetwork")  # warm: session creation is start-up, in the process figure
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        compile_params(program, init="hypernetwork")
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def structural_ms(path: str, repeats: int) -> tuple[float, str]:
    """(median ms of the structural network's compiler on a freshly read program, the compiler `nsc compile`
    uses: the network, an MLP distilled from the computation graph, or the hypernetwork)."""
    from nsc.compiler.inits import STRUCTURAL_ID, TRACED_ID, compile_params, structural_or_reason
    from nsc.frontend import load_program

    times, used = [], "?"
    for _ in range(repeats):
        program = load_program(path)
        t0 = time.perf_counter()
        params, _ = structural_or_reason(program)
        times.append(time.perf_counter() - t0)
        used = STRUCTURAL_ID if params is not None else "?"
    if params is None:  # (once, as nsc compile decides: the process figure includes the distillation's time)
        used = compile_params(program).compiler_id
        used = used if used in (STRUCTURAL_ID, TRACED_ID) else "hypernetwork"
    return 1000 * statistics.median(times), used


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("programs", nargs="*")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--arch-repeats", type=int, default=1, help="runs of `nsc compile --arch 64,64` a program")
    ap.add_argument("--out", default="bench/results", help="folder for compile.json")
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
            arch = wall([*nsc, "compile", path, "-o", f"{tmp}/x.onnx", "--arch", "64,64"], args.arch_repeats) \
                if args.arch_repeats else float("nan")
            inf = inference_ms(path, args.repeats)
            struct, used = structural_ms(path, args.repeats)
            ratios.append(nc / cc)
            rows.append((Path(path).name, cc * 1000, nc * 1000, nc / cc, used, struct, inf, arch))
    print(f"{'program':<22}{'cc -O2 -c ms':>14}{'nsc compile ms':>16}{'ratio':>8}  {'compiled by':<14}"
          f"{'structural ms':>15}{'hypernet ms':>13}{'--arch 64,64 s':>16}")
    for name, cc, nc, ratio, used, struct, inf, arch in rows:
        print(f"{name:<22}{cc:>14.1f}{nc:>16.1f}{ratio:>8.1f}  {used:<14}{struct:>15.1f}{inf:>13.1f}{arch:>16.1f}")
    print(f"median ratio nsc compile / cc -O2 -c: {statistics.median(ratios):.1f}x (target <= 10x); "
          f"median hypernetwork inference {statistics.median(r[6] for r in rows):.1f} ms (target < 50 ms); "
          f"slowest --arch 64,64 {max(r[7] for r in rows):.1f} s (target <= 10 s)")
    keys = ("program", "cc_ms", "nsc_compile_ms", "ratio", "compiled_by", "structural_ms", "hypernet_ms", "arch_s")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, "compile.json").write_text(json.dumps(
        {"median_ratio": statistics.median(ratios), "repeats": args.repeats,
         "programs": [dict(zip(keys, row)) for row in rows]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
