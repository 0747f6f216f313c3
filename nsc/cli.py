"""The `nsc` command line: click commands only. Each parses its options, calls nsc.toolchain, and prints.

Exit codes: 0 success, 1 user error (one compiler-style line on stderr, no traceback), 2 usage error (click),
128 + the signal when stopped by one (130 SIGINT, 129 SIGHUP, 143 SIGTERM), after cleaning up as Ctrl-C does
(nsc/interrupts.py): no temporary file, no harness left running, the previous output intact.
"""

from __future__ import annotations

import os

# numpy's BLAS on one thread, unless the user says otherwise: compile-time distillation's small matrix products
# run as fast on one (6.6 s against 6.2 s of two threads busy on two cores), two threads stall badly beside
# another busy process (minutes instead of seconds), and the bytes a build gives do not depend on how many cores
# the machine has. Set before anything imports numpy; onnxruntime and torch keep their own thread pools.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import contextlib  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402

from nsc import interrupts  # noqa: E402
from nsc.compiler.inits import INITS  # noqa: E402
from nsc.errors import NscError  # noqa: E402


def _fail_cleanly(fn=None, *, preload=()):
    """Turn NscError into `error: ...` + exit 1, and Ctrl-C, SIGTERM and SIGHUP into exit 128 + the signal once
    everything has been cleaned up (nsc/interrupts.py); never a traceback. preload: native modules the command
    imports (torch), imported first with signals held."""
    if fn is None:
        return functools.partial(_fail_cleanly, preload=preload)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with interrupts.signals_raise():
            try:
                interrupts.preload(*preload)
                return fn(*args, **kwargs)
            except NscError as e:
                click.echo(str(e), err=True)
                sys.exit(1)
            except KeyboardInterrupt as e:
                signum = e.signum if isinstance(e, interrupts.Terminated) else signal.SIGINT
                with contextlib.suppress(OSError):  # (after SIGHUP the terminal may be gone)
                    click.echo(f"nsc: {interrupts.STOPPED[signum]}; no output was written", err=True)
                sys.exit(128 + signum)
            except BrokenPipeError:
                sys.exit(0)

    return wrapper


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _print_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


def _program_options(fn):
    """Options shared by every command that reads a C program."""
    options = [
        click.option("-f", "--function", "function", metavar="NAME", help="Target function (default: see NOTES)."),
        click.option("--range", "ranges", multiple=True, metavar="NAME=LO:HI",
                     help="Input range; wins over '#pragma nsc range'. Repeatable."),
        click.option("--default-range", metavar="LO:HI", help="Range for inputs that have none."),
        click.option("-I", "include_dirs", multiple=True, metavar="DIR", help="Add a header search directory."),
        click.option("-D", "defines", multiple=True, metavar="NAME[=VAL]", help="Define a preprocessor macro."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _program_kwargs(function, ranges, default_range, include_dirs, defines) -> dict:
    return dict(function=function, ranges=ranges, default_range=default_range,
                include_dirs=include_dirs, defines=defines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nsc")
def main():
    """nsc: compile numeric C functions into neural surrogates (ONNX).

    \b
    Example:
      nsc compile examples/blackscholes.c -o bs.onnx
      nsc run bs.onnx --inputs "spot=100,strike=95,rate=0.05,volatility=0.2,time=1"
    """


@main.command()
@click.argument("program", type=click.Path(dir_okay=False))
@_program_options
@click.option("-o", "--output", metavar="OUT.onnx", help="Output file (default: PROGRAM with .onnx, here).")
@click.option("--init", type=click.Choice(list(INITS)), default="compiled", show_default=True,
              help="Where the weights come from: the program's own computation (structural: its network, or "
                   "an MLP distilled from its computation graph where the network would be too deep), else the "
                   "trained hypernetwork (compiled, the default); one of them alone; the unconditioned or a random "
                   "start.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --init random.")
@click.option("--arch", metavar="W1,W2,..", help="An MLP of these hidden widths instead, distilled from the "
              "compiled network in seconds (no program runs).")
@click.option("--max-flops", type=int, metavar="N", help="The widest two-layer MLP costing at most N FLOP a row, "
              "distilled likewise.")
@click.option("-MD", "depfile_md", is_flag=True, help="Also write a make dependency file OUT.d.")
@click.option("--depfile", metavar="PATH", help="Write a make dependency file to PATH.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_fail_cleanly
def compile(program, function, ranges, default_range, include_dirs, defines, output, init, seed, arch, max_flops,
            depfile_md, depfile, as_json):
    """Compile a C function into a surrogate ONNX model.

    \b
    Example:
      nsc compile examples/blackscholes.c -o build/blackscholes.onnx -MD
      nsc compile examples/blackscholes.c -o bs64.onnx --arch 64,64
    """
    from nsc import toolchain

    summary = toolchain.compile_file(program, output=output, init=init, seed=seed, depfile=depfile,
                                     write_md=depfile_md, arch=arch, max_flops=max_flops,
                                     **_program_kwargs(function, ranges, default_range, include_dirs, defines))
    for note in summary["notes"]:
        click.echo(f"{program}: warning: {note}", err=True)
    if as_json:
        _print_json(summary)
    else:
        words = toolchain.closed_form_words(summary)
        click.echo(f"{summary['output']}: {summary['function']} ({_count(summary['n_in'], 'input')}, "
                   f"{_count(summary['n_out'], 'output')}), weights from {summary['compiler']}"
                   + (f", {words}" if words else ""))


@main.command()
@click.argument("program", type=click.Path(dir_okay=False))
@_program_options
@click.option("-n", "n", type=click.IntRange(min=1), help="Number of samples to draw in the ranges.")
@click.option("-o", "--output", metavar="DATA.csv|DATA.npz", help="Output file (default: CSV on stdout).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--inputs", "inputs_path", metavar='"a=1,b=2" | IN.csv | IN.npy | IN.npz | -',
              help="Run the real program on these inputs instead of drawing samples (an oracle): rows inline "
                   "(';' between rows, as nsc run takes them), a CSV/NPY/NPZ file, or CSV on stdin (-).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Seconds one input row may run before it counts as a hang.")
@click.option("--memory-mb", type=click.IntRange(min=16), default=1024, show_default=True,
              help="Memory limit of the program's process.")
@click.option("--keep-nonfinite", is_flag=True, help="Keep rows whose outputs are NaN or Inf.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout (needs -o).")
@_fail_cleanly
def sample(program, function, ranges, default_range, include_dirs, defines, n, output, seed, inputs_path, timeout,
           memory_mb, keep_nonfinite, as_json):
    """Run the real program natively to get input/output samples (ground truth).

    \b
    Example:
      nsc sample examples/blackscholes.c -n 1024 --seed 1 -o train.csv
      nsc sample examples/blackscholes.c --inputs queries.csv -o truth.csv
      nsc sample examples/blackscholes.c --inputs "spot=100,strike=95,rate=0.05,volatility=0.2,time=1"
    """
    from nsc import toolchain

    if (n is None) == (inputs_path is None):
        raise click.UsageError("give exactly one of -n N and --inputs ROWS")
    if as_json and output is None:
        raise click.UsageError("--json needs -o (the samples themselves go to stdout otherwise)")
    summary = toolchain.sample_file(program, n=n, output=output, seed=seed, inputs_path=inputs_path,
                                    timeout=timeout, memory_mb=memory_mb, keep_nonfinite=keep_nonfinite,
                                    **_program_kwargs(function, ranges, default_range, include_dirs, defines))
    if summary["n_nonfinite_dropped"]:
        click.echo(f"{program}: warning: dropped {summary['n_nonfinite_dropped']} rows with NaN or Inf outputs "
                   "(--keep-nonfinite keeps them)", err=True)
    if as_json:
        _print_json(summary)
    elif output:
        click.echo(f"{output}: {summary['n_rows']} samples of {summary['function']}", err=True)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--inputs", "inputs", default="-", show_default=True,
              metavar='"a=1,b=2" | IN.csv | IN.npy | IN.npz | -',
              help="Inputs: rows inline (';' between rows), a CSV/NPY/NPZ file, or CSV on stdin (-).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("-o", "--output", metavar="OUT.csv", help="Write predictions to a file (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Output format [default: json for -o NAME.json, else csv].")
@_fail_cleanly
def run(model, inputs, device, output, fmt):
    """Run a surrogate on inputs (through the nsc_runtime package).

    \b
    Example:
      nsc run bs.onnx --inputs "spot=100,strike=95,rate=0.05,volatility=0.2,time=1"
      nsc run bs.onnx --inputs queries.csv -o predictions.csv
    """
    from nsc import toolchain

    toolchain.run_model(model, inputs, device=device, output=output or "-", fmt=fmt)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("-o", "--output", metavar="OUT.onnx", help="Output file (default: update MODEL in place).")
@click.option("--epochs", type=click.IntRange(min=1), help="Epoch cap (default: the recipe's).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Learning rate (default: the recipe's).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Minibatch size (default: the recipe's).")
@click.option("--val-frac", type=click.FloatRange(min=0, max=0.9), help="Validation fraction (default: 0.2).")
@click.option("--patience", type=click.IntRange(min=1), help="Early-stopping patience in epochs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_fail_cleanly(preload=("torch",))
def finetune(model, data, output, epochs, lr, batch_size, val_frac, patience, seed, device, as_json):
    """Fine-tune a surrogate on observations (CSV or NPZ; columns matched by name).

    \b
    Example:
      nsc sample examples/blackscholes.c -n 1024 -o train.csv
      nsc finetune bs.onnx train.csv -o bs.tuned.onnx --epochs 300
    """
    from nsc import toolchain

    overrides = {k: v for k, v in dict(max_epochs=epochs, lr=lr, batch_size=batch_size, val_frac=val_frac,
                                       patience=patience).items() if v is not None}
    summary = toolchain.finetune_file(model, data, output=output, seed=seed, device=device, recipe=overrides,
                                      echo=lambda msg: click.echo(msg, err=True))
    if as_json:
        _print_json(summary)
    else:
        from nsc.surrogate.finetune import format_report

        click.echo(f"{summary['output']}: {format_report(summary)}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@_fail_cleanly
def inspect(model, as_json):
    """Show a surrogate's signature, ranges, architecture and history.

    \b
    Example:
      nsc inspect bs.onnx
    """
    from nsc import toolchain

    info = toolchain.inspect_model(model)
    if as_json:
        _print_json(info)
    else:
        click.echo(toolchain.format_inspection(info), nl=False)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("program", type=click.Path(dir_okay=False))
@_program_options
@click.option("-n", "n", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Number of fresh inputs to run both on.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the inputs [default: 1000003, no training seed].")
@click.option("--plot", metavar="PARITY.png", help="Draw surrogate against program values (.png, .svg, .pdf).")
@click.option("-o", "--output", metavar="OUT.onnx", help="Write the certified model here (default: MODEL in place).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Seconds one input row of the program may run.")
@click.option("--guard", is_flag=True, help="Also train an error predictor on these rows, for `nsc emit-c --guard "
              "--max-error E`.")
@click.option("--json", "as_json", is_flag=True, help="Print the certificate as JSON on stdout.")
@_fail_cleanly
def check(model, program, function, ranges, default_range, include_dirs, defines, n, seed, plot, output, timeout,
          guard, as_json):
    """Measure a surrogate against the real program on fresh inputs, and store the figures in it.

    Per output: RMSE, rel-RMSE, p50/p99/max absolute and relative error, and the share of inputs outside the
    declared ranges (--range widens them to measure extrapolation). `nsc inspect` and `nsc emit-c` show the
    certificate; once the weights or the program's text change, the model reads as uncertified.

    \b
    Example:
      nsc check bs.tuned.onnx examples/blackscholes.c -n 10000 --plot parity.png
    """
    from nsc import toolchain
    from nsc.check import format_report

    summary = toolchain.check_file(model, program, n=n, seed=seed, plot=plot, output=output, timeout=timeout,
                                   guard=guard, echo=lambda msg: click.echo(msg, err=True),
                                   **_program_kwargs(function, ranges, default_range, include_dirs, defines))
    if as_json:
        _print_json(summary)
    else:
        click.echo(format_report(summary["output"], summary["certificate"], summary["status"]), nl=False)
        if guard:
            g = summary["guard"]
            click.echo(f"  error predictor: trained on {g['n_train']} rows, calibrated on {g['n_calibration']}; the "
                       "surrogate answers " + ", ".join(f"{share:.0%} at --max-error {t}" for t, share in
                                                        g["answered_by_surrogate"].items()))


@main.command(name="emit-c")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", metavar="NAME.c", help="The C file; NAME.h goes beside it (default: <name>.c here).")
@click.option("--name", metavar="IDENT", help="The C function's name [default: <function>_surrogate].")
@click.option("--guard", is_flag=True, help="Check inputs against the declared ranges and call the original "
              "function (linked from the program) outside them; count calls and fallbacks.")
@click.option("--max-error", type=float, metavar="E", help="With --guard: also fall back where the error "
              "predictor of `nsc check --guard` predicts more than E output standard deviations.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_fail_cleanly
def emit_c(model, output, name, guard, max_error, as_json):
    """Write a surrogate as dependency-free C99 (NAME.c and NAME.h; no malloc).

    NAME has the original function's signature; NAME_batch runs n rows of row-major float arrays. Build it with
    `cc -O2 -c NAME.c`; a guarded one calls the original function, so link the program's source too.

    \b
    Example:
      nsc emit-c bs.tuned.onnx -o bs_surrogate.c --name bs_surrogate
      nsc emit-c bs.tuned.onnx -o bs_guarded.c --guard --max-error 0.05
    """
    from nsc import toolchain

    summary = toolchain.emit_c_file(model, output=output, name=name, guard=guard, max_error=max_error)
    if as_json:
        _print_json(summary)
    else:
        click.echo(f"{summary['output']}, {summary['header']}: {summary['name']}, surrogate of {summary['function']}"
                   + (", guarded" if summary["guarded"] else "") + f" ({summary['certificate_status']})")


def _checked_by(option: str):
    """A click callback for an `nsc eval` option: a malformed value is a usage error (exit 2), as click's own checks
    make it, found by the same parser evaluate_files uses."""
    def callback(ctx, param, value):
        if value is not None:
            from nsc import evaluate, toolchain

            parse = {"budgets": toolchain.parse_budgets, "inits": toolchain.parse_inits,
                     "plot": evaluate.plot_format}[option]
            try:
                parse(value)
            except NscError as e:  # (click names the option: "--budgets '0,x' is ..." -> "'0,x' is ...")
                raise click.BadParameter(e.message.removeprefix(f"--{option}").lstrip(": ")) from None
        return value
    return callback


@main.command(name="eval")
@click.argument("programs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_program_options
@click.option("--budgets", default="0,16,32,64,128,256,512,1024", show_default=True,
              help="Comma-separated training-set sizes.",
              callback=_checked_by("budgets"))
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--inits", default="random,compiled,unconditioned", show_default=True,
              help="Comma-separated initialisations to compare.",
              callback=_checked_by("inits"))
@click.option("--test-size", type=click.IntRange(min=100), default=2000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full results as JSON on stdout.")
@click.option("--plot", metavar="OUT.png", help="Write the learning curves to a PNG (or .svg, .pdf).",
              callback=_checked_by("plot"))
@click.option("-o", "--output", metavar="OUT.json", help="Also write the JSON results to a file.")
@_fail_cleanly(preload=("torch",))
def evaluate(programs, function, ranges, default_range, include_dirs, defines, budgets, seeds, inits, test_size,
             as_json, plot, output):
    """Measure compiled vs random vs unconditioned initialisation (NOTES.md section 5).

    \b
    Example:
      nsc eval examples/*.c --seeds 3 --json --plot curves.png > eval.json
    """
    from nsc import toolchain

    results = toolchain.evaluate_files(list(programs), budgets=budgets, seeds=seeds, inits=inits,
                                       test_size=test_size, plot=plot, output=output,
                                       echo=lambda msg: click.echo(msg, err=True),
                                       **_program_kwargs(function, ranges, default_range, include_dirs, defines))
    if as_json:
        _print_json(results)
    else:
        click.echo(toolchain.format_evaluation(results), nl=False)


@main.command(name="train-compiler")
@click.option("--config", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Training configuration (JSON).")
@click.option("--resume", is_flag=True, help="Continue the run in the config's out_dir from its last checkpoint.")
@click.option("--restart", is_flag=True, help="Train from scratch, replacing a run in the config's out_dir.")
@_fail_cleanly(preload=("torch",))
def train_compiler(config, resume, restart):
    """Train the hypernetwork on a corpus (slow; see `make compiler`).

    An out_dir that already holds a run is an error unless --resume or --restart says what to do with it.

    \b
    Example:
      nsc train-compiler --config nsc/training/configs/compiler.json
    """
    from nsc.training import train

    train.main(["--config", config] + (["--resume"] if resume else []) + (["--restart"] if restart else []))


if __name__ == "__main__":
    main()
