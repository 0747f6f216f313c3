"""The batched fine-tuning engine: accuracy, calibration, masking, determinism, batched == separate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nsc.errors import NscError
from nsc.surrogate.finetune import (BatchedAdam, FinetuneRecipe, calibrate_outputs, finetune, finetune_many)
from nsc.surrogate.init import random_params
from nsc.surrogate.params import SurrogateParams
from nsc.surrogate.torch_model import SurrogateMLP

LO, HI = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 3.0, 4.0])
SHORT = FinetuneRecipe(max_epochs=12, patience=100)


def smooth(x: np.ndarray) -> np.ndarray:
    return np.stack([np.sin(2 * x[:, 0]) * x[:, 1] + 0.3 * (x[:, 2] - 3) ** 2,
                     100 + 20 * np.exp(-x[:, 1]) * x[:, 0]], axis=1)


def data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(LO, HI, size=(n, 3))
    return x, smooth(x)


def predict(p: SurrogateParams, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return SurrogateMLP(p)(torch.tensor(x, dtype=torch.float32)).numpy().astype(np.float64)


def rel_rmse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sqrt(np.mean((pred - y) ** 2, axis=0)) / y.std(axis=0)))


def compiled_like(seed: int = 0) -> SurrogateParams:
    """A 'compiled' surrogate: calibrated output map of its own (deliberately not the data's)."""
    p = random_params(3, 2, LO, HI, seed=seed)
    p.out_scale = np.array([2.0, 7.0], np.float32)
    p.out_shift = np.array([0.5, 90.0], np.float32)
    p.out_calibrated = True
    return p


def test_random_init_reaches_low_error_on_held_out_data():
    x, y = data(4096)
    x_test, y_test = data(2000, seed=99)
    result = finetune(random_params(3, 2, LO, HI, seed=0), x, y, FinetuneRecipe(max_epochs=25), seed=0)
    assert rel_rmse(predict(result.params, x_test), y_test) < 0.1
    assert result.val_rel_rmse < 0.1 and result.params.out_calibrated
    assert (result.n_train, result.n_val, result.split) == (3277, 819, True)
    assert len(result.val_history) == result.epochs + 1 == 26
    assert result.val_history[-1] < 0.1 * result.val_history[0]


def test_calibration_of_a_placeholder_map_uses_training_data_mean_and_std():
    x, y = data(50)
    p = calibrate_outputs(random_params(3, 2, LO, HI), y[:40])
    np.testing.assert_allclose(p.out_shift, y[:40].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(p.out_scale, y[:40].std(axis=0), rtol=1e-6)
    assert p.out_calibrated
    constant = calibrate_outputs(random_params(3, 2, LO, HI), np.full((10, 2), 5.0))
    assert np.all(constant.out_scale > 0) and np.all(np.isfinite(constant.out_scale))


def test_renormalising_a_calibrated_map_preserves_the_function():
    x, y = data(300)
    p = compiled_like()
    q = calibrate_outputs(p, y)
    np.testing.assert_allclose(q.out_shift, y.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(q.out_scale, y.std(axis=0), rtol=1e-6)
    before, after = predict(p, x), predict(q, x)
    for j in range(2):  # column by column: outputs differ in magnitude
        np.testing.assert_allclose(after[:, j], before[:, j], rtol=1e-5, atol=1e-5 * np.abs(before[:, j]).max())
    np.testing.assert_array_equal(q.weights[0], p.weights[0])  # only the last layer changes


def test_engine_starts_from_the_calibrated_function():
    x, y = data(200)
    p = compiled_like(seed=3)
    r = finetune(p, x, y, FinetuneRecipe(max_epochs=1), seed=5)
    # epoch-0 validation loss: the calibrated initial surrogate's MSE in the data's normalised units
    start = calibrate_outputs(p, y[r.train_rows], x[r.train_rows])
    val = r.val_rows
    err = (predict(start, x[val]) - y[val]) / r.params.out_scale.astype(np.float64)
    assert r.val_history[0] == pytest.approx(np.mean(err ** 2), rel=1e-4)


def test_a_predicted_map_is_kept_per_output_where_it_fits_the_training_rows_better():
    """Output 0's predicted map is right (the data are the surrogate's own output 0): kept, function unchanged.
    Output 1's is far off: replaced by the data's mean and std on the network's standardised output."""
    x, y = data(40)
    p = compiled_like(seed=4)
    y = np.c_[predict(p, x)[:, 0], 1e3 + 50 * y[:, 1]]
    q = calibrate_outputs(p, y, x)
    np.testing.assert_allclose(predict(q, x)[:, 0], y[:, 0], rtol=1e-5, atol=1e-5 * np.abs(y[:, 0]).max())
    v = (predict(p, x)[:, 1] - p.out_shift[1]) / p.out_scale[1]
    np.testing.assert_allclose(predict(q, x)[:, 1], v * y[:, 1].std() + y[:, 1].mean(), rtol=1e-4)
    # without the training inputs, the predicted map is kept as it is
    np.testing.assert_allclose(predict(calibrate_outputs(p, y), x), predict(p, x), rtol=1e-4)


def test_best_validation_weights_are_restored_and_early_stopping_counts_patience():
    x, y = data(40)
    recipe = FinetuneRecipe(max_epochs=400, patience=15, lr_patience=5, lr=3e-2)
    r = finetune(random_params(3, 2, LO, HI, seed=1), x, y, recipe, seed=2)
    assert r.best_epoch == int(np.argmin(r.val_history))
    assert r.stopped_early and r.epochs == r.best_epoch + 15
    val = r.val_rows
    err = (predict(r.params, x[val]) - y[val]) / r.params.out_scale.astype(np.float64)
    assert np.mean(err ** 2) == pytest.approx(r.val_history[r.best_epoch], rel=1e-4)
    rmse = np.sqrt(np.mean((predict(r.params, x[val]) - y[val]) ** 2, axis=0))
    np.testing.assert_allclose(r.val_rmse, rmse, rtol=1e-4)


def test_deterministic_given_seed():
    x, y = data(150)
    runs = [finetune(random_params(3, 2, LO, HI, seed=0), x, y, SHORT, seed=s) for s in (7, 7, 8)]
    for a, b in zip(runs[0].params.weights, runs[1].params.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(runs[0].val_history, runs[1].val_history)
    assert not np.array_equal(runs[0].val_rows, runs[2].val_rows)
    assert not np.array_equal(runs[0].params.weights[0], runs[2].params.weights[0])


def test_batched_members_equal_separate_runs():
    """Different budgets (so different steps per epoch: masked members), inits and seeds in one batch."""
    members = [(random_params(3, 2, LO, HI, seed=0), 1000, 0), (compiled_like(1), 37, 1),
               (random_params(3, 2, LO, HI, seed=2), 5, 2), (compiled_like(3), 200, 0),
               (random_params(3, 2, LO, HI, seed=4), 1, 3)]
    xs, ys = zip(*[data(n, seed=i) for i, (_, n, _) in enumerate(members)])
    recipe = FinetuneRecipe(max_epochs=15, patience=4, lr_patience=2)  # some stop early: compaction runs
    batched = finetune_many([m[0] for m in members], xs, ys, recipe, seeds=[m[2] for m in members])
    assert any(r.stopped_early for r in batched)
    for (p, n, seed), x, y, rb in zip(members, xs, ys, batched):
        rs = finetune(p, x, y, recipe, seed=seed)
        assert (rb.epochs, rb.best_epoch, rb.n_train) == (rs.epochs, rs.best_epoch, rs.n_train)
        np.testing.assert_allclose(rb.val_history, rs.val_history, rtol=1e-4, atol=1e-7)
        for a, b in zip(rb.params.weights + rb.params.biases, rs.params.weights + rs.params.biases):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_tiny_budgets_split_rules():
    x, y = data(2)
    one = finetune(random_params(3, 2, LO, HI), x[:1], y[:1], SHORT)
    assert (one.split, one.n_train, one.n_val) == (False, 1, 0)
    two = finetune(random_params(3, 2, LO, HI), x, y, SHORT)
    assert (two.split, two.n_train, two.n_val) == (True, 1, 1)
    x, y = data(100)
    nosplit = finetune(random_params(3, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=2, val_frac=0.0))
    assert (nosplit.split, nosplit.n_train) == (False, 100)


def test_batched_adam_matches_torch_adam_and_leaves_masked_rows_alone():
    torch.manual_seed(0)
    flat = torch.randn(3, 10)
    start = flat.clone()
    adam = BatchedAdam(flat, lr=0.01)
    reference = torch.nn.Parameter(start[0].clone())
    torch_adam = torch.optim.Adam([reference], lr=0.01)
    for step in range(5):
        grad = torch.randn(3, 10)
        k = 3 if step == 0 else 1  # rows 1 and 2 masked after the first step
        adam.step(grad[:k], k)
        reference.grad = grad[0].clone()
        torch_adam.step()
        if step == 0:
            after_first = (flat[1:].clone(), adam.m[1:].clone(), adam.v[1:].clone())
    torch.testing.assert_close(flat[0], reference.detach(), rtol=1e-6, atol=1e-7)
    assert list(adam.steps) == [5, 1, 1]
    for a, b in zip((flat[1:], adam.m[1:], adam.v[1:]), after_first):
        assert torch.equal(a, b)  # bit for bit: masked rows never touched


def test_progress_callback_and_interrupt_propagates():
    x, y = data(64)
    seen = []
    finetune(random_params(3, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=4), progress=seen.append)
    assert [p.epoch for p in seen] == [1, 2, 3, 4]
    assert all(np.isfinite(p.train_loss) and np.isfinite(p.val_loss) for p in seen)
    threads = torch.get_num_threads()

    def interrupt(p):
        if p.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(random_params(3, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=10), progress=interrupt, threads=1)
    assert torch.get_num_threads() == threads  # restored on the way out


@pytest.mark.parametrize("xy, message", [
    ((np.zeros((0, 3)), np.zeros((0, 2))), "no training rows"),
    ((np.zeros((5, 3)), np.full((5, 2), np.nan)), "NaN or Inf"),
    ((np.zeros((5, 4)), np.zeros((5, 2))), "4 input and 2 output columns"),
    ((np.zeros((5, 3)), np.zeros((4, 2))), "same number of rows"),
])
def test_bad_data_is_a_user_error(xy, message):
    with pytest.raises(NscError, match=message):
        finetune(random_params(3, 2, LO, HI), *xy)


@pytest.mark.parametrize("recipe", [FinetuneRecipe(lr=0), FinetuneRecipe(batch_size=0),
                                    FinetuneRecipe(max_epochs=0), FinetuneRecipe(val_frac=1.0)])
def test_bad_recipe_is_a_user_error(recipe):
    x, y = data(10)
    with pytest.raises(NscError):
        finetune(random_params(3, 2, LO, HI), x, y, recipe)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_unavailable_is_an_error_not_a_cpu_fallback():
    x, y = data(10)
    with pytest.raises(NscError, match="CUDA is not available"):
        finetune(random_params(3, 2, LO, HI), x, y, SHORT, device="cuda")
    with pytest.raises(NscError, match="unknown device"):
        finetune(random_params(3, 2, LO, HI), x, y, SHORT, device="gpu")


def test_history_entry_is_json_ready():
    import json

    x, y = data(30)
    r = finetune(random_params(3, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=2))
    entry = r.history_entry(data_sha256="00ff")
    assert json.loads(json.dumps(entry))["data_sha256"] == "00ff"
    assert entry["step"] == "finetune" and entry["epochs"] == 2 and entry["recipe"]["max_epochs"] == 2


def test_nsc_finetune_holds_its_data_once_as_float32(monkeypatch):
    """With overwrite (nsc finetune's own float32 arrays), the data is normalised in place and every other array
    the engine makes is an index or a chunk: numpy's peak (tracemalloc) stays under 1.5 times the data. (Before,
    float64 copies, normalised copies and an epoch of gathered batches took ~6 times.) Training is the same."""
    import tracemalloc

    rng = np.random.default_rng(0)
    lo5, hi5 = np.array([-1.0, 0, 2, 0, 0]), np.array([1.0, 3, 4, 1, 1])
    x = rng.uniform(lo5, hi5, size=(50_000, 5)).astype(np.float32)
    y = np.stack([np.sin(x[:, 0]) * x[:, 1], x[:, 2] ** 2], axis=1).astype(np.float32)
    reference = finetune(random_params(5, 2, lo5, hi5), x, y, FinetuneRecipe(max_epochs=1))
    monkeypatch.setattr("nsc.surrogate.finetune.ROW_CHUNK", 4096)  # (chunks small beside the data)
    data_bytes = x.nbytes + y.nbytes
    tracemalloc.start()
    try:
        result = finetune(random_params(5, 2, lo5, hi5), x, y, FinetuneRecipe(max_epochs=1), overwrite=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * data_bytes, peak / data_bytes
    np.testing.assert_array_equal(result.val_history, reference.val_history)
    for a, b in zip(result.params.weights, reference.params.weights):
        np.testing.assert_array_equal(a, b)
    assert np.abs(x).max() <= 1.0 + 1e-6  # (x now holds the normalised inputs: ranges map onto [-1, 1])


def test_members_sharing_their_data_are_normalised_once_and_never_corrupt_each_other():
    """nsc finetune runs a compiled and a random start on the same arrays (overwrite: normalised in place once);
    members whose normalisations differ (other seeds, other splits) each get their own copy instead."""
    x, y = data(600)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    starts = lambda: [compiled_like(), random_params(3, 2, LO, HI, seed=1), random_params(3, 2, LO, HI, seed=2)]  # noqa: E731
    for seeds in ([4, 4, 4], [4, 4, 5]):
        reference = finetune_many(starts(), [x32.copy() for _ in range(3)], [y32.copy() for _ in range(3)], SHORT,
                                  seeds=seeds)
        xs, ys = x32.copy(), y32.copy()
        shared = finetune_many(starts(), [xs] * 3, [ys] * 3, SHORT, seeds=seeds, overwrite=True)
        for a, b in zip(reference, shared):
            np.testing.assert_array_equal(a.val_history, b.val_history)
            np.testing.assert_array_equal(a.params.weights[0], b.params.weights[0])
        assert (np.abs(xs).max() <= 1.0 + 1e-6) == (seeds == [4, 4, 4])  # in place only where all agree


def test_significance_of_a_paired_improvement():
    from nsc.surrogate.finetune import significantly_better

    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 1.5, size=400)
    assert significantly_better(base * 0.8, base)  # 20% lower on every row
    assert not significantly_better(base, base)
    assert not significantly_better([0.1], [1.0])  # one row shows nothing
    noisy = base + rng.normal(0, 0.5, size=400)  # lower by 0.01 on average, with a row-to-row spread of 0.5
    assert not significantly_better(noisy - 0.01, noisy + rng.normal(0, 0.5, size=400))


def _noisy_copy_of(start: SurrogateParams, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose truth is `start`'s own function, observed with noise as large as its spread: no fine-tuning
    can beat the start but by chance."""
    rng = np.random.default_rng(0)
    x = rng.uniform(LO, HI, size=(n, 3))
    clean = start.predict(x)
    return x, clean + rng.normal(0, clean.std(), size=clean.shape)


def test_a_vouched_start_is_kept_unless_fine_tuning_is_significantly_better():
    start = random_params(3, 1, LO, HI, seed=3)
    start.out_calibrated = True
    x, y = _noisy_copy_of(start, 200)
    recipe = FinetuneRecipe(max_epochs=60, patience=100)
    chance = finetune(start, x, y, recipe, seed=0)
    assert chance.best_epoch > 0 and not chance.kept_start  # a later epoch beat epoch 0 on validation, by chance
    kept = finetune(start, x, y, recipe, seed=0, keep_start=True)
    assert kept.kept_start and kept.best_epoch == 0 and kept.history_entry()["kept_start"]
    calibrated = calibrate_outputs(start, y, x, rows=kept.train_rows)
    np.testing.assert_allclose(kept.params.predict(x), calibrated.predict(x), rtol=1e-5, atol=1e-6)
    assert kept.val_row_errors.mean() == pytest.approx(kept.val_history[0], rel=1e-5)
    # where the data do show an improvement, the vouched start is tuned as any other
    x2, y2 = data(400)
    tuned = finetune(compiled_like(), x2, y2, recipe, seed=0, keep_start=True)
    assert not tuned.kept_start and tuned.best_epoch > 0 and tuned.val_history[-1] < 0.5 * tuned.val_history[0]


def test_a_restart_replaces_a_vouched_start_only_where_significantly_better():
    from dataclasses import replace

    from nsc.surrogate.finetune import better_of

    start = random_params(3, 1, LO, HI, seed=3)
    start.out_calibrated = True
    x, y = _noisy_copy_of(start, 200)
    recipe = FinetuneRecipe(max_epochs=5)
    compiled = finetune(start, x, y, recipe, seed=0, keep_start=True)
    slightly = replace(compiled, val_rel_rmse=compiled.val_rel_rmse * 0.99,
                       val_row_errors=compiled.val_row_errors * np.where(np.arange(compiled.n_val) % 2, 0.9, 1.08))
    assert better_of(compiled, slightly) == (slightly, False)  # lower on validation: kept, vouched or not
    assert better_of(compiled, slightly, vouched=True) == (compiled, True)  # not significantly lower
    clearly = replace(slightly, val_row_errors=compiled.val_row_errors * 0.5)
    assert better_of(compiled, clearly, vouched=True) == (clearly, False)
