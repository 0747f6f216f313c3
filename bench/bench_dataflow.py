"""The front-end's data-flow analysis on the corpus: how much it proves, how fast, and whether it is sound.

    python bench/bench_dataflow.py [--corpus corpus] [--programs 3000] [--check 300]

For the first --programs corpus programs (originals, not rewrites): the share of (input, output) pairs the
analysis proves independent, the share of programs with at least one such pair, and the time per program
(re-reading canonical tokens, as training does). Then, for the first --check of them that have such a pair:
each input that cannot reach some output is redrawn on 20 rows while the other inputs stay fixed, the real
program runs natively, and every output it cannot reach must come out bit-identical. Any difference is
printed and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time

import numpy as np

from nsc.execute.independence import independence_violations
from nsc.analysis import flows
from nsc.frontend import load_program
from nsc.analysis.dataflow import reach_matrix_of_tokens
from nsc.training.corpus_store import iter_programs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--programs", type=int, default=3000)
    ap.add_argument("--check", type=int, default=300)
    args = ap.parse_args()

    records = list(itertools.islice(iter_programs(args.corpus, variants=False), args.programs))
    t0 = time.perf_counter()
    flows = [reach_matrix_of_tokens(r.tokens, r.signature) for r in records]
    per_program_ms = (time.perf_counter() - t0) / max(len(records), 1) * 1e3
    pairs = sum(f.size for f in flows)
    independent = sum(int((~f).sum()) for f in flows)
    with_some = sum(bool((~f).any()) for f in flows)
    print(f"{len(records)} corpus programs: {independent / pairs:.1%} of (input, output) pairs proven independent; "
          f"{with_some / len(records):.1%} of programs have at least one; {per_program_ms:.1f} ms a program")

    rng = np.random.default_rng(0)
    checked = pairs_checked = 0
    violations = []
    with tempfile.TemporaryDirectory() as tmp:
        for rec, f in zip(records, flows):
            if checked >= args.check or f.all():
                continue
            path = os.path.join(tmp, f"p{rec.id}.c")
            with open(path, "w") as out:
                out.write(rec.source)
            prog = load_program(path)
            if not np.array_equal(flows(prog), f):
                violations.append(f"program {rec.id}: the front-end and the token path disagree")
            violations += [f"program {rec.id}: {v}" for v in independence_violations(prog, f, rng)]
            checked += 1
            pairs_checked += int((~f).sum())
    print(f"soundness: {checked} programs, {pairs_checked} independent pairs checked by perturbation, "
          f"{len(violations)} violations")
    for v in violations:
        print("  " + v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
