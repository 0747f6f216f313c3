"""Regenerate bench/RESULTS.md: `nsc eval` (NOTES.md section 5) on examples/, bench/validation/ and a held-out
corpus split, with the ablation of the initialisations (nsc/compiler/inits.py).

    python bench/bench_eval.py [--corpus corpus] [--heldout 24] [--seeds 3] [--inits ...] [--out out/eval]
    python bench/bench_eval.py --from-json [--out out/eval]     # rewrite RESULTS.md from stored results

Every set is programs the shipped hypernetwork never trained on and the structural compiler was not tuned on:
examples/ and bench/validation/ were written by hand (choices were made on bench/validation/), the held-out
split is the 2% of corpus program seeds that training skips (nsc.training.corpus_store.is_heldout). Programs run
one per core at a time, each stored as it is measured (an interrupted run resumes). Writes
out/eval/{examples,validation,heldout}.json and .png, and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# one program per core: numpy's BLAS on one thread each (two would stall against the other worker), before
# anything imports numpy; torch is set to one thread in each worker below
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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


def evaluate_one(name: str, path: str, seeds: int, budgets: list[int], out_dir: str, inits: tuple) -> tuple:
    """(one program's result, the seconds it took). Each result is stored as it is measured
    (out/per_program/SET/PROGRAM.json, with the settings and the program's text it belongs to), so an interrupted
    run resumes where it stopped."""
    import hashlib

    from nsc import evaluate
    from nsc.compiler import installed_compiler
    from nsc.compiler.inits import STRUCTURAL_ID, TRACED_ID
    from nsc.toolchain import load_program

    key = {"seeds": seeds, "budgets": sorted(set(budgets)), "inits": list(inits),
           "compilers": [STRUCTURAL_ID, TRACED_ID, installed_compiler().id],
           "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
    cached = Path(out_dir, "per_program", name, Path(path).stem + ".json")
    if cached.is_file():
        stored = json.loads(cached.read_text())
        if stored.get("key") == key:
            print(f"[{name}] {path}: stored result ({cached})", file=sys.stderr, flush=True)
            return stored["result"], stored["wall_s"]
    t0 = time.time()
    result = evaluate.evaluate_program(load_program(path), budgets, seeds, inits,
                                       echo=lambda msg: print(f"[{name}] {msg}", file=sys.stderr, flush=True))
    result["program"] = display_name(path)
    spent = round(time.time() - t0, 1)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"key": key, "wall_s": spent, "result": result}, indent=1) + "\n")
    return result, spent


def _one_thread() -> None:
    """Each worker process computes on one core (the pool has one process per core)."""
    import torch

    torch.set_num_threads(1)


def evaluate_sets(sets: dict, seeds: int, budgets: list[int], out_dir: str, inits: tuple) -> dict:
    """Every program of every set, one per process and core at a time; then each set's summary and curves."""
    from nsc import evaluate

    inits = evaluate.check_inits(inits)
    jobs = [(name, path) for name, paths in sets.items() for path in paths]
    with ProcessPoolExecutor(os.cpu_count() or 1, initializer=_one_thread) as pool:
        futures = [pool.submit(evaluate_one, name, path, seeds, budgets, out_dir, inits) for name, path in jobs]
        done = [f.result() for f in futures]
    results = {}
    for name in sets:
        mine = [d for (set_name, _), d in zip(jobs, done) if set_name == name]
        per_program = [r for r, _ in mine]
        results[name] = {"definitions": evaluate.__doc__.strip(), "summary": evaluate.summarise(per_program, inits),
                         "per_program": per_program, "wall_s": round(sum(w for _, w in mine), 1)}
        Path(out_dir, f"{name}.json").write_text(json.dumps(results[name], indent=2) + "\n")
        evaluate.plot_curves(results[name], str(Path(out_dir, f"{name}.png")))
    return results


def write_results(results: dict, results_md: Path, out: str, command: str, compiler_id: str, measured: str) -> None:
    """bench/RESULTS.md: per set the table, the curves (copied next to it) and the JSON summary."""
    from nsc import evaluate
    from nsc.compiler.inits import STRUCTURAL_ID, TRACED_ID

    lines = ["# nsc eval results", "",
             f"Structural compiler `{STRUCTURAL_ID}` and `{TRACED_ID}`, hypernetwork `{compiler_id}`; measured {measured} on the 2-core "
             "CPU machine.",
             "Regenerate with:", "", "```sh", command, "```", "",
             "Definitions (NOTES.md section 5, implemented in nsc/evaluate.py): test rel-RMSE on 2000 fresh samples; "
             "data efficiency = 1024 / budget at which compiled init reaches random init's rel-RMSE at 1024 "
             "(log-log interpolation, median over seeds, geometric mean over programs, 'not reached' counted as "
             "0.5; reached before any fine-tuning: 1024 / 1, and such programs are counted and the others' "
             "geometric means given too, as are the geometric means of each seed alone); epoch ratio at 1024 "
             "samples; zero-shot = compiled surrogate before fine-tuning. Initialisations (nsc/compiler/inits.py): "
             "`compiled` = the structural compiler where it translates the function with a small estimated error "
             "(its network; else, where the network would be too deep, an MLP distilled at compile time from the "
             "program's computation graph, `traced-1`, no program runs), else the trained hypernetwork; "
             "`structural` = the structural compiler alone (network or distilled graph; random init where neither "
             "holds); `hypernetwork` = the trained hypernetwork alone; `unconditioned` = the one learned "
             "initialisation; `random` = the baseline. Each is fine-tuned with the recipe `nsc finetune` uses for "
             "it (nsc/surrogate/finetune.py recipe_for); `compiled` alone is also fine-tuned, as `nsc finetune` does, "
             "beside a random restart on the same rows, the better on validation kept, so the `structural` and "
             "`hypernetwork` rows show those starts without that guard.", ""]
    lines += ablation_lines(results)
    for name, res in results.items():
        title = {"examples": "examples/ (hand-written kernels, never trained on)",
                 "validation": "bench/validation/ (hand-written kernels the compiler's choices were made on)",
                 "heldout": f"held-out corpus split ({len(res['per_program'])} programs)"}[name]
        plot = f"results/eval_{name}.png"  # kept in the repository, so a clone shows the curves it describes
        (results_md.parent / "results").mkdir(exist_ok=True)
        shutil.copyfile(Path(out, f"{name}.png"), results_md.parent / plot)
        lines += [f"## {title}", "", f"{res['wall_s']:.0f} s of one core. Curves: [`{plot}`]({plot}).", "",
                  "```", evaluate.format_table(res).rstrip(), "```", "",
                  "Summary (JSON):", "", "```json", json.dumps(res["summary"], indent=2), "```", ""]
    results_md.write_text("\n".join(lines))


def display_name(path: str) -> str:
    """A program's name in the tables: its path in the repository, or heldout/NAME.c for a held-out corpus program
    (written into the --out folder, which may lie anywhere)."""
    return "heldout/" + Path(path).name if Path(path).name.startswith("heldout_") else path


def ablation_lines(results: dict) -> list[str]:
    """RESULTS.md's ablation: each initialisation against random init on each set and on all programs together."""
    from nsc import evaluate

    inits = [i for i in results[next(iter(results))]["per_program"][0]["rel_rmse"] if i != "random"]
    groups = {**{name: res["per_program"] for name, res in results.items()},
              "all": [r for res in results.values() for r in res["per_program"]]}
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    lines = ["## Ablation of the initialisations", "",
             "Per set and over all programs: zero-shot median rel-RMSE (the start before any fine-tuning), programs "
             "whose start already beats random init's error at 1024 samples, data efficiency and epoch ratio "
             "geomeans (all programs; the others'), and the rel-RMSE at 1024 samples as a share of random init's "
             "(geomean, worst). `compiled` is structural and hypernetwork together (`both`).", "",
             "| set | init | programs | zero-shot median | reached before fine-tuning | data efficiency (others) "
             "| epoch ratio (others) | error at 1024 / random's: geomean, worst |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, per_program in groups.items():
        summary = evaluate.summarise(per_program, ("random", *inits))
        for init in inits:
            x = summary[init]
            zero = statistics.median(r["rel_rmse"][init][0] for r in per_program)
            lines.append(
                f"| {name} | {init} | {len(per_program)} | {fmt(zero, '.3g')} | {x['reached_before_finetuning']} "
                f"| {fmt(x['data_efficiency_geomean'], '.2f')}x ({fmt(x['data_efficiency_geomean_others'], '.2f')}x) "
                f"| {fmt(x['epoch_ratio_geomean'], '.2f')}x ({fmt(x['epoch_ratio_geomean_others'], '.2f')}x) "
                f"| {fmt(x['error_ratio_at_max_geomean'], '.3g')}, {fmt(x['error_ratio_at_max_worst'], '.3g')} "
                f"({x['error_ratio_at_max_worst_program']}) |")
    return lines + [""]


def from_json(out: str) -> tuple[dict, str, str]:
    """Stored results (out/{examples,heldout}.json) re-summarised with the current definitions and written back:
    (results, compiler id, the day they were measured)."""
    from nsc import evaluate

    results, days = {}, []
    for name in ("examples", "validation", "heldout"):
        path = Path(out, f"{name}.json")
        if path.is_file():
            res = json.loads(path.read_text())
            for r in res["per_program"]:
                r["program"] = display_name(r["program"])
            res["summary"] = evaluate.summarise(res["per_program"], tuple(res["per_program"][0]["rel_rmse"]))
            path.write_text(json.dumps(res, indent=2) + "\n")
            results[name] = res
            days.append(datetime.date.fromtimestamp(path.stat().st_mtime).isoformat())
    if not results:
        raise SystemExit(f"bench_eval: no stored results in {out}")
    from nsc.compiler import installed_compiler

    return results, installed_compiler().id, min(days)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--heldout", type=int, default=24, help="how many held-out corpus programs")
    ap.add_argument("--inits", default="random,compiled,structural,hypernetwork,unconditioned")
    ap.add_argument("--sets", default="examples,validation,heldout")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budgets", default="0,16,32,64,128,256,512,1024")
    ap.add_argument("--out", default="out/eval")
    ap.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--from-json", action="store_true",
                    help="rewrite the results file from the stored results in --out instead of measuring")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    corpus, out, results_md = os.path.abspath(args.corpus), os.path.abspath(args.out), Path(args.results).resolve()
    os.chdir(ROOT)  # program names in the tables read examples/X.c, not this machine's absolute paths
    command = (f"python bench/bench_eval.py --corpus {args.corpus} --heldout {args.heldout} --seeds {args.seeds} "
               f"--budgets {args.budgets} --inits {args.inits} --sets {args.sets}")
    inits = tuple(args.inits.split(","))
    wanted = args.sets.split(",")
    if args.from_json:
        results, compiler_id, measured = from_json(out)
        write_results(results, results_md, out, command, compiler_id, measured)
        print(results_md.read_text())
        return 0
    os.makedirs(out, exist_ok=True)

    sets = {"examples": sorted(glob.glob("examples/*.c")), "validation": sorted(glob.glob("bench/validation/*.c"))}
    if args.heldout and os.path.isdir(corpus):
        sets["heldout"] = [os.path.relpath(p) for p in heldout_sources(corpus, args.heldout, Path(out) / "heldout")]
    sets = {name: paths for name, paths in sets.items() if name in wanted}
    results = evaluate_sets(sets, args.seeds, budgets, out, inits)

    from nsc.compiler import installed_compiler

    write_results(results, results_md, out, command, installed_compiler().id, datetime.date.today().isoformat())
    print(results_md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
