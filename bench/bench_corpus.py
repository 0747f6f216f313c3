"""Corpus production rate and where the time goes; optionally the coverage of examples/.

Target (issue 3): at least 100k usable programs with >= 128 samples each in under an hour on this 2-core machine.

    python bench/bench_corpus.py [--programs 2000] [--samples 128] [--workers 2] [--rewrites 0] [--coverage]

1. A real run of the corpus runner (fresh folder, --workers processes) gives the wall-clock rate, the kept rate,
   the drop statistics and the time each stage took (summed over workers). CPU time (user+sys of this process and
   all its children) is reported too, because other work on a shared machine inflates wall time: the projection
   "on 2 dedicated cores" divides CPU time, not wall time.
2. A single-process breakdown on one chunk of --breakdown programs, per program: generation, the front-end
   (load_program on each file vs. the runner's shared parse of PARSE_GROUP functions per file), compile (-O2 as
   the harness does for `nsc sample`, -O0 as the runner does) and run.
3. With --coverage: `nsc.training.coverage` of examples/*.c against the corpus just made.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nsc.execute import run_functions, sample_inputs  # noqa: E402
from nsc.frontend import load_program  # noqa: E402
from nsc.training import corpus_run  # noqa: E402
from nsc.training.corpus_gen import generate_program  # noqa: E402

TARGET_PROGRAMS = 100_000


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def production(out: str, programs: int, samples: int, workers: int, rewrites: int, verify: bool) -> dict:
    opts = corpus_run.RunOptions(out, programs, samples, workers=workers, rewrites=rewrites, verify_rewrites=verify,
                                 progress=False)
    c0, t0 = cpu_seconds(), time.perf_counter()
    summary = corpus_run.run_shard(opts)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    kept = summary["kept"]
    return {
        "programs": programs, "samples": samples, "workers": workers, "rewrites": rewrites, "verify": verify,
        "kept": kept, "variants_kept": summary["variants_kept"], "drops": summary["drops"],
        "variant_drops": summary["variant_drops"], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "programs_per_s": round(programs / wall, 1), "kept_per_s": round(kept / wall, 1),
        "stage_s": summary["session"]["stage_s"],
        "cpu_ms_per_kept": round(1000 * cpu / max(kept, 1), 1),
        "projected_100k_wall_min": round(TARGET_PROGRAMS / max(kept / wall, 1e-9) / 60, 1),
        "projected_100k_2cores_min": round(TARGET_PROGRAMS * cpu / max(kept, 1) / 2 / 60, 1),
    }


def breakdown(n: int, samples: int) -> dict:
    """Per-program costs of each stage in one process (ms/program)."""
    ms = {}
    t = time.perf_counter()
    progs = [generate_program(corpus_run.program_seed(99, i)) for i in range(n)]
    ms["generate"] = (time.perf_counter() - t) / n * 1000
    entries = [corpus_run.make_entry(i, p.seed, 0, p.unit, (), i) for i, p in enumerate(progs)]
    with tempfile.TemporaryDirectory() as d:
        k = min(n, 16)
        t = time.perf_counter()
        for i, p in enumerate(progs[:k]):
            path = os.path.join(d, f"p{i}.c")
            with open(path, "w") as f:
                f.write(p.c_text)
            load_program(path)
        ms["parse_load_program_each"] = (time.perf_counter() - t) / k * 1000
        t = time.perf_counter()
        parsed = corpus_run.parse_entries(entries, d)
        ms["parse_shared"] = (time.perf_counter() - t) / n * 1000
    ok = [e for e in entries if not isinstance(parsed[e.batch_name], Exception)]
    sigs = [parsed[e.batch_name][0] for e in ok]
    text = corpus_run.batch_text(ok)
    one = [sample_inputs(s, 1, np.random.default_rng(0)) for s in sigs]
    xs = [sample_inputs(s, samples, np.random.default_rng(0)) for s in sigs]
    for label, prefix in (("compile_O2", ""), ("compile_O0", corpus_run.COMPILE_PRAGMA)):
        t = time.perf_counter()
        run_functions(prefix + text, sigs, one)  # one row: (almost) all compile
        ms[label] = (time.perf_counter() - t) / len(ok) * 1000
    t = time.perf_counter()
    run_functions(corpus_run.COMPILE_PRAGMA + text, sigs, xs)
    ms["run"] = max(0.0, (time.perf_counter() - t) / len(ok) * 1000 - ms["compile_O0"])
    return {k: round(v, 2) for k, v in ms.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rewrites", type=int, default=0)
    ap.add_argument("--no-verify", dest="verify", action="store_false")
    ap.add_argument("--breakdown", type=int, default=128, help="programs in the single-process breakdown (0: skip)")
    ap.add_argument("--coverage", action="store_true", help="coverage of examples/*.c against the corpus made")
    ap.add_argument("--keep", help="keep the corpus in this folder (default: a temp folder)")
    a = ap.parse_args(argv)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = a.keep or os.path.join(tmp, "corpus")
        result["production"] = production(out, a.programs, a.samples, a.workers, a.rewrites, a.verify)
        if a.breakdown:
            result["breakdown_ms_per_program"] = breakdown(a.breakdown, a.samples)
        if a.coverage:
            from nsc.training.coverage import coverage, format_table

            root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
            examples = sorted(glob.glob(os.path.join(root, "examples", "*.c")))
            if examples:
                cov = coverage(out, examples)
                print(format_table(cov), file=sys.stderr)
                result["coverage_summary"] = cov["summary"]
    p = result["production"]
    print(f"{p['programs']} programs, {p['samples']} samples, {p['workers']} workers, rewrites {p['rewrites']}: "
          f"kept {p['kept']} (+{p['variants_kept']} rewrites) in {p['wall_s']} s wall / {p['cpu_s']} s CPU -> "
          f"{p['kept_per_s']} kept/s; 100k usable: {p['projected_100k_wall_min']} min at this wall rate, "
          f"{p['projected_100k_2cores_min']} min on 2 dedicated cores", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
