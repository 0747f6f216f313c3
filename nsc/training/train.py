"""Training the hypernetwork end to end, nanoGPT style: one config, one loop.

    python -m nsc.training.train --config nsc/training/configs/compiler.json [--resume | --restart]
    torchrun --nproc_per_node 2 -m nsc.training.train --config ...          (DDP: gloo on CPU, nccl on GPU)

Each step takes a batch of corpus programs, generates each one's surrogate with the hypernetwork, runs it on a
random subset of that program's samples (inputs normalised by their ranges) and scores it per output by its MSE
relative to the output's variance (model.relative_errors), twice: with the output map calibrated from data (the
network's shape: what fine-tuning starts from) and with the predicted output map (zero-shot; this part trains the
map heads only). The loss is the mean over programs of the mean over outputs of log1p of those errors
(model.program_loss), calibrated + map_loss_weight x zero-shot, plus a small direct log-scale term: every program
and every output counts equally, a constant mean predictor scores log(2), hopeless programs cannot dominate.
The `unconditioned` baseline (model.UnconditionedInit) trains on the calibrated error in the same loop, on the
same batches, so held-out "calibrated" figures of the two compare like with like.

Batches: each epoch is a permutation of the training programs (seeded by epoch), split across ranks, grouped into
chunks of similar length (less padding) and cut into batches in a seeded order; sample rows and augmentations come
from a generator seeded by (seed, step, rank). So batch contents are a pure function of the step, and `--resume`
continues exactly where a checkpoint left off.
Augmentation: with probability `permute_ports`, a program's input ports (with their sample columns) and output
ports are presented in a random order; ports stay linked to their code by name, so this teaches the model to read
names rather than slot positions.

Outputs in `out_dir`: checkpoint/ (hypernet.safetensors, uncond.safetensors, optimizer.pt, state.json),
losses.csv, losses.png, summary.json. Checkpoints are written to a fresh directory and swapped in atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import MISSING, asdict, dataclass, field, fields

import numpy as np
import torch

from nsc.compiler.encoding import (MODEL_INPUTS, Encoded, EncodingConfig, Vocabulary, collate, default_reserved_names,
                                   encode, encoding_from_manifest, manifest_encoding)
from nsc.errors import NscError
from nsc.outputs import write_output
from nsc.analysis.dataflow import reach_matrix_of_tokens
from nsc.analysis.linearize import linearize_tokens
from nsc.recursion import deep
from nsc.surrogate.finetune import data_mean_std
from nsc.surrogate.params import input_normalisation
from nsc.training.model import (HyperNet, ModelConfig, UnconditionedInit, program_loss, program_mean,
                                relative_errors, scale_error)

CHECKPOINT = "checkpoint"


@dataclass
class TrainConfig:
    corpus: str = "corpus"  # corpus directory (nsc.training.corpus_store)
    out_dir: str = "out/compiler"
    model: dict = field(default_factory=dict)  # ModelConfig fields (vocab_size and max_len are set from data)
    max_len: int = 512  # encoding context, positions
    vocab_min_count: int = 5
    max_programs: int = 0  # use at most this many training records (0: all)
    rewrites: bool = True  # train on the corpus's semantics-preserving rewrites too (as records of their own)
    max_samples: int = 256  # keep at most this many sample rows per program
    batch_size: int = 32  # programs per step per process
    samples_per_program: int = 64  # sample rows each generated surrogate is scored on per step
    max_steps: int = 2000
    warmup_steps: int = 100
    lr: float = 1e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.05
    betas: tuple = (0.9, 0.98)
    grad_clip: float = 1.0
    map_loss_weight: float = 0.3  # weight of the zero-shot (predicted output map) loss
    scale_loss_weight: float = 0.3  # weight of the direct log-scale regression (model.scale_error)
    uncond_lr: float = 3e-3
    permute_ports: float = 0.5  # probability per program of a random port order
    curriculum_steps: int = 0  # steps of short-to-long curriculum (BatchSchedule); 0: none
    curriculum_start: float = 0.1  # the curriculum's first batches come from this shortest fraction of programs
    out_calibrated: bool = False  # what compiled surrogates declare (the manifest's "out_calibrated"); False:
    #                                 fine-tuning replaces the predicted output map by the data's mean/std (the
    #                                 generated network is trained to be standardised); True: it keeps the map
    export_last_layer: str = "generated"  # model.last_layer of the exported compiler (nsc.training.export);
    #                                       "channels": the surrogate's last layer reads its linear channels only
    log_interval: int = 20
    eval_interval: int = 200
    eval_programs: int = 512  # held-out programs scored at each evaluation
    eval_samples: int = 128  # sample rows per held-out program
    checkpoint_interval: int = 200
    seed: int = 0
    threads: int = 0  # torch threads per process (0: cores / processes)
    time_limit_min: float = 0.0  # checkpoint and stop after this many minutes of this run (0: no limit)
    device: str = "auto"  # auto | cpu | cuda

    @classmethod
    def load(cls, path: str) -> "TrainConfig":
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, UnicodeDecodeError) as e:
            raise NscError(f"cannot read the training configuration ({e})", path) from None
        except json.JSONDecodeError as e:
            raise NscError(f"not valid JSON: {e.msg}", path, e.lineno, e.colno) from None
        if not isinstance(d, dict):
            raise NscError("a training configuration is a JSON object of options", path)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known - {"comment"})
        if unknown:
            raise NscError(f"unknown training option(s): {', '.join(unknown)}", path)
        d.pop("comment", None)
        cfg = cls(**d)
        cfg.check(path)
        return cfg

    def check(self, path: str | None = None) -> None:
        """NscError for an option of the wrong type or out of range (before any data is read or file written)."""
        def bad(name, value, want):
            raise NscError(f"training option '{name}' is {json.dumps(value)}; {want}", path)

        _check_types(self, fields(self), bad)
        for name in ("max_steps", "batch_size", "samples_per_program", "max_samples", "log_interval",
                     "eval_interval", "eval_programs", "eval_samples", "checkpoint_interval", "max_len",
                     "vocab_min_count"):
            if getattr(self, name) < 1:
                bad(name, getattr(self, name), "it must be at least 1")
        for name in ("lr", "grad_clip", "uncond_lr"):
            if not getattr(self, name) > 0:
                bad(name, getattr(self, name), "it must be positive")
        for name in ("min_lr", "weight_decay", "warmup_steps", "max_programs", "threads", "time_limit_min",
                     "curriculum_steps", "map_loss_weight", "scale_loss_weight"):
            if getattr(self, name) < 0:
                bad(name, getattr(self, name), "it must not be negative")
        if len(self.betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas):
            bad("betas", list(self.betas), "it must be two numbers in [0, 1)")
        if self.device not in ("auto", "cpu", "cuda"):
            bad("device", self.device, "it must be auto, cpu or cuda")
        if os.path.exists(self.out_dir) and not os.path.isdir(self.out_dir):
            bad("out_dir", self.out_dir, "it names a file, not a directory")
        if self.export_last_layer not in ("generated", "channels"):
            bad("export_last_layer", self.export_last_layer, "it must be generated or channels")
        known = {f.name: f for f in fields(ModelConfig)}
        unknown = sorted(set(self.model) - set(known) - {"vocab_size", "max_len"})
        if unknown:
            raise NscError(f"unknown model option(s): {', '.join(unknown)}", path)
        _check_types(self.model, [known[k] for k in self.model if k in known], bad, prefix="model.")
        d_model = self.model.get("d_model", ModelConfig.d_model)
        n_heads = self.model.get("n_heads", ModelConfig.n_heads)
        if n_heads < 1 or d_model < 1 or d_model % n_heads:
            bad("model.d_model", d_model, f"it must be a positive multiple of model.n_heads ({n_heads})")

    def to_json(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    def model_config(self, vocab_size: int) -> ModelConfig:
        return ModelConfig(**{**self.model, "vocab_size": vocab_size, "max_len": self.max_len})


def _check_types(obj, fields_, bad, prefix: str = "") -> None:
    """Each option of the type its default has (an int where an int is meant: 10.5 steps is not 10 or 11)."""
    for f in fields_:
        value = obj[f.name] if isinstance(obj, dict) else getattr(obj, f.name)
        default = f.default if f.default is not MISSING else f.default_factory()
        kind = type(default)
        ok = (isinstance(value, bool) if kind is bool else
              isinstance(value, int) and not isinstance(value, bool) if kind is int else
              isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              if kind is float else
              isinstance(value, (list, tuple)) if kind is tuple else isinstance(value, kind))
        if not ok:
            want = {bool: "true or false", int: "an integer", float: "a number", tuple: "a list", dict: "an object",
                    str: "a string"}.get(kind, kind.__name__)
            bad(prefix + f.name, value, f"it must be {want}")


# ----------------------------------------------------------------------------------------------------------------
# data


class CorpusSplit:
    """One split of the corpus store, re-readable (the vocabulary pass and the encoding pass each read it)."""

    def __init__(self, corpus_dir: str, split: str, variants: bool, limit: int = 0):
        self.corpus_dir, self.split, self.variants, self.limit = corpus_dir, split, variants, limit

    def __iter__(self):
        from nsc.training import corpus_store

        records = corpus_store.iter_programs(self.corpus_dir, self.split, variants=self.variants)
        return itertools.islice(records, self.limit) if self.limit else records


def load_corpus(cfg: TrainConfig):
    """(train records, held-out records, corpus id) from the corpus store (nsc.training.corpus_store).
    Records have .signature, .tokens, .x float32 [n, n_in], .y float32 [n, n_out]; rewrites of a program
    (.variant >= 1, same .id) are training records of their own; the held-out split has originals only."""
    from nsc.training import corpus_store

    if not os.path.isdir(cfg.corpus) or not corpus_store.chunk_files(cfg.corpus):
        raise NscError(f"no corpus in '{cfg.corpus}'; build one with `make corpus`")
    train = CorpusSplit(cfg.corpus, "train", cfg.rewrites, cfg.max_programs)
    heldout = CorpusSplit(cfg.corpus, "heldout", False)
    return train, heldout, corpus_store.corpus_hash(cfg.corpus)[:16]


class ProgramSet:
    """Encoded programs with their samples, normalised and ready to batch.

    Programs that cannot be encoded (too many ports, target function longer than the context) or whose outputs
    are all constant are skipped and counted in `skipped`. Constant outputs of other programs are masked.
    """

    def __init__(self, records, vocab: Vocabulary, enc_cfg: EncodingConfig, max_samples: int = 0,
                 workers: int = 1):
        self.encoded: list[Encoded] = []
        self.u: list[np.ndarray] = []  # normalised inputs float32 [n, n_in]
        self.z: list[np.ndarray] = []  # standardised outputs float32 [n, n_out]
        self.log_sigma: list[np.ndarray] = []  # float32 [n_out]
        self.mean_over_sigma: list[np.ndarray] = []
        self.valid: list[np.ndarray] = []  # float32 [n_out]: 0 for constant outputs
        self.truncated = 0
        self.skipped = Counter()
        shared = {}  # program id -> its sample arrays: rewrites share their original's samples
        for rec, (flows, linear) in with_analyses(records, workers):
            key = getattr(rec, "id", None)
            try:
                enc = encode(rec.signature, rec.tokens, vocab, enc_cfg, flows, linear)
            except NscError as e:
                self.skipped["too long" if "tokens long" in e.message else "too many ports"] += 1
                continue
            samples = shared.get(key) if key is not None else None
            if samples is None:
                samples = self._samples(rec, max_samples)
                if key is not None:
                    shared[key] = samples
            if samples is None:
                self.skipped["constant outputs"] += 1
                continue
            self.truncated += enc.n_dropped_tokens > 0
            self.encoded.append(enc)
            for name, array in zip(("u", "z", "log_sigma", "mean_over_sigma", "valid"), samples):
                getattr(self, name).append(array)
        self.lengths = np.array([e.length for e in self.encoded], np.int64)

    @staticmethod
    def _samples(rec, max_samples: int):
        """(u, z, log_sigma, mean_over_sigma, valid) of a record, or None if every output is constant."""
        x = np.asarray(rec.x[:max_samples or None], np.float64)
        y = np.asarray(rec.y[:max_samples or None], np.float64)
        mean, std = data_mean_std(y)
        valid = (y.std(axis=0) > np.maximum(1e-6 * np.abs(mean), 1e-30)).astype(np.float32)
        if not valid.any():
            return None
        shift, scale = input_normalisation(*rec.signature.ranges())
        return (((x - shift) / scale).astype(np.float32), ((y - mean) / std).astype(np.float32),
                np.log(std).astype(np.float32), (mean / std).astype(np.float32), valid)

    def __len__(self) -> int:
        return len(self.encoded)

    def median_log_sigma(self) -> float:
        """Median log std over every (non-constant) output of every program."""
        values = [ls[v > 0] for ls, v in zip(self.log_sigma, self.valid)]
        return float(np.median(np.concatenate(values))) if values else 0.0

    def batch(self, indices, n_samples: int, rng: np.random.Generator | None = None,
              permute_prob: float = 0.0) -> dict[str, torch.Tensor]:
        """Model inputs plus targets for programs `indices`. With rng: `n_samples` random rows per program (and
        port permutations); without: the first `n_samples` rows (cycled if a program has fewer)."""
        encs, us, zs, ls, ms, vs = [], [], [], [], [], []
        for i in indices:
            enc, u, z = self.encoded[i], self.u[i], self.z[i]
            ls_i, ms_i, v_i = self.log_sigma[i], self.mean_over_sigma[i], self.valid[i]
            n = u.shape[0]
            if rng is None:
                rows = np.resize(np.arange(n), n_samples)
            else:
                rows = rng.choice(n, n_samples, replace=n < n_samples)
            u, z = u[rows], z[rows]
            if rng is not None and permute_prob > 0 and rng.random() < permute_prob:
                p_in, p_out = rng.permutation(enc.n_in), rng.permutation(enc.n_out)
                enc = permute_ports(enc, p_in, p_out)
                u, z, ls_i, ms_i, v_i = u[:, p_in], z[:, p_out], ls_i[p_out], ms_i[p_out], v_i[p_out]
            encs.append(enc), us.append(u), zs.append(z), ls.append(ls_i), ms.append(ms_i), vs.append(v_i)
        arrays = collate(encs)
        B, I, O = len(encs), arrays["in_pos"].shape[1], arrays["out_pos"].shape[1]
        arrays["u"] = np.zeros((B, n_samples, I), np.float32)
        arrays["z"] = np.zeros((B, n_samples, O), np.float32)
        arrays["log_sigma"] = np.zeros((B, O), np.float32)
        arrays["mean_over_sigma"] = np.zeros((B, O), np.float32)
        arrays["loss_mask"] = arrays["out_mask"].copy()  # ports that exist and are not constant
        for b in range(B):
            arrays["u"][b, :, :us[b].shape[1]] = us[b]
            arrays["z"][b, :, :zs[b].shape[1]] = zs[b]
            arrays["log_sigma"][b, :ls[b].shape[0]] = ls[b]
            arrays["mean_over_sigma"][b, :ms[b].shape[0]] = ms[b]
            arrays["loss_mask"][b, :vs[b].shape[0]] *= vs[b]
        return {k: torch.from_numpy(v) for k, v in arrays.items()}


@deep  # (one deep-stack thread for both analyses)
def _analyses_of(item) -> tuple:
    tokens, signature = item
    return reach_matrix_of_tokens(tokens, signature), linearize_tokens(tokens, signature)


def with_analyses(records, workers: int = 1, block: int = 4096):
    """(record, (flows, linearisation)) pairs, in record order. The front-end's analyses (~3 ms and ~5 ms a
    program) run once per program id (a rewrite computes what its original does) and, with workers > 1, in that
    many processes, a block of records at a time so that records still stream."""
    from multiprocessing import get_context

    def key(rec):  # toy records have no id: each is a program of its own
        k = getattr(rec, "id", None)
        return ("record", id(rec)) if k is None else k

    pool = get_context("fork").Pool(workers) if workers > 1 else None
    known: dict = {}
    records = iter(records)
    try:
        while block_records := list(itertools.islice(records, block)):
            todo = {}
            for rec in block_records:
                if key(rec) not in known:
                    todo.setdefault(key(rec), rec)
            items = [(rec.tokens, rec.signature) for rec in todo.values()]
            results = pool.map(_analyses_of, items, chunksize=64) if pool else [_analyses_of(i) for i in items]
            known.update(zip(todo, results))
            for rec in block_records:
                yield rec, known[key(rec)]
            for k in [k for k in todo if isinstance(k, tuple)]:
                del known[k]
    finally:
        if pool:
            pool.terminate()


def permute_ports(enc: Encoded, perm_in: np.ndarray, perm_out: np.ndarray) -> Encoded:
    """The same program with input ports in order perm_in and output ports in order perm_out."""
    n_in, n_out, L = enc.n_in, enc.n_out, enc.length
    order = np.concatenate([[0], 1 + perm_in, 1 + n_in + perm_out, np.arange(1 + n_in + n_out, L)])
    new_position = np.empty(L, np.int64)
    new_position[order] = np.arange(L)
    flows = None if enc.flows is None else enc.flows[perm_in][:, perm_out]
    lin_beta = None if enc.lin_beta is None else enc.lin_beta[perm_in][:, perm_out]
    lin_out = None if enc.lin_out is None else enc.lin_out[perm_out]
    return Encoded(enc.token_ids[order], enc.role_ids[order], enc.index_ids[order],
                   new_position[enc.numeric_pos].astype(np.int32), enc.numeric_rows, n_in, n_out,
                   enc.n_code_tokens, enc.n_dropped_tokens, enc.notes, flows, lin_beta, lin_out)


class BatchSchedule:
    """Which training programs make up the batch of (step, rank): a pure function of the step.

    With a curriculum (curriculum_steps > 0), the batch of step s < curriculum_steps is drawn at random from the
    shortest fraction q(s) of the programs, q growing linearly from curriculum_start to 1: the model learns to
    read short programs first (bench/diag_learnability.py). Then the epochs below take over."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, rank: int, world: int, chunk: int = 16,
                 curriculum_steps: int = 0, curriculum_start: float = 0.1):
        self.lengths, self.B, self.seed, self.chunk = lengths, batch_size, seed, chunk
        self.rank, self.world = rank, world
        self.steps_per_epoch = max(1, len(lengths) // (batch_size * world))
        self.curriculum_steps, self.curriculum_start = curriculum_steps, curriculum_start
        self._by_length = np.argsort(lengths, kind="stable")
        self._epoch, self._batches = None, None

    def _curriculum_batch(self, step: int) -> np.ndarray:
        q = self.curriculum_start + (1 - self.curriculum_start) * step / self.curriculum_steps
        pool = self._by_length[:max(self.B, int(np.ceil(q * len(self.lengths))))]
        rng = np.random.default_rng([self.seed, step, self.rank, 2])
        batch = rng.choice(pool, self.B, replace=len(pool) < self.B)
        return batch[np.argsort(self.lengths[batch], kind="stable")]

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        n = len(self.lengths)
        mine = np.random.default_rng([self.seed, epoch]).permutation(n)[self.rank::self.world]
        if len(mine) < self.B:  # tiny corpora: repeat programs to fill one batch
            mine = np.resize(mine, self.B)
        mine = mine[:self.steps_per_epoch * self.B]
        batches = []
        for c in range(0, len(mine), self.B * self.chunk):
            group = mine[c:c + self.B * self.chunk]
            group = group[np.argsort(self.lengths[group], kind="stable")]
            batches += [group[i:i + self.B] for i in range(0, len(group), self.B)]
        order = np.random.default_rng([self.seed, epoch, self.rank, 1]).permutation(len(batches))
        return [batches[i] for i in order]

    def __call__(self, step: int) -> np.ndarray:
        if step < self.curriculum_steps:
            return self._curriculum_batch(step)
        epoch, k = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, self._epoch_batches(epoch)
        return self._batches[k]


# ----------------------------------------------------------------------------------------------------------------
# model, optimiser, schedule


class Objective(torch.nn.Module):
    """Both models and their losses in one module, so one DDP wrapper synchronises both.

    The hypernetwork's loss: calibrated (the generated network's shape, v against standardised targets)
    + map_weight x zero-shot (the predicted output map, given v) + scale_weight x direct log-scale error.
    The unconditioned init's loss: calibrated only (its output map comes from data at fine-tuning time).
    """

    def __init__(self, hypernet: HyperNet, uncond: UnconditionedInit, map_weight: float = 1.0,
                 scale_weight: float = 0.0):
        super().__init__()
        self.hypernet, self.uncond = hypernet, uncond
        self.map_weight, self.scale_weight = map_weight, scale_weight

    def forward(self, batch: dict) -> dict:
        mask = batch["loss_mask"]
        gen = self.hypernet(*(batch[k] for k in MODEL_INPUTS))
        calibrated, zero_shot = relative_errors(gen, batch["u"], batch["z"], batch["log_sigma"],
                                                batch["mean_over_sigma"], mask)
        base = self.uncond(batch["in_mask"], batch["out_mask"])
        zero = torch.zeros_like(batch["log_sigma"])
        uncond, _ = relative_errors(base, batch["u"], batch["z"], zero, zero, mask)
        out = {"calibrated_loss": program_loss(calibrated, mask), "zero_shot_loss": program_loss(zero_shot, mask),
               "uncond_loss": program_loss(uncond, mask),
               "calibrated": calibrated, "zero_shot": zero_shot, "uncond": uncond}
        out["loss"] = out["calibrated_loss"] + self.map_weight * out["zero_shot_loss"]
        if self.scale_weight:
            scale_err = scale_error(gen, batch["log_sigma"], mask)
            out["loss"] = out["loss"] + self.scale_weight * program_mean(scale_err, mask)
        return out


def make_optimizer(objective: Objective, cfg: TrainConfig) -> torch.optim.AdamW:
    decay, no_decay = [], []
    for name, p in objective.hypernet.named_parameters():
        (decay if p.dim() >= 2 and "emb" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay, "lr_ratio": 1.0},
              {"params": no_decay, "weight_decay": 0.0, "lr_ratio": 1.0},
              {"params": list(objective.uncond.parameters()), "weight_decay": 0.0,
               "lr_ratio": cfg.uncond_lr / cfg.lr}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas))


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warmup, then cosine decay to min_lr at max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * t)) * (cfg.lr - cfg.min_lr)


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def evaluate(objective: Objective, data: ProgramSet, cfg: TrainConfig, device, batch_size: int = 32) -> dict:
    """Held-out figures on the first `eval_programs` programs: per-program losses as in training, and rel-RMSE
    (NOTES.md section 5: RMSE / std per output, averaged over outputs) of compiled surrogates zero-shot (predicted
    output map) and calibrated (output map from data), and of the unconditioned init (calibrated)."""
    objective.eval()
    n = min(len(data), cfg.eval_programs)
    order = np.argsort(data.lengths[:n], kind="stable")
    parts = {k: [] for k in ("calibrated", "zero_shot", "uncond")}
    for c in range(0, n, batch_size):
        batch = to_device(data.batch(order[c:c + batch_size], cfg.eval_samples), device)
        out = objective(batch)
        mask = batch["loss_mask"]
        for k in parts:
            parts[k].append(torch.stack([per_program(torch.log1p(out[k]), mask), per_program(out[k].sqrt(), mask)]))
    objective.train()
    metrics = {"heldout_programs": int(n)}
    rr = {}
    for k, chunks in parts.items():
        loss, rr[k] = torch.cat(chunks, dim=1).double().cpu().numpy()
        name = "uncond" if k == "uncond" else f"heldout_{k}"
        metrics[f"{name}_loss"] = float(loss.mean())
        metrics[f"{name}_relrmse_median"] = float(np.median(rr[k]))
        metrics[f"{name}_relrmse_mean"] = float(np.mean(np.minimum(rr[k], 10.0)))  # capped: a few hopeless ones
    metrics["compiled_beats_uncond"] = float(np.mean(rr["calibrated"] < rr["uncond"]))
    return metrics


def per_program(values: torch.Tensor, out_mask: torch.Tensor) -> torch.Tensor:
    """[B, O] -> [B]: mean over each program's unmasked outputs."""
    return (values * out_mask).sum(1) / out_mask.sum(1).clamp(min=1)


# ----------------------------------------------------------------------------------------------------------------
# checkpoints, logs


def save_checkpoint(out_dir: str, objective: Objective, opt, state: dict) -> None:
    from safetensors.torch import save_file

    final, fresh, old = (os.path.join(out_dir, CHECKPOINT + s) for s in ("", ".new", ".old"))
    shutil.rmtree(fresh, ignore_errors=True)
    os.makedirs(fresh)
    save_file({k: v.detach().cpu().contiguous() for k, v in objective.hypernet.state_dict().items()},
              os.path.join(fresh, "hypernet.safetensors"))
    save_file(objective.uncond.arrays(), os.path.join(fresh, "uncond.safetensors"))
    torch.save({"optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state()},
               os.path.join(fresh, "optimizer.pt"))
    with open(os.path.join(fresh, "state.json"), "w") as f:
        json.dump(state, f, indent=1)
    if os.path.isdir(final):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(fresh, final)
    shutil.rmtree(old, ignore_errors=True)


def checkpoint_dir(out_dir: str) -> str | None:
    for suffix in ("", ".old"):  # .old survives a crash between the two renames
        d = os.path.join(out_dir, CHECKPOINT + suffix)
        if os.path.isfile(os.path.join(d, "state.json")):
            return d
    return None


@contextlib.contextmanager
def reading_checkpoint(ckpt: str):
    """Any failure to read a checkpoint's files (truncated, edited, from another version) is one NscError naming
    the directory, not a json, safetensors or torch traceback."""
    try:
        yield
    except NscError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever the readers raise, it means the same to the user
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise NscError(f"damaged checkpoint ({type(e).__name__}: {reason[:200]}); train again with --restart, "
                       "or export another checkpoint", ckpt) from None


def read_checkpoint_state(ckpt: str) -> dict:
    with reading_checkpoint(ckpt), open(os.path.join(ckpt, "state.json")) as f:
        state = json.load(f)
        if not isinstance(state, dict):
            raise ValueError("state.json does not hold an object")
        return state


def load_models(ckpt: str) -> tuple[HyperNet, UnconditionedInit, dict]:
    """The hypernetwork and unconditioned init of a checkpoint directory (safetensors: no pickle)."""
    from safetensors.torch import load_file

    state = read_checkpoint_state(ckpt)
    with reading_checkpoint(ckpt):
        model_cfg = ModelConfig.from_json(state["model"])
        hypernet, uncond = HyperNet(model_cfg), UnconditionedInit(model_cfg)
        hypernet.load_state_dict(load_file(os.path.join(ckpt, "hypernet.safetensors")))
        uncond.load_state_dict(load_file(os.path.join(ckpt, "uncond.safetensors")))
    return hypernet, uncond, state


CSV_FIELDS = ("step", "programs_seen", "lr", "train_loss", "train_calibrated_loss", "train_zero_shot_loss",
              "uncond_train_loss", "heldout_calibrated_loss", "heldout_zero_shot_loss", "uncond_loss",
              "heldout_calibrated_relrmse_median", "heldout_zero_shot_relrmse_median", "uncond_relrmse_median",
              "heldout_calibrated_relrmse_mean", "heldout_zero_shot_relrmse_mean", "uncond_relrmse_mean",
              "compiled_beats_uncond", "elapsed_s")


def open_log(path: str, resume_step: int):
    """The loss CSV, opened for appending; on resume, rows past the checkpoint's step are dropped."""
    rows = []
    if resume_step >= 0 and os.path.exists(path):
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
    f = open(path, "w", newline="")
    writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    f.flush()
    return f, writer


def plot_losses(csv_path: str, png_path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    series = lambda key: [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]  # noqa: E731
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for key, label, style in (("train_calibrated_loss", "train, calibrated", "-"),
                              ("train_zero_shot_loss", "train, zero-shot", "-"),
                              ("uncond_train_loss", "train, unconditioned", "-"),
                              ("heldout_calibrated_loss", "held-out, calibrated", "o-"),
                              ("heldout_zero_shot_loss", "held-out, zero-shot", "o-"),
                              ("uncond_loss", "held-out, unconditioned", "s--")):
        pts = series(key)
        if pts:
            ax1.plot(*zip(*pts), style, label=label, markersize=3, alpha=0.8)
    ax1.set(xlabel="step", ylabel="mean log1p(MSE / var)", title="objective (lower is better)")
    ax1.set_ylim(bottom=0)
    if ax1.get_legend_handles_labels()[0]:
        ax1.legend(fontsize=8)
    for key, label in (("heldout_calibrated_relrmse_median", "compiled, output map from data"),
                       ("heldout_zero_shot_relrmse_median", "compiled, zero-shot"),
                       ("uncond_relrmse_median", "unconditioned, output map from data")):
        pts = series(key)
        if pts:
            ax2.plot(*zip(*pts), "o-", label=label, markersize=3)
    ax2.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax2.set(xlabel="step", ylabel="median rel-RMSE", title="held-out programs, before fine-tuning")
    ax2.set_ylim(bottom=0)
    if ax2.get_legend_handles_labels()[0]:  # (no held-out evaluation yet: nothing to name)
        ax2.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_output(png_path, buf.getvalue())


# ----------------------------------------------------------------------------------------------------------------
# the loop


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


def _device(cfg: TrainConfig, rank: int) -> torch.device:
    if cfg.device == "cpu" or (cfg.device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise NscError("device 'cuda' requested but no CUDA device is available")
    torch.cuda.set_device(rank % torch.cuda.device_count())
    return torch.device("cuda", rank % torch.cuda.device_count())


def records_hash(records) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(r.signature.dumps().encode())
        h.update(" ".join(t.text for t in r.tokens).encode())
    return h.hexdigest()[:16]


def train(cfg: TrainConfig, resume: bool = False, train_records=None, heldout_records=None,
          corpus_id: str | None = None, restart: bool = False) -> dict:
    """Train (or continue training) the hypernetwork and the unconditioned init. Records default to the corpus
    named in cfg (tests pass their own). Returns the summary (also written to out_dir/summary.json on rank 0).
    An out_dir that holds a run is continued (resume) or replaced (restart), never silently overwritten."""
    if resume and restart:
        raise NscError("--resume continues the run in out_dir and --restart replaces it: give one of them")
    earlier = checkpoint_dir(cfg.out_dir)
    if earlier and not (resume or restart):
        raise NscError(f"{cfg.out_dir} holds a training run (a checkpoint at step "
                       f"{read_checkpoint_state(earlier).get('step')}): --resume continues it, --restart trains "
                       "from scratch and replaces it once the new run starts, or train into another out_dir")
    rank, world = _distributed()
    is_main = rank == 0
    device = _device(cfg, rank)
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // world))
    torch.manual_seed(cfg.seed)
    os.makedirs(cfg.out_dir, exist_ok=True)
    t_load = time.time()

    # the checkpoint to continue, checked before the (slow) corpus loading
    ckpt = earlier if resume else None
    if resume and ckpt is None:
        raise NscError(f"--resume: no checkpoint in {cfg.out_dir}")
    state = read_checkpoint_state(ckpt) if ckpt else {}
    saved_model = (state.get("config") or {}).get("model")
    if ckpt and saved_model is not None and saved_model != cfg.model:
        changed = sorted(k for k in set(saved_model) | set(cfg.model) if saved_model.get(k) != cfg.model.get(k))
        raise NscError(f"--resume: the checkpoint in {cfg.out_dir} was trained with other model options "
                       f"({', '.join(f'{k}: {saved_model.get(k)} -> {cfg.model.get(k)}' for k in changed)}); "
                       "resume with the configuration it was trained with, or train into another out_dir")
    if ckpt:  # every file read now: a damaged one is reported before the corpus loads, not after
        resumed_models = load_models(ckpt)
        with reading_checkpoint(ckpt):
            extra = torch.load(os.path.join(ckpt, "optimizer.pt"), weights_only=True, map_location=device)

    # data and vocabulary (a resumed run keeps its checkpoint's vocabulary)
    if train_records is None:
        train_records, heldout_records, corpus_id = load_corpus(cfg)
    corpus_id = corpus_id or records_hash(train_records)
    if ckpt:
        with reading_checkpoint(ckpt):
            vocab, enc_cfg = encoding_from_manifest(state["encoding"])
    else:
        enc_cfg = EncodingConfig(max_len=cfg.max_len)
        vocab = Vocabulary.build(([t.text for t in r.tokens] for r in train_records), cfg.vocab_min_count,
                                 always=default_reserved_names())
    workers = max(1, (os.cpu_count() or 1) // world)  # for the data-flow analysis while loading
    train_set = ProgramSet(train_records, vocab, enc_cfg, cfg.max_samples, workers)
    heldout_set = ProgramSet(heldout_records or [], vocab, enc_cfg, cfg.max_samples, workers)
    if not len(train_set):
        raise NscError("no usable training programs")

    # models and optimiser
    model_cfg = cfg.model_config(len(vocab))
    objective = Objective(HyperNet(model_cfg), UnconditionedInit(model_cfg), cfg.map_loss_weight,
                          cfg.scale_loss_weight).to(device)
    opt = make_optimizer(objective, cfg)
    step, elapsed_before, programs_seen, metrics = 0, 0.0, 0, {}
    if not ckpt:
        objective.hypernet.set_output_scale_prior(train_set.median_log_sigma())
    if ckpt:
        hypernet, uncond, _ = resumed_models
        objective.hypernet.load_state_dict(hypernet.state_dict())
        objective.uncond.load_state_dict(uncond.state_dict())
        with reading_checkpoint(ckpt):
            opt.load_state_dict(extra["optimizer"])
            torch.set_rng_state(extra["torch_rng"])
            step, elapsed_before = state["step"], state["elapsed_s"]
            programs_seen, metrics = state["programs_seen"], state.get("metrics", {})
    model = objective
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            objective, device_ids=[device.index] if device.type == "cuda" else None)
    schedule = BatchSchedule(train_set.lengths, cfg.batch_size, cfg.seed, rank, world,
                             curriculum_steps=cfg.curriculum_steps, curriculum_start=cfg.curriculum_start)

    info = {"n_train": len(train_set), "n_heldout": len(heldout_set), "skipped_train": dict(train_set.skipped),
            "truncated_train": train_set.truncated, "vocab_size": len(vocab),
            "hypernet_params": objective.hypernet.num_params(), "world_size": world, "corpus_id": corpus_id,
            "load_s": round(time.time() - t_load, 1)}
    if is_main:
        print(f"nsc train: {info['n_train']} training / {info['n_heldout']} held-out programs "
              f"({sum(train_set.skipped.values())} skipped, {train_set.truncated} truncated), vocabulary "
              f"{len(vocab)}, {info['hypernet_params'] / 1e6:.2f}M parameters, {world} process(es) on {device}",
              file=sys.stderr)
    csv_path, png_path = os.path.join(cfg.out_dir, "losses.csv"), os.path.join(cfg.out_dir, "losses.png")
    if is_main and restart:  # the new run takes over: the earlier one's checkpoint and summary would mislead
        for suffix in ("", ".old", ".new"):
            shutil.rmtree(os.path.join(cfg.out_dir, CHECKPOINT + suffix), ignore_errors=True)
        if os.path.exists(summary_path := os.path.join(cfg.out_dir, "summary.json")):
            os.unlink(summary_path)
    log_file, log = open_log(csv_path, step if ckpt else -1) if is_main else (None, None)
    t_run = time.time()

    def elapsed() -> float:
        return elapsed_before + time.time() - t_run

    def checkpoint_state() -> dict:
        return {"step": step, "programs_seen": programs_seen, "elapsed_s": elapsed(), "config": cfg.to_json(),
                "model": model_cfg.to_json(), "encoding": manifest_encoding(vocab, enc_cfg), "metrics": metrics,
                **info}

    def evaluate_and_log(row: dict) -> None:
        nonlocal metrics
        if len(heldout_set):
            metrics = evaluate(objective, heldout_set, cfg, device)
        log.writerow({**row, **{k: v for k, v in metrics.items() if k in CSV_FIELDS},
                      "elapsed_s": round(elapsed(), 1)})
        log_file.flush()
        plot_losses(csv_path, png_path)

    from tqdm import tqdm

    bar = tqdm(total=cfg.max_steps, initial=step, disable=(not is_main) or None, desc="train", dynamic_ncols=True)
    if is_main and not ckpt:
        evaluate_and_log({"step": 0, "programs_seen": 0, "lr": 0.0})
    running, stop = RunningMeans(), False
    while step < cfg.max_steps and not stop:
        lr = learning_rate(step, cfg)
        for group in opt.param_groups:
            group["lr"] = lr * group["lr_ratio"]
        rng = np.random.default_rng([cfg.seed, step, rank])
        batch = to_device(train_set.batch(schedule(step), cfg.samples_per_program, rng, cfg.permute_ports), device)
        out = model(batch)
        (out["loss"] + out["uncond_loss"]).backward()
        torch.nn.utils.clip_grad_norm_(objective.hypernet.parameters(), cfg.grad_clip)
        torch.nn.utils.clip_grad_norm_(objective.uncond.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        programs_seen += cfg.batch_size * world
        running.add(train_loss=out["loss"], train_calibrated_loss=out["calibrated_loss"],
                    train_zero_shot_loss=out["zero_shot_loss"], uncond_train_loss=out["uncond_loss"])
        bar.update(1)
        if cfg.time_limit_min:
            stop = _any_rank(elapsed() - elapsed_before > 60 * cfg.time_limit_min, world)
        last = step == cfg.max_steps or stop
        if step % cfg.log_interval == 0 or step % cfg.eval_interval == 0 or last:
            row = {"step": step, "programs_seen": programs_seen, "lr": lr, **running.pop(world)}
            if is_main:
                bar.set_postfix(loss=f"{row['train_loss']:.3f}")
                if step % cfg.eval_interval == 0 or last:
                    evaluate_and_log(row)
                else:
                    log.writerow({**row, "elapsed_s": round(elapsed(), 1)})
                    log_file.flush()
        if is_main and (step % cfg.checkpoint_interval == 0 or last):
            save_checkpoint(cfg.out_dir, objective, opt, checkpoint_state())
    bar.close()
    summary = {**checkpoint_state(), "finished": step >= cfg.max_steps,
               "programs_per_s": programs_seen / max(1e-9, elapsed())}
    if is_main:
        log_file.close()
        write_output(os.path.join(cfg.out_dir, "summary.json"),
                     json.dumps({k: v for k, v in summary.items() if k != "encoding"}, indent=1))
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return summary


class RunningMeans:
    """Means of scalar losses since the last log row, averaged across ranks when popped."""

    def __init__(self):
        self.sums, self.n = {}, 0

    def add(self, **values: torch.Tensor) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v.detach())
        self.n += 1

    def pop(self, world: int) -> dict:
        keys = sorted(self.sums)
        t = torch.tensor([self.sums[k] / max(1, self.n) for k in keys], dtype=torch.float64)
        if world > 1:
            torch.distributed.all_reduce(t)
            t /= world
        self.sums, self.n = {}, 0
        return dict(zip(keys, t.tolist()))


def _any_rank(flag: bool, world: int) -> bool:
    """True on every rank if any rank says so (so all ranks stop on the same step)."""
    if world == 1:
        return flag
    t = torch.tensor([int(flag)])
    torch.distributed.all_reduce(t)
    return bool(t.item())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m nsc.training.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="training configuration (JSON)")
    ap.add_argument("--resume", action="store_true", help="continue from out_dir/checkpoint")
    ap.add_argument("--restart", action="store_true", help="train from scratch, replacing a run in out_dir")
    ap.add_argument("--corpus", help="override the config's corpus directory")
    ap.add_argument("--out-dir", help="override the config's output directory")
    ap.add_argument("--max-steps", type=int, help="override the config's max_steps")
    args = ap.parse_args(argv)
    cfg = TrainConfig.load(args.config)
    for key in ("corpus", "out_dir", "max_steps"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    return train(cfg, resume=args.resume, restart=args.restart)


if __name__ == "__main__":
    try:
        main()
    except NscError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
