"""A program as the hypernetwork reads it: one sequence of positions, each with a few parallel features.

Shared by training (nsc/training, through torch) and compiling (nsc/compiler/hypernet.py, through onnxruntime),
so both see exactly the same numbers. numpy only.

The sequence is

    [CLS]  in-port x n_in  out-port x n_out  [SEP]  code tokens (helpers first, target function last)

and every position has
  token id    from a fixed vocabulary (built from the corpus, shipped in the manifest; unknown -> <unk>).
              A port's token is its parameter's canonical name (``p3``; ``return`` for the return value), the
              same token the code uses for that parameter, so ports and their uses share one embedding.
  role id     pad, cls, input port, output port, sep, helper code, target-function code.
  index id    for ports of array parameters: element index + 1 (clipped); else 0.
  numeric     value-aware features (`value_features`): of a ``<num>`` literal's value; of an input port's range
              (lo, hi, half-width) and integer flag; of an output port's integer flag. Zero elsewhere.

and beside the sequence, `flows` [n_in, n_out]: 1 where input i may reach output j, 0 where the front-end's
data-flow analysis (nsc/analysis/dataflow.py) proves it cannot; and what the front-end's statistical
linearisation (nsc/analysis/linearize.py) says (`linear_features`): `lin_beta` [n_in, n_out], each output's
linear coefficients in units of its predicted standard deviation per normalised input, and `lin_out`
[n_out, N_LIN_OUT]: whether the analysis modelled the program, the log of the predicted standard deviation,
the predicted mean in standard deviations, and the share of the variance that is linear. Zero where the
analysis does not model the program.

Programs longer than the context keep every port, the whole target function, and as many whole helper
declarations (nearest to the target first) as fit; what was left out is reported in `Encoded.notes`. If even
the target function does not fit, `encode` raises NscError. More than `max_inputs` inputs or `max_outputs`
outputs is an NscError naming the limit.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from nsc.errors import NscError
from nsc.analysis.dataflow import reach_matrix_of_tokens
from nsc.analysis.linearize import Linearization, linearize_tokens

# Roles of sequence positions (0 is padding).
ROLE_PAD, ROLE_CLS, ROLE_IN, ROLE_OUT, ROLE_SEP, ROLE_HELPER, ROLE_TARGET = range(7)
N_ROLES = 7

SPECIALS = ("<pad>", "<unk>", "<cls>", "<sep>", "<num>")
PAD_ID, UNK_ID, CLS_ID, SEP_ID, NUM_ID = range(len(SPECIALS))

# Value features of one number (see value_features); numeric slots per position: value-or-lo, hi, half-width.
N_VALUE_FEATURES = 14
N_NUMERIC_SLOTS = 3
FLAG_INTEGER = N_NUMERIC_SLOTS * N_VALUE_FEATURES  # port takes/gives integer values
FLAG_PORT = FLAG_INTEGER + 1  # the position is a port (its slots describe a range, not a literal)
N_NUMERIC = FLAG_PORT + 1


@dataclass(frozen=True)
class EncodingConfig:
    max_len: int = 512  # positions, including CLS, ports and SEP
    max_inputs: int = 32
    max_outputs: int = 16
    max_index: int = 63  # index ids are element index + 1, clipped to this

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "EncodingConfig":
        return cls(**d)


class Vocabulary:
    """Token text <-> id. Ids 0..4 are SPECIALS; unknown text maps to <unk>."""

    def __init__(self, texts):
        texts = list(texts)
        if len(texts) > 65535:
            raise ValueError("vocabulary too large (token ids are stored as uint16)")
        if tuple(texts[:len(SPECIALS)]) != SPECIALS:
            texts = list(SPECIALS) + [t for t in texts if t not in SPECIALS]
        self.texts = texts
        self._ids = {t: i for i, t in enumerate(texts)}
        if len(self._ids) != len(texts):
            raise ValueError("vocabulary has duplicate entries")

    def __len__(self) -> int:
        return len(self.texts)

    def id(self, text: str) -> int:
        return self._ids.get(text, UNK_ID)

    def ids(self, texts) -> np.ndarray:
        get = self._ids.get
        return np.fromiter((get(t, UNK_ID) for t in texts), dtype=np.int64)

    @classmethod
    def build(cls, token_texts, min_count: int = 2, max_size: int = 4000, always=()) -> "Vocabulary":
        """From an iterable of token-text sequences: texts seen at least `min_count` times (most frequent first,
        at most `max_size`), plus `always` (e.g. canonical parameter names, so ports of unusually many
        parameters still get their own ids)."""
        counts = Counter()
        for seq in token_texts:
            counts.update(seq)
        keep = [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
        keep = keep[:max_size]
        extra = [t for t in always if t not in set(keep)]
        return cls(list(SPECIALS) + [t for t in keep + extra if t not in SPECIALS])

    def to_json(self) -> list[str]:
        return list(self.texts)

    @classmethod
    def from_json(cls, texts) -> "Vocabulary":
        return cls(texts)


def default_reserved_names(n_params: int = 48) -> list[str]:
    """Canonical names every vocabulary must hold: parameters p0.. and the return port."""
    return ["return"] + [f"p{i}" for i in range(n_params)]


def value_features(v) -> np.ndarray:
    """Value-aware encoding of numbers: float64 array [...] -> float32 [..., N_VALUE_FEATURES].

    present, sign, log10|v|/4 (clipped), sin/cos of 2*pi*log10|v| at periods 1, 2 and 8 decades (mantissa and
    magnitude), tanh(v), tanh(v/10), asinh(v)/4 (linear near 0, logarithmic far out), is-integer, is-zero.
    Smooth in log-magnitude, exact for zero, bounded but for asinh's slow growth.
    """
    v = np.asarray(v, dtype=np.float64)
    finite = np.isfinite(v)
    v = np.where(finite, v, np.sign(np.nan_to_num(v, nan=0.0)) * 1e300)
    a = np.abs(v)
    nonzero = a > 0
    lg = np.log10(np.where(nonzero, a, 1.0))
    feats = [
        np.ones_like(v),
        np.sign(v),
        np.clip(lg / 4.0, -3.0, 3.0),
    ]
    for period in (1.0, 2.0, 8.0):
        angle = 2 * np.pi * lg / period
        feats += [np.where(nonzero, np.sin(angle), 0.0), np.where(nonzero, np.cos(angle), 0.0)]
    feats += [
        np.tanh(v),
        np.tanh(v / 10.0),
        np.arcsinh(v) / 4.0,
        (np.floor(v) == v).astype(np.float64),
        (~nonzero).astype(np.float64),
    ]
    out = np.stack(feats, axis=-1).astype(np.float32)
    assert out.shape[-1] == N_VALUE_FEATURES
    return out


def canonical_port_name(signature, port) -> str:
    """The code's name for a port's parameter: ``p{index in Signature.params}``, or ``return``."""
    if port.param == "return":
        return "return"
    for i, p in enumerate(signature.params):
        if p.name == port.param:
            return f"p{i}"
    raise ValueError(f"port {port.name!r} names unknown parameter {port.param!r}")


def split_declarations(texts: list[str]) -> list[tuple[int, int]]:
    """Top-level declarations of a canonical token list as [start, end) spans.

    A declaration ends at a depth-0 ``;`` or at the ``}`` closing a function body (a ``{`` right after ``)``).
    Anything left over at the end (an unterminated tail) becomes one last span.
    """
    spans, start, depth, body_open = [], 0, 0, False
    for i, t in enumerate(texts):
        if t == "{":
            if depth == 0 and i > 0 and texts[i - 1] == ")":
                body_open = True
            depth += 1
        elif t == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and body_open:
                spans.append((start, i + 1))
                start, body_open = i + 1, False
        elif t == ";" and depth == 0:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(texts):
        spans.append((start, len(texts)))
    return spans


@dataclass
class Encoded:
    """One program's model inputs (unbatched, compact: a corpus holds many). Port positions are 1..n_in and
    n_in+1..n_in+n_out. Numeric features are stored sparsely: rows `numeric_rows` at positions `numeric_pos`."""

    token_ids: np.ndarray  # uint16 [L]
    role_ids: np.ndarray  # uint8 [L]
    index_ids: np.ndarray  # uint8 [L]
    numeric_pos: np.ndarray  # int32 [K]
    numeric_rows: np.ndarray  # float32 [K, N_NUMERIC]
    n_in: int
    n_out: int
    n_code_tokens: int  # in the program, before truncation
    n_dropped_tokens: int = 0
    notes: list[str] = field(default_factory=list)
    flows: np.ndarray | None = None  # uint8 [n_in, n_out]; None: every input may reach every output
    lin_beta: np.ndarray | None = None  # float32 [n_in, n_out] (linear_features); None: not modelled
    lin_out: np.ndarray | None = None  # float32 [n_out, N_LIN_OUT]

    @property
    def length(self) -> int:
        return int(self.token_ids.shape[0])

    def numeric(self) -> np.ndarray:
        """Dense numeric features float32 [L, N_NUMERIC]."""
        out = np.zeros((self.length, N_NUMERIC), np.float32)
        out[self.numeric_pos] = self.numeric_rows
        return out


def check_limits(signature, config: EncodingConfig = EncodingConfig()) -> None:
    if signature.n_in > config.max_inputs:
        raise NscError(f"'{signature.function}' has {signature.n_in} inputs; the compiler supports at most "
                       f"{config.max_inputs} (a random initialisation has no such limit: --init random)")
    if signature.n_out > config.max_outputs:
        raise NscError(f"'{signature.function}' has {signature.n_out} outputs; the compiler supports at most "
                       f"{config.max_outputs} (a random initialisation has no such limit: --init random)")
    if signature.n_in < 1 or signature.n_out < 1:
        raise NscError(f"'{signature.function}' needs at least one input and one output to have a surrogate")


def check_fits(signature, tokens, config: EncodingConfig = EncodingConfig()) -> None:
    """NscError unless the program fits the compiler: its ports (`check_limits`) and its target function within
    the context (`select_code`). Cheap, so it comes before the analysis, which takes seconds on long programs."""
    check_limits(signature, config)
    select_code([t.text for t in tokens], _code_budget(signature, config))


def _code_budget(signature, config: EncodingConfig) -> int:
    """Code tokens the context holds besides the head: [CLS], one position per port, [SEP]."""
    return config.max_len - (2 + signature.n_in + signature.n_out)


def select_code(texts: list[str], budget: int) -> tuple[list[int], int, list[str]]:
    """Which code positions to keep within `budget`: (kept indices, first index of the target, notes).

    The target function (the last declaration) is always kept whole; helper declarations are added nearest to
    the target first, whole or not at all. Raises NscError if the target alone exceeds the budget.
    """
    spans = split_declarations(texts)
    if not spans:
        return [], 0, []
    t0, t1 = spans[-1]
    if t1 - t0 > budget:
        raise NscError(f"the target function is {t1 - t0} tokens long but the compiler's context holds only "
                       f"{budget} code tokens for this signature; use --init random")
    if len(texts) <= budget:
        return list(range(len(texts))), t0, []
    room = budget - (t1 - t0)
    keep_spans, dropped_spans, dropped_tokens = [], 0, 0
    for s0, s1 in reversed(spans[:-1]):
        if s1 - s0 <= room:
            keep_spans.append((s0, s1))
            room -= s1 - s0
        else:
            dropped_spans += 1
            dropped_tokens += s1 - s0
    keep_spans.reverse()
    kept = [i for s0, s1 in keep_spans for i in range(s0, s1)]
    first_target = len(kept)
    kept += list(range(t0, t1))
    notes = [f"program is {len(texts)} code tokens but the compiler reads {budget} here: left out "
             f"{dropped_spans} of {len(spans) - 1} helper declarations ({dropped_tokens} tokens); "
             f"the target function and all ports were kept"]
    return kept, first_target, notes


N_LIN_OUT = 4  # lin_out columns: modelled, log std, mean / std, linear share of the variance


def linear_features(linear, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(lin_beta [n_in, n_out], lin_out [n_out, N_LIN_OUT]) float32 of a Linearization; zeros for anything
    else (an Unsupported reason). |lin_beta| <= sqrt(3) since a standard deviation includes its linear part."""
    beta = np.zeros((n_in, n_out), np.float32)
    out = np.zeros((n_out, N_LIN_OUT), np.float32)
    if not isinstance(linear, Linearization):
        return beta, out
    with np.errstate(all="ignore"):
        std = np.maximum(linear.std, np.maximum(1e-6 * np.abs(linear.mean), 1e-30))
        lin_var = linear.var_lin
        beta[:] = np.nan_to_num(linear.coef / std, nan=0.0, posinf=0.0, neginf=0.0)
        out[:, 0] = 1.0
        out[:, 1] = np.clip(np.log(std), -80.0, 80.0)
        out[:, 2] = np.clip(np.nan_to_num(linear.mean / std), -1e6, 1e6)
        out[:, 3] = np.nan_to_num(np.clip(lin_var / std ** 2, 0.0, 1.0))
    return beta, out


def encode(signature, tokens, vocab: Vocabulary, config: EncodingConfig = EncodingConfig(),
           flows: np.ndarray | None = None, linear=None) -> Encoded:
    """Encode a program (its Signature and canonical Token sequence) for the hypernetwork. `flows` (bool
    [n_in, n_out], Program.flows) and `linear` (a Linearization, or the Unsupported reason there is none:
    Program.linear) are computed from the tokens when not given."""
    check_limits(signature, config)
    if flows is None:
        flows = reach_matrix_of_tokens(tokens, signature)
    if linear is None:
        linear = linearize_tokens(tokens, signature)
    n_in, n_out = signature.n_in, signature.n_out
    n_head = 2 + n_in + n_out
    texts = [t.text for t in tokens]
    kept, first_target, notes = select_code(texts, _code_budget(signature, config))
    L = n_head + len(kept)

    token_ids = np.zeros(L, np.int64)
    role_ids = np.zeros(L, np.int64)
    index_ids = np.zeros(L, np.int64)

    token_ids[0], role_ids[0] = CLS_ID, ROLE_CLS
    ports = [(p, ROLE_IN) for p in signature.inputs] + [(p, ROLE_OUT) for p in signature.outputs]
    n_ports = len(ports)
    port_rows = np.zeros((n_ports, N_NUMERIC), np.float32)
    ranges = np.zeros((n_in, N_NUMERIC_SLOTS), np.float64)
    for k, (port, role) in enumerate(ports):
        token_ids[1 + k] = vocab.id(canonical_port_name(signature, port))
        role_ids[1 + k] = role
        index_ids[1 + k] = 0 if port.index is None else min(int(port.index) + 1, config.max_index)
        port_rows[k, FLAG_INTEGER] = float(port.is_integer)
        port_rows[k, FLAG_PORT] = 1.0
        if role == ROLE_IN:
            lo, hi = float(port.lo), float(port.hi)
            ranges[k] = (lo, hi, (hi - lo) / 2)
    port_rows[:n_in, :N_NUMERIC_SLOTS * N_VALUE_FEATURES] = value_features(ranges).reshape(n_in, -1)
    sep = 1 + n_ports
    token_ids[sep], role_ids[sep] = SEP_ID, ROLE_SEP

    token_ids[sep + 1:] = vocab.ids(texts[i] for i in kept)
    role_ids[sep + 1:] = ROLE_HELPER
    role_ids[sep + 1 + first_target:] = ROLE_TARGET
    num_at = [j for j, i in enumerate(kept) if tokens[i].value is not None]
    num_rows = np.zeros((len(num_at), N_NUMERIC), np.float32)
    if num_at:
        num_rows[:, :N_VALUE_FEATURES] = value_features([tokens[kept[j]].value for j in num_at])
    numeric_pos = np.concatenate([np.arange(1, 1 + n_ports), sep + 1 + np.array(num_at, np.int64)])
    return Encoded(token_ids.astype(np.uint16), role_ids.astype(np.uint8),
                   np.minimum(index_ids, 255).astype(np.uint8), numeric_pos.astype(np.int32),
                   np.concatenate([port_rows, num_rows]), n_in, n_out, len(texts), len(texts) - len(kept), notes,
                   np.asarray(flows, dtype=np.uint8), *linear_features(linear, n_in, n_out))


def collate(items: list[Encoded]) -> dict[str, np.ndarray]:
    """Pad a list of encoded programs into one batch (the hypernetwork's inputs, as numpy arrays).

    token_ids/role_ids/index_ids int64 [B, L], numeric float32 [B, L, N_NUMERIC] (role 0 marks padding);
    in_pos int64 [B, I] and in_mask float32 [B, I]; out_pos int64 [B, O] and out_mask float32 [B, O]
    (padded port slots point at position 0 and are masked); flows float32 [B, I, O] (0 for padded ports);
    lin_beta float32 [B, I, O] and lin_out float32 [B, O, N_LIN_OUT] (0 for padded ports, and where the
    analysis did not model the program).
    """
    B = len(items)
    L = max(e.length for e in items)
    I = max(e.n_in for e in items)
    O = max(e.n_out for e in items)
    batch = {
        "token_ids": np.zeros((B, L), np.int64),
        "role_ids": np.zeros((B, L), np.int64),
        "index_ids": np.zeros((B, L), np.int64),
        "numeric": np.zeros((B, L, N_NUMERIC), np.float32),
        "in_pos": np.zeros((B, I), np.int64),
        "in_mask": np.zeros((B, I), np.float32),
        "out_pos": np.zeros((B, O), np.int64),
        "out_mask": np.zeros((B, O), np.float32),
        "flows": np.zeros((B, I, O), np.float32),
        "lin_beta": np.zeros((B, I, O), np.float32),
        "lin_out": np.zeros((B, O, N_LIN_OUT), np.float32),
    }
    for b, e in enumerate(items):
        n = e.length
        batch["token_ids"][b, :n] = e.token_ids
        batch["role_ids"][b, :n] = e.role_ids
        batch["index_ids"][b, :n] = e.index_ids
        batch["numeric"][b, e.numeric_pos] = e.numeric_rows
        batch["in_pos"][b, :e.n_in] = np.arange(1, 1 + e.n_in)
        batch["in_mask"][b, :e.n_in] = 1.0
        batch["out_pos"][b, :e.n_out] = np.arange(1 + e.n_in, 1 + e.n_in + e.n_out)
        batch["out_mask"][b, :e.n_out] = 1.0
        batch["flows"][b, :e.n_in, :e.n_out] = 1.0 if e.flows is None else e.flows
        if e.lin_beta is not None:
            batch["lin_beta"][b, :e.n_in, :e.n_out] = e.lin_beta
            batch["lin_out"][b, :e.n_out] = e.lin_out
    return batch


MODEL_INPUTS = ("token_ids", "role_ids", "index_ids", "numeric", "in_pos", "in_mask", "out_pos", "out_mask",
                "flows", "lin_beta", "lin_out")
MODEL_OUTPUTS = ("w0", "b0", "w1", "b1", "w2", "b2", "out_scale", "out_shift")


def manifest_encoding(vocab: Vocabulary, config: EncodingConfig) -> dict:
    """The encoding part of the shipped manifest (enough to rebuild `vocab` and `config`)."""
    return {"config": config.to_json(), "vocabulary": vocab.to_json(), "n_numeric": N_NUMERIC,
            "n_roles": N_ROLES, "inputs": list(MODEL_INPUTS), "outputs": list(MODEL_OUTPUTS)}


def encoding_from_manifest(d: dict) -> tuple[Vocabulary, EncodingConfig]:
    if d.get("n_numeric") != N_NUMERIC or d.get("n_roles") != N_ROLES:
        raise NscError("the installed compiler was trained with a different program encoding; rebuild it with "
                       "`make compiler`")
    return Vocabulary.from_json(d["vocabulary"]), EncodingConfig.from_json(d["config"])


def dumps_manifest(d: dict) -> str:
    """The manifest as strict JSON: a non-finite figure (a training metric that overflowed) is written as null."""
    return json.dumps(_finite(d), indent=1, sort_keys=True, allow_nan=False)


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
