"""Regenerate bench/RESULTS.md: `nsc eval` (NOTES.md section 5) on examples/ and on a held-out corpus split.

    python bench/bench_eval.py [--corpus corpus] [--heldout 12] [--seeds 3] [--out out/eval]

Both sets are programs the shipped compiler never trained on: examples/ were written by hand, the held-out split
is the 2% of corpus program seeds that training skips (nsc.training.corpus_store.is_heldout). The two sets run
in two processes (one core each). Writes out/eval/{examples,heldout}.json and .png, and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def heldout_sources(corpus: str, n: int, out_dir: Path) -> list[str]:
    """Write the first n held-out corpus programs (original variants only) as C files; return their paths."""
    from nsc.training.corpus_store import iter_programs

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in iter_programs(corpus, split="heldout", variants=False):
        path = out_dir / f"heldout_{record.id:06d}.c"
        path.write_text(record.source)
        paths.append(str(path))
        if len(paths) == n:
            break
    return paths


def evaluate_set(name: str, paths: list[str], seeds: int, budgets: list[int], out_dir: str) -> dict:
    from nsc import evaluate
    from nsc.toolchain import load_program

    t0 = time.time()
    programs = [load_program(p) for p in paths]
    results = evaluate.evaluate_programs(programs, budgets=budgets, seeds=seeds,
                                         echo=lambda msg: print(f"[{name}] {msg}", file=sys.stderr, flush=True))
    results["wall_s"] = round(time.time() - t0, 1)
    Path(out_dir, f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    evaluate.plot_curves(results, str(Path(out_dir, f"{name}.png")))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--heldout", type=int, default=12, help="how many held-out corpus programs")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budgets", default="0,16,32,64,128,256,512,1024")
    ap.add_argument("--out", default="out/eval")
    ap.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    corpus, out, results_md = os.path.abspath(args.corpus), os.path.abspath(args.out), Path(args.results).resolve()
    os.chdir(ROOT)  # program names in the tables read examples/X.c, not this machine's absolute paths
    os.makedirs(out, exist_ok=True)

    sets = {"examples": sorted(glob.glob("examples/*.c"))}
    if args.heldout and os.path.isdir(corpus):
        sets["heldout"] = [os.path.relpath(p) for p in heldout_sources(corpus, args.heldout, Path(out) / "heldout")]
    with ProcessPoolExecutor(len(sets)) as pool:
        futures = {name: pool.submit(evaluate_set, name, paths, args.seeds, budgets, out)
                   for name, paths in sets.items()}
        results = {name: f.result() for name, f in futures.items()}

    from nsc import evaluate
    from nsc.compiler import installed_compiler

    compiler = installed_compiler()
    command = (f"python bench/bench_eval.py --corpus {args.corpus} --heldout {args.heldout} --seeds {args.seeds} "
               f"--budgets {args.budgets}")
    lines = ["# nsc eval results", "",
             f"Compiler `{compiler.id}`; measured {datetime.date.today().isoformat()} on the 2-core CPU machine.",
             "Regenerate with:", "", "```sh", command, "```", "",
             "Definitions (NOTES.md section 5, implemented in nsc/evaluate.py): test rel-RMSE on 2000 fresh samples; "
             "data efficiency = 1024 / budget at which compiled init reaches random init's rel-RMSE at 1024 "
             "(log-log interpolation, median over seeds, geometric mean over programs, 'not reached' counted as "
             "0.5; reached before any fine-tuning: 1024 / 1, and such programs are counted and the others' "
             "geometric means given too); epoch ratio at 1024 samples; zero-shot = compiled surrogate before "
             "fine-tuning. Programs the front-end proves piecewise affine in every output are compiled exactly "
             "(nsc/compiler/exact.py).", ""]
    for name, res in results.items():
        title = {"examples": "examples/ (hand-written kernels, never trained on)",
                 "heldout": f"held-out corpus split ({len(sets['heldout'])} programs)"}[name]
        plot = f"eval_{name}.png"  # kept next to the table, so a clone shows the curves it describes
        shutil.copyfile(Path(out, f"{name}.png"), results_md.parent / plot)
        lines += [f"## {title}", "", f"Wall time {res['wall_s']:.0f} s. Curves: [`{plot}`]({plot}).", "",
                  "```", evaluate.format_table(res).rstrip(), "```", "",
                  "Summary (JSON):", "", "```json", json.dumps(res["summary"], indent=2), "```", ""]
    results_md.write_text("\n".join(lines))
    print(results_md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
