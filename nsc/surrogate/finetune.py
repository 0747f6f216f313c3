"""The fine-tuning engine: trains M surrogates of one architecture at once (M=1 for `nsc finetune`).

`nsc eval` fine-tunes every (initialisation, budget, seed) of a program as one batch of members; `nsc finetune`
is the same engine with one member. Every member sees the same recipe (NOTES.md section 5), so random and
compiled initialisations are compared on equal terms.

Per member, in order:
  1. split its rows into train / validation (val_frac, at least one validation row; with fewer than 2 rows, or
     val_frac 0, no split: the training rows double as validation rows);
  2. calibrate the output map on the training rows (`calibrate_outputs`): a placeholder map (out_calibrated
     False: random init) is set to the data's mean/std; a predicted one (compiled init) is kept per output where it
     fits the training rows better than the data's mean/std would, and either way re-expressed in the data's
     mean/std while the network's function is kept (the last layer is rescaled to match);
  3. train with Adam on the MSE in normalised output units, minibatches of `batch_size` rows (or all its rows if
     fewer); one epoch = one pass over its own training rows; learning rate halved after `lr_patience` epochs
     without a new best validation loss; stop after `patience` such epochs or `max_epochs`;
  4. restore the weights of the best validation epoch (epoch 0 = the calibrated initial weights);
  5. for a start the compiler vouches for (`keep_start`: a structural network or a distilled graph, each with a
     stated error), keep the start itself unless the restored weights are better on the validation rows by a
     paired test (`significantly_better`): the best of ~1,000 epochs' validation losses is biased low, and a few
     hundred rows cannot tell starts within ~20% of each other apart, so without the test fine-tuning ended four
     distilled starts worse than they began (bench/HISTORY.md).

Batching many members: all weights live in one float32 tensor [M, P] (each layer a view into it) with Adam
moments of the same shape. Members are ordered by steps per epoch, descending, so at step s the members that
still have a minibatch are a prefix [0, k); only that prefix is computed and updated (`BatchedAdam.step(grad, k)`),
so a member without a batch at this step keeps its weights, moments and step count unchanged. Members that stop
early are dropped from the tensors (their best weights are kept aside), so finished members cost nothing.
The total loss is the sum of the members' own mean losses, so each member's gradient is what it would be alone:
M members trained together give the results of M separate runs with the same seeds (up to float rounding).

Data: each member's rows are held once, as float32: the normalised inputs u and targets t, computed in row
chunks (with `overwrite`, in the caller's own float32 arrays, which `nsc finetune` reads a CSV into; once for
members that share their data and its normalisation), in one store all members index into; minibatches are
gathered from it a block of steps at a time, so memory follows the float32 data, not an epoch's worth of copies
(10M rows: issue 17).

Randomness: only numpy Generators seeded per member (split, minibatch order); torch's RNG is not used, so results
are reproducible given the seeds, whatever M is. KeyboardInterrupt propagates untouched (nothing is written here).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from nsc.errors import NscError
from nsc.surrogate.params import SurrogateParams
from nsc.surrogate.torch_model import mlp_forward, same_floors

ROW_CHUNK = 1 << 16  # rows at a time where the engine reads every row (statistics, normalisation, errors)
STEP_BLOCK = 1024  # minibatch steps gathered at once


@dataclass
class Progress:
    """Where a run is, for a progress display (M > 1: the members still training, the one that runs longest).
    Losses: MSE in normalised output units (None before the first epoch ends)."""

    epoch: float  # epochs done, with the share of the running epoch's steps (312.5: half of epoch 313 done)
    train_loss: float | None
    val_loss: float | None
    best_epoch: int  # the epoch of the best validation loss so far (0: the starting weights)
    best_loss: float
    stop_by: int  # the run ends at this epoch unless the validation loss improves: min(cap, best + patience)
    cap: int  # max_epochs


ProgressFn = Callable[[Progress], None]


def progress_text(p: Progress) -> str:
    """'epoch 312, best 250 (validation loss 0.00123), stops by 350 at the latest': what the bar's total means."""
    return (f"epoch {int(p.epoch)}, best {p.best_epoch} (validation loss {p.best_loss:.3g}), "
            f"stops by {p.stop_by} at the latest" + (f" (cap {p.cap})" if p.stop_by == p.cap else ""))


@dataclass
class FinetuneRecipe:
    """The one fine-tuning recipe (tuned for random init; see bench/ and the surrogate report for how)."""

    lr: float = 1e-2  # Adam learning rate
    batch_size: int = 32  # rows per minibatch (a member with fewer training rows uses all of them)
    max_epochs: int = 1000  # epoch cap
    patience: int = 100  # early stopping: epochs without a new best validation loss
    lr_patience: int = 50  # halve the learning rate after this many epochs without a new best
    lr_decay: float = 0.5
    min_lr: float = 1e-5
    val_frac: float = 0.2  # validation share of each member's rows (0: no split)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def check(self) -> None:
        """NscError for values a user could have mistyped on the command line."""
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise NscError(f"learning rate must be positive (got {self.lr})")
        if self.batch_size < 1:
            raise NscError(f"batch size must be at least 1 (got {self.batch_size})")
        if self.max_epochs < 1:
            raise NscError(f"epochs must be at least 1 (got {self.max_epochs})")
        if self.patience < 1 or self.lr_patience < 1:
            raise NscError("patience must be at least 1 epoch")
        if not 0 <= self.val_frac < 1:
            raise NscError(f"validation fraction must be in [0, 1) (got {self.val_frac})")
        if not (0 < self.lr_decay <= 1 and self.min_lr >= 0):
            raise NscError("lr_decay must be in (0, 1] and min_lr >= 0")


# Structurally compiled networks (per-unit floors: nsc/compiler/structural.py) compute the program to about 1e-4 of
# an output's spread before any data; every Adam step moves every weight by about the learning rate, which costs
# such a network more than the rows repay (bench/HISTORY.md: the best validation epoch was 0 at every rate from 1e-2
# to 1e-4). They get small steps, large batches and little patience (they can be large: kepler.c's has 800k
# parameters), so their compiled weights are kept unless the validation rows show an improvement (epoch 0 is a
# candidate like any other).
STRUCTURAL_RECIPE = {"lr": 1e-5, "patience": 5, "lr_patience": 3, "max_epochs": 50, "batch_size": 128}


def recipe_for(params: SurrogateParams, overrides: dict | None = None) -> tuple[FinetuneRecipe, str]:
    """(the recipe nsc fine-tunes this model with, its name): "structural" for a structurally compiled network,
    "default" (the recipe tuned for random initialisation) for every other; `overrides` (the user's settings)
    win over either."""
    name = "structural" if params.floors is not None else "default"
    base = STRUCTURAL_RECIPE if name == "structural" else {}
    return FinetuneRecipe(**{**base, **(overrides or {})}), name


def needs_restart(compiler_id: str) -> bool:
    """Does fine-tuning a model from this compiler also try a random start (`better_of`)? Every compiled start
    does. A start learned for other programs (the hypernetwork's, the unconditioned one, a distilled MLP) can end
    worse than a random one at large budgets (loan.c: 1.5x random init's error at 1024 samples from the
    hypernetwork's start). A structurally compiled network is the program's own computation, but its error is
    set by its blocks and gates (ciede2000.c: 0.03 of the output's std) and its small learning rate barely moves
    it, where enough rows train a plain MLP further. So each is kept only where the validation rows say it is
    the better one; a random start needs no check."""
    return compiler_id != "random"


# One-sided paired z-test: the mean per-row improvement must exceed this many standard errors (about 2% by chance).
SIGNIFICANCE_Z = 2.0


def significantly_better(errors: np.ndarray, than: np.ndarray) -> bool:
    """Are the per-row errors `errors` lower than `than`'s, on the same rows, by more than chance? A paired
    one-sided z-test on the rows' differences (mean > SIGNIFICANCE_Z standard errors); never over fewer than 2 rows."""
    d = np.asarray(than, np.float64) - np.asarray(errors, np.float64)
    if len(d) < 2:
        return False
    return bool(d.mean() > SIGNIFICANCE_Z * d.std(ddof=1) / math.sqrt(len(d)))


def better_of(compiled: "FinetuneResult", restart: "FinetuneResult", vouched: bool = False
              ) -> tuple["FinetuneResult", bool]:
    """(the fine-tuned model kept, whether it is the compiled start's): the one with the lower validation
    rel-RMSE; for a start the compiler vouches for (`keep_start`), the restart only where it is significantly
    better on the same validation rows (`significantly_better`). Without a validation split the compiled start
    is kept."""
    if compiled.val_rel_rmse is None or restart.val_rel_rmse is None or not compiled.split:
        return compiled, True
    if vouched and np.array_equal(compiled.val_rows, restart.val_rows):
        better = significantly_better(restart.val_row_errors, compiled.val_row_errors)
        return (restart, False) if better else (compiled, True)
    return (compiled, True) if compiled.val_rel_rmse <= restart.val_rel_rmse else (restart, False)


def architecture_key(params: SurrogateParams) -> tuple:
    """Models with equal keys can be fine-tuned as members of one batch (`finetune_many`)."""
    floors = None if params.floors is None else b"".join(f.tobytes() for f in params.floors)
    return params.n_in, params.hidden, params.n_out, params.activation, floors


@dataclass
class FinetuneResult:
    """One member's outcome. Losses are MSE in normalised output units; RMSEs are in program units."""

    params: SurrogateParams  # the best-validation weights, out_calibrated True
    n_train: int
    n_val: int
    split: bool  # False: no validation split (validation figures are on the training rows)
    epochs: int  # epochs run
    best_epoch: int  # 0 = the calibrated initial weights were never beaten
    stopped_early: bool
    val_history: np.ndarray  # [epochs + 1]; [0] before training
    train_history: np.ndarray  # [epochs + 1]; [0] full training set before training, then mean minibatch loss
    train_rmse: list[float]  # per output column
    val_rmse: list[float]
    # mean over output columns of RMSE / std of the member's data (NOTES.md section 5); None over fewer than 2 rows
    # (one row's error over a std of one or two values says nothing: 1 row's std is the float floor, and a 1/1
    # split scores 2.0 by construction)
    train_rel_rmse: float | None
    val_rel_rmse: float | None
    train_rows: np.ndarray  # indices of the member's rows used for training / validation (equal when no split)
    val_rows: np.ndarray
    recipe: dict = field(default_factory=dict)
    # per output column: RMSE / std of the member's data (None over fewer than 2 rows)
    train_rel_rmse_per_output: list[float] | None = None
    val_rel_rmse_per_output: list[float] | None = None
    # per validation row: the squared error in normalised output units, averaged over the outputs (float64)
    val_row_errors: np.ndarray | None = None
    # True: a vouched start (keep_start) was kept because the best epoch's weights were not significantly better
    # on the validation rows (best_epoch is then 0)
    kept_start: bool = False

    def history_entry(self, **extra) -> dict:
        """A JSON-ready dict for the surrogate's nsc.history (add e.g. data_sha256=... via `extra`). Without a
        validation split the validation figures are None (JSON null): the training figures are all there is."""
        entry = {"step": "finetune", "n_train": self.n_train, "n_val": self.n_val, "split": self.split,
                 "epochs": self.epochs, "best_epoch": self.best_epoch,
                 "val_rmse": self.val_rmse if self.split else None,
                 "val_rel_rmse": self.val_rel_rmse if self.split else None,
                 "val_rel_rmse_per_output": self.val_rel_rmse_per_output if self.split else None,
                 "train_rmse": self.train_rmse, "train_rel_rmse": self.train_rel_rmse,
                 "train_rel_rmse_per_output": self.train_rel_rmse_per_output, "kept_start": self.kept_start,
                 "recipe": self.recipe}
        entry.update(extra)
        return entry


def output_errors(entry: dict, names) -> dict:
    """Each output's error from a history entry, named: {"per_output": [{"name", "rmse", "rel_rmse"}, ...],
    "worst_output": the name with the largest rel-RMSE (None under 2 rows)}; validation figures where the run had
    a validation split, else training figures (as format_report)."""
    split = entry["n_val"] > 0
    rmse = entry["val_rmse"] if split else entry["train_rmse"]
    rel = entry.get("val_rel_rmse_per_output" if split else "train_rel_rmse_per_output")
    rel = rel if rel is not None else [None] * len(rmse)
    names = list(names) if names is not None else [f"output {k}" for k in range(len(rmse))]
    per_output = [{"name": n, "rmse": e, "rel_rmse": r} for n, e, r in zip(names, rmse, rel)]
    known = [o for o in per_output if o["rel_rmse"] is not None]
    worst = max(known, key=lambda o: o["rel_rmse"])["name"] if known else None
    return {"per_output": per_output, "worst_output": worst}


def format_report(entry: dict) -> str:
    """A fine-tuning run in words, from `nsc finetune --json`'s summary (a history entry with output_errors): the
    epochs, then each output's name, RMSE and rel-RMSE, the worst one marked, on the validation rows, or where
    there is no validation split on the training rows, saying so; a rel-RMSE only over 2 or more rows."""
    errors = entry.get("per_output") or output_errors(entry, None)["per_output"]
    head = f"{entry['epochs']} epochs (best {entry['best_epoch']}), "
    if entry.get("start"):  # which start was kept, where a compiled one was tried beside a random restart
        head = f"from the {entry['start']}: " + head
    n = entry["n_val"] if entry["n_val"] > 0 else entry["n_train"]
    if entry["n_val"] > 0:
        head += f"validation RMSE on {n} row{'s' if n != 1 else ''}"
        mean = entry["val_rel_rmse"]
    else:
        head += (f"no validation split ({f'{n} row' if n < 2 else 'validation fraction 0'}): training RMSE"
                 + (f" on {n} rows" if n > 1 else ""))
        mean = entry["train_rel_rmse"]
    if mean is not None:
        head += f", mean rel-RMSE {mean:.3g}"
    worst = entry.get("worst_output") if len(errors) > 1 else None
    width = max(len(o["name"]) for o in errors)
    lines = [head + ":"]
    for o in errors:
        rel = (f"rel-RMSE {o['rel_rmse']:.3g}" if o["rel_rmse"] is not None
               else "(no rel-RMSE: it needs at least 2 rows)")
        lines.append(f"  {o['name']:<{width}}  RMSE {o['rmse']:<11.6g} {rel}"
                     + ("  <- worst" if o["name"] == worst else ""))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# output calibration


def _scale_floor(mean: np.ndarray) -> np.ndarray:
    # float32 outputs resolve about 1e-7 relative: a smaller spread is noise, not signal
    return np.maximum(1e-6 * np.abs(mean), 1e-30)


def _chunks(a: np.ndarray, rows: np.ndarray | None):
    """a[rows] (every row when rows is None) as float64, ROW_CHUNK rows at a time: a float64 copy of a large table
    would cost twice its float32 self."""
    n = a.shape[0] if rows is None else len(rows)
    for start in range(0, n, ROW_CHUNK):
        part = a[start:start + ROW_CHUNK] if rows is None else a[rows[start:start + ROW_CHUNK]]
        yield np.asarray(part, dtype=np.float64)


def data_mean_std(y: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (floored, population) std of y [n, n_out] (of its rows `rows`), float64; two passes
    in row chunks (one chunk: exactly numpy's mean and std)."""
    n = y.shape[0] if rows is None else len(rows)
    mean = sum(part.sum(axis=0) for part in _chunks(y, rows)) / n
    var = sum(((part - mean) ** 2).sum(axis=0) for part in _chunks(y, rows)) / n
    return mean, np.maximum(np.sqrt(var), _scale_floor(mean))


def calibrate_outputs(params: SurrogateParams, y_train: np.ndarray, x_train: np.ndarray | None = None,
                      rows: np.ndarray | None = None) -> SurrogateParams:
    """The output map set to the training data's mean/std, the same rule for every initialisation.

    out_calibrated False (placeholder map): out_shift, out_scale := mean, std (a data-dependent init).
    out_calibrated True (a predicted map): per output, the map that fits the training rows better (smaller
    squared error of the surrogate's prediction on x_train) is kept: the predicted one, or the network's output
    read as standardised and mapped by the data's mean/std. A few rows give a noisy mean/std, a wrong prediction
    is far off; the training rows decide. Either way the map is then re-expressed in the data's mean/std with the
    network's function kept, the last layer rescaled to match: W' = W s/s', b' = (b s + t - t')/s'.
    rows: the training rows of y_train and x_train (None: all of them), read in chunks.
    """
    new_shift, new_scale = data_mean_std(y_train, rows)
    out = params.astype32()
    n = y_train.shape[0] if rows is None else len(rows)
    if params.out_calibrated:
        s = params.out_scale.astype(np.float64)
        t = params.out_shift.astype(np.float64)
        if x_train is not None and n > 1:
            predicted, from_data = 0.0, 0.0
            for x, y in zip(_chunks(x_train, rows), _chunks(y_train, rows)):
                pred = params.predict(x)
                v = (pred - t) / s  # the network's own (standardised) outputs
                predicted = predicted + ((pred - y) ** 2).sum(axis=0)
                from_data = from_data + ((v * new_scale + new_shift - y) ** 2).sum(axis=0)
            use_data = from_data / n < predicted / n
            s, t = np.where(use_data, new_scale, s), np.where(use_data, new_shift, t)
        w = params.weights[-1].astype(np.float64)
        b = params.biases[-1].astype(np.float64)
        out.weights[-1] = (w * (s / new_scale)[:, None]).astype(np.float32)
        out.biases[-1] = ((b * s + t - new_shift) / new_scale).astype(np.float32)
    out.out_shift = new_shift.astype(np.float32)
    out.out_scale = new_scale.astype(np.float32)
    out.out_calibrated = True
    return out


# ----------------------------------------------------------------------------------------------------------------
# batched Adam


class BatchedAdam:
    """Adam over a [M, P] parameter tensor, one independent optimiser per row (member).

    `step(grad, k)` updates rows [0, k) only (grad is [k, P]); rows >= k keep weights, moments and step count
    unchanged. Per-row learning rates (`lr`, numpy [M]) carry each member's schedule. Step counts and learning
    rates are tiny numpy arrays: the bias corrections are computed there, saving torch ops per step.
    """

    def __init__(self, flat: torch.Tensor, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.flat = flat
        self.m = torch.zeros_like(flat)
        self.v = torch.zeros_like(flat)
        self.steps = np.zeros(flat.shape[0], dtype=np.int64)
        self.lr = np.full(flat.shape[0], float(lr))
        self.beta1, self.beta2 = betas
        self.eps = eps

    def _column(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32)).to(self.flat.device).unsqueeze(1)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, k: int) -> None:
        b1, b2 = self.beta1, self.beta2
        m, v, w = self.m[:k], self.v[:k], self.flat[:k]
        self.steps[:k] += 1
        t = self.steps[:k]
        step_size = self._column(self.lr[:k] / (1 - b1 ** t))
        inv_sqrt_bc2 = self._column(1 / np.sqrt(1 - b2 ** t))
        m.mul_(b1).add_(grad, alpha=1 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = v.sqrt().mul_(inv_sqrt_bc2).add_(self.eps)
        w.addcdiv_(m * step_size, denom, value=-1.0)

    def keep(self, rows: np.ndarray) -> None:
        """Drop the rows not in `rows` (after the owner compacted `flat` the same way)."""
        index = torch.as_tensor(rows, device=self.flat.device)
        self.m, self.v = self.m[index], self.v[index]
        self.steps, self.lr = self.steps[rows], self.lr[rows]


# ----------------------------------------------------------------------------------------------------------------
# the engine


def _check_device(device: str) -> torch.device:
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise NscError(f"device cuda requested but CUDA is not available to torch {torch.__version__} "
                           "(no GPU, or a CPU-only build); use --device cpu")
        return torch.device("cuda")
    raise NscError(f"unknown device {device!r} (choose cpu or cuda)")


def _split(n: int, val_frac: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, bool]:
    """(train rows, validation rows, split?) of n rows."""
    order = rng.permutation(n)
    if n < 2 or val_frac <= 0:
        return order, order, False
    n_val = min(n - 1, max(1, int(round(val_frac * n))))
    return order[n_val:], order[:n_val], True


class _Layout:
    """Where each layer's weight and bias live in the flat [M, P] parameter tensor."""

    def __init__(self, params: SurrogateParams):
        self.shapes, self.offsets = [], []
        offset = 0
        for w, b in zip(params.weights, params.biases):
            for shape in (w.shape, b.shape):
                self.shapes.append(tuple(shape))
                self.offsets.append(offset)
                offset += int(np.prod(shape))
        self.size = offset
        self.activation = params.activation
        self.floor_arrays = params.floors  # fixed, never trained (params.py)
        self.floors = None if params.floors is None else [torch.from_numpy(np.array(f, np.float32))
                                                          for f in params.floors]

    def flatten(self, params: SurrogateParams) -> np.ndarray:
        arrays = [a for pair in zip(params.weights, params.biases) for a in pair]
        return np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in arrays])

    def views(self, flat: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        k = flat.shape[0]
        tensors = [flat[:, o:o + int(np.prod(s))].view(k, *s) for o, s in zip(self.offsets, self.shapes)]
        return tensors[0::2], tensors[1::2]

    def unflatten(self, row: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        arrays = [row[o:o + int(np.prod(s))].reshape(s).copy() for o, s in zip(self.offsets, self.shapes)]
        return arrays[0::2], arrays[1::2]

    def forward(self, flat: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        weights, biases = self.views(flat)
        return mlp_forward(u, weights, biases, self.activation, self.floors)


def _normalise(params: SurrogateParams, x: np.ndarray, y: np.ndarray, overwrite: bool):
    """(u, t) float32: u = (x - in_shift) / in_scale in float32 (the ONNX graph's own operations, so training sees
    exactly the inputs inference will), t = (y - out_shift) / out_scale in float64, rounded; in row chunks, and
    into x's and y's own memory where `overwrite` allows it (float32, writable, C-ordered arrays)."""
    def own(a):
        return overwrite and a.dtype == np.float32 and a.flags.writeable and a.flags.c_contiguous
    u = x if own(x) else np.empty(x.shape, np.float32)
    t = y if own(y) else np.empty(y.shape, np.float32)
    in_shift, in_scale = params.in_shift.astype(np.float32), params.in_scale.astype(np.float32)
    out_shift, out_scale = params.out_shift.astype(np.float64), params.out_scale.astype(np.float64)
    for start in range(0, x.shape[0], ROW_CHUNK):
        rows = slice(start, start + ROW_CHUNK)
        u[rows] = (np.asarray(x[rows], dtype=np.float32) - in_shift) / in_scale
        t[rows] = (np.asarray(y[rows], dtype=np.float64) - out_shift) / out_scale
    return u, t


def finetune(params: SurrogateParams, x: np.ndarray, y: np.ndarray, recipe: FinetuneRecipe | None = None,
             seed: int = 0, device: str = "cpu", threads: int | None = 1,
             progress: ProgressFn | None = None, overwrite: bool = False, keep_start: bool = False
             ) -> FinetuneResult:
    """Fine-tune one surrogate on rows x [n, n_in], y [n, n_out] (program units). See finetune_many."""
    return finetune_many([params], [x], [y], recipe, [seed], device, threads, progress, overwrite, [keep_start])[0]


def finetune_many(params_list: Sequence[SurrogateParams], xs: Sequence[np.ndarray], ys: Sequence[np.ndarray],
                  recipe: FinetuneRecipe | None = None, seeds: Sequence[int] | None = None, device: str = "cpu",
                  threads: int | None = 1, progress: ProgressFn | None = None,
                  overwrite: bool = False, keep_start: Sequence[bool] | None = None) -> list[FinetuneResult]:
    """Fine-tune M surrogates at once; member i starts from params_list[i] and trains on xs[i], ys[i].

    All members share one architecture (inputs, hidden widths, outputs, activation). seeds[i] (default 0) drives
    member i's split and minibatch order: give two members the same seed and data to compare their
    initialisations on identical splits and batches. threads: torch CPU threads while this runs (None: leave
    torch's setting; the default 1 is fastest for these small matrices). progress(Progress) is called after every
    epoch, and within an epoch of many steps after every block of them. overwrite: the caller gives up xs and ys
    (float32 arrays it no longer needs, as `nsc finetune` reads them): they are normalised in place, and the data
    is held once. keep_start[i] (default False): member i's start is vouched for by its compiler (a stated
    error), and its fine-tuned weights replace it only where they are significantly better on the validation rows
    (module docstring, step 5). Raises NscError for unusable data, an unavailable device or a bad recipe.
    """
    recipe = recipe or FinetuneRecipe()
    recipe.check()
    n_members = len(params_list)
    seeds = list(seeds) if seeds is not None else [0] * n_members
    keep_start = list(keep_start) if keep_start is not None else [False] * n_members
    if not (n_members == len(xs) == len(ys) == len(seeds) == len(keep_start)) or n_members == 0:
        raise ValueError("params_list, xs, ys, seeds and keep_start must be non-empty and of equal length")
    dev = _check_device(device)
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    try:
        return _Engine(list(params_list), xs, ys, recipe, seeds, dev, progress, overwrite, keep_start).run()
    finally:
        torch.set_num_threads(previous_threads)


class _Engine:
    """One batched fine-tuning run; members are kept in 'slot' order (steps per epoch, descending)."""

    def __init__(self, params_list, xs, ys, recipe, seeds, device, progress, overwrite, keep_start):
        self.recipe, self.device, self.progress, self.overwrite = recipe, device, progress, overwrite
        first = params_list[0]
        self.layout = _Layout(first)
        if self.layout.floors is not None:
            self.layout.floors = [f.to(device) for f in self.layout.floors]
        members = []
        for i, (p, x, y, seed) in enumerate(zip(params_list, xs, ys, seeds)):
            p.validate()
            if (p.n_in, p.hidden, p.n_out, p.activation) != (first.n_in, first.hidden, first.n_out,
                                                              first.activation) or not same_floors(p, first):
                raise ValueError("all members must share one architecture")
            members.append(self._prepare(i, p, x, y, seed) | {"keep_start": bool(keep_start[i])})
        self._normalise_members(members)
        # slot order: most steps per epoch first, so the members with a batch at step s are a prefix
        self.members = sorted(members, key=lambda m: (-m["steps"], m["index"]))
        self.n_members = len(self.members)

    def _normalise_members(self, members: list[dict]) -> None:
        """Each member's data as float32 u and t (`_normalise`), once for members that share their arrays and
        their normalisation (nsc finetune's compiled and random starts; nsc eval's inits on one sample), in place
        (overwrite) where every member of those arrays normalises them alike. m["store"]: its (u, t) in
        self.stores."""
        def key(m):
            p = m["params"]
            return (id(m["x"]), id(m["y"]), *(a.tobytes() for a in (p.in_shift, p.in_scale, p.out_shift, p.out_scale)))

        ways = {}  # (id(x), id(y)) -> the normalisations asked of those arrays
        for m in members:
            ways.setdefault(key(m)[:2], set()).add(key(m))
        self.stores, made = [], {}
        for m in members:
            k = key(m)
            if k not in made:
                made[k] = len(self.stores)
                in_place = self.overwrite and len(ways[k[:2]]) == 1
                self.stores.append(_normalise(m["params"], m["x"], m["y"], in_place))
            m["store"] = made[k]
        for m in members:
            del m["x"], m["y"]  # (the data from here on: the stores, float32)

    def _prepare(self, index, params, x, y, seed) -> dict:
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
            raise NscError(f"training data must be two tables with the same number of rows "
                           f"(got inputs {x.shape}, outputs {y.shape})")
        if x.shape[1] != params.n_in or y.shape[1] != params.n_out:
            raise NscError(f"training data has {x.shape[1]} input and {y.shape[1]} output columns; the surrogate "
                           f"has {params.n_in} and {params.n_out}")
        if x.shape[0] == 0:
            raise NscError("no training rows")
        if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf" or \
                not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise NscError("training data contains NaN or Inf")
        rng = np.random.default_rng(seed)
        train_rows, val_rows, split = _split(x.shape[0], self.recipe.val_frac, rng)
        _, data_std = data_mean_std(y)
        params = calibrate_outputs(params, y, x, rows=train_rows)
        n_train = len(train_rows)
        batch = min(self.recipe.batch_size, n_train)
        return {"index": index, "params": params, "rng": rng, "split": split, "train_rows": train_rows,
                "val_rows": val_rows, "n_train": n_train, "batch": batch, "steps": -(-n_train // batch),
                "x": x, "y": y, "data_std": data_std}

    # -- tensors -------------------------------------------------------------------------------------------------

    def _tensor(self, a) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).to(self.device)

    def _weights(self, w: np.ndarray) -> torch.Tensor:
        """Row weights as a tensor; a broadcast one (every row alike) stays a view of its one value."""
        if w.strides == (0, 0):
            return torch.full((1, 1), float(w[0, 0]), dtype=torch.float32, device=self.device).expand(*w.shape)
        return self._tensor(w)

    def _rows_of(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the data store per member (slot order), [M, longest] padded with the member's first row, and
        their weights (1/count, 0 on padding): which = "train_rows" or "val_rows"."""
        ms = self.members
        if len(ms) == 1 and ms[0]["offset"] == 0:  # (no copy of a large member's row indices; one weight for all:
            # a broadcast view)
            rows = ms[0][which][None, :]
            return rows, np.broadcast_to(np.float32(1.0 / rows.shape[1]), rows.shape)
        width = max(len(m[which]) for m in ms)
        rows = np.zeros((len(ms), width), np.int64)
        weight = np.zeros((len(ms), width), np.float32)
        for i, m in enumerate(ms):
            rows[i] = m["offset"] + m[which][0]
            rows[i, :len(m[which])] = m["offset"] + m[which]
            weight[i, :len(m[which])] = 1.0 / len(m[which])
        return rows, weight

    def _build(self) -> None:
        ms = self.members
        flat = np.stack([self.layout.flatten(m["params"]) for m in ms])
        self.flat = self._tensor(flat)
        self.layer_views = self.layout.views(self.flat)
        self.best = self.flat.clone()  # [M, P] in slot order; rows of finished members stay here
        self.adam = BatchedAdam(self.flat, self.recipe.lr, self.recipe.betas, self.recipe.eps)
        # every member's rows in one store (one set of arrays: those, shared with torch, not copied)
        offsets = np.cumsum([0] + [len(u) for u, _ in self.stores[:-1]])
        for m in ms:
            m["offset"] = int(offsets[m["store"]])
        one = len(self.stores) == 1
        self.u_all = self._tensor(self.stores[0][0] if one else np.concatenate([u for u, _ in self.stores]))
        self.t_all = self._tensor(self.stores[0][1] if one else np.concatenate([t for _, t in self.stores]))
        self.stores = None
        train, self.w_train = self._rows_of("train_rows")
        val, w_val = self._rows_of("val_rows")
        self.train_index = torch.as_tensor(train, device=self.device)
        self.val_index = torch.as_tensor(val, device=self.device)
        self.w_train, self.w_val = self._weights(self.w_train), self._weights(w_val)
        self.alive = np.arange(len(ms))  # slot index of each row of the working tensors

    def _compact(self, keep: np.ndarray) -> None:
        """Keep only rows `keep` (positions in the working tensors) of everything indexed by alive member."""
        rows = torch.as_tensor(keep, device=self.device)
        self.flat = self.flat[rows]
        self.layer_views = self.layout.views(self.flat)
        self.adam.flat = self.flat
        self.adam.keep(keep)
        for name in ("train_index", "w_train", "val_index", "w_val"):
            setattr(self, name, getattr(self, name)[rows])
        self.alive = self.alive[keep]

    def _step_blocks(self):
        """This epoch's minibatches, STEP_BLOCK steps at a time: (inputs [s, K, B, n_in], targets, row weights
        [s, K, B], prefix: how many members have a batch at each step), K = the members still training, from
        each member's own permutation of its training rows (drawn first, for every member, as one epoch)."""
        ms = [self.members[s] for s in self.alive]
        orders = [m["rng"].permutation(m["n_train"]) for m in ms]
        n_steps = ms[0]["steps"]
        width = max(m["batch"] for m in ms)
        steps_of = np.array([m["steps"] for m in ms])
        for first in range(0, n_steps, STEP_BLOCK):
            last = min(first + STEP_BLOCK, n_steps)
            idx = np.zeros((last - first, len(ms), width), dtype=np.int64)
            weight = np.zeros((last - first, len(ms), width), dtype=np.float32)
            for i, (m, order) in enumerate(zip(ms, orders)):
                b, end = m["batch"], min(last, m["steps"])
                if end <= first:
                    continue
                picked = order[first * b:end * b]  # the last batch of an epoch may be short
                n_picked = (end - first) * b
                slots = np.zeros(n_picked, np.int64)
                slots[:len(picked)] = picked
                counts = np.minimum(b, m["n_train"] - np.arange(first, end) * b)
                idx[:end - first, i, :b] = (m["offset"] + m["train_rows"][slots]).reshape(end - first, b)
                weight[:end - first, i, :b] = (np.arange(b)[None, :] < counts[:, None]) / counts[:, None]
            rows = torch.as_tensor(idx, device=self.device)
            prefix = [int(np.sum(steps_of > s)) for s in range(first, last)]
            yield self.u_all[rows], self.t_all[rows], self._tensor(weight), prefix

    def _member_losses(self, flat, index, w, chunk: int = 1 << 14) -> torch.Tensor:
        """Per-member weighted MSE [k] in normalised units over rows `index` [k, n] of the store (w: row weights
        summing to 1 per member). Rows go in chunks so a large validation set never needs a [k, n, 64] activation
        all at once."""
        total = torch.zeros(flat.shape[0], device=flat.device)
        for start in range(0, index.shape[1], chunk):
            rows = index[:, start:start + chunk]
            v = self.layout.forward(flat, self.u_all[rows])
            err = (v - self.t_all[rows]).square().mean(dim=2)
            total += (err * w[:, start:start + chunk]).sum(dim=1)
        return total

    # -- training ------------------------------------------------------------------------------------------------

    def run(self) -> list[FinetuneResult]:
        r = self.recipe
        self._build()
        n = self.n_members
        val_hist = [[] for _ in range(n)]
        train_hist = [[] for _ in range(n)]
        best_loss = np.full(n, np.inf)
        best_epoch = np.zeros(n, dtype=np.int64)
        since_best = np.zeros(n, dtype=np.int64)
        since_lr = np.zeros(n, dtype=np.int64)
        epochs = np.zeros(n, dtype=np.int64)
        with torch.no_grad():
            val0 = self._member_losses(self.flat, self.val_index, self.w_val).cpu().numpy()
            train0 = self._member_losses(self.flat, self.train_index, self.w_train).cpu().numpy()
        for slot in range(n):
            val_hist[slot].append(float(val0[slot]))
            train_hist[slot].append(float(train0[slot]))
            best_loss[slot] = val0[slot]
        self._losses = (None, None)
        self._best = (best_loss, best_epoch)
        epoch = 0
        while len(self.alive) and epoch < r.max_epochs:
            epoch += 1
            train_loss = self._train_epoch(epoch)
            with torch.no_grad():
                val = self._member_losses(self.flat, self.val_index, self.w_val).cpu().numpy()
            improved = val < best_loss[self.alive]
            if improved.any():
                rows = np.nonzero(improved)[0]
                self.best[torch.as_tensor(self.alive[rows], device=self.device)] = \
                    self.flat[torch.as_tensor(rows, device=self.device)]
            slots = self.alive
            for i, slot in enumerate(slots):
                val_hist[slot].append(float(val[i]))
                train_hist[slot].append(float(train_loss[i]))
            epochs[slots] = epoch
            best_loss[slots] = np.where(improved, val, best_loss[slots])
            best_epoch[slots] = np.where(improved, epoch, best_epoch[slots])
            since_best[slots] = np.where(improved, 0, since_best[slots] + 1)
            since_lr[slots] = np.where(improved, 0, since_lr[slots] + 1)
            decay = since_lr[slots] >= r.lr_patience
            if decay.any():
                rows = np.nonzero(decay)[0]
                self.adam.lr[rows] = np.maximum(self.adam.lr[rows] * r.lr_decay, r.min_lr)
                since_lr[slots[decay]] = 0
            self._losses = (float(np.mean(train_loss)), float(np.mean(val)))
            self._report(epoch)
            done = since_best[slots] >= r.patience
            if done.any():
                self._compact(np.nonzero(~done)[0])
        return self._results(val_hist, train_hist, best_epoch, epochs)

    def _report(self, epoch: float) -> None:
        """progress(Progress) for the member that runs longest (its best epoch plus the patience)."""
        if self.progress is None or not len(self.alive):
            return
        best_loss, best_epoch = self._best
        slots = self.alive
        stop_by = np.minimum(self.recipe.max_epochs, best_epoch[slots] + self.recipe.patience)
        last = slots[int(np.argmax(stop_by))]
        self.progress(Progress(epoch, *self._losses, int(best_epoch[last]), float(best_loss[last]),
                               int(stop_by.max()), self.recipe.max_epochs))

    def _train_epoch(self, epoch: int) -> np.ndarray:
        total = torch.zeros(len(self.alive), device=self.device)
        weights, biases = self.layer_views
        n_steps = self.members[self.alive[0]]["steps"]
        done = 0
        for u_b, t_b, w_b, prefix in self._step_blocks():
            for s, k in enumerate(prefix):
                # one leaf per layer (views into flat, no copies): cheaper backward than slicing one flat leaf
                w_leaves = [w[:k].detach().requires_grad_(True) for w in weights]
                b_leaves = [b[:k].detach().requires_grad_(True) for b in biases]
                v = mlp_forward(u_b[s, :k], w_leaves, b_leaves, self.layout.activation, self.layout.floors)
                losses = ((v - t_b[s, :k]).square().mean(dim=2) * w_b[s, :k]).sum(dim=1)
                losses.sum().backward()  # sum of members' own losses: each member's gradient is its own
                grad = torch.cat([p.grad.reshape(k, -1) for pair in zip(w_leaves, b_leaves) for p in pair], dim=1)
                self.adam.step(grad, k)
                total[:k] += losses.detach()
            done += len(prefix)
            if done < n_steps:  # (an epoch of many steps: show it moving)
                self._report(epoch - 1 + done / n_steps)
        steps = np.array([self.members[slot]["steps"] for slot in self.alive])
        return total.cpu().numpy().astype(np.float64) / steps

    # -- results -------------------------------------------------------------------------------------------------

    def _results(self, val_hist, train_hist, best_epoch, epochs) -> list[FinetuneResult]:
        best = self.best.cpu().numpy()
        out: list[FinetuneResult | None] = [None] * self.n_members
        recipe = asdict(self.recipe)
        recipe["betas"] = list(recipe["betas"])
        for slot, m in enumerate(self.members):
            p = m["params"]
            weights, biases = self.layout.unflatten(best[slot])
            params = SurrogateParams(p.in_shift.copy(), p.in_scale.copy(), weights, biases, p.out_scale.copy(),
                                     p.out_shift.copy(), p.activation, True, dict(p.extra), p.floors)
            val_errors = self._row_errors(params, m, m["val_rows"])
            kept_start = False
            if m["keep_start"] and m["split"] and best_epoch[slot] > 0:
                start_errors = self._row_errors(p, m, m["val_rows"])
                if not significantly_better(val_errors, start_errors):
                    params, val_errors, kept_start = p, start_errors, True
            train_rmse, train_rel, train_rels = self._rmse(params, m, m["train_rows"])
            val_rmse, val_rel, val_rels = self._rmse(params, m, m["val_rows"])
            out[m["index"]] = FinetuneResult(
                params, m["n_train"], len(m["val_rows"]) if m["split"] else 0, m["split"], int(epochs[slot]),
                0 if kept_start else int(best_epoch[slot]), bool(epochs[slot] < self.recipe.max_epochs),
                np.array(val_hist[slot]), np.array(train_hist[slot]), train_rmse, val_rmse, train_rel, val_rel,
                m["train_rows"], m["val_rows"], recipe, train_rels, val_rels,  # (the engine's own: no copies)
                val_errors, kept_start)
        return out

    def _residuals(self, params: SurrogateParams, m: dict, rows: np.ndarray):
        """`params`' errors on the member's rows in normalised output units (float64 [rows, n_out]), in row chunks
        like _member_losses."""
        flat = self._tensor(self.layout.flatten(params)).unsqueeze(0)
        with torch.no_grad():
            for i in range(0, len(rows), 1 << 14):
                index = torch.as_tensor(m["offset"] + rows[i:i + (1 << 14)], device=self.device)
                v = self.layout.forward(flat, self.u_all[index].unsqueeze(0))[0]
                yield (v.double() - self.t_all[index].double()).cpu().numpy()

    def _row_errors(self, params: SurrogateParams, m: dict, rows: np.ndarray) -> np.ndarray:
        """Per row: the squared error in normalised units, averaged over the outputs (what the validation loss
        averages over rows)."""
        parts = [np.mean(r ** 2, axis=1) for r in self._residuals(params, m, rows)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _rmse(self, params: SurrogateParams, m: dict, rows: np.ndarray):
        """(RMSE per output in program units, rel-RMSE: their mean over the data's std, rel-RMSE per output) of
        `params` on the member's rows; from the normalised data (an error in t units is out_scale in the
        program's)."""
        squares = sum((r ** 2).sum(axis=0) for r in self._residuals(params, m, rows))
        rmse = np.sqrt(squares / len(rows)) * params.out_scale.astype(np.float64)
        if len(rows) < 2:
            return [float(e) for e in rmse], None, None
        rel = rmse / m["data_std"]
        return [float(e) for e in rmse], float(np.mean(rel)), [float(r) for r in rel]
