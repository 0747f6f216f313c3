"""Corpus machinery: generator, rewrites, batched front-end/harness use, runner, storage, split, coverage."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

import numpy as np
import pytest

from nsc.errors import NscError
from nsc.execute import run_functions, sample_inputs
from nsc.frontend import load_program
from nsc.training import corpus_run, corpus_store
from nsc.training.corpus_gen import emit_unit, generate_program, signature_of, toplevel_names
from nsc.training.coverage import CorpusProfile, coverage, features
from nsc.training.rewrites import REWRITES, rewrite

SEEDS = range(1000, 1200)


@pytest.fixture(scope="module")
def programs():
    return [generate_program(s) for s in SEEDS]


def unit_text(units):
    """One C unit with the given IR units, names made unique; returns (text, batch names)."""
    parts, names = ["#include <math.h>\n"], []
    for k, u in enumerate(units):
        ren = {n: f"{n}__{k}" for n in toplevel_names(u)}
        ren.update({p.name: f"{p.name}__{k}" for p in u.target.params if p.kind == "ptr_in"})
        parts.append(emit_unit(u, rename=ren, header=False, pragmas=False))
        names.append(ren[u.target.name])
    return "\n".join(parts), names


def run_units(units, n=48, prefix="", period=None):
    """Run IR units natively; unit k gets the inputs of seed k % period (so rewrites can share inputs)."""
    text, names = unit_text(units)
    sigs = [dataclasses.replace(signature_of(u), function=nm) for u, nm in zip(units, names)]
    period = period or len(units)
    xs = [sample_inputs(s, n, np.random.default_rng(k % period)) for k, s in enumerate(sigs)]
    return run_functions(prefix + text, sigs, xs)


# ---------------------------------------------------------------------------------------------- generator

def test_generator_is_deterministic(programs):
    assert generate_program(1000).c_text == programs[0].c_text
    assert generate_program(1001).c_text == programs[1].c_text
    assert len({p.c_text for p in programs}) == len(programs)


def test_generator_is_diverse(programs):
    construct_sets = {frozenset(p.constructs) for p in programs}
    assert len(construct_sets) >= 180  # nearly every program has its own mix of constructs
    seen = set().union(*construct_sets)
    for needed in ["if", "else", "for", "switch", "ternary", "table", "table2d", "helper", "define", "static_const",
                   "call:exp", "call:log", "call:sqrt", "call:pow", "call:sin", "call:atan2", "call:fmod",
                   "call:floor", "call:helper", "param:array_in", "param:ptr_in", "param:array_out",
                   "param:ptr_out", "param:inout", "param:int", "type:float", "ret:int", "ret:void", "assign+=",
                   "cast", "op%", "decl:int"]:
        assert needed in seen, needed
    n_in = [signature_of(p.unit).n_in for p in programs]
    n_out = [signature_of(p.unit).n_out for p in programs]
    assert min(n_in) >= 1 and max(n_in) <= 32 and len(set(n_in)) >= 12
    assert min(n_out) >= 1 and max(n_out) <= 16 and len(set(n_out)) >= 6


def test_generated_programs_parse_and_compile(programs, tmp_path):
    for p in programs[:25]:
        path = tmp_path / f"{p.seed}.c"
        path.write_text(p.c_text)
        prog = load_program(str(path))
        mine = signature_of(p.unit)
        assert prog.signature.input_names == mine.input_names
        assert prog.signature.output_names == mine.output_names
        lo, hi = prog.signature.ranges()
        assert np.allclose(lo, mine.ranges()[0]) and np.allclose(hi, mine.ranges()[1])
        assert len(prog.tokens) > 10
    text, _ = unit_text([p.unit for p in programs])
    src = tmp_path / "all.c"
    src.write_text(text)
    r = subprocess.run(["cc", "-fsyntax-only", "-Werror=implicit-function-declaration", str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:2000]


def test_generated_programs_mostly_usable(programs):
    results = run_units([p.unit for p in programs[:80]], n=64)
    reasons = [corpus_run.drop_reason(r.y) if r.error is None else "error" for r in results]
    assert reasons.count("error") == 0
    assert reasons.count(None) >= 0.85 * len(reasons), reasons


# ---------------------------------------------------------------------------------------------- rewrites

def test_rewrites_preserve_semantics(programs):
    base = [p.unit for p in programs[:60]]
    variants = [rewrite(u, 7)[0] for u in base] + [rewrite(u, 11, which=REWRITES)[0] for u in base]
    results = run_units(base + variants, n=48, period=len(base))
    for k in range(len(variants)):
        a, b = results[k % len(base)], results[len(base) + k]
        assert a.error is None and b.error is None
        np.testing.assert_allclose(b.y, a.y, rtol=1e-12, atol=0, equal_nan=True)


def test_each_rewrite_changes_programs(programs):
    for name in REWRITES:
        changed = sum(emit_unit(rewrite(p.unit, 3, which=[name])[0]) != p.c_text for p in programs[:40])
        assert changed >= 10, name


def test_rewrite_leaves_original_alone(programs):
    p = programs[3]
    rewrite(p.unit, 5, which=REWRITES)
    assert emit_unit(p.unit) == p.c_text


# ---------------------------------------------------------------------------------------------- batching

def test_batch_parse_matches_load_program(programs, tmp_path):
    sub = programs[:12]
    entries = [corpus_run.make_entry(k, p.seed, 0, p.unit, (), k) for k, p in enumerate(sub)]
    parsed = corpus_run.parse_entries(entries, str(tmp_path), group=5)
    for e, p in zip(entries, sub):
        path = tmp_path / f"single_{p.seed}.c"
        path.write_text(p.c_text)
        prog = load_program(str(path))
        sig, tokens = parsed[e.batch_name]
        assert corpus_run.unmangle(sig, e.rename) == prog.signature
        assert tokens == prog.tokens


def test_O0_compile_gives_the_same_outputs(programs):
    units = [p.unit for p in programs[:30]]
    a = run_units(units, n=32)
    b = run_units(units, n=32, prefix=corpus_run.COMPILE_PRAGMA)
    for ra, rb in zip(a, b):
        np.testing.assert_allclose(rb.y, ra.y, rtol=1e-12, atol=0, equal_nan=True)


def test_drop_reasons():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(32, 3))
    assert corpus_run.drop_reason(y) is None
    assert corpus_run.drop_reason(np.where(np.arange(32)[:, None] == 5, np.nan, y)) == "nonfinite"
    assert corpus_run.drop_reason(np.c_[y, np.full(32, 2.5)]) == "constant"
    assert corpus_run.drop_reason(np.c_[y, 1e3 + 1e-9 * y[:, 0]]) == "constant"
    assert corpus_run.drop_reason(y * 1e16) == "huge"


def test_shards_are_disjoint_and_complete():
    chunks = [c for i in range(3) for c in corpus_run.shard_chunks(1000, 64, (i, 3))]
    assert sorted(c[0] for c in chunks) == list(range(16))
    ids = [i for _, a, b in chunks for i in range(a, b)]
    assert sorted(ids) == list(range(1000))


# ---------------------------------------------------------------------------------------------- runner + store

@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("corpus"))
    opts = corpus_run.RunOptions(out, programs=40, samples=32, chunk=16, workers=1, seed=3, rewrites=1,
                                 progress=False)
    summary = corpus_run.run_shard(opts)
    return out, opts, summary


def test_runner_summary_counts(tiny_corpus):
    out, _, summary = tiny_corpus
    assert summary["programs"] == 40 and summary["chunks"] == 3
    assert summary["kept"] + sum(summary["drops"].values()) == 40
    assert summary["kept"] >= 30
    assert summary["variants_kept"] + sum(summary["variant_drops"].values()) == summary["kept"]
    assert summary["variant_drops"].get("mismatch", 0) == 0
    assert os.path.exists(os.path.join(out, "summary_shard0of1.json"))
    assert summary["session"]["programs"] == 40 and summary["session"]["wall_s"] > 0


def test_stored_records_are_consistent(tiny_corpus):
    out, opts, summary = tiny_corpus
    index = corpus_store.CorpusIndex(out)
    records = list(corpus_store.iter_programs(out))
    assert len(index) == len(records) == summary["kept"] + summary["variants_kept"]
    by_id = {}
    for k, r in enumerate(records):
        assert index[k].source == r.source
        assert r.x.dtype == np.float32 and r.x.shape == (32, r.signature.n_in)
        assert r.y.shape == (32, r.signature.n_out) and np.isfinite(r.y).all()
        lo, hi = r.signature.ranges()
        assert (r.x >= lo.astype(np.float32) - 1e-3 * (1 + np.abs(lo))).all()
        assert (r.x <= hi.astype(np.float32) + 1e-3 * (1 + np.abs(hi))).all()
        ints = r.signature.integer_inputs()
        assert (r.x[:, ints] == np.round(r.x[:, ints])).all()
        assert r.tokens and r.tokens[-1].text == "}"
        if r.variant == 0:
            by_id[r.id] = r
            assert r.seed == corpus_run.program_seed(opts.seed, r.id)
            assert r.source == generate_program(r.seed).c_text
        else:  # a rewrite: same samples, other text, other tokens
            base = by_id[r.id]
            assert np.array_equal(r.x, base.x) and np.array_equal(r.y, base.y)
            assert r.source != base.source and r.tokens != base.tokens and r.rewrites
    # the stored samples are the program's own outputs: rerun one program from its stored text
    r = by_id[min(by_id)]
    text, _ = unit_text([generate_program(r.seed).unit])
    sig = dataclasses.replace(r.signature, function=r.signature.function + "__0")
    x = sample_inputs(r.signature, 32, np.random.default_rng(r.seed))  # the runner's inputs, in float64
    assert np.array_equal(x.astype(np.float32), r.x)
    [res] = run_functions(text, [sig], [x])
    assert np.array_equal(res.y.astype(np.float32), r.y)


def test_resume_skips_finished_chunks(tiny_corpus, tmp_path):
    out, opts, _ = tiny_corpus
    import shutil
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    h = corpus_store.corpus_hash(copy)
    files = corpus_store.chunk_files(copy)
    mtimes = {f: os.stat(f).st_mtime_ns for f in files}
    os.unlink(files[1])
    summary = corpus_run.run_shard(dataclasses.replace(opts, out=copy))
    assert summary["chunks_skipped"] == 2 and summary["session"]["programs"] == 16
    assert summary["programs"] == 40
    for f in (files[0], files[2]):
        assert os.stat(f).st_mtime_ns == mtimes[f]
    assert corpus_store.corpus_hash(copy) == h  # the redone chunk is byte-identical


def test_a_damaged_chunk_is_a_clear_error_and_resume_makes_it_again(tiny_corpus, tmp_path, capsys):
    """A truncated or overwritten chunk was a zipfile traceback in every reader and in the resume check."""
    out, opts, _ = tiny_corpus
    import shutil
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    h = corpus_store.corpus_hash(copy)
    files = corpus_store.chunk_files(copy)
    with open(files[1], "r+b") as f:
        f.truncate(os.path.getsize(files[1]) // 2)
    with open(files[2], "wb") as f:
        f.write(b"not a chunk")
    for read in (lambda: list(corpus_store.iter_programs(copy)), lambda: corpus_store.CorpusIndex(copy),
                 lambda: corpus_store.chunk_counts(files[2])):
        with pytest.raises(NscError, match="damaged corpus chunk .*makes it again") as e:
            read()
        assert e.value.path in files[1:]
    summary = corpus_run.run_shard(dataclasses.replace(opts, out=copy))
    assert summary["chunks_skipped"] == 1 and summary["programs"] == 40
    assert capsys.readouterr().err.count("damaged corpus chunk") == 2
    assert corpus_store.corpus_hash(copy) == h  # both made again, byte-identical


def test_split_is_deterministic(tiny_corpus):
    out, _, _ = tiny_corpus
    held = [s for s in range(20000) if corpus_store.is_heldout(s)]
    assert held == [s for s in range(20000) if corpus_store.is_heldout(s)]
    assert 0.015 < len(held) / 20000 < 0.025
    all_ = corpus_store.CorpusIndex(out)
    train = corpus_store.CorpusIndex(out, split="train")
    test = corpus_store.CorpusIndex(out, split="heldout")
    assert len(train) + len(test) == len(all_)
    seeds_train = {train[i].seed for i in range(len(train))}
    assert all(test[i].seed not in seeds_train for i in range(len(test)))
    assert len(corpus_store.CorpusIndex(out, variants=False)) < len(all_)


def test_coverage_reports(tiny_corpus, tmp_path):
    out, _, _ = tiny_corpus
    rec = next(corpus_store.iter_programs(out))
    path = tmp_path / "member.c"
    path.write_text(rec.source)
    odd = tmp_path / "odd.c"
    odd.write_text("enum { A = 1, B = 2 };\n#pragma nsc range x 0 1\n"
                   "int f(int x) { int s = 0; do { s += x & 3; x >>= 1; } while (x > 0); return s + B; }\n")
    result = coverage(out, [str(path), str(odd)])
    member, other = result["programs"]
    assert member["token_type_coverage"] == 1.0 and member["bigram_coverage"] == 1.0
    assert member["nn_distance"] == 0.0
    assert other["token_type_coverage"] < 1.0 and "do" in other["unseen_token_types"]
    assert other["nn_distance"] > member["nn_distance"]
    prof = CorpusProfile(out)
    f = features(rec.tokens, rec.signature)
    assert f.shape == (len(prof.mean),)


def test_resume_refuses_other_settings(tiny_corpus, tmp_path):
    out, opts, _ = tiny_corpus
    with pytest.raises(corpus_run.NscError, match="other settings"):
        corpus_run.run_shard(dataclasses.replace(opts, samples=64))


def test_corpus_run_refuses_a_timeout_that_is_not_positive():
    """A timeout of 0 dropped every program as a failed compile, and kept the chunks as finished."""
    from nsc.training import corpus_run

    for value in ("0", "-1", "nan"):
        with pytest.raises(SystemExit) as e:
            corpus_run.main(["--out", "/nonexistent/c", "--programs", "4", "--timeout", value])
        assert e.value.code == 2


def test_corpus_run_stops_on_ctrl_c_and_resumes(tmp_path):
    """Ctrl-C (SIGINT to the process group) stops a run with 2 workers at once, exit 130; before, each worker
    died with a traceback and the parent waited for them forever. The finished chunks are kept."""
    import signal
    import subprocess
    import sys
    import time

    out, scratch = tmp_path / "c", tmp_path / "tmp"
    scratch.mkdir()
    cmd = [sys.executable, "-m", "nsc.training.corpus_run", "--out", str(out), "--programs", "600", "--samples",
           "16", "--chunk", "16", "--workers", "2", "--rewrites", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(scratch)})
    deadline = time.time() + 60
    while time.time() < deadline and not (out.exists() and any(out.glob("chunk_*.npz"))):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"run the same command again to resume" in err
    assert not list(out.glob("*.tmp*"))
    assert not list(scratch.iterdir())  # (the workers' scratch folders were left behind in /tmp)


def test_corpus_run_with_more_programs_completes_the_last_chunk(tmp_path):
    """A second run with a larger --programs remakes the earlier run's partial last chunk (ids 20..23 of 24 were
    never generated: the chunk holding 16..19 counted as done)."""
    out = str(tmp_path / "c")
    args = ["--out", out, "--samples", "8", "--chunk", "8", "--workers", "1", "--rewrites", "0"]
    assert corpus_run.main(args + ["--programs", "20"]) == 0
    assert corpus_run.main(args + ["--programs", "24"]) == 0
    summary = json.loads((tmp_path / "c" / "summary_shard0of1.json").read_text())
    assert summary["programs"] == 24 and summary["chunks_skipped"] == 2
