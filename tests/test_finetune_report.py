"""What a fine-tuning run reports (FinetuneResult.history_entry, format_report: `nsc finetune`'s line and JSON):
validation figures only where there is a validation split, a rel-RMSE only over 2 or more rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nsc.surrogate.finetune import FinetuneRecipe, finetune, format_report
from nsc.surrogate.init import random_params

LO, HI = np.array([-1.0, 0.0]), np.array([1.0, 3.0])


def tuned(n: int, **recipe) -> tuple[dict, str]:
    x = np.random.default_rng(0).uniform(LO, HI, size=(n, 2))
    y = np.stack([np.sin(2 * x[:, 0]) * x[:, 1], 100 + x[:, 1] ** 2], axis=1)
    r = finetune(random_params(2, 2, LO, HI), x, y, FinetuneRecipe(max_epochs=3, **recipe))
    entry = r.history_entry()
    json.dumps(entry, allow_nan=False)
    return entry, format_report(entry)


@pytest.mark.parametrize("val_frac", [0.2, 0.0])
def test_one_row_has_no_validation_split_and_no_rel_rmse(val_frac):
    entry, line = tuned(1, val_frac=val_frac)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (1, 0, False)
    assert entry["val_rmse"] is None and entry["val_rel_rmse"] is None
    assert entry["train_rel_rmse"] is None and len(entry["train_rmse"]) == 2  # std of one value: the float floor
    assert line.startswith("3 epochs (best ") and "no validation split (1 row): training RMSE " in line
    assert "validation RMSE" not in line and "rel-RMSE 0" not in line
    assert line.endswith(" (no rel-RMSE: it needs at least 2 rows)")


def test_two_rows_validate_on_one_row_without_a_rel_rmse():
    entry, line = tuned(2)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (1, 1, True)
    assert entry["val_rel_rmse"] is None and entry["train_rel_rmse"] is None and len(entry["val_rmse"]) == 2
    assert "validation RMSE " in line and line.endswith(" on 1 row (no rel-RMSE: it needs at least 2 rows)")
    assert "2.0000" not in line  # a 1/1 split's rel-RMSE, 2 by construction


def test_val_frac_0_reports_the_training_error():
    entry, line = tuned(50, val_frac=0.0)
    assert (entry["n_train"], entry["n_val"], entry["split"]) == (50, 0, False)
    assert entry["val_rmse"] is None and entry["val_rel_rmse"] is None and entry["train_rel_rmse"] > 0
    assert ("no validation split (validation fraction 0): training RMSE "
            + ", ".join(f"{v:.6g}" for v in entry["train_rmse"]) + f", rel-RMSE {entry['train_rel_rmse']:.4f}") in line


def test_with_a_validation_split_the_line_is_as_before():
    entry, line = tuned(50)
    assert (entry["n_val"], entry["split"]) == (10, True) and entry["val_rel_rmse"] > 0
    assert line == (f"{entry['epochs']} epochs (best {entry['best_epoch']}), validation RMSE "
                    f"{', '.join(f'{v:.6g}' for v in entry['val_rmse'])}, rel-RMSE {entry['val_rel_rmse']:.4f}")
