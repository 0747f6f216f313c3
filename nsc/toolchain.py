"""What each `nsc` command does, as plain functions: the library API behind nsc/cli.py (and `import nsc`).

Each function takes paths and keyword options (the command's options, by the same names), does the work through
the stage modules, writes its outputs through nsc/outputs.py (never over a file it reads), and returns its result:
a JSON-able summary (compile, sample, finetune, inspect, eval, check, emit-c) or the predictions (run_model).
Nothing is printed on standard output; warnings go to standard error, or to an `echo` function. Every wrong argument is an NscError naming it (nsc/arguments.py). Heavy
modules (torch, onnxruntime) are imported inside the functions that need them, so `nsc compile` never imports
torch.

The options of every function that reads a C program are those of `load_program`: function, ranges,
default_range, include_dirs, defines.
"""

from __future__ import annotations

import datetime
import numbers
import os
import sys
import warnings
from pathlib import Path

from nsc import arguments
from nsc.errors import NscError
from nsc.outputs import check_output, write_output


# ----------------------------------------------------------------------------------------------- helpers

def _now() -> str:
    """The time stamp of a history entry: now, or SOURCE_DATE_EPOCH where it is set, as reproducible builds ask
    (https://reproducible-builds.org/specs/source-date-epoch/): the same inputs then give the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        moment = datetime.datetime.now(datetime.timezone.utc)
    else:
        try:  # (the spec: a malformed value must fail the build, not be ignored)
            text = epoch.strip()
            seconds = int(text) if text.isascii() and text.isdigit() else None
            moment = None if seconds is None else datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            moment = None
        if moment is None:
            raise NscError(f"SOURCE_DATE_EPOCH='{epoch}' is not a number of seconds since 1970-01-01 "
                           "(reproducible-builds.org)")
    return moment.isoformat(timespec="seconds")


def _parse_interval(text: str, what: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise NscError(f"{what} '{text}' is not of the form LO:HI") from None


def _parse_define(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    if not name.isidentifier():
        raise NscError(f"-D '{text}' is not of the form NAME or NAME=VALUE")
    return name, value or "1"


def load_program(path, *, function=None, ranges=(), default_range=None, include_dirs=(), defines=()):
    """Read the C file at `path` into a Program (nsc.frontend.program), as every command that reads one does.

    function:      the target function's name (-f); None: the one marked `#pragma nsc surrogate`, else the only
                   non-static function other than main.
    ranges:        input ranges, which win over the source's `#pragma nsc range` (--range): a list of
                   "NAME=LO:HI" strings (NAME an input, an array, or one element such as a[2]; one range alone may
                   be a str), or a dict NAME -> (LO, HI).
    default_range: the range of the inputs that have none (--default-range): "LO:HI" or (LO, HI); None: an input
                   without a range is an error.
    include_dirs:  header directories (-I): a list of paths.
    defines:       macros (-D): a list of "NAME" or "NAME=VALUE" strings, or a dict NAME -> VALUE.
    """
    from nsc.frontend import load_program as _load

    path = arguments.path(path, "the program")
    return _load(path, **_frontend_options(arguments.program_options(function, ranges, default_range, include_dirs,
                                                                     defines)))


def _frontend_options(opts: dict) -> dict:
    """arguments.program_options' checked options as nsc.frontend.load_program takes them."""
    from nsc.frontend import parse_range_option

    ranges, dflt = opts["ranges"], opts["default_range"]
    range_map = ranges if isinstance(ranges, dict) else dict(parse_range_option(r) for r in ranges)
    if isinstance(dflt, str):
        dflt = _parse_interval(dflt, "--default-range")
    return dict(function=opts["function"], ranges=range_map, default_range=dflt,
                include_dirs=tuple(opts["include_dirs"]), defines=tuple(_parse_define(d) for d in opts["defines"]))


def _positive_int(value, what: str) -> None:
    """NscError unless `value` is a positive integer (not a bool, not 3.5 that would silently become 3)."""
    arguments.integer(value, what, minimum=1)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def _check_distinct(**outputs) -> None:
    """Two outputs of one command must be two files: the second would replace the first after it was written."""
    seen = {}
    for option, out in outputs.items():
        if out:
            key = os.path.realpath(out)
            if key in seen:
                raise NscError(f"{seen[key]} and {option} name the same file '{out}': give each output its own name")
            seen[key] = option


def write_depfile(target: str, deps: list[str], depfile: str) -> None:
    """A make rule `target: deps...` (spaces escaped), written by nsc/outputs.py's rules."""
    esc = lambda p: str(p).replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")  # noqa: E731 - as cc -MD
    body = f"{esc(target)}: " + " \\\n  ".join(esc(d) for d in deps) + "\n"
    # Phony targets for headers, so a deleted header does not break make (as gcc -MP does).
    body += "".join(f"\n{esc(d)}:\n" for d in deps[1:])
    write_output(depfile, body)


# ----------------------------------------------------------------------------------------------- compile

def compile_file(path, output=None, *, init="compiled", seed=0, depfile=None, write_md=False, arch=None,
                 max_flops=None, function=None, ranges=(), default_range=None, include_dirs=(), defines=()) -> dict:
    """`nsc compile`: the C function in `path` -> a surrogate ONNX file at `output` (default: PROG.onnx in the
    current directory).

    init:      where the weights come from: one of nsc.compiler.INITS ("compiled", the default: the structural
               compiler where it translates the function, else the trained hypernetwork; "structural",
               "hypernetwork", "unconditioned", "random").
    seed:      the seed of init="random".
    depfile:   also write a make rule listing the headers read to this path; write_md=True: to OUTPUT.d (-MD).
    arch:      hidden layer widths ("64,64" or [64, 64]), or max_flops (an int): an MLP of that size instead,
               distilled from the compiled network (nsc/compiler/distill.py), with no program runs.
    function, ranges, default_range, include_dirs, defines: which function and its input ranges (load_program).

    Returns the summary `nsc compile --json` prints: output, program, function, n_in, n_out, inputs, outputs,
    compiler, init, notes (warnings, also printed by the command), depfile, hidden, the model's size,
    compiled_exactly, closed_form_error. NscError on bad input, and nothing is written then."""
    from nsc.compiler.inits import INITS
    from nsc.execute.build import start_syntax_check
    from nsc.frontend.preprocess import start_preprocessing

    path = arguments.path(path, "the program")
    output = arguments.path(output, "output", optional=True)
    depfile = arguments.path(depfile, "depfile", optional=True)
    arguments.choice(init, "init", INITS)
    arguments.integer(seed, "seed")
    arguments.flag(write_md, "write_md")
    if isinstance(arch, (list, tuple)):
        arch = ",".join(str(arguments.integer(w, "each width of arch", minimum=1)) for w in arch)
    arch = arguments.text(arch, "arch", optional=True)
    program_options = arguments.program_options(function, ranges, default_range, include_dirs, defines)
    _now()  # a malformed SOURCE_DATE_EPOCH fails before the work, not after it
    frontend_options = _frontend_options(program_options)
    # cc's two runs (its type check, and the preprocessor the front-end reads) start before the parser, the
    # analysis and the compiler are imported: they run on another core while those load
    include_dirs, defines = frontend_options["include_dirs"], frontend_options["defines"]
    type_checked = start_syntax_check(path, path, include_dirs, defines)
    preprocessing = start_preprocessing(path, include_dirs, defines)
    if init != "compiled":  # (compiled: the structural compiler first; the hypernetwork loads only if it is needed)
        from nsc.compiler.hypernet import prepare

        prepare(init)  # the hypernetwork's session loads while the front-end reads the program
    from nsc.compiler.inits import compile_params
    from nsc.frontend import load_program as _load
    from nsc.surrogate import onnx_io

    program = _load(path, **frontend_options, preprocessed=preprocessing)
    output = output or Path(path).with_suffix(".onnx").name
    check_output(output, [path, *program.headers])
    if write_md or depfile:
        depfile = depfile or str(Path(output).with_suffix(".d"))
        check_output(depfile, [path, *program.headers])
        _check_distinct(**{"-o": output, "the depfile": depfile})
    hidden = None
    if arch is not None and max_flops is not None:
        raise NscError("give --arch or --max-flops, not both")
    if arch is not None or max_flops is not None:
        from nsc.compiler.distill import parse_arch, widths_for_flops

        _positive_int(max_flops, "--max-flops") if max_flops is not None else None
        sig = program.signature
        hidden = parse_arch(arch) if arch is not None else widths_for_flops(sig.n_in, sig.n_out, max_flops)
    params, compiler_id, notes = compile_params(program, init=init, seed=seed, hidden=hidden)
    event = {"event": "compile", "time": _now(), "init": init, "compiler": compiler_id}
    if init == "random":
        event["seed"] = seed
    if notes:
        event["notes"] = list(notes)
    model = onnx_io.surrogate_bytes(params, program.signature.to_json(),
                                    {"source_sha256": program.sha256, "compiler": compiler_id, "history": [event]})
    type_checked()  # cc rejects what the front-end's parser accepts (type errors): no surrogate for it
    onnx_io.save_onnx(model, output)
    if depfile:
        write_depfile(output, [str(path), *program.headers], depfile)
    sig = program.signature
    return {"output": str(output), "program": str(path), "function": sig.function, "n_in": sig.n_in,
            "n_out": sig.n_out, "inputs": sig.input_names, "outputs": sig.output_names, "compiler": compiler_id,
            "init": init, "notes": list(program.notes) + list(notes), "depfile": depfile,
            "hidden": list(params.hidden), **model_size(params), **closed_form(params.extra)}


# ----------------------------------------------------------------------------------------------- sample

def sample_file(path, n=None, output=None, *, seed=0, inputs_path=None, timeout=5.0, memory_mb=1024,
                keep_nonfinite=False, function=None, ranges=(), default_range=None, include_dirs=(),
                defines=()) -> dict:
    """`nsc sample`: run the real program natively and write its inputs and outputs to `output` (CSV, or .npz by
    name; "-" or None: CSV on standard output).

    n:              draw n inputs uniformly in the ranges (seeded by `seed`); or
    inputs_path:    run these rows instead (an oracle): a CSV/NPZ/NPY file, "-" for CSV on standard input, or rows
                    inline as `nsc run` takes them ("t0=100,k=0.05;t0=90,k=0.1"). Exactly one of n and inputs_path.
    timeout:        seconds one row may run before it counts as a hang; memory_mb: the program's memory limit.
    keep_nonfinite: keep rows whose outputs are NaN or Inf (dropped by default, and counted).
    function, ranges, default_range, include_dirs, defines: which function and its input ranges (load_program).

    Returns the summary `nsc sample --json` prints: output, program, function, n_rows, n_requested,
    n_nonfinite_dropped, inputs, outputs, seed, sandbox. A crash or a hang is an NscError naming the row, and
    nothing is written then."""
    from nsc import data, tables
    from nsc.execute import isolation_warning, sample_program

    path = arguments.path(path, "the program")
    if (n is None) == (inputs_path is None):
        raise NscError("give exactly one of n (samples to draw) and inputs_path (rows to run)")
    if n is not None:
        _positive_int(n, "the number of samples")
    output = arguments.path(output, "output", optional=True)
    output = None if output == "-" else output
    inputs_path = arguments.path(inputs_path, "inputs_path", optional=True)
    arguments.integer(seed, "seed")
    arguments.number(timeout, "timeout", positive=True)
    arguments.integer(memory_mb, "memory_mb", minimum=16)
    arguments.flag(keep_nonfinite, "keep_nonfinite")
    program = load_program(path, function=function, ranges=ranges, default_range=default_range,
                           include_dirs=include_dirs, defines=defines)
    sig = program.signature
    if output:
        check_output(output, [path, *program.headers, inputs_path])
    for note in program.notes:
        print(f"{path}: warning: {note}", file=sys.stderr)
    inputs = None
    if inputs_path is not None:  # (a program's inputs are doubles: no float32 limit, unlike `nsc run`)
        rows = tables.parse_inputs(inputs_path, sig.input_names)
        tables.check_integer_inputs(rows, sig.input_names, [p.ctype for p in sig.inputs])
        inputs = rows.x
    result = sample_program(program, n=n, seed=seed, keep_nonfinite=keep_nonfinite, inputs=inputs,
                            timeout=timeout, memory_mb=memory_mb)
    if (warning := isolation_warning(result.sandbox)) is not None:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    if result.error is not None:  # nothing half-written: a make rule must not see a target from a failed run
        raise result.error
    if (big := data.beyond_float32(result.y, sig.output_names)) is not None:
        print(f"{path}: warning: {big}: nsc finetune will refuse them; narrow the input ranges", file=sys.stderr)
    data.write_samples(output, sig.input_names, sig.output_names, result.x, result.y)
    return {"output": output, "program": str(path), "function": sig.function, "n_rows": int(result.x.shape[0]),
            "n_requested": int(result.n_requested), "n_nonfinite_dropped": int(result.n_nonfinite_dropped),
            "inputs": sig.input_names, "outputs": sig.output_names, "seed": seed, "sandbox": result.sandbox}


# ----------------------------------------------------------------------------------------------- run

def run_model(model_path, inputs, *, device="cpu", output=None, fmt=None) -> dict:
    """`nsc run`: the surrogate in `model_path` on `inputs`; returns the predictions.

    inputs: rows inline, "NAME=VALUE,NAME=VALUE" (';' between rows); or the path of a CSV, NPY or NPZ file of
            them; or "-": CSV on standard input. (To predict from arrays, use nsc_runtime.load(model).predict.)
    device: "cpu" or "cuda" (never falls back to the CPU).
    output: also write the inputs and the predictions to this file ("-": standard output), as `fmt` says:
            "csv" or "json" (None: JSON for a name ending in .json, else CSV). None: write nothing.

    Returns a dict of columns, in the order of the CSV `nsc run` writes: each input's name -> its values as read
    (float64 [n]), then each output's name -> its predictions (float32 [n]). Inputs outside the ranges the
    surrogate was compiled for are a warning on standard error."""
    import nsc_runtime

    from nsc import data, tables

    model_path = arguments.path(model_path, "the model")
    if not isinstance(inputs, (str, os.PathLike)):
        raise NscError(f"inputs must be 'NAME=VALUE,...', a file path or '-', not {type(inputs).__name__}: to "
                       "predict from arrays, use nsc_runtime.load(model).predict(...)")
    inputs = os.fspath(inputs)
    arguments.choice(device, "device", ("cpu", "cuda"))
    output = arguments.path(output, "output", optional=True)
    if fmt is not None:
        arguments.choice(fmt, "fmt", ("csv", "json"))
    if fmt is None:
        fmt = "json" if output is not None and os.fspath(output).lower().endswith(".json") else "csv"
    if inputs in (None, "-") and sys.stdin.isatty():  # (it waited for input without a word)
        print("nsc run: reading CSV input rows from the terminal (a header line first; Ctrl-D ends)",
              file=sys.stderr)

    try:
        surrogate = nsc_runtime.load(model_path, device=device)
    except nsc_runtime.SurrogateError as e:  # the runtime's message starts with the path: name it once
        message = str(e).removeprefix(f"{model_path}: ")
        raise NscError(message, path=str(model_path)) from None
    if output and output != "-":
        check_output(output, [model_path, inputs])
    rows = tables.parse_inputs(inputs, surrogate.inputs, float32=True)  # (beyond float32: an error, located)
    tables.check_integer_inputs(rows, surrogate.inputs, [port.get("ctype") if isinstance(port, dict) else None
                                                         for port in surrogate.signature["inputs"]])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nsc_runtime.RangeWarning)
            y = surrogate.predict(rows.x)
    except nsc_runtime.SurrogateError as e:
        raise NscError(str(e)) from None
    for w in caught:  # as a compiler warns: one line naming the file, not Python's warning format
        print(f"{model_path}: warning: {w.message}", file=sys.stderr)
    if output is not None:
        data.write_predictions(rows.x, y, surrogate.inputs, surrogate.outputs, fmt=fmt,
                               output=None if output == "-" else output, input_texts=rows.texts)
    return {**{name: rows.x[:, j] for j, name in enumerate(surrogate.inputs)},
            **{name: y[:, j] for j, name in enumerate(surrogate.outputs)}}


# ----------------------------------------------------------------------------------------------- finetune

def finetune_file(model_path, data_path, output=None, *, seed=0, device="cpu", recipe=None, echo=None) -> dict:
    """`nsc finetune`: adapt the surrogate in `model_path` to the observations in `data_path` (CSV or NPZ, columns
    by name) and write it to `output` (default: `model_path`, in place), its history extended.

    seed:   the seed of the validation split and the minibatch order.
    device: "cpu" or "cuda".
    recipe: a dict of FinetuneRecipe settings to change (max_epochs, lr, batch_size, val_frac, patience, ...;
            nsc/surrogate/finetune.py); None: the recipe as it is.
    echo:   a function given each warning's text (None: standard error).

    Returns the summary `nsc finetune --json` prints: output, and the history entry (epochs, validation and
    training error, rows, data, data_sha256, seed, device, ...) with each output's errors (per_output: name, rmse,
    rel_rmse; worst_output)."""
    from nsc import compiler, data, tables
    from nsc.surrogate import finetune, onnx_io

    model_path = arguments.path(model_path, "the model")
    data_path = arguments.path(data_path, "the data")
    output = arguments.path(output, "output", optional=True)
    arguments.integer(seed, "seed")
    arguments.choice(device, "device", ("cpu", "cuda"))
    if recipe is not None and not isinstance(recipe, dict):
        raise NscError(f"recipe must be a dict of fine-tuning settings or None, not {type(recipe).__name__}")
    echo = _stderr if echo is None else arguments.callback(echo, "echo")
    output = output or model_path  # (in place is allowed: the model is read before it is replaced)
    _now()  # a malformed SOURCE_DATE_EPOCH fails before the work, not after it
    check_output(output, [data_path])
    loaded = onnx_io.load_surrogate(model_path)
    sig = _signature(loaded.signature_json)
    x, y, warnings = tables.read_dataset(data_path, sig.input_names, sig.output_names)  # (float32, once)
    for w in warnings:
        echo(f"{data_path}: warning: {w}")
    from nsc_runtime import out_of_range

    lo, hi = sig.ranges()
    if outside := out_of_range(x, sig.input_names, lo, hi):  # (as `nsc run` warns about the same rows)
        echo(f"{data_path}: warning: {outside}: the surrogate normalises its inputs by those ranges, so these rows "
             "are fitted as extrapolations; widen the ranges and compile again if they matter")
    known = finetune.FinetuneRecipe.__dataclass_fields__
    unknown = sorted(set(recipe or {}) - set(known))
    if unknown:
        raise NscError(f"unknown fine-tuning setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                       f"(the settings: {', '.join(known)})")
    overrides = recipe
    recipe, recipe_name = finetune.recipe_for(loaded.params, overrides)
    recipe.check()
    # The bar ends at the epoch the run stops at unless the validation error improves (the best epoch plus the
    # patience, or the cap): a new best moves the end, so the bar never counts to a cap early stopping skips.
    with _progress_bar(min(recipe.max_epochs, recipe.patience), "finetune") as bar:
        def progress(p):
            bar.total, bar.n = p.stop_by, p.epoch
            bar.set_postfix_str(finetune.progress_text(p), refresh=True)

        start = None  # (a random start: no other start is tried)
        compiler_id = loaded.metadata.get("compiler", "random")
        vouched = compiler.vouched(compiler_id) if isinstance(compiler_id, str) else False
        if finetune.needs_restart(compiler_id):
            # beside a random start on the same rows and split; the better on validation is kept
            from nsc.surrogate.init import random_params

            restart = random_params(sig.n_in, sig.n_out, lo, hi, seed=seed)
            if finetune.architecture_key(restart) == finetune.architecture_key(loaded.params):
                mine, other = finetune.finetune_many([loaded.params, restart], [x, x], [y, y], recipe,
                                                     [seed, seed], device, progress=progress, overwrite=True,
                                                     keep_start=[vouched, False])
            else:  # (a structural network) one after the other, each with its own recipe, on the same split
                mine = finetune.finetune(loaded.params, x, y, recipe=recipe, seed=seed, device=device,
                                         progress=progress, keep_start=vouched)
                other = finetune.finetune(restart, x, y, recipe=finetune.recipe_for(restart, overrides)[0],
                                          seed=seed, device=device, progress=progress, overwrite=True)
            result, kept = finetune.better_of(mine, other, vouched)
            better = "significantly better" if vouched else "better"  # (finetune.better_of)
            start = (f"compiled start (a random restart was not {better} on the validation rows)" if kept else
                     f"random restart (it fit the validation rows {better} than the compiled start)")
            if result.kept_start:
                start += "; fine-tuning was not significantly better either: these are the compiled weights"
        else:
            result = finetune.finetune(loaded.params, x, y, recipe=recipe, seed=seed, device=device,
                                       progress=progress, overwrite=True)
        # (overwrite: x and y were read for this run alone, so the engine normalises them in place, held once)
    entry = result.history_entry(time=_now(), data=os.path.basename(str(data_path)),
                                 data_sha256=data.file_sha256(data_path), rows=int(x.shape[0]), seed=seed,
                                 device=device, recipe_name=recipe_name, start=start)
    entry = {"event": "finetune", **{k: v for k, v in entry.items() if k != "step"}}
    metadata = onnx_io.append_history(loaded.metadata, entry)
    onnx_io.save_onnx(onnx_io.surrogate_bytes(result.params, loaded.signature_json, metadata), output)
    return {"output": str(output), **{k: v for k, v in entry.items() if k != "event"},
            **finetune.output_errors(entry, sig.output_names)}


def _progress_bar(total: int, desc: str):
    """A tqdm bar on a terminal (stderr), silent when piped: the share of `total` done, then the postfix."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {postfix}")


def _signature(signature_json):
    from nsc.frontend.program import Signature

    return Signature.from_json(signature_json)


# ----------------------------------------------------------------------------------------------- inspect

def inspect_model(model_path) -> dict:
    """`nsc inspect`: a surrogate's signature, metadata (compiler, history) and architecture, as the dict
    `nsc inspect --json` prints: path, signature, metadata, architecture (n_in, hidden, n_out, activation,
    parameters, out_calibrated), compiled_exactly, closed_form_error."""
    from nsc.surrogate import onnx_io

    model_path = arguments.path(model_path, "the model")
    loaded = onnx_io.load_surrogate(model_path)
    p = loaded.params
    return {"path": str(model_path), "signature": loaded.signature_json, "metadata": loaded.metadata,
            "architecture": {"n_in": p.n_in, "hidden": list(p.hidden), "n_out": p.n_out,
                             "activation": p.activation if p.floors is None else "relu and identity units",
                             **model_size(p), "out_calibrated": p.out_calibrated},
            **closed_form(p.extra), **certificate_of(loaded)}


def closed_form(extra: dict) -> dict:
    """compiled_exactly; closed_form_error (None, or a bound on the error to which the surrogate computes the
    analysis's closed form of each output, as a share of the output's range: squares and Euclidean lengths
    approximated by ReLU units); structural (None, or the structural network's layers, units, blocks, gates and
    per output its estimated error as a share of the output's std), from a surrogate's params.extra."""
    error = extra.get("closed_form_error")
    structural = extra.get("structural")
    distilled = extra.get("distilled")
    return {"compiled_exactly": bool(extra.get("exact", False)),
            "closed_form_error": float(error) if isinstance(error, (int, float)) else None,
            "structural": dict(structural) if isinstance(structural, dict) else None,
            "distilled": dict(distilled) if isinstance(distilled, dict) else None}


def stated_errors(info: dict) -> list[float]:
    """Each output's estimated error (a share of its std) that the compiler stated: the structural network's, or
    that of an MLP distilled from the computation graph; [] where none was stated (a model file's are checked on
    load: nsc_runtime.metadata.check_extra)."""
    errors = (info.get("structural") or {}).get("estimated_error")
    if errors is None:
        errors = (info.get("distilled") or {}).get("estimated_error")
    return [float(e) for e in errors or []]


def ramp_errors(info: dict) -> list[float]:
    """Each output's estimated error counting the rare inputs in its structural network's jumps' ramps (a share of
    its std: network.py's Network.ramp_error); [] where the compiler stated none."""
    return [float(e) for e in (info.get("structural") or {}).get("ramp_error") or []]


def _ramp_words(error: float, ramp: float) -> str:
    """'; R counting the rare inputs in its jumps' ramps' where that is more than the error stated without them."""
    return f"; {ramp:.2g} counting the rare inputs in its jumps' ramps" if ramp > max(1.5 * error, 1e-9) else ""


def closed_form_words(info: dict) -> str | None:
    """How the surrogate was compiled from the analysis, in words (None: it was not)."""
    distilled = info.get("distilled")
    if distilled and distilled.get("teacher", {}).get("trace") is not None:
        return (f"distilled from {distilled.get('from')} (no program runs), estimated error at most "
                f"{max(stated_errors(info), default=0.0):.2g} of an output's std")
    if distilled:
        teacher = closed_form_words({**closed_form(distilled.get("teacher") or {}), "distilled": None})
        return (f"distilled from {distilled.get('from')} (its error against that network "
                f"{float(distilled.get('distillation_error', 0.0)):.2g} of an output's std)"
                + (f", which was {teacher}" if teacher else ""))
    structural = info.get("structural")
    if structural:
        shape = (f"{structural.get('layers')} layers, {structural.get('blocks')} one-variable blocks, "
                 f"{structural.get('gates')} gates")
        if info.get("compiled_exactly"):
            return f"compiled exactly from the program's own computation ({shape})"
        return (f"compiled from the program's own computation ({shape}), estimated error at most "
                f"{max(stated_errors(info), default=0.0):.2g} of an output's std"
                + _ramp_words(max(stated_errors(info), default=0.0), max(ramp_errors(info), default=0.0)))
    if info.get("compiled_exactly"):
        return "compiled exactly (every output proven piecewise affine)"
    error = info.get("closed_form_error")
    if error is None:
        return None
    return f"compiled from the analysis's closed form of every output, to within {error:.2%} of its range"


def model_size(params) -> dict:
    """parameters, and the floating-point operations one row costs (a multiply and an add a weight, one more a
    hidden unit for its activation and one each output for the output map)."""
    n_params = sum(w.size + b.size for w, b in zip(params.weights, params.biases))
    flops = sum(2 * w.size for w in params.weights) + sum(params.hidden) + 2 * params.n_out + 2 * params.n_in
    return {"parameters": int(n_params), "flops_per_row": int(flops)}


def _widths(arch: dict) -> str:
    hidden = arch["hidden"]
    if len(hidden) > 8:  # a structural network: its depth and widest layer
        return f"{arch['n_in']} -> {len(hidden)} hidden layers of up to {max(hidden)} units -> {arch['n_out']}"
    return f"{arch['n_in']} -> {' -> '.join(map(str, hidden))} -> {arch['n_out']}"


def format_inspection(info: dict) -> str:
    sig, meta, arch = info["signature"], info["metadata"], info["architecture"]
    words = closed_form_words(info)
    lines = [f"{info['path']}: surrogate of {sig['function']}",
             f"  compiler:     {meta.get('compiler', '?')}",
             f"  source:       sha256 {meta.get('source_sha256', '?')}",
             f"  architecture: {_widths(arch)} ({arch['activation']}, {arch['parameters']:,} parameters, "
             f"{arch['flops_per_row']:,} FLOP a row)",
             *([f"  {words}"] if words else []),
             "  inputs:"]
    for port in sig["inputs"]:
        lines.append(f"    {port['name']:<16} {port['ctype']:<14} [{port['lo']:g}, {port['hi']:g}]")
    lines.append("  outputs:")
    errors, ramps = stated_errors(info), ramp_errors(info)
    for j, port in enumerate(sig["outputs"]):
        stated = f"  estimated error {errors[j]:.2g} of its std" if j < len(errors) else ""
        if j < len(errors) and j < len(ramps):
            stated += _ramp_words(errors[j], ramps[j])
        lines.append(f"    {port['name']:<16} {port['ctype']}{stated}")
    if info.get("certificate") is None:
        lines.append(f"  certificate: {info.get('certificate_status', '')}")
    else:
        from nsc.check import format_report

        lines += format_report("  certificate", info["certificate"], info["certificate_status"]).splitlines()
    if info.get("error_predictor"):
        g = info["error_predictor"]
        lines.append(f"  error predictor: trained on {g['n_train']} rows, calibrated on {g['n_calibration']}"
                     + ("" if g["current"] else " (for other weights: run nsc check --guard again)"))
    lines.append("  history:")
    for event in meta.get("history", []):
        rest = ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("event", "time", "recipe"))
        lines.append(f"    {event.get('time', '')} {event.get('event', '?')}: {rest}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- check

CHECK_ROWS = 10_000  # `nsc check`'s default N: p99 then rests on 100 rows


def check_file(model_path, program_path, *, n=CHECK_ROWS, seed=None, plot=None, output=None, timeout=5.0,
               memory_mb=1024, guard=False, echo=None, function=None, ranges=(), default_range=None, include_dirs=(),
               defines=()) -> dict:
    """`nsc check`: run the real program in `program_path` and the surrogate in `model_path` on n fresh inputs and
    store the error figures in the model's metadata (`nsc.certificate`).

    n:          how many inputs, drawn in the surrogate's declared ranges (or those `ranges` gives).
    seed:       their seed (None: evaluate.TEST_SEED, never a training seed).
    plot:       also draw predicted against true values into this .png/.svg/.pdf.
    output:     where the certified model goes (default: `model_path`, in place).
    timeout:    seconds one row may run; memory_mb: the program's memory limit.
    guard:      also train an error predictor on the same rows and store it (`nsc.guard`, for
                `nsc emit-c --guard --max-error`).
    echo:       a function given each warning's text (None: standard error).
    function, ranges, include_dirs, defines: as load_program's; the function is the surrogate's own unless
                `function` names another. default_range is refused (the ranges are the surrogate's).

    Returns {output, status, certified, certificate} and, with guard, the predictor's summary under "guard"."""
    from nsc import check, evaluate
    from nsc.frontend import load_program as _load, parse_range_option
    from nsc.surrogate import certificate, onnx_io

    model_path = arguments.path(model_path, "the model")
    program_path = arguments.path(program_path, "the program")
    plot = arguments.path(plot, "plot", optional=True)
    output = arguments.path(output, "output", optional=True)
    arguments.number(timeout, "timeout", positive=True)
    arguments.integer(memory_mb, "memory_mb", minimum=16)
    arguments.flag(guard, "guard")
    echo = _stderr if echo is None else arguments.callback(echo, "echo")
    program_options = arguments.program_options(function, ranges, default_range, include_dirs, defines)
    _positive_int(n, "the number of inputs (-n)")
    seed = evaluate.TEST_SEED if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise NscError(f"--seed must be a non-negative integer (got {seed!r})")
    output = output or model_path  # (in place is allowed, as for finetune: the model is read before it is replaced)
    loaded = onnx_io.load_surrogate(model_path)
    for path in (output, plot):
        if path:
            check_output(path, [program_path])
    _check_distinct(**{"-o": output, "--plot": plot})
    if plot:
        evaluate.plot_format(plot)
    if program_options.get("default_range"):
        raise NscError("--default-range: nsc check draws inputs in the surrogate's declared ranges; change them "
                       "with --range NAME=LO:HI")
    ranges = program_options["ranges"]
    user_ranges = ranges if isinstance(ranges, dict) else dict(parse_range_option(r) for r in ranges)
    common = dict(function=program_options.get("function") or loaded.signature_json["function"],
                  include_dirs=tuple(program_options.get("include_dirs", ())),
                  defines=tuple(_parse_define(d) for d in program_options.get("defines", ())))
    # first the program's own columns (any range will do), so another function is named as such, then the
    # program with the surrogate's ranges
    check.check_columns(loaded.signature_json, _load(str(program_path), ranges=user_ranges,
                                                     default_range=(0.0, 1.0), **common))
    program = _load(str(program_path), ranges=check.sampling_ranges(loaded.signature_json, user_ranges), **common)
    for path in (output, plot):
        if path:
            check_output(path, program.headers)  # (known once the program is read)
    for note in program.notes:
        echo(f"{program_path}: warning: {note}")
    cert, x, y_true, y_pred = check.measure(str(model_path), loaded, program, n, seed, timeout, memory_mb)
    metadata = {**loaded.metadata, certificate.KEY: certificate.dumps(cert)}
    extra = {}
    if guard:
        metadata["guard"], extra["guard"] = check.train_guard(loaded.params, loaded.signature_json, x, y_true, y_pred,
                                                              seed)
    if plot:
        check.plot_parity(program.signature.output_names, y_true, y_pred, plot)
    onnx_io.save_onnx(onnx_io.surrogate_bytes(loaded.params, loaded.signature_json, metadata), output)
    certified, why = certificate.status(cert, loaded.params, str(program_path))
    return {"output": str(output), "certified": certified, "status": why, "certificate": cert,
            **({"plot": str(plot)} if plot else {}), **extra}


def certificate_of(loaded) -> dict:
    """The certificate fields `nsc inspect` shows: certificate (the record or None), certified and
    certificate_status (certificate.status's words), error_predictor (None, or what `nsc check --guard` trained
    and whether it still describes these weights)."""
    from nsc.surrogate import certificate, guard

    cert = certificate.read(loaded.metadata)
    certified, why = certificate.status(cert, loaded.params)
    record = guard.read(loaded.metadata)
    predictor = None if record is None else {
        "n_train": record["n_train"], "n_calibration": record["n_calibration"],
        "current": record["weights_sha256"] == certificate.weights_sha256(loaded.params)}
    return {"certificate": cert, "certified": certified, "certificate_status": why, "error_predictor": predictor}


# ----------------------------------------------------------------------------------------------- emit-c

def emit_c_file(model_path, output=None, *, name=None, guard=False, max_error=None) -> dict:
    """`nsc emit-c`: the surrogate in `model_path` as C99: `output` (NAME.c, default `<name>.c` here) and the
    header beside it (NAME.h).

    name:      the C function (default `<function>_surrogate`).
    guard:     check inputs against the ranges and call the original function outside them.
    max_error: with guard, also where the error predictor `nsc check --guard` stored predicts more than this (in
               output standard deviations).

    Returns a summary dict (output, header, name, function, n_in, n_out, guarded, max_error, certified,
    certificate_status)."""
    from nsc.emit import emit_c
    from nsc.surrogate import certificate, onnx_io

    model_path = arguments.path(model_path, "the model")
    output = arguments.path(output, "output", optional=True)
    name = arguments.text(name, "name", optional=True)
    arguments.flag(guard, "guard")
    if max_error is not None:
        arguments.number(max_error, "max_error", positive=True)

    loaded = onnx_io.load_surrogate(model_path)
    function = loaded.signature_json["function"]
    name = name or f"{function}_surrogate"
    output = str(output or f"{name}.c")
    if not output.endswith(".c") or os.path.basename(output) == ".c":
        raise NscError(f"-o '{output}': name the C file NAME.c (the header is written beside it as NAME.h)")
    header_path = output[:-2] + ".h"
    for path in (output, header_path):
        check_output(path, [model_path])
    c_text, h_text = emit_c(loaded, name=name, model=os.path.basename(str(model_path)), guard=guard,
                            max_error=max_error, header_name=os.path.basename(header_path))
    write_output(header_path, h_text)
    write_output(output, c_text)
    certified, why = certificate.status(certificate.read(loaded.metadata), loaded.params)
    return {"output": output, "header": header_path, "name": name, "function": function,
            "n_in": loaded.params.n_in, "n_out": loaded.params.n_out, "guarded": bool(guard),
            "max_error": max_error, "certified": certified, "certificate_status": why}


# ----------------------------------------------------------------------------------------------- eval

MAX_BUDGET = 1_000_000  # samples a budget may ask for: every (init, seed) fine-tunes on them in memory


def parse_budgets(budgets: str) -> list[int]:
    """`nsc eval --budgets 0,16,64`: sorted, each once; NscError for anything else."""
    try:
        budget_list = sorted({int(b) for b in budgets.split(",") if b.strip()})
    except ValueError:
        raise NscError(f"--budgets '{budgets}' is not a comma-separated list of integers") from None
    if not budget_list or budget_list[0] < 0:
        raise NscError("--budgets must list non-negative integers")
    if budget_list[-1] > MAX_BUDGET:  # (10^10 ended in a 149 GiB allocation traceback; 10^8 ran for hours)
        raise NscError(f"--budgets: {budget_list[-1]} samples is more than nsc eval fine-tunes on (at most "
                       f"{MAX_BUDGET:,})")
    return budget_list


def parse_inits(inits: str) -> list[str]:
    """`nsc eval --inits random,compiled`: the names, each a known initialisation; NscError otherwise."""
    from nsc.evaluate import check_inits

    names = [s.strip() for s in inits.split(",") if s.strip()]
    check_inits(names)
    return names


def evaluate_files(paths, *, budgets="0,16,32,64,128,256,512,1024", seeds=3,
                   inits="random,compiled,unconditioned", test_size=2000, plot=None, output=None, echo=None,
                   function=None, ranges=(), default_range=None, include_dirs=(), defines=()) -> dict:
    """`nsc eval`: NOTES.md section 5 on each C file in `paths` (a list): fine-tune every initialisation on each
    budget of samples, several times, and measure on fresh samples.

    budgets:   training-set sizes: "0,16,64" or a list of integers.
    seeds:     repeats of each (initialisation, budget), each with its own seed.
    inits:     the initialisations to compare: "random,compiled" or a list of names.
    test_size: fresh samples each surrogate is measured on (at least 100).
    plot:      also draw the learning curves to this .png/.svg/.pdf; output: also write the results as JSON here.
    echo:      a function given each line of progress (None: standard error).
    function, ranges, default_range, include_dirs, defines: as load_program's, for every program.

    Returns the results dict `nsc eval --json` prints (per program, and a summary). Every program is checked
    before any is fine-tuned."""
    from nsc import evaluate

    paths = arguments.paths(paths, "paths")
    if isinstance(budgets, (list, tuple)):
        budgets = ",".join(str(arguments.integer(b, "each budget", minimum=0)) for b in budgets)
    if isinstance(inits, (list, tuple)):
        inits = ",".join(arguments.text(i, "each of inits") for i in inits)
    budget_list = parse_budgets(arguments.text(budgets, "budgets"))
    init_list = parse_inits(arguments.text(inits, "inits"))
    _positive_int(seeds, "--seeds")
    arguments.integer(test_size, "test_size", minimum=100)
    plot = arguments.path(plot, "plot", optional=True)
    output = arguments.path(output, "output", optional=True)
    echo = _stderr if echo is None else arguments.callback(echo, "echo")
    program_options = dict(function=function, ranges=ranges, default_range=default_range, include_dirs=include_dirs,
                           defines=defines)
    _check_distinct(**{"--plot": plot, "-o": output})
    if plot:
        evaluate.plot_format(plot)
    programs = [load_program(p, **program_options) for p in paths]
    read = [*paths, *(header for program in programs for header in program.headers)]
    for path in (plot, output):
        if path:
            check_output(path, read)
    results = evaluate.evaluate_programs(programs, budgets=budget_list, seeds=seeds, inits=init_list,
                                         test_size=test_size, echo=echo)
    from nsc.execute import isolation, isolation_warning

    results["sandbox"] = isolation()  # (every program ran natively by now)
    if (warning := isolation_warning(results["sandbox"])) is not None:
        echo(f"nsc eval: warning: {warning}")
    if output:
        import json

        write_output(output, json.dumps(results, indent=2) + "\n")
    if plot:
        evaluate.plot_curves(results, plot)
    return results


def format_evaluation(results: dict) -> str:
    from nsc import evaluate

    return evaluate.format_table(results)


