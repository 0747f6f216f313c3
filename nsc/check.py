"""`nsc check`: measure a surrogate against the real program on fresh inputs, as a certificate.

    sampling_ranges(signature_json, user_ranges) -> ranges for load_program: the surrogate's own, --range wins
    measure(loaded, program, n, seed, timeout, memory_mb) -> (certificate dict, x, y_true, y_pred)
    plot_parity(names, y_true, y_pred, path)    predicted vs true, one panel per output

The inputs are drawn uniformly in the surrogate's declared ranges (or the ones --range gives, to measure
extrapolation) with nsc's own sampler and run natively through the sandboxed harness (nsc/execute); the
surrogate runs through nsc_runtime, the deployed path. The figures are nsc.evaluate.error_figures; the record is
nsc/surrogate/certificate.py's; toolchain.check_file stores it in the model.
"""

from __future__ import annotations

import datetime
import warnings

import numpy as np

from nsc.errors import NscError
from nsc.surrogate import certificate


def sampling_ranges(signature_json: dict, user_ranges: dict) -> dict:
    """name -> (lo, hi) for every input of the surrogate, from its declared ranges; a --range for a parameter
    (``a``) replaces its elements' (``a[0]``, ...), one for an element replaces that element's."""
    ranges = {p["name"]: (float(p["lo"]), float(p["hi"])) for p in signature_json["inputs"]}
    params = {p["param"] for p in signature_json["inputs"]}
    for name, bounds in user_ranges.items():
        if name in params:
            ranges = {k: v for k, v in ranges.items() if k.split("[")[0] != name}
        ranges[name] = bounds
    return ranges


def check_columns(signature_json: dict, program) -> None:
    """NscError unless the program's function has the surrogate's input and output columns, in order."""
    sig = program.signature
    ins = [p["name"] for p in signature_json["inputs"]]
    outs = [p["name"] for p in signature_json["outputs"]]
    if (sig.input_names, sig.output_names) != (ins, outs):
        raise NscError(f"{sig.function}({', '.join(sig.input_names)}) -> ({', '.join(sig.output_names)}) is not the "
                       f"surrogate's {signature_json['function']}({', '.join(ins)}) -> ({', '.join(outs)}): check a "
                       "surrogate against the program it was compiled from", program.path)


def measure(model_path: str, loaded, program, n: int, seed: int, timeout: float, memory_mb: int):
    """Run the program and the surrogate in `model_path` (`loaded`, as onnx_io read it) on n fresh inputs;
    (certificate, x, y_true, y_pred). NscError where the program fails on a row or most outputs are NaN/Inf."""
    import nsc_runtime

    from nsc import evaluate
    from nsc.execute import sample_program

    check_columns(loaded.signature_json, program)
    result = sample_program(program, n=n, seed=seed, timeout=timeout, memory_mb=memory_mb)
    if result.error is not None:
        raise result.error
    x, y_true = result.x, result.y
    if x.shape[0] < max(1, n // 2):
        raise NscError(f"only {x.shape[0]} of {n} inputs gave finite outputs (the others NaN or Inf): narrow the "
                       "input ranges to where the program is defined", program.path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nsc_runtime.RangeWarning)  # counted below, per input
            y_pred = nsc_runtime.load(model_path).predict(x)
    except nsc_runtime.SurrogateError as e:
        raise NscError(str(e).removeprefix(f"{model_path}: "), model_path) from None
    sig = program.signature
    lo = np.array([p["lo"] for p in loaded.signature_json["inputs"]], dtype=np.float64)
    hi = np.array([p["hi"] for p in loaded.signature_json["inputs"]], dtype=np.float64)
    outside = (x < lo) | (x > hi)
    s_lo, s_hi = sig.ranges()
    cert = {
        "version": certificate.VERSION, "program": program.path, "program_sha256": program.sha256,
        "function": sig.function, "n": int(x.shape[0]), "seed": int(seed),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "weights_sha256": certificate.weights_sha256(loaded.params),
        "outside_ranges": float(outside.any(axis=1).mean()),
        "outside_by_input": {name: float(outside[:, j].mean()) for j, name in enumerate(sig.input_names)},
        "sampled_ranges": {name: [float(s_lo[j]), float(s_hi[j])] for j, name in enumerate(sig.input_names)},
        "outputs": evaluate.error_figures(y_pred, y_true, sig.output_names),
    }
    if result.n_nonfinite_dropped:
        cert["nonfinite_dropped"] = int(result.n_nonfinite_dropped)
    return cert, x, y_true, y_pred


GUARD_HIDDEN = (16, 16)  # the error predictor: small beside the surrogate (~350 multiply-adds a row for 5 inputs)
GUARD_CALIBRATION = 0.3  # share of the rows held out to calibrate it
GUARD_FLOOR = 1e-9  # errors below this (in output standard deviations) count as this, so their log is finite
GUARD_THRESHOLDS = (0.01, 0.02, 0.05, 0.1, 0.2)  # where `nsc check --guard` reports the share answered


def row_errors(y_pred: np.ndarray, y_true: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Each row's error as the guard measures it: max over outputs of |surrogate - program| / scale."""
    return (np.abs(np.asarray(y_pred, np.float64) - y_true) / scale).max(axis=1)


def train_guard(params, signature_json: dict, x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, seed: int):
    """An error predictor for the surrogate (surrogate/guard.py): a ReLU MLP from the inputs to the log of
    `row_errors`, trained on 70% of the rows, then shifted by the largest under-prediction on the other 30%
    (split conformal calibration, at its most conservative). Returns (record text, summary dict with the share
    of calibration rows the guard lets the surrogate answer at a few thresholds)."""
    from nsc.surrogate import certificate, guard
    from nsc.surrogate.finetune import FinetuneRecipe, finetune
    from nsc.surrogate.init import random_params

    names = [p["name"] for p in signature_json["outputs"]]
    std = y_true.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    target = np.log(np.maximum(row_errors(y_pred, y_true, scale), GUARD_FLOOR))[:, None]
    order = np.random.default_rng(seed).permutation(x.shape[0])
    n_cal = max(1, int(round(GUARD_CALIBRATION * x.shape[0])))
    cal, train = order[:n_cal], order[n_cal:]
    if train.size < 10:
        raise NscError(f"--guard needs more rows to train the error predictor on (-n {x.shape[0]} gives "
                       f"{train.size}); use -n 1000 or more")
    lo = np.array([p["lo"] for p in signature_json["inputs"]], dtype=np.float64)
    hi = np.array([p["hi"] for p in signature_json["inputs"]], dtype=np.float64)
    init = random_params(x.shape[1], 1, np.minimum(lo, x.min(axis=0)), np.maximum(hi, x.max(axis=0)),
                         seed=seed, hidden=GUARD_HIDDEN, activation="relu")
    recipe = FinetuneRecipe(batch_size=128, max_epochs=200, patience=30, lr_patience=15, lr=3e-3)
    predictor = finetune(init, x[train], target[train], recipe=recipe, seed=seed).params
    margin = float((target[cal, 0] - predictor.predict(x[cal])[:, 0]).max())
    predictor.out_shift = (predictor.out_shift.astype(np.float64) + margin).astype(np.float32)
    predicted = predictor.predict(x[cal])[:, 0]
    answered = {str(t): float(np.mean(predicted <= np.log(t))) for t in GUARD_THRESHOLDS}
    record = guard.record(predictor, certificate.weights_sha256(params), dict(zip(names, scale.tolist())), margin,
                          train.size, n_cal, seed)
    return record, {"n_train": int(train.size), "n_calibration": int(n_cal), "margin": margin,
                    "answered_by_surrogate": answered}


def plot_parity(names, y_true: np.ndarray, y_pred: np.ndarray, path: str) -> None:
    """Predicted against true values, one panel per output (at most 16), with the diagonal; written atomically
    as PNG, SVG or PDF by the file's name."""
    import io
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nsc.outputs import write_output
    from nsc.evaluate import plot_format

    names = list(names)[:16]
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes.flat, names)):
        t, p = y_true[:, j], y_pred[:, j]
        ax.scatter(t, p, s=2, alpha=0.4, rasterized=True)
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("program", fontsize=8)
        ax.set_ylabel("surrogate", fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=plot_format(path), dpi=100)
    plt.close(fig)
    write_output(path, buf.getvalue())


def format_report(model: str, cert: dict, status: str) -> str:
    """The table `nsc check` and `nsc inspect` print: one row per output."""
    dropped = cert.get("nonfinite_dropped", 0)
    also = f"; {dropped} more gave the program NaN or Inf outputs and were left out" if dropped else ""
    head = (f"{model}: {status}\n  {cert['function']} in {cert['program']} on {cert['n']} fresh inputs (seed "
            f"{cert['seed']}{also}), {cert['outside_ranges']:.2%} of them outside the declared ranges\n")
    header = ["output", "RMSE", "rel-RMSE", "abs p50", "abs p99", "abs max", "rel p50", "rel p99", "rel max"]
    rows = [[name] + [f"{f[k]:.3g}" for k in ("rmse", "rel_rmse", "abs_p50", "abs_p99", "abs_max", "rel_p50",
                                                 "rel_p99", "rel_max")] for name, f in cert["outputs"].items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return head + "\n".join(lines) + "\n"
