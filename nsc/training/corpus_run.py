"""Corpus runner: generate programs, parse them with the front-end, run them natively, keep the usable ones.

    python -m nsc.training.corpus_run --out corpus/ --programs 100000 --samples 256 --shard 0/1 --workers 2

Program ids 0..programs-1 are cut into chunks of `--chunk` ids; `--shard i/n` takes a contiguous, disjoint run of
chunks (so shards can run on different machines into the same folder). A worker process handles one chunk at a
time, in one batch:
  1. generate each program (corpus_gen, seed derived from --seed and the id) and `--rewrites` rewritten variants;
  2. write them into shared C files (PARSE_GROUP functions each), file-scope names made unique per program
     (`name__k`), and parse each file with the front-end once (preprocessor + pycparser once per file instead of
     once per program: 4x cheaper per program); each target's Signature and canonical tokens are then taken
     from the shared parse (`parse_batch`, the steps of nsc.frontend.load_program for several targets);
  3. compile all programs of the chunk as one unit (at -O0, see COMPILE_PRAGMA) and run every program on its
     inputs through the execute harness (`run_functions`); with --verify-rewrites (default) the variants run too
     and must agree with their program;
  4. drop and count: generate, parse, signature (front-end and generator disagree), compile, crash/timeout/...
     (the harness's failure kinds), nonfinite (ANY row with NaN/Inf drops the program: the surrogate of a program
     is only defined where it is finite, and the generator guards its domains as real code does, so this is
     rare), huge (|y| > 1e15, beyond float32 comfort), constant (an output column with std <= 1e-6 |mean|, or
     zero); variants are dropped when they fail to parse, disagree, or have the same canonical tokens as their
     program or an earlier variant (renaming alone does not change canonical tokens);
  5. write the chunk atomically (corpus_store). A restart skips chunks whose file exists.
Rewrites are stored as extra records that share their program's sample block (variant >= 1, same id/seed, so
the held-out split keeps a program and its rewrites together).
Per shard, `summary_shard{i}of{n}.json` has the kept count, each drop reason, wall time, rate and the time spent
in each stage (summed over workers). `corpus.json` records the settings that shape a chunk (seed, chunk size,
samples, rewrites); a later run into the same folder with other settings is refused rather than mixed in.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from nsc.errors import NscError
from nsc.outputs import write_output
from nsc.execute import isolation, isolation_warning, run_functions, sample_inputs
from nsc.frontend.program import Port, Program, Signature
from nsc.recursion import deep
from nsc.training import corpus_store
from nsc.training.corpus_gen import (GeneratedProgram, Unit, emit_unit, generate_program, signature_of,
                                     toplevel_names)
from nsc.training.rewrites import rewrite

MAX_INPUTS, MAX_OUTPUTS = 32, 16
HUGE = 1e15
CONSTANT_RTOL = 1e-6
VERIFY_RTOL = 1e-9
PARSE_GROUP = 32
# The harness compiles with -O2; corpus units are compiled at -O0 instead, which halves the compile time (the
# corpus's main cost after parsing) and gives the same outputs: IEEE double/float arithmetic without FMA
# contraction is exact either way (tests check the outputs agree).
COMPILE_PRAGMA = '#pragma GCC optimize ("O0")\n'


@dataclass
class RunOptions:
    out: str
    programs: int
    samples: int = 256
    shard: tuple[int, int] = (0, 1)
    workers: int = 2
    seed: int = 0
    chunk: int = 128
    rewrites: int = 1
    verify_rewrites: bool = True
    timeout: float = 5.0
    progress: bool | None = None  # None: a bar on a terminal only


def program_seed(seed: int, index: int) -> int:
    """The generator seed of program `index` in the run with `seed` (63 bits, stable across platforms)."""
    h = hashlib.sha256(f"nsc-corpus:{int(seed)}:{int(index)}".encode()).digest()
    return int.from_bytes(h[:8], "big") >> 1


def variant_seed(seed: int, r: int) -> int:
    return program_seed(seed, -r)


def shard_chunks(programs: int, chunk: int, shard: tuple[int, int]) -> list[tuple[int, int, int]]:
    """(chunk_id, first id, end id) of the chunks shard i of n owns: a contiguous run of the chunk ids."""
    i, n = shard
    n_chunks = (programs + chunk - 1) // chunk
    lo, hi = i * n_chunks // n, (i + 1) * n_chunks // n
    return [(c, c * chunk, min((c + 1) * chunk, programs)) for c in range(lo, hi)]


# ---------------------------------------------------------------------------------------------- batch front-end

@dataclass
class Entry:
    """One function of a chunk's batch file: a generated program (variant 0) or one of its rewrites."""

    index: int          # program id
    seed: int
    variant: int
    unit: Unit
    rewrites: tuple[str, ...]
    rename: dict        # original name -> name in the batch file
    text: str = ""      # standalone C text (what is stored)
    batch_src: str = "" # its text inside a batch file (renamed, no #include)

    @property
    def batch_name(self) -> str:
        return self.rename[self.unit.target.name]


def make_entry(index, seed, variant, unit, rewrites, k) -> Entry:
    """Names made unique for batch slot k: file-scope names, and shape-pragma parameters (the front-end reads
    `#pragma nsc shape` per file, by name)."""
    rename = {n: f"{n}__{k}" for n in toplevel_names(unit)}
    rename.update({p.name: f"{p.name}__{k}" for p in unit.target.params if p.kind == "ptr_in"})
    return Entry(index, seed, variant, unit, tuple(rewrites), rename, emit_unit(unit),
                 emit_unit(unit, rename=rename, header=False))


def batch_text(entries: list[Entry]) -> str:
    return "\n".join(["#include <math.h>\n"] + [e.batch_src for e in entries])


@deep
def parse_batch(path: str, names: list[str]) -> dict:
    """Front-end results for several target functions of one file: name -> (Signature, tokens) or NscError.

    The same steps as nsc.frontend.load_program, but the file is preprocessed, parsed and indexed once.
    """
    from nsc.frontend.access import AccessAnalyzer
    from nsc.frontend.canonical import canonical_exts
    from nsc.frontend.checks import check_reached
    from nsc.frontend.index import FileIndex
    from nsc.frontend.load import parameter_names
    from nsc.frontend.parse import parse
    from nsc.frontend.pragmas import read_pragmas
    from nsc.frontend.preprocess import preprocess
    from nsc.frontend.ranges import apply_ranges, check_pragma_names
    from nsc.frontend.reach import reach
    from nsc.frontend.select import function_span, select_function
    from nsc.frontend.signature import build_signature
    from nsc.frontend.source import read_source
    from nsc.frontend.tokens import tokens_of

    _, text = read_source(path)
    pp = preprocess(path)
    ast = parse(pp, text)
    pragmas = read_pragmas(pp, text)
    index = FileIndex(ast)
    param_names = parameter_names(index, path)
    # pragma lines of each target: after the previous function's end (as load_program's _pragma_lines), but
    # with every function's span computed once rather than once per target
    span_of = {fn.decl.name: function_span(fn) for fn in index.function_definitions() if fn.coord.file == path}
    ends = sorted(e for _, e in span_of.values())
    out = {}
    for name in names:
        try:
            target = select_function(index, pragmas, name, path)
            reached = reach(target, index)
            check_reached(reached, index)
            access = AccessAnalyzer(index, reached.resolutions).summary(target)
            parts = build_signature(target, index, access, pragmas.shapes)
            check_pragma_names(pragmas, param_names, parts.inputs, path)
            first, last = span_of[name]
            previous_end = max([e for e in ends if e < first], default=0)
            inputs = apply_ranges(parts.inputs, pragmas, (previous_end + 1, last), None, None,
                                  parts.param_coords, path)
            sig = Signature(target.decl.name, parts.return_ctype, tuple(parts.params), tuple(inputs),
                            tuple(parts.outputs))
            out[name] = (sig, tuple(tokens_of(canonical_exts(reached, index))))
        except NscError as e:
            out[name] = e
    return out


def parse_entries(entries: list[Entry], work_dir: str, group: int = PARSE_GROUP) -> dict:
    """Front-end results for all entries, `group` functions per parsed file (the front-end does some per-target
    work over the whole file, e.g. reading a pragma's line splits the file's text, so very large files cost
    more per function; a few dozen functions per file keep the preprocessor's start-up cost small too)."""
    out = {}
    for g in range(0, len(entries), group):
        part = entries[g:g + group]
        path = os.path.join(work_dir, f"parse_{g // group}.c")
        with open(path, "w") as f:
            f.write(batch_text(part))
        try:
            out.update(parse_batch(path, [e.batch_name for e in part]))
        except NscError:
            out["__fallbacks__"] = out.get("__fallbacks__", 0) + 1
            out.update(parse_each(part, work_dir))
    return out


def parse_each(entries: list[Entry], work_dir: str) -> dict:
    """Slow path when the batch file as a whole does not parse: load_program on each standalone file."""
    from nsc.frontend import load_program

    out = {}
    for k, e in enumerate(entries):
        path = os.path.join(work_dir, f"single_{k}.c")
        with open(path, "w") as f:
            f.write(emit_unit(e.unit, rename=e.rename))
        try:
            prog: Program = load_program(path, function=e.batch_name)
            out[e.batch_name] = (prog.signature, tuple(prog.tokens))
        except NscError as err:
            out[e.batch_name] = err
    return out


def unmangle(sig: Signature, rename: dict) -> Signature:
    """The signature with the batch file's unique names mapped back to the program's own names."""
    back = {v: k for k, v in rename.items()}

    def port(p: Port) -> Port:
        param = back.get(p.param, p.param)
        name = param + p.name[len(p.param):] if p.name.startswith(p.param) else p.name
        return dataclasses.replace(p, name=name, param=param)

    return Signature(back.get(sig.function, sig.function), sig.return_ctype,
                     tuple(dataclasses.replace(p, name=back.get(p.name, p.name)) for p in sig.params),
                     tuple(port(p) for p in sig.inputs), tuple(port(p) for p in sig.outputs))


# ---------------------------------------------------------------------------------------------- execution

def execute(entries: list[Entry], sigs, xs, timeout) -> list:
    """Compile the entries into one unit and run each on its inputs: RunResult per entry, or the NscError of a
    compile error (narrowed down by halving, so one bad program does not sink the others)."""
    try:
        return list(run_functions(COMPILE_PRAGMA + batch_text(entries), sigs, xs, timeout=timeout))
    except NscError as e:
        if len(entries) == 1:
            return [e]
        h = len(entries) // 2
        return execute(entries[:h], sigs[:h], xs[:h], timeout) + execute(entries[h:], sigs[h:], xs[h:], timeout)


def drop_reason(y: np.ndarray) -> str | None:
    """Why outputs make a program unusable (None: usable). See the module docstring."""
    if not np.isfinite(y).all():
        return "nonfinite"
    if np.abs(y).max(initial=0.0) > HUGE:
        return "huge"
    std, mean = y.std(axis=0), np.abs(y.mean(axis=0))
    if (std <= CONSTANT_RTOL * mean).any() or (std == 0).any():
        return "constant"
    return None


def same_outputs(a: np.ndarray, b: np.ndarray) -> bool:
    scale = np.abs(a).max(axis=0, initial=0.0) + 1e-300
    return a.shape == b.shape and bool((np.abs(a - b) <= VERIFY_RTOL * scale).all())


# ---------------------------------------------------------------------------------------------- one chunk

def process_chunk(opts: RunOptions, chunk_id: int, first: int, end: int) -> dict:
    """Generate, parse, run and store one chunk; returns its counts and stage timings."""
    counts: Counter = Counter()
    timing = Counter()
    t0 = time.perf_counter()
    entries: list[Entry] = []
    slot = 0
    for index in range(first, end):
        seed = program_seed(opts.seed, index)
        try:
            prog: GeneratedProgram = generate_program(seed)
        except Exception:  # a generator bug must not stop a long run: count it
            counts["drop:generate"] += 1
            continue
        entries.append(make_entry(index, seed, 0, prog.unit, (), slot))
        slot += 1
        for r in range(1, opts.rewrites + 1):
            unit, applied = rewrite(prog.unit, variant_seed(seed, r))
            entries.append(make_entry(index, seed, r, unit, applied, slot))
            slot += 1
    timing["generate"] += time.perf_counter() - t0

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nsc-corpus-") as work_dir:
        parsed = parse_entries(entries, work_dir)
        counts["batch_parse_fallback"] += parsed.pop("__fallbacks__", 0)
        timing["parse"] += time.perf_counter() - t0

        # programs (and verified variants) that parsed go to the harness
        t0 = time.perf_counter()
        bases = {e.index: e for e in entries if e.variant == 0}
        ok_base = {}
        for e in bases.values():
            res = parsed.get(e.batch_name)
            if isinstance(res, NscError) or res is None:
                counts["drop:parse"] += 1
                continue
            sig, tokens = res
            mine = signature_of(e.unit)
            if (sig.n_in, sig.n_out, unmangle(sig, e.rename).input_names, unmangle(sig, e.rename).output_names) \
                    != (mine.n_in, mine.n_out, mine.input_names, mine.output_names) \
                    or sig.n_in > MAX_INPUTS or sig.n_out > MAX_OUTPUTS:
                counts["drop:signature"] += 1
                continue
            ok_base[e.index] = (sig, tokens)
        run_entries, run_sigs, run_xs = [], [], []
        xs_of = {}
        for e in entries:
            if e.index not in ok_base:
                continue
            if e.variant == 0:
                sig = ok_base[e.index][0]
                xs_of[e.index] = sample_inputs(sig, opts.samples, np.random.default_rng(e.seed))
            elif not opts.verify_rewrites or isinstance(parsed.get(e.batch_name), NscError):
                continue
            else:
                sig = parsed[e.batch_name][0]
            run_entries.append(e)
            run_sigs.append(sig)
            run_xs.append(xs_of[e.index])
        results = execute(run_entries, run_sigs, run_xs, opts.timeout) if run_entries else []
        timing["execute"] += time.perf_counter() - t0

    # keep, drop, assemble records
    t0 = time.perf_counter()
    result_of = {(e.index, e.variant): r for e, r in zip(run_entries, results)}
    records, blocks = [], []
    for e in entries:
        if e.variant != 0 or e.index not in ok_base:
            continue
        res = result_of.get((e.index, 0))
        if isinstance(res, NscError):
            counts["drop:compile"] += 1
            continue
        if res.error is not None:
            counts["drop:" + (res.failure or "crash")] += 1
            continue
        reason = drop_reason(res.y)
        if reason:
            counts["drop:" + reason] += 1
            continue
        counts["kept"] += 1
        block = len(blocks)
        blocks.append((xs_of[e.index], res.y))
        sig, tokens = ok_base[e.index]
        records.append(corpus_store.ChunkRecord(e.index, e.seed, 0, e.text, unmangle(sig, e.rename).dumps(),
                                                tokens, block))
        seen = {tuple((t.text, t.value) for t in tokens)}
        for v in (x for x in entries if x.index == e.index and x.variant > 0):
            vres = parsed.get(v.batch_name)
            if isinstance(vres, NscError) or vres is None:
                counts["variant_drop:parse"] += 1
                continue
            if opts.verify_rewrites:
                r = result_of.get((v.index, v.variant))
                if isinstance(r, NscError) or r is None or r.error is not None or not same_outputs(res.y, r.y):
                    counts["variant_drop:mismatch"] += 1
                    continue
            key = tuple((t.text, t.value) for t in vres[1])
            if key in seen:
                counts["variant_drop:same_tokens"] += 1
                continue
            seen.add(key)
            counts["variants_kept"] += 1
            records.append(corpus_store.ChunkRecord(v.index, v.seed, v.variant, v.text,
                                                    unmangle(vres[0], v.rename).dumps(), vres[1], block,
                                                    v.rewrites))
    counts["programs"] += end - first
    corpus_store.write_chunk(corpus_store.chunk_path(opts.out, chunk_id), chunk_id, records, blocks, dict(counts))
    timing["write"] += time.perf_counter() - t0
    return {"chunk": chunk_id, "counts": dict(counts), "timing": dict(timing), "sandbox": isolation()}


def _worker(args):
    opts, chunk = args
    return process_chunk(opts, *chunk)


def _start_worker(scratch: str) -> None:
    """A pool worker: Ctrl-C reaches the whole process group, and the parent stops the workers (before, each died
    with a traceback and the parent waited for them forever); its temporary folders go in the run's `scratch`,
    which the parent removes (a worker stopped mid-chunk leaves its own behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = scratch


# ---------------------------------------------------------------------------------------------- a shard

def run_shard(opts: RunOptions) -> dict:
    """Process every missing chunk of the shard (in parallel), then write and return the shard's summary."""
    os.makedirs(opts.out, exist_ok=True)
    check_settings(opts)
    chunks = shard_chunks(opts.programs, opts.chunk, opts.shard)
    # A chunk is done when it is written for all its programs: the last chunk of a run with a smaller --programs
    # holds fewer (ids 192..199 of 200, where 300 needs 192..223), and is made again, or those ids would be
    # missing for good. Counts are read once, from the chunks' metadata, and serve the summary too.
    counts = {}
    for c, _, _ in chunks:
        if os.path.exists(path := corpus_store.chunk_path(opts.out, c)):
            try:
                counts[c] = corpus_store.chunk_counts(path)
            except corpus_store.DamagedChunk as e:  # (chunks are written atomically: damaged since) made again
                print(f"{path}: warning: damaged corpus chunk ({e.reason}): making it again", file=sys.stderr)
    pending = [(c, f, e) for c, f, e in chunks if counts.get(c, {}).get("programs") != e - f]
    t_start = time.perf_counter()
    timing, session, sandboxes = Counter(), Counter(), set()
    from tqdm import tqdm

    bar = tqdm(total=sum(e - f for _, f, e in pending), unit="prog", disable=_quiet(opts.progress),
               desc=f"corpus shard {opts.shard[0]}/{opts.shard[1]}")
    jobs = [(opts, c) for c in pending]
    scratch = None
    if opts.workers <= 1 or len(jobs) <= 1:
        results = map(_worker, jobs)
        pool = None
    else:
        import multiprocessing as mp

        scratch = tempfile.mkdtemp(prefix="nsc-corpus-run-")
        pool = mp.get_context("fork").Pool(min(opts.workers, len(jobs)), initializer=_start_worker,
                                           initargs=(scratch,))
        results = pool.imap_unordered(_worker, jobs)
    finished = False
    try:
        for res in results:
            timing.update(res["timing"])
            session.update(res["counts"])
            sandboxes.add(res["sandbox"])
            bar.update(res["counts"].get("programs", 0))
            bar.set_postfix(kept=session["kept"])
        finished = True
    finally:
        bar.close()
        if pool is not None:
            if finished:
                pool.close()
            else:
                pool.terminate()  # chunks are written atomically: the finished ones stay, the rest rerun
            pool.join()
            if not finished:  # a worker terminated while writing leaves its temporary file (nsc/outputs.py's name)
                for c, _, _ in pending:
                    chunk = corpus_store.chunk_path(opts.out, c)
                    for tmp in glob.glob(os.path.join(glob.escape(os.path.dirname(chunk)),
                                                      f".{glob.escape(os.path.basename(chunk))}.*.tmp")):
                        os.unlink(tmp)
            shutil.rmtree(scratch, ignore_errors=True)
    wall = time.perf_counter() - t_start
    sandbox = "; ".join(sorted(sandboxes)) if sandboxes else isolation()  # (a worker each: all alike, or say so)
    if (warning := isolation_warning(sandbox)) is not None:
        print(f"corpus_run: warning: {warning}", file=sys.stderr)
    total = Counter()
    for c, _, _ in pending:  # made in this run
        counts[c] = corpus_store.chunk_counts(corpus_store.chunk_path(opts.out, c))
    for c, _, _ in chunks:  # resumed chunks included: their counts are in the chunk files
        total.update(counts[c])
    summary = {
        "shard": f"{opts.shard[0]}/{opts.shard[1]}", "seed": opts.seed, "samples": opts.samples,
        "rewrites": opts.rewrites, "verify_rewrites": opts.verify_rewrites, "chunk": opts.chunk,
        "chunks": len(chunks), "chunks_skipped": len(chunks) - len(pending),
        "programs": total["programs"], "kept": total["kept"], "variants_kept": total["variants_kept"],
        "drops": {k[5:]: v for k, v in sorted(total.items()) if k.startswith("drop:")},
        "variant_drops": {k[13:]: v for k, v in sorted(total.items()) if k.startswith("variant_drop:")},
        "batch_parse_fallbacks": total["batch_parse_fallback"], "sandbox": sandbox,
        "session": {"programs": session["programs"], "kept": session["kept"], "wall_s": round(wall, 3),
                    "programs_per_s": round(session["programs"] / wall, 2) if wall > 0 else None,
                    "kept_per_s": round(session["kept"] / wall, 2) if wall > 0 else None,
                    "stage_s": {k: round(v, 3) for k, v in sorted(timing.items())}},
    }
    path = os.path.join(opts.out, f"summary_shard{opts.shard[0]}of{opts.shard[1]}.json")
    write_output(path, json.dumps(summary, indent=2))
    return summary


SETTINGS = ("seed", "chunk", "samples", "rewrites", "verify_rewrites")


def check_settings(opts: RunOptions) -> None:
    """Resuming (or adding shards) with settings that change what a chunk holds would mix two corpora:
    the first run records them in corpus.json, later runs must match."""
    path = os.path.join(opts.out, "corpus.json")
    mine = {k: getattr(opts, k) for k in SETTINGS}
    if os.path.exists(path):
        with open(path) as f:
            theirs = json.load(f)
        diff = {k: (theirs.get(k), v) for k, v in mine.items() if theirs.get(k) != v}
        if diff:
            raise NscError(f"{opts.out} holds a corpus made with other settings: "
                           + ", ".join(f"{k} {a} (now {b})" for k, (a, b) in diff.items()))
        return
    write_output(path, json.dumps(mine, indent=2))


def _quiet(progress) -> bool | None:
    if progress is None:
        return None  # tqdm: a bar on a terminal, nothing when piped
    return not progress


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard expects i/n, e.g. 0/4, not {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise argparse.ArgumentTypeError(f"--shard {text}: need 0 <= i < n")
    return i, n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m nsc.training.corpus_run",
        description="Generate, run and store the compiler's training corpus (sharded, resumable).",
        epilog="example: python -m nsc.training.corpus_run --out corpus/ --programs 2000 --samples 256 --workers 2")
    ap.add_argument("--out", required=True, help="corpus folder (chunks and summaries go here)")
    ap.add_argument("--programs", type=int, required=True, help="program ids 0..N-1 across all shards")
    ap.add_argument("--samples", type=int, default=256, help="input samples per program")
    ap.add_argument("--shard", type=parse_shard, default=(0, 1), help="i/n: this shard of n (default 0/1)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--chunk", type=int, default=128, help="programs per chunk (one C file, one compile)")
    ap.add_argument("--rewrites", type=int, default=1, help="rewritten variants per program")
    ap.add_argument("--no-verify-rewrites", dest="verify", action="store_false",
                    help="do not run the variants to check they agree with their program")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds without progress on one input row")
    ap.add_argument("--json", action="store_true", help="print the shard summary as JSON")
    a = ap.parse_args(argv)
    if a.programs < 1 or a.samples < 2 or a.chunk < 1 or a.rewrites < 0:
        ap.error("--programs, --chunk >= 1, --samples >= 2, --rewrites >= 0")
    if not (a.timeout > 0 and math.isfinite(a.timeout)) or a.workers < 1:
        # (a timeout of 0 dropped every program as a failed compile, and the chunks were kept as finished)
        ap.error("--timeout must be a positive number of seconds and --workers at least 1")
    opts = RunOptions(a.out, a.programs, a.samples, a.shard, max(1, a.workers), a.seed, a.chunk, a.rewrites,
                      a.verify, a.timeout)
    try:
        summary = run_shard(opts)
    except NscError as e:
        print(e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("corpus_run: interrupted; the finished chunks are kept: run the same command again to resume",
              file=sys.stderr)
        return 130
    if a.json:
        print(json.dumps(summary, indent=2))
    else:
        s = summary["session"]
        print(f"shard {summary['shard']}: kept {summary['kept']} of {summary['programs']} programs "
              f"(+{summary['variants_kept']} rewrites); drops {summary['drops']}; "
              f"{s['programs']} programs this run in {s['wall_s']:.1f} s ({s['programs_per_s']} programs/s)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
