"""What a fine-tuning run reports (FinetuneResult.history_entry, output_errors, format_report: `nsc finetune`'s
text and JSON; Progress: its bar): each output by name, validation figures only where there is a validation split,
a rel-RMSE only over 2 or more rows, a bar that ends where early stopping would."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nsc.surrogate import finetune as finetune_module
from nsc.surrogate.finetune import FinetuneRecipe, finetune, format_report, output_errors, progress_text
from nsc.surrogate.init import random_params

LO, HI = np.array([-1.0, 0.0]), np.array([1.0, 3.0])


def tuned(n: int, **recipe) -> tuple[dict, str]:
    x = np.random.default_rng(0).uniform(LO, HI, size=(n, 2))
    y = np.stack([np.sin(2 * x[:, 0]) * x[:, 1], 100 + x[:, 1] ** 2], axis=1)
    r = finetune(random_params(2, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=3, **recipe))
    entry = r.history_entry()
    json.dumps(entry, allow_nan=False)
    return entry, format_report({**entry, **output_errors(entry, ["wave", "bowl"])})


@pytest.mark.parametrize("val_frac", [0.2, 0.0])
def test_one_row_has_no_validation_split_and_no_rel_rmse(val_frac):
    entry, text = tuned(1, val_frac=val_frac)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (1, 0, False)
    assert entry["val_rmse"] is None and entry["val_rel_rmse"] is None
    assert entry["train_rel_rmse"] is None and len(entry["train_rmse"]) == 2  # std of one value: the float floor
    assert entry["train_rel_rmse_per_output"] is None and entry["val_rel_rmse_per_output"] is None
    head, *lines = text.splitlines()
    assert head.startswith("3 epochs (best ") and "no validation split (1 row): training RMSE" in head
    assert "validation RMSE" not in text and "rel-RMSE 0" not in text and "worst" not in text
    assert len(lines) == 2 and all(line.endswith(" (no rel-RMSE: it needs at least 2 rows)") for line in lines)


def test_two_rows_validate_on_one_row_without_a_rel_rmse():
    entry, text = tuned(2)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (1, 1, True)
    assert entry["val_rel_rmse"] is None and entry["train_rel_rmse"] is None and len(entry["val_rmse"]) == 2
    assert "validation RMSE on 1 row:" in text and text.endswith(" (no rel-RMSE: it needs at least 2 rows)")
    assert "2.0000" not in text  # a 1/1 split's rel-RMSE, 2 by construction


def test_val_frac_0_reports_the_training_error():
    entry, text = tuned(50, val_frac=0.0)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (50, 0, False)
    assert entry["val_rmse"] is None and entry["val_rel_rmse"] is None and entry["train_rel_rmse"] > 0
    assert text.splitlines()[0].endswith("no validation split (validation fraction 0): training RMSE on 50 rows, "
                                         f"mean rel-RMSE {entry['train_rel_rmse']:.3g}:")
    errors = output_errors(entry, ["wave", "bowl"])["per_output"]
    assert [o["rmse"] for o in errors] == entry["train_rmse"]


def test_each_output_is_named_with_its_rmse_and_rel_rmse_and_the_worst_is_marked():
    """(The line was one combined rel-RMSE after unnamed RMSEs: `0.0123, 4.56, rel-RMSE 0.0310`.)"""
    entry, _ = tuned(200)
    rel = entry["val_rel_rmse_per_output"]
    assert len(rel) == 2 and np.mean(rel) == pytest.approx(entry["val_rel_rmse"])
    named = output_errors(entry, ["wave", "bowl"])
    worst = ["wave", "bowl"][int(np.argmax(rel))]
    assert named["worst_output"] == worst
    assert [(o["name"], o["rmse"], o["rel_rmse"]) for o in named["per_output"]] == \
        list(zip(["wave", "bowl"], entry["val_rmse"], rel))
    text = format_report({**entry, **named})
    head, *lines = text.splitlines()
    assert head == (f"{entry['epochs']} epochs (best {entry['best_epoch']}), validation RMSE on 40 rows, "
                    f"mean rel-RMSE {entry['val_rel_rmse']:.3g}:")
    for line, name, rmse, r in zip(lines, ["wave", "bowl"], entry["val_rmse"], rel):
        assert line.split()[:5] == [name, "RMSE", f"{rmse:.6g}", "rel-RMSE", f"{r:.3g}"]
        assert line.endswith("<- worst") == (name == worst)


def test_progress_ends_where_early_stopping_would_stop():
    """The bar counted to the epoch cap (1000) while early stopping ended runs at 500-900: its end is now the epoch
    the run stops at unless the validation error improves."""
    x = np.random.default_rng(0).uniform(LO, HI, size=(64, 2))
    y = np.stack([np.sin(2 * x[:, 0]) * x[:, 1], 100 + x[:, 1] ** 2], axis=1)
    seen = []
    r = finetune(random_params(2, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=400, patience=5, lr=0.3),
                 progress=seen.append)
    assert r.stopped_early and r.epochs < 400
    assert [p.epoch for p in seen] == list(range(1, r.epochs + 1))
    for p in seen:
        assert p.stop_by == min(400, p.best_epoch + 5) and p.cap == 400 and p.best_epoch <= p.epoch
        assert progress_text(p) == (f"epoch {p.epoch}, best {p.best_epoch} (validation loss {p.best_loss:.3g}), "
                                    f"stops by {p.stop_by} at the latest")
    assert seen[-1].stop_by == r.epochs and seen[-1].best_epoch == r.best_epoch


def test_progress_moves_within_a_long_epoch(monkeypatch):
    """An epoch of a 10M-row file is 250k steps: the display moves every block of steps, not once an epoch."""
    monkeypatch.setattr(finetune_module, "STEP_BLOCK", 4)
    x = np.random.default_rng(0).uniform(LO, HI, size=(400, 2))
    seen = []
    finetune(random_params(2, 2, LO, HI), x, x ** 2, FinetuneRecipe(max_epochs=2, batch_size=10), progress=seen.append)
    epochs = [p.epoch for p in seen]  # 320 training rows, 10 a step: 32 steps an epoch, a report every 4
    assert epochs == sorted(epochs) and epochs[-1] == 2 and 1 in epochs
    assert [e for e in epochs if e < 1] == [k / 32 for k in range(4, 32, 4)]
    assert seen[0].train_loss is None and seen[-1].train_loss is not None
