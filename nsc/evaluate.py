"""The quality definitions of NOTES.md section 5, used by `nsc eval` and bench/.

For each program: one test set of fresh samples run through the real program; for each seed one pool of
max(budgets) training samples (each budget takes a prefix, so budgets are nested); every (init, seed, budget)
surrogate is fine-tuned with the one recipe of nsc.surrogate.finetune, all at once; then:

- rel-RMSE: per output column RMSE / std of that column on the test set, averaged over columns;
- data efficiency: T = rel-RMSE of random init at the largest budget B; n_c = the smallest budget at which
  compiled init reaches T, interpolated between measured budgets on a log-log scale; ratio = B / n_c. Per
  program the median over seeds, over programs the geometric mean. Where compiled init does not reach T even at
  B, the ratio is recorded as None ("not reached") and counted as 0.5 in the geometric mean (n_c > B means the
  ratio is below 1; 0.5 is a documented stand-in, not a measurement). Where compiled init reaches T before any
  fine-tuning (budget 0), n_c = 1 and the ratio is B: the summary counts those programs and gives the geometric
  means of the others too;
- epoch ratio: at budget B, the epoch at which random init reaches its best validation error divided by the
  first epoch at which compiled init reaches that same error (None where it never does, counted as 0.5 too);
- zero-shot: rel-RMSE of the compiled surrogate before any fine-tuning (budget 0).
"""

from __future__ import annotations

import math
import os

import numpy as np

from nsc.errors import NscError

TEST_SEED = 1_000_003  # the test set never shares a seed with the training pools (seeds 1..S)
NOT_REACHED = 0.5  # the stand-in ratio for "not reached within the largest budget" in geometric means


def rel_rmse(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Mean over output columns of RMSE / std of the true column (a mean predictor scores 1.0)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    std = y_true.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    rmse = np.sqrt(np.mean((y_pred - y_true) ** 2, axis=0))
    return float(np.mean(rmse / std))


RELATIVE_FLOOR = 1e-3  # relative errors divide by max(|true value|, this share of the column's largest |value|)


def error_figures(y_pred: np.ndarray, y_true: np.ndarray, names) -> dict:
    """Per output column (by name): RMSE, rel-RMSE (RMSE / std of the true column, 1.0 for a mean predictor;
    a constant column divides by 1), the 50th / 99th percentile and the maximum of the absolute error, and the
    same of the relative error |error| / max(|true|, RELATIVE_FLOOR * max |true| of the column), the floor
    keeping a true value of 0 from dividing by zero ("relative_floor" gives it). Plain floats, for JSON."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    figures = {}
    for j, name in enumerate(names):
        err = np.abs(y_pred[:, j] - y_true[:, j])
        std = float(y_true[:, j].std())
        floor = RELATIVE_FLOOR * float(np.abs(y_true[:, j]).max())
        rel = err / np.maximum(np.abs(y_true[:, j]), floor if floor > 0 else np.finfo(np.float64).tiny)
        rmse = float(np.sqrt(np.mean(err ** 2)))
        figures[name] = {"rmse": rmse, "rel_rmse": rmse / (std if std > 0 else 1.0),
                         "abs_p50": float(np.percentile(err, 50)), "abs_p99": float(np.percentile(err, 99)),
                         "abs_max": float(err.max()), "rel_p50": float(np.percentile(rel, 50)),
                         "rel_p99": float(np.percentile(rel, 99)), "rel_max": float(rel.max()),
                         "relative_floor": floor}
    return figures


def _draw(program, n: int, seed: int):
    from nsc.execute import sample_program

    result = sample_program(program, n=n, seed=seed)
    if result.error is not None:
        raise result.error
    if result.x.shape[0] < n:
        raise NscError(f"only {result.x.shape[0]} of {n} samples had finite outputs (the others NaN or Inf): "
                       "narrow the input ranges to where the program is defined", path=program.path)
    from nsc.data import beyond_float32

    if (big := beyond_float32(result.y, program.signature.output_names)) is not None:
        raise NscError(f"the program's outputs: {big}; narrow the input ranges", path=program.path)
    return result.x, result.y


def _log_interp_budget(budgets, curve, target):
    """Smallest budget where curve <= target, interpolated on a log-log scale; None if never."""
    for i, (b, v) in enumerate(zip(budgets, curve)):
        if v <= target:
            if b == 0:
                return 1.0  # reached before any fine-tuning
            if i == 0 or budgets[i - 1] == 0:
                return float(b)  # nothing measured between 0 and b: take b itself
            b0, v0 = budgets[i - 1], curve[i - 1]
            t = (math.log(v0) - math.log(target)) / max(math.log(v0) - math.log(v), 1e-12)
            return math.exp(math.log(b0) + t * (math.log(b) - math.log(b0)))
    return None


def _epochs_to_reach(history, target):
    """First epoch whose validation loss is <= target (history[0] is before training), at least 1."""
    for epoch, loss in enumerate(history):
        if loss <= target:
            return max(epoch, 1)
    return None


def _median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def _geomean(values):
    values = [NOT_REACHED if v is None else v for v in values]
    return float(np.exp(np.mean(np.log(values)))) if values else None


def draw_data(program, budgets, seeds=3, test_size=2000):
    """A program's samples for `evaluate_program`: the test set and one training pool per seed (each budget takes
    a prefix). NscError for a program that crashes, or whose output is constant."""
    b_max = max(budgets)
    x_test, y_test = _draw(program, test_size, TEST_SEED)
    constant = [j for j, sd in enumerate(y_test.std(axis=0)) if not sd > 0]
    if constant:  # rel-RMSE divides by the output's spread (it ended in a math domain error traceback)
        j = constant[0]
        raise NscError(f"output '{program.signature.output_names[j]}' is constant ({y_test[0, j]:g}) over the "
                       "input ranges: there is nothing to measure a surrogate against", path=program.path)
    pools = [_draw(program, b_max, seed) for seed in range(1, seeds + 1)] if b_max > 0 else []
    return (x_test, y_test), pools


def compile_inits(program, inits, seeds=3) -> tuple[dict, dict]:
    """Each initialisation's weights for each seed: ({(init, seed index): params}, {init: compiler id}).
    NscError for a program beyond the compiler's limits."""
    from nsc.compiler import compile_params

    init_params, compiler_ids = {}, {}
    for init in inits:
        for s in range(seeds):
            params, cid, _ = compile_params(program, init=init, seed=s + 1)
            init_params[init, s], compiler_ids[init] = params, cid
    return init_params, compiler_ids


def evaluate_program(program, budgets, seeds=3, inits=("random", "compiled", "unconditioned"), test_size=2000,
                     echo=print, data=None, compiled=None) -> dict:
    """data, compiled: `draw_data`'s and `compile_inits`' results, where they were made already."""
    from nsc.compiler import vouched
    from nsc.surrogate import finetune

    budgets = sorted(set(budgets))  # in increasing order whatever the order given; the JSON lists them so
    b_max = budgets[-1]
    (x_test, y_test), pools = data or draw_data(program, budgets, seeds, test_size)
    init_params, compiler_ids = compiled or compile_inits(program, inits, seeds)

    # Every (init, seed, positive budget) is one member of one batched fine-tuning run.
    # Members of the same seed and budget share their rows and their seed, hence split and minibatch order:
    # the initialisations are compared on identical data.
    keys = [(init, s, b) for init in inits for s in range(seeds) for b in budgets if b > 0]
    # compiled init from a start learned for other programs is fine-tuned as `nsc finetune` does it: beside a
    # random start on the same rows, the better on validation kept (finetune.needs_restart)
    guarded = "compiled" in inits and finetune.needs_restart(compiler_ids.get("compiled", "random"))
    if guarded and "random" not in inits:
        for s in range(seeds):
            init_params["random", s] = compile_params_random(program, s + 1)
        keys += [("random", s, b) for s in range(seeds) for b in budgets if b > 0]
    echo(f"{program.path}: fine-tuning {len(keys)} surrogates "
         f"({len(inits)} inits x {seeds} seeds x {sum(b > 0 for b in budgets)} budgets)")
    # Members of one architecture train as one batch, each with the recipe `nsc finetune` would use for it. An
    # init whose weights are an earlier init's for the same seed (structural is compiled init where it translates
    # the function, random init where it does not) takes that init's results rather than training them twice.
    same = {}
    for s in range(seeds):
        for k, init in enumerate(inits):
            twin = next((other for other in inits[:k] if (other, s) not in same
                         and _same_params(init_params[init, s], init_params[other, s])), None)
            if twin is not None:
                same[init, s] = (twin, s)
    groups: dict = {}
    for key in keys:
        if (key[0], key[1]) not in same:
            groups.setdefault(finetune.architecture_key(init_params[key[0], key[1]]), []).append(key)
    tuned = {}
    for members in groups.values():
        recipe, _ = finetune.recipe_for(init_params[members[0][0], members[0][1]])
        outcomes = finetune.finetune_many([init_params[i, s] for i, s, _ in members],
                                          [pools[s][0][:b] for _, s, b in members],
                                          [pools[s][1][:b] for _, s, b in members], recipe,
                                          seeds=[s + 1 for _, s, _ in members],
                                          keep_start=[vouched(compiler_ids.get(i, "random")) for i, _, _ in members])
        tuned.update(zip(members, outcomes))
    for (init, s), twin in same.items():
        for b in budgets:
            if b > 0:
                tuned[init, s, b] = tuned[twin[0], twin[1], b]
    kept = None
    if guarded:
        kept = {}
        for s in range(seeds):
            for b in budgets:
                if b > 0:
                    tuned["compiled", s, b], kept[s, b] = finetune.better_of(
                        tuned["compiled", s, b], tuned["random", s, b], vouched(compiler_ids["compiled"]))

    curves, histories = {}, {}
    for init in inits:
        curves[init] = [[None] * len(budgets) for _ in range(seeds)]
        for s in range(seeds):
            for i, b in enumerate(budgets):
                params = init_params[init, s] if b == 0 else tuned[init, s, b].params
                curves[init][s][i] = rel_rmse(params.predict(x_test), y_test)
            if b_max > 0:
                histories[init, s] = tuned[init, s, b_max].val_history

    result = {
        "program": program.path, "function": program.function, "n_in": program.signature.n_in,
        "n_out": program.signature.n_out, "budgets": budgets, "seeds": seeds, "test_size": int(x_test.shape[0]),
        "compilers": compiler_ids,
        # where compiled init also tried a random start: per seed, per positive budget, whether its own was kept
        "compiled_start_kept": None if kept is None else [[kept[s, b] for b in budgets if b > 0]
                                                          for s in range(seeds)],
        "rel_rmse": {init: [_median([curves[init][s][i] for s in range(seeds)]) for i in range(len(budgets))]
                     for init in inits},
        "rel_rmse_per_seed": curves,
    }
    # None (JSON null): not measured, i.e. compiled init not run or no budget 0
    result["zero_shot"] = result["rel_rmse"]["compiled"][0] if "compiled" in inits and budgets[0] == 0 else None
    if "random" in inits and b_max > 0:
        for init in (i for i in inits if i != "random"):
            ratios, epoch_ratios = [], []
            for s in range(seeds):
                target = curves["random"][s][-1]
                n_c = _log_interp_budget(budgets, curves[init][s], target)
                ratios.append(None if n_c is None else b_max / n_c)
                rand_hist = histories["random", s]
                best_epoch = int(np.argmin(rand_hist))
                reached = _epochs_to_reach(histories[init, s], rand_hist[best_epoch])
                epoch_ratios.append(None if reached is None else max(best_epoch, 1) / reached)
            result.setdefault("data_efficiency", {})[init] = {"per_seed": ratios, "median": _median_or_none(ratios)}
            result.setdefault("epoch_ratio", {})[init] = {"per_seed": epoch_ratios,
                                                          "median": _median_or_none(epoch_ratios)}
    return result


def _same_params(a, b) -> bool:
    return a is b or (a.hidden == b.hidden and all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
                      and all(np.array_equal(x, y) for x, y in zip(a.biases, b.biases))
                      and np.array_equal(a.out_scale, b.out_scale) and np.array_equal(a.out_shift, b.out_shift))


def compile_params_random(program, seed: int):
    from nsc.compiler import compile_params

    return compile_params(program, init="random", seed=seed).params


def _median_or_none(values):
    """Median over seeds with "not reached" (None) counted as NOT_REACHED; None if most seeds did not reach."""
    median = float(np.median([NOT_REACHED if v is None else v for v in values]))
    return None if sum(v is None for v in values) * 2 > len(values) else median


def check_inits(inits) -> tuple:
    """The initialisations to compare, each once in the order given; NscError for an unknown one or none."""
    from nsc.compiler.inits import INITS

    inits = tuple(dict.fromkeys(inits))
    for init in inits or [None]:
        if init not in INITS:
            raise NscError(("no initialisation given" if init is None else f"unknown initialisation '{init}'")
                           + f" (choose from {', '.join(INITS)})")
    return inits


def evaluate_programs(programs, budgets, seeds=3, inits=("random", "compiled", "unconditioned"), test_size=2000,
                      echo=print) -> dict:
    inits = check_inits(inits)  # before any sampling or fine-tuning
    # Every program compiled, then sampled, before any is fine-tuned: a later program's error (the compiler's
    # limits, cc rejecting it at the harness build, a crash) surfaced after the earlier ones' work, which was lost.
    compiled = [compile_inits(p, inits, seeds) for p in programs]
    data = [draw_data(p, budgets, seeds, test_size) for p in programs]
    per_program = [evaluate_program(p, budgets, seeds, inits, test_size, echo, d, c)
                   for p, d, c in zip(programs, data, compiled)]
    return {"definitions": __doc__.strip(), "summary": summarise(per_program, inits), "per_program": per_program}


def summarise(per_program: list, inits=("random", "compiled", "unconditioned")) -> dict:
    """The summary over programs of `evaluate_program` results (also re-run on stored results by bench/)."""
    summary = {"programs": len(per_program)}
    positive = any(b > 0 for r in per_program for b in r["budgets"])
    # data efficiency and epoch ratio are measured against random init after fine-tuning; without either, every
    # figure below is None (JSON null, never a 0 that reads as measured) and "not_measured" says why
    not_measured = ("data efficiency and epoch ratio need the random init" if "random" not in inits else
                    "data efficiency and epoch ratio need a positive budget" if not positive else None)
    for init in inits:
        if init == "random":
            continue
        scored = [r for r in per_program if "data_efficiency" in r]
        de = [r["data_efficiency"][init]["median"] for r in scored]
        er = [r["epoch_ratio"][init]["median"] for r in scored]
        # a program whose initialisation already beats random init's largest budget before any fine-tuning has
        # the largest possible ratio (max budget / 1); reported apart so it cannot hide how the rest does
        before = [v is not None and v >= r["budgets"][-1] for v, r in zip(de, scored)]

        def count(flags):
            return sum(flags) if scored else None

        summary[init] = {
            "data_efficiency_geomean": _geomean(de), "data_efficiency_median": _median(de),
            "data_efficiency_not_reached": count(v is None for v in de),
            "epoch_ratio_geomean": _geomean(er), "epoch_ratio_median": _median(er),
            "epoch_ratio_not_reached": count(v is None for v in er),
            "reached_before_finetuning": count(before),
            "data_efficiency_geomean_others": _geomean([v for v, b in zip(de, before) if not b]),
            "epoch_ratio_geomean_others": _geomean([v for v, b in zip(er, before) if not b]),
            # the same geometric means for each seed alone (one fine-tuning run per program): their spread is
            # what a single run's figure can differ by
            "data_efficiency_geomean_per_seed": _per_seed_geomeans(scored, "data_efficiency", init),
            "epoch_ratio_geomean_per_seed": _per_seed_geomeans(scored, "epoch_ratio", init),
            # where along the budgets the others gain: data efficiency is anchored at the largest budget, where
            # every initialisation approaches the same error floor
            "error_ratio_geomean_others": _error_ratios([r for r, b in zip(scored, before) if not b], init),
            # "never worse": this init's rel-RMSE at the largest budget as a share of random init's, per program
            "error_ratio_at_max_geomean": _geomean(at_max := [r["rel_rmse"][init][-1] / r["rel_rmse"]["random"][-1]
                                                              for r in scored]),
            "error_ratio_at_max_worst": max(at_max) if at_max else None,
            "error_ratio_at_max_worst_program": scored[int(np.argmax(at_max))].get("program") if at_max else None,
        }
        if not scored:
            summary[init]["not_measured"] = not_measured or "data efficiency and epoch ratio were not measured"
    # zero-shot needs compiled init and budget 0; None (JSON null) where not measured
    zs = [r["zero_shot"] for r in per_program if r.get("zero_shot") is not None]
    summary["zero_shot_median"] = _median(zs)
    summary["zero_shot_geomean"] = _geomean(zs)
    if {"compiled", "unconditioned"} <= set(inits) and positive:
        # Compiled beats unconditioned on a program when its median learning curve is lower on average
        # (mean log rel-RMSE over the positive budgets).
        def score(r, init):
            return np.mean([math.log(v) for b, v in zip(r["budgets"], r["rel_rmse"][init]) if b > 0])

        wins = [score(r, "compiled") < score(r, "unconditioned") for r in per_program]
        summary["compiled_beats_unconditioned"] = f"{sum(wins)}/{len(wins)}"
    return summary


def _error_ratios(results: list, init: str) -> dict:
    """Budget -> geometric mean over programs of init's median rel-RMSE / random init's, after fine-tuning on
    that many samples (positive budgets; empty without programs)."""
    if not results:
        return {}
    budgets = results[0]["budgets"]
    return {str(b): _geomean([r["rel_rmse"][init][k] / r["rel_rmse"]["random"][k] for r in results])
            for k, b in enumerate(budgets) if b > 0}


def _per_seed_geomeans(results: list, key: str, init: str) -> list:
    seeds = len(results[0][key][init]["per_seed"]) if results else 0
    return [_geomean([r[key][init]["per_seed"][s] for r in results]) for s in range(seeds)]


def format_table(results: dict) -> str:
    rows = []
    inits = list(results["per_program"][0]["rel_rmse"]) if results["per_program"] else []

    def ratio(r, key):
        if "compiled" not in r.get(key, {}):
            return "-"
        value = r[key]["compiled"]["median"]
        return "not reached" if value is None else f"{value:.2f}x"

    for r in results["per_program"]:
        zero_shot = r.get("zero_shot")
        cells = [r["program"], "-" if zero_shot is None else f"{zero_shot:.2e}"]
        for init in inits:
            curve = r["rel_rmse"].get(init)
            cells.append(f"{curve[-1]:.2e}" if curve else "-")
        cells += [ratio(r, "data_efficiency"), ratio(r, "epoch_ratio")]
        rows.append(cells)
    header = ["program", "zero-shot", *(f"{SHORT.get(i, i)}@max" for i in inits), "data eff.", "epoch ratio"]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    summary = _summary_lines(results["summary"])
    return "\n".join(out + ([""] if summary else []) + summary) + "\n"


SHORT = {"unconditioned": "uncond", "hypernetwork": "hypernet", "structural": "struct"}


def _summary_lines(s: dict) -> list:
    """The text summary under the table: only figures that were measured, and why the others were not (an init
    or budget 0 not run). Each line's wording is the same as in the full run where the figure exists."""
    out = []

    def ratios(x):  # "data efficiency geomean 2.00x, epoch ratio geomean 1.00x", or why they were not measured
        if x.get("data_efficiency_geomean") is None:
            return x.get("not_measured", "data efficiency and epoch ratio were not measured")
        return (f"data efficiency geomean {x['data_efficiency_geomean']:.2f}x, epoch ratio geomean "
                f"{x['epoch_ratio_geomean']:.2f}x")

    if "compiled" in s:
        c = s["compiled"]
        zero_shot = (f"zero-shot median rel-RMSE {s['zero_shot_median']:.3g}" if s.get("zero_shot_median") is not None
                     else "zero-shot not measured (it needs budget 0)")
        out.append(f"compiled: {ratios(c)}, {zero_shot}" if c.get("data_efficiency_geomean") is not None
                   else f"compiled: {zero_shot}; {ratios(c)}")
        if c.get("reached_before_finetuning"):
            others = c["data_efficiency_geomean_others"]
            out.append(f"  {c['reached_before_finetuning']} program(s) beat random init's largest budget before "
                       f"fine-tuning; "
                       + (f"the others: data efficiency geomean {others:.2f}x, epoch ratio geomean "
                          f"{c['epoch_ratio_geomean_others']:.2f}x" if others is not None
                          else "that is every program, so there are no others to average"))
        if c.get("error_ratio_geomean_others"):
            out.append(f"  the {'others' if c.get('reached_before_finetuning') else 'programs'}' rel-RMSE as a share "
                       f"of random init's (geomean), by the number of samples fine-tuned on: "
                       + ", ".join(f"{b}: {v:.2f}" for b, v in c["error_ratio_geomean_others"].items()))
        if len(c.get("data_efficiency_geomean_per_seed", [])) > 1:
            out.append("  each seed alone: data efficiency geomean "
                       + ", ".join(f"{v:.2f}x" for v in c["data_efficiency_geomean_per_seed"])
                       + "; epoch ratio geomean " + ", ".join(f"{v:.2f}x" for v in c["epoch_ratio_geomean_per_seed"]))
        if c.get("error_ratio_at_max_worst") is not None:
            out.append(f"  rel-RMSE at the largest budget as a share of random init's: geomean "
                       f"{c['error_ratio_at_max_geomean']:.2g}, worst {c['error_ratio_at_max_worst']:.2g} "
                       f"({c['error_ratio_at_max_worst_program']})")
    for init in ("structural", "hypernetwork"):
        if init in s:
            x = s[init]
            reached = x.get("reached_before_finetuning")
            out.append(f"{init}: {ratios(x)}" + (f"; {reached} reached before fine-tuning" if reached else ""))
    if "unconditioned" in s:
        beats = s.get("compiled_beats_unconditioned")  # absent unless compiled init ran with a positive budget
        out.append(f"unconditioned: {ratios(s['unconditioned'])}"
                   + (f"; compiled beats unconditioned on {beats} programs" if beats is not None else ""))
    if not out and s.get("programs"):
        out.append("random init alone: zero-shot, data efficiency and epoch ratio need the compiled or "
                   "unconditioned init")
    return out


PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str) -> str:
    """The plot's file format, from its name (curves.svg is SVG, not PNG bytes under that name)."""
    suffix = os.path.splitext(str(path))[1].lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise NscError(f"--plot '{path}': name the file .png, .svg or .pdf")
    return suffix


def plot_curves(results: dict, path: str) -> None:
    """Learning curves (rel-RMSE vs budget, median over seeds with the seed range shaded), one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nsc.outputs import write_output

    progs = results["per_program"]
    cols = min(4, len(progs))
    rows = math.ceil(len(progs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    colours = {"random": "tab:gray", "compiled": "tab:blue", "unconditioned": "tab:orange",
               "structural": "tab:green", "hypernetwork": "tab:purple"}
    for ax, r in zip(axes.flat, progs):
        b = np.array(r["budgets"], dtype=float)
        xs = np.where(b == 0, b[b > 0].min() / 2 if (b > 0).any() else 1, b)  # budget 0 drawn left of the rest
        for init, per_seed in r["rel_rmse_per_seed"].items():
            arr = np.array(per_seed, dtype=float)
            ax.plot(xs, np.median(arr, axis=0), marker="o", ms=3, label=init, color=colours.get(init))
            ax.fill_between(xs, arr.min(axis=0), arr.max(axis=0), alpha=0.2, color=colours.get(init))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(int(v)) for v in b], fontsize=7)
        ax.minorticks_off()
        ax.set_title(f"{r['function']}", fontsize=9)
        ax.set_xlabel("training samples", fontsize=8)
        ax.set_ylabel("test rel-RMSE", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(progs):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=plot_format(path), dpi=100)
    plt.close(fig)
    write_output(path, buf.getvalue())
