"""The quality definitions of NOTES.md section 5 (nsc/evaluate.py): interpolation, ratios, summaries."""

from __future__ import annotations

import math

import pytest

from nsc.evaluate import (NOT_REACHED, _epochs_to_reach, _geomean, _log_interp_budget, _median_or_none,
                          evaluate_programs, format_table, summarise)

BUDGETS = [0, 16, 32, 64]


def test_budget_is_interpolated_on_a_log_log_scale():
    # 0.3 at 32, 0.1 at 64: log error linear in log budget between them, so 0.2 at 32 * 2^(log 1.5 / log 3)
    assert _log_interp_budget(BUDGETS, [1.0, 0.4, 0.3, 0.1], 0.2) == pytest.approx(32 * 2 ** (math.log(1.5) /
                                                                                           math.log(3)))
    assert _log_interp_budget(BUDGETS, [1.0, 0.4, 0.2, 0.1], 0.2) == pytest.approx(32.0)
    assert _log_interp_budget(BUDGETS, [1.0, 0.1, 0.05, 0.01], 0.2) == 16.0  # nothing measured in (0, 16)
    assert _log_interp_budget(BUDGETS, [0.1, 0.1, 0.05, 0.01], 0.2) == 1.0  # before any fine-tuning
    assert _log_interp_budget(BUDGETS, [1.0, 0.5, 0.4, 0.3], 0.2) is None


def test_epochs_to_reach_and_not_reached_stand_in():
    assert _epochs_to_reach([1.0, 0.5, 0.2, 0.1], 0.2) == 2
    assert _epochs_to_reach([0.1, 0.05], 0.2) == 1  # at least one epoch
    assert _epochs_to_reach([1.0, 0.5], 0.2) is None
    assert _geomean([4.0, None]) == pytest.approx(math.sqrt(4 * NOT_REACHED))
    assert _median_or_none([2.0, None, 3.0]) == 2.0
    assert _median_or_none([2.0, None, None]) is None  # most seeds did not reach


def test_summary_counts_programs_reached_before_finetuning(tmp_path):
    """End to end on two small programs: an affine one (compiled exactly: the largest ratio, counted apart) and
    one the structural compiler refuses and whose graph cannot be traced either (a bit operation on a computed
    value), which the hypernetwork compiles; random init is 1x against itself by construction of the
    definitions."""
    from nsc.compiler import installed_compiler
    from nsc.errors import NscError
    from nsc.frontend import load_program

    try:
        installed_compiler()
    except NscError:
        pytest.skip("no trained compiler installed")
    affine, curved = tmp_path / "affine.c", tmp_path / "curved.c"
    affine.write_text("void f(double a, double b, double o[2]) { o[0] = 2 * a - b; o[1] = a > b ? a : b; }\n")
    curved.write_text("double g(double a, double b) {\n  int i = (int)(a * 10 + 10);\n"
                      "  return (double)(i ^ 3) * b + a * a;\n}\n")
    programs = [load_program(str(p), default_range=(-1.0, 1.0)) for p in (affine, curved)]
    results = evaluate_programs(programs, [0, 8, 16], seeds=1, inits=("random", "compiled"), test_size=200,
                                echo=lambda *a: None)
    first, second = results["per_program"]
    assert first["zero_shot"] < 1e-4
    assert first["data_efficiency"]["compiled"]["median"] == 16.0  # 16 / n_c with n_c = 1
    summary = results["summary"]["compiled"]
    assert summary["reached_before_finetuning"] == 1
    others = second["data_efficiency"]["compiled"]["median"]
    assert summary["data_efficiency_geomean_others"] == pytest.approx(NOT_REACHED if others is None else others)
    assert summary["data_efficiency_geomean"] == pytest.approx(math.sqrt(16.0 * summary[
        "data_efficiency_geomean_others"]))
    table = format_table(results)
    assert "1 program(s) beat random init's largest budget before fine-tuning" in table


def test_summary_gives_each_seed_alone():
    """Per-seed geometric means: what one fine-tuning run per program would have reported ('not reached' as 0.5)."""
    def result(de, er):
        return {"budgets": BUDGETS, "zero_shot": 0.5,
                "rel_rmse": {"random": [1.0, 0.5, 0.4, 0.3], "compiled": [0.6, 0.4, 0.3, 0.2]},
                "data_efficiency": {"compiled": {"per_seed": de, "median": _median_or_none(de)}},
                "epoch_ratio": {"compiled": {"per_seed": er, "median": _median_or_none(er)}}}

    summary = summarise([result([2.0, 8.0], [1.0, 4.0]), result([8.0, None], [4.0, 1.0])], ("random", "compiled"))
    c = summary["compiled"]
    assert c["data_efficiency_geomean_per_seed"] == pytest.approx([4.0, math.sqrt(8.0 * NOT_REACHED)])
    assert c["epoch_ratio_geomean_per_seed"] == pytest.approx([2.0, 2.0])
    assert "each seed alone: data efficiency geomean 4.00x, 2.00x; epoch ratio geomean 2.00x, 2.00x" in format_table(
        {"summary": summary, "per_program": []})


def test_summary_gives_error_ratios_by_budget_for_the_others():
    """Compiled rel-RMSE over random's per positive budget, geomean over the programs not reached before
    fine-tuning (a program compiled exactly would otherwise swamp it)."""
    def result(compiled, de):
        return {"budgets": BUDGETS, "zero_shot": compiled[0],
                "rel_rmse": {"random": [1.0, 0.5, 0.4, 0.2], "compiled": compiled},
                "data_efficiency": {"compiled": {"per_seed": [de], "median": de}},
                "epoch_ratio": {"compiled": {"per_seed": [1.0], "median": 1.0}}}

    per_program = [result([0.5, 0.25, 0.4, 0.1], 2.0), result([0.5, 0.5, 0.1, 0.4], 1.0),
                   result([1e-9, 1e-9, 1e-9, 1e-9], 64.0)]  # the last: exact, left out
    ratios = summarise(per_program, ("random", "compiled"))["compiled"]["error_ratio_geomean_others"]
    assert ratios == pytest.approx({"16": math.sqrt(0.5), "32": 0.5, "64": 1.0})
    table = format_table({"per_program": [dict(r, program="p") for r in per_program],
                          "summary": summarise(per_program, ("random", "compiled"))})
    assert ("the others' rel-RMSE as a share of random init's (geomean), by the number of samples fine-tuned on: "
            "16: 0.71") in table
