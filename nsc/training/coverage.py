"""Is a program in the corpus's distribution? Measured on canonical tokens, not by eye.

    python -m nsc.training.coverage --corpus corpus/ examples/*.c [--json]

For each program (usually the examples/ kernels, which the compiler never trains on):
  * token coverage: the fraction of its distinct token types, and of its distinct token-type bigrams, that occur
    in the corpus (token types: canonical tokens with numbered names folded, `p3` -> `<param>`, `v7` -> `<local>`);
  * construct features: counts of loops, branches, ternaries, switches, calls of each math function, helper
    calls, tables, array accesses, casts, compound assignments, int/array inputs, inputs, outputs, length...;
    `log1p` of the counts, standardised by the corpus's mean and spread, give a feature vector;
  * nearest-neighbour distance: the distance from the program's vector to its nearest corpus program (train
    split), as a percentile of the same distance for held-out corpus programs. About 50 is typical; a percentile
    near 100 means the program is farther from the corpus than almost any held-out corpus program (outside the
    distribution); the constructs behind it are listed as the largest standardised differences.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter

import numpy as np

from nsc.frontend.program import Signature, Token

NUMBERED = re.compile(r"^(p|v|f|q|g|l|s|m|t)(\d+)$")
KIND_OF = {"p": "<param>", "v": "<local>", "f": "<helper>", "q": "<hparam>", "g": "<global>", "l": "<label>",
           "s": "<tag>", "m": "<member>", "t": "<typedef>"}
MATH = ("sin", "cos", "tan", "exp", "log", "sqrt", "pow", "fabs", "fmin", "fmax", "atan2", "atan", "tanh", "floor",
        "ceil", "fmod", "hypot", "asin", "acos", "cbrt", "log10", "log1p", "expm1", "sinh", "cosh", "erf", "round")
KEYWORDS = ("for", "while", "do", "if", "else", "switch", "case", "default", "break", "continue", "return", "?",
            "&&", "||", "!", "%", "+=", "-=", "*=", "/=", "++", "--", "float", "double", "int", "unsigned", "short",
            "char", "long", "const", "enum", "struct", "typedef", "void", "==", "!=")
FEATURES = (["n_in", "n_out", "int_inputs", "array_inputs", "pointer_outputs", "array_outputs", "returns",
             "tokens", "helpers", "helper_calls", "globals", "tables", "index", "casts", "locals", "math_f"]
            + [f"kw:{k}" for k in KEYWORDS] + [f"call:{m}" for m in MATH])


def token_type(text: str) -> str:
    m = NUMBERED.match(text)
    return KIND_OF[m.group(1)] if m else text


def token_types(tokens) -> list[str]:
    return [token_type(t.text if isinstance(t, Token) else t) for t in tokens]


def features(tokens, signature: Signature) -> np.ndarray:
    """Construct counts of one program (FEATURES order)."""
    types = token_types(tokens)
    texts = [t.text if isinstance(t, Token) else t for t in tokens]
    c = Counter(types)
    f = Counter()
    f["n_in"], f["n_out"] = signature.n_in, signature.n_out
    f["int_inputs"] = int(signature.integer_inputs().sum())
    f["array_inputs"] = sum(1 for p in signature.params if p.shape and p.reads and not p.writes)
    f["pointer_outputs"] = sum(1 for p in signature.params if p.writes and (p.shape or 1) == 1)
    f["array_outputs"] = sum(1 for p in signature.params if p.writes and (p.shape or 1) > 1)
    f["returns"] = int(signature.return_ctype is not None)
    f["tokens"] = len(types)
    f["helpers"] = len({t for t in texts if t.startswith("f") and NUMBERED.match(t)})
    f["globals"] = len({t for t in texts if t.startswith("g") and NUMBERED.match(t)})
    f["locals"] = len({t for t in texts if t.startswith("v") and NUMBERED.match(t)})
    for k, (a, b) in enumerate(zip(types, types[1:])):
        if a == "<helper>" and b == "(":
            f["helper_calls"] += 1
        if b == "[":
            f["index"] += 1
        if a == "(" and b in ("int", "double", "float", "unsigned") and k + 2 < len(types) and types[k + 2] == ")":
            f["casts"] += 1
    # a table: a global declared with an initialiser list, `g [ ... ] = {`
    for k, t in enumerate(types[:-3]):
        if t == "<global>" and types[k + 1] == "[":
            j = types.index("]", k)
            if j + 2 < len(types) and types[j + 1] in ("=", "[") and "{" in types[j + 1:j + 6]:
                f["tables"] += 1
    for kw in KEYWORDS:
        f[f"kw:{kw}"] = c[kw]
    for m in MATH:
        f[f"call:{m}"] = c[m] + c[m + "f"]
        f["math_f"] += c[m + "f"]
    return np.array([f[k] for k in FEATURES], dtype=np.float64)


class CorpusProfile:
    """What coverage compares against: token types, bigrams and feature vectors of corpus programs."""

    def __init__(self, corpus_dir: str, max_programs: int = 20000):
        from nsc.training.corpus_store import iter_programs

        self.types: Counter = Counter()
        self.bigrams: Counter = Counter()
        train, held = [], []
        n = 0
        for rec in iter_programs(corpus_dir, variants=False):
            types = token_types(rec.tokens)
            self.types.update(set(types))
            self.bigrams.update(set(zip(types, types[1:])))
            (held if rec.heldout else train).append(features(rec.tokens, rec.signature))
            n += 1
            if n >= max_programs:
                break
        if not train:
            raise ValueError(f"{corpus_dir}: no corpus programs")
        self.n_programs = n
        self.train = np.log1p(np.array(train))
        self.mean = self.train.mean(axis=0)
        self.scale = self.train.std(axis=0) + 0.25  # spread floor: a feature the corpus never varies still counts
        z = (self.train - self.mean) / self.scale
        self.train_z = z
        self.ref_from_train = len(held) < 10
        if self.ref_from_train:  # a small corpus: leave-one-out distances of some train programs
            self.reference = np.array([self.nearest(z[i], exclude=i)[0] for i in range(min(len(z), 500))])
        else:
            held_z = (np.log1p(np.array(held)) - self.mean) / self.scale
            self.reference = np.array([self.nearest(v)[0] for v in held_z])

    def nearest(self, z: np.ndarray, exclude: int | None = None) -> tuple[float, int]:
        d = np.sqrt(((self.train_z - z) ** 2).sum(axis=1))
        if exclude is not None:
            d[exclude] = np.inf
        k = int(np.argmin(d))
        return float(d[k]), k

    def report(self, name: str, tokens, signature: Signature) -> dict:
        types = token_types(tokens)
        tset, bset = set(types), set(zip(types, types[1:]))
        z = (np.log1p(features(tokens, signature)) - self.mean) / self.scale
        dist, k = self.nearest(z)
        pct = float((self.reference < dist).mean() * 100)
        diff = z - self.train_z[k]
        far = [FEATURES[i] for i in np.argsort(-np.abs(diff))[:3] if abs(diff[i]) > 1.0]
        # features where the program lies outside everything the corpus has
        zmax = self.train_z.max(axis=0)
        beyond = [FEATURES[i] for i in range(len(FEATURES)) if z[i] > zmax[i] + 1e-9]
        return {
            "program": name,
            "n_in": signature.n_in, "n_out": signature.n_out, "tokens": len(types),
            "token_type_coverage": len([t for t in tset if t in self.types]) / len(tset),
            "bigram_coverage": len([b for b in bset if b in self.bigrams]) / max(1, len(bset)),
            "unseen_token_types": sorted(t for t in tset if t not in self.types),
            "nn_distance": round(dist, 3),
            "nn_percentile": round(pct, 1),
            "largest_differences": far,
            "beyond_corpus_max": beyond,
        }


def coverage(corpus_dir: str, paths, max_programs: int = 20000) -> dict:
    from nsc.frontend import load_program

    profile = CorpusProfile(corpus_dir, max_programs)
    rows = []
    for path in paths:
        prog = load_program(path)
        rows.append(profile.report(path, prog.tokens, prog.signature))
    return {
        "corpus": corpus_dir, "corpus_programs": profile.n_programs,
        "reference": "held-out corpus programs" if not profile.ref_from_train else "corpus programs (leave-one-out)",
        "reference_median_distance": round(float(np.median(profile.reference)), 3),
        "programs": rows,
        "summary": {
            "mean_token_type_coverage": float(np.mean([r["token_type_coverage"] for r in rows])) if rows else None,
            "mean_bigram_coverage": float(np.mean([r["bigram_coverage"] for r in rows])) if rows else None,
            "median_nn_percentile": float(np.median([r["nn_percentile"] for r in rows])) if rows else None,
            "programs_above_p95": sum(r["nn_percentile"] > 95 for r in rows),
        },
    }


def format_table(result: dict) -> str:
    lines = [f"corpus {result['corpus']}: {result['corpus_programs']} programs; nearest-neighbour percentiles "
             f"against {result['reference']} (median distance {result['reference_median_distance']})",
             f"{'program':28s} {'in':>3s} {'out':>3s} {'tok':>4s} {'types':>6s} {'bigram':>6s} {'nn':>6s} "
             f"{'pct':>5s}  unseen / farthest features"]
    for r in result["programs"]:
        name = r["program"].split("/")[-1]
        extra = ", ".join(r["unseen_token_types"][:4])
        far = ", ".join(r["largest_differences"])
        lines.append(f"{name:28s} {r['n_in']:3d} {r['n_out']:3d} {r['tokens']:4d} {r['token_type_coverage']:6.2f} "
                     f"{r['bigram_coverage']:6.2f} {r['nn_distance']:6.2f} {r['nn_percentile']:5.1f}  "
                     f"{('unseen: ' + extra + '; ') if extra else ''}{far}")
    s = result["summary"]
    if s["mean_token_type_coverage"] is not None:
        lines.append(f"mean token-type coverage {s['mean_token_type_coverage']:.3f}, mean bigram coverage "
                     f"{s['mean_bigram_coverage']:.3f}, median percentile {s['median_nn_percentile']:.1f}, "
                     f"{s['programs_above_p95']} of {len(result['programs'])} above the 95th percentile")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nsc.training.coverage",
                                 description="How well a corpus covers given C programs (token and construct "
                                             "statistics, nearest-neighbour percentiles).",
                                 epilog="example: python -m nsc.training.coverage --corpus corpus/ examples/*.c")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--max-programs", type=int, default=20000, help="corpus programs to profile")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("programs", nargs="+")
    a = ap.parse_args(argv)
    result = coverage(a.corpus, a.programs, a.max_programs)
    print(json.dumps(result, indent=2) if a.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
