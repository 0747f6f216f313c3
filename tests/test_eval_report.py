"""`nsc eval`'s report (nsc/evaluate.py format_table, summarise) for every subset of inits and budgets: only
measured figures, never a traceback, a 0 or a '?' standing in for one that was not, and why it was not."""

from __future__ import annotations

import itertools
import json

import pytest

from nsc.errors import NscError
from nsc.evaluate import evaluate_programs, format_table, summarise

ALL = ("random", "compiled", "unconditioned")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    from nsc.frontend import load_program

    path = tmp_path_factory.mktemp("eval") / "curved.c"  # (200 products in a row: the hypernetwork compiles it)
    path.write_text("double g(double a, double b) {\n  double x = a;\n"
                    "  for (int i = 0; i < 200; i++) x = 0.5 * x * b + a;\n  return x;\n}\n")
    return load_program(str(path), default_range=(-1.0, 1.0))


def needs_compiler(inits):
    if set(inits) - {"random"}:
        from nsc.compiler import installed_compiler

        try:
            installed_compiler()
        except NscError:
            pytest.skip("no trained compiler installed")


def run(program, inits, budgets):
    needs_compiler(inits)
    results = evaluate_programs([program], budgets, seeds=1, inits=inits, test_size=200, echo=lambda *a: None)
    json.dumps(results, allow_nan=False)  # JSON-ready, no NaN
    return results, format_table(results)


@pytest.mark.parametrize("inits", [c for n in (1, 2, 3) for c in itertools.combinations(ALL, n)],
                         ids=lambda c: ",".join(c))
def test_table_and_summary_for_every_subset_of_inits(program, inits):
    results, text = run(program, inits, [0, 8])
    summary, summary_text = results["summary"], text.split("\n\n", 1)[1]
    assert "?" not in text and " -" not in summary_text and "None" not in text
    if "compiled" in inits:
        assert summary["zero_shot_median"] is not None and "zero-shot median rel-RMSE" in summary_text
    else:
        assert summary["zero_shot_median"] is None and results["per_program"][0]["zero_shot"] is None
        assert "compiled beats" not in text and "compiled_beats_unconditioned" not in summary
    for init in set(inits) & {"compiled", "unconditioned"}:
        assert summary_text.count(f"{init}: ") == 1
        if "random" in inits:
            assert summary[init]["data_efficiency_geomean"] is not None and "not_measured" not in summary[init]
        else:  # a figure that needs random init: null in the JSON, and the text says why
            assert summary[init]["data_efficiency_geomean"] is None
            assert summary[init]["reached_before_finetuning"] is None
            assert summary[init]["not_measured"] == "data efficiency and epoch ratio need the random init"
            assert f"{init}: " in summary_text and "need the random init" in summary_text
    if inits == ("random",):
        assert "random init alone" in summary_text


def test_budgets_without_0_and_unsorted(program):
    """Budgets are sorted whatever the order given; zero-shot without budget 0 is null, not 0."""
    results, text = run(program, ("random", "compiled"), [16, 8, 16])
    r = results["per_program"][0]
    assert r["budgets"] == [8, 16] and len(r["rel_rmse"]["compiled"]) == 2
    assert r["zero_shot"] is None and results["summary"]["zero_shot_median"] is None
    assert results["summary"]["zero_shot_geomean"] is None
    assert "zero-shot not measured (it needs budget 0)" in text and "0.000" not in text
    assert "by the number of samples fine-tuned on: 8: " in text  # in increasing order


def test_budget_0_only(program):
    results, text = run(program, ALL, [0])
    summary = results["summary"]
    assert "compiled_beats_unconditioned" not in summary  # a comparison over positive budgets: there are none
    assert summary["compiled"]["not_measured"] == "data efficiency and epoch ratio need a positive budget"
    assert "zero-shot median rel-RMSE" in text and "need a positive budget" in text


@pytest.mark.parametrize("inits, message", [((), "no initialisation given"),
                                            (("compiled", "bogus"), "unknown initialisation 'bogus'")])
def test_bad_inits_are_a_user_error_before_any_work(inits, message):
    with pytest.raises(NscError, match=message):
        evaluate_programs([object()], [0, 8], seeds=1, inits=inits)  # never reaches the program


def test_duplicate_inits_run_once(program):
    said = []
    results = evaluate_programs([program], [0, 8], seeds=1, inits=("random", "random"), test_size=200,
                                echo=said.append)
    assert list(results["per_program"][0]["rel_rmse"]) == ["random"]
    assert "fine-tuning 1 surrogates (1 inits x 1 seeds x 1 budgets)" in said[0]


def result(compiled, de):
    return {"program": "p.c", "budgets": [0, 16, 32], "zero_shot": compiled[0],
         "rel_rmse": {"random": [1.0, 0.5, 0.4], "compiled": compiled, "unconditioned": [1.0, 0.6, 0.5]},
         "data_efficiency": {init: {"per_seed": [de], "median": de} for init in ("compiled", "unconditioned")},
         "epoch_ratio": {init: {"per_seed": [1.0], "median": 1.0} for init in ("compiled", "unconditioned")}}


@pytest.mark.parametrize("n", [1, 2])
def test_every_program_reached_before_finetuning(n):
    """Every program exact (one or several): there are no others to average, and the text says so."""
    per_program = [result([1e-9, 1e-9, 1e-9], 32.0) for _ in range(n)]
    summary = summarise(per_program, ALL)
    assert summary["compiled"]["data_efficiency_geomean_others"] is None
    text = format_table({"per_program": per_program, "summary": summary})
    assert f"{n} program(s) beat random init's largest budget before fine-tuning; that is every program" in text
    assert " -" not in text.split("\n\n", 1)[1] and "rel-RMSE as a share" not in text
    assert f"compiled beats unconditioned on {n}/{n} programs" in text


def test_full_run_text_is_unchanged():
    """The wording of a full run (bench/RESULTS.md is made of it) stays as it was."""
    per_program = [result([0.5, 0.25, 0.2], 2.0), result([1e-9, 1e-9, 1e-9], 32.0)]
    text = format_table({"per_program": per_program, "summary": summarise(per_program, ALL)})
    assert text.split("\n\n", 1)[1] == (
        "compiled: data efficiency geomean 8.00x, epoch ratio geomean 1.00x, zero-shot median rel-RMSE 0.25\n"
        "  1 program(s) beat random init's largest budget before fine-tuning; the others: data efficiency geomean "
        "2.00x, epoch ratio geomean 1.00x\n"
        "  the others' rel-RMSE as a share of random init's (geomean), by the number of samples fine-tuned on: "
        "16: 0.50, 32: 0.50\n"
        "  rel-RMSE at the largest budget as a share of random init's: geomean 3.5e-05, worst 0.5 (p.c)\n"
        "unconditioned: data efficiency geomean 8.00x, epoch ratio geomean 1.00x; compiled beats unconditioned on "
        "2/2 programs\n")
