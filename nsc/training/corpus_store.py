"""Corpus storage: compact chunk files, a streaming reader, a random-access index, the held-out split and a hash.

One chunk is one `.npz` file (written to a temp file and renamed, so a chunk is either complete or absent),
loaded with allow_pickle=False. Arrays:
  x, y          float32, every sample block's rows concatenated, flattened ([n, n_in] then [n, n_out] row-major);
  x_off, y_off  int64 [n_blocks + 1]: where block b's values start and end in x and y;
  rows          int32 [n_blocks]: rows per block;
  ids, seeds    int64 [n_records]: program id (index in the run's seed space) and generator seed per record;
  variant       int32 [n_records]: 0 for a generated program, r >= 1 for its r-th semantics-preserving rewrite;
  block         int32 [n_records]: the sample block of the record (rewrites share their program's block);
  meta          uint8: UTF-8 JSON {"format", "chunk", "records": [{"text", "signature", "tok", "val",
                "rewrites"}]} in record order; "tok" are the canonical token texts, "val" their numeric values
                (null for non-numbers).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from nsc.errors import NscError
from nsc.outputs import open_output
from nsc.frontend.program import Signature, Token

FORMAT = 1
CHUNK_NAME = re.compile(r"^chunk_(\d{6})\.npz$")
HELDOUT_FRACTION = 0.02


def chunk_path(corpus_dir: str, chunk_id: int) -> str:
    return os.path.join(corpus_dir, f"chunk_{chunk_id:06d}.npz")


def chunk_files(corpus_dir: str) -> list[str]:
    """The corpus's chunk files, in chunk order."""
    names = sorted(n for n in os.listdir(corpus_dir) if CHUNK_NAME.match(n))
    return [os.path.join(corpus_dir, n) for n in names]


@dataclass
class CorpusRecord:
    """One program of the corpus with its samples. x float32 [n, n_in], y float32 [n, n_out]."""

    id: int
    seed: int
    variant: int
    source: str
    signature: Signature
    tokens: tuple[Token, ...]
    x: np.ndarray
    y: np.ndarray
    rewrites: tuple[str, ...] = ()

    @property
    def heldout(self) -> bool:
        return is_heldout(self.seed)


@dataclass
class ChunkRecord:
    """What the runner hands to `write_chunk` for one record (samples given once per block)."""

    id: int
    seed: int
    variant: int
    source: str
    signature_json: str
    tokens: tuple[Token, ...]
    block: int
    rewrites: tuple[str, ...] = ()


def is_heldout(seed: int, fraction: float = HELDOUT_FRACTION) -> bool:
    """Deterministic split by program: a program and all its rewrites fall on the same side."""
    h = hashlib.sha256(f"nsc-heldout:{int(seed)}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64 < fraction


def write_chunk(path: str, chunk_id: int, records: list[ChunkRecord], blocks: list[tuple[np.ndarray, np.ndarray]],
                counts: dict | None = None):
    """Write one chunk atomically. blocks[b] = (x [n, n_in], y [n, n_out]); counts: the runner's kept/drop
    counts for the chunk (kept in the file so that a resumed shard can still summarise every chunk)."""
    xs = [np.asarray(x, np.float32).reshape(-1) for x, _ in blocks]
    ys = [np.asarray(y, np.float32).reshape(-1) for _, y in blocks]
    meta = {"format": FORMAT, "chunk": chunk_id, "counts": counts or {}, "records": [
        {"text": r.source, "signature": json.loads(r.signature_json), "tok": [t.text for t in r.tokens],
         "val": [t.value for t in r.tokens], "rewrites": list(r.rewrites)} for r in records]}
    arrays = {
        "x": np.concatenate(xs) if xs else np.zeros(0, np.float32),
        "y": np.concatenate(ys) if ys else np.zeros(0, np.float32),
        "x_off": np.concatenate([[0], np.cumsum([len(a) for a in xs], dtype=np.int64)]).astype(np.int64),
        "y_off": np.concatenate([[0], np.cumsum([len(a) for a in ys], dtype=np.int64)]).astype(np.int64),
        "rows": np.array([len(x) for x, _ in blocks], np.int32),
        "ids": np.array([r.id for r in records], np.int64),
        "seeds": np.array([r.seed for r in records], np.int64),
        "variant": np.array([r.variant for r in records], np.int32),
        "block": np.array([r.block for r in records], np.int32),
        "meta": np.frombuffer(json.dumps(meta, separators=(",", ":")).encode(), np.uint8),
    }
    # (nsc/outputs.py names the temporary file before creating it: Ctrl-C inside mkstemp had left one behind)
    with open_output(path, "wb") as f:
        _write_npz(f, arrays)


def _write_npz(f, arrays: dict) -> None:
    """np.savez with fixed zip timestamps, so that the same corpus gives the same bytes (and corpus_hash)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as g:
                np.lib.format.write_array(g, np.ascontiguousarray(arr), allow_pickle=False)


class DamagedChunk(NscError):
    """A chunk file that cannot be read (truncated, overwritten, another format)."""

    def __init__(self, reason: str, path: str):
        super().__init__(f"damaged corpus chunk ({reason}); delete it, and `python -m nsc.training.corpus_run` "
                         "with the same options makes it again", path)
        self.reason = reason


def read_arrays(path: str, names: tuple[str, ...] | None = None) -> dict:
    """The named arrays of a chunk file (None: all, with its metadata parsed as "meta"); a file that is not a
    readable chunk is a DamagedChunk naming it, not a zipfile or numpy traceback."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in (z.files if names is None else names)}
        if "meta" in arrays:
            arrays["meta"] = json.loads(arrays["meta"].tobytes().decode())
            if arrays["meta"].get("format") != FORMAT:
                raise ValueError(f"corpus chunk format {arrays['meta'].get('format')}, expected {FORMAT}")
            if names is None and len(arrays["meta"]["records"]) != len(arrays["ids"]):
                raise ValueError("its records and its arrays disagree")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, AttributeError) as e:
        raise DamagedChunk(f"{type(e).__name__}: {e}", path) from None
    return arrays


def chunk_counts(path: str) -> dict:
    """A chunk file's counts (programs tried, kept, drops by reason), from its metadata alone."""
    return read_arrays(path, ("meta",))["meta"].get("counts", {})


class Chunk:
    """One chunk file, loaded whole (chunks are a few MB)."""

    def __init__(self, path: str):
        self.arrays = read_arrays(path)
        meta = self.arrays.pop("meta")
        self.meta = meta["records"]
        self.counts = meta.get("counts", {})
        self.path = path

    def __len__(self) -> int:
        return len(self.meta)

    def record(self, k: int) -> CorpusRecord:
        a, m = self.arrays, self.meta[k]
        sig = Signature.from_json(m["signature"])
        b = int(a["block"][k])
        x = a["x"][a["x_off"][b]:a["x_off"][b + 1]].reshape(int(a["rows"][b]), sig.n_in)
        y = a["y"][a["y_off"][b]:a["y_off"][b + 1]].reshape(int(a["rows"][b]), sig.n_out)
        tokens = tuple(Token(t, None if v is None else float(v)) for t, v in zip(m["tok"], m["val"]))
        return CorpusRecord(int(a["ids"][k]), int(a["seeds"][k]), int(a["variant"][k]), m["text"], sig, tokens,
                            x, y, tuple(m.get("rewrites", ())))


def _selected(seeds: np.ndarray, variants: np.ndarray, split: str, with_variants: bool) -> np.ndarray:
    keep = np.ones(len(seeds), bool) if with_variants else variants == 0
    if split != "all":
        held = np.array([is_heldout(s) for s in seeds], bool)
        keep &= held if split == "heldout" else ~held
    return np.flatnonzero(keep)


def iter_programs(corpus_dir: str, split: str = "all", variants: bool = True):
    """Yield CorpusRecords chunk by chunk. split: "all", "train" or "heldout"; variants: include rewrites."""
    _check_split(split)
    for path in chunk_files(corpus_dir):
        chunk = Chunk(path)
        for k in _selected(chunk.arrays["seeds"], chunk.arrays["variant"], split, variants):
            yield chunk.record(int(k))


class CorpusIndex:
    """Random access to a corpus's records: len(), index[i] -> CorpusRecord.

    Building it reads only the small per-record arrays of each chunk; records are read on demand, keeping the
    `cache` most recently used chunks in memory.
    """

    def __init__(self, corpus_dir: str, split: str = "all", variants: bool = True, cache: int = 8):
        _check_split(split)
        self.corpus_dir = corpus_dir
        self.files = chunk_files(corpus_dir)
        where = []
        for f, path in enumerate(self.files):
            arrays = read_arrays(path, ("seeds", "variant"))
            seeds, var = arrays["seeds"], arrays["variant"]
            where += [(f, int(k)) for k in _selected(seeds, var, split, variants)]
        self.where = where
        self.cache_size = cache
        self._cache: OrderedDict[int, Chunk] = OrderedDict()

    def __len__(self) -> int:
        return len(self.where)

    def _chunk(self, f: int) -> Chunk:
        if f in self._cache:
            self._cache.move_to_end(f)
            return self._cache[f]
        chunk = Chunk(self.files[f])
        self._cache[f] = chunk
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return chunk

    def __getitem__(self, i: int) -> CorpusRecord:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        f, k = self.where[i]
        return self._chunk(f).record(k)


def corpus_hash(corpus_dir: str) -> str:
    """sha256 over the chunk files' names and sha256 digests (stable: summaries and wall times excluded)."""
    h = hashlib.sha256()
    for path in chunk_files(corpus_dir):
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        h.update(f"{os.path.basename(path)} {digest}\n".encode())
    return h.hexdigest()


def _check_split(split: str) -> None:
    if split not in ("all", "train", "heldout"):
        raise ValueError(f"split must be 'all', 'train' or 'heldout', not {split!r}")
