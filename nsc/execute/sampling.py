"""The execution API: sample inputs, run programs (or many corpus functions) natively, keep finite rows.

Rows are numbered from 1 in messages ("on input row 17" is x[16]); the rows before a failing row are kept.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass

import numpy as np

from nsc.errors import NscError
from nsc.execute import build, sandbox
from nsc.frontend.program import INTEGER_LIMITS, Program, Signature

MAX_VALUES_SHOWN = 12
isolation = sandbox.isolation  # how this process runs programs: "namespaces" or "rlimits only: <why>"


def isolation_warning(how: str) -> str | None:
    """The warning a command prints (once) where programs ran without namespaces; None where they ran in them."""
    if how == sandbox.NAMESPACES:
        return None
    return (f"the program ran without namespace isolation ({how}): it could read and write your files, reach the "
            "network and leave processes behind")


@dataclass
class RunResult:
    """Outputs y float64 [n_done, n_out] of the first n_done input rows; error says why the rest did not run.

    failure: the kind of failure ("crash", "exit", "timeout", "memory", "stack") or None, for counting.
    sandbox: how the program ran: "namespaces", or "rlimits only: <why>" (sandbox.isolation()).
    """

    y: np.ndarray
    n_done: int
    error: NscError | None = None
    failure: str | None = None
    sandbox: str = ""


@dataclass
class SampleResult:
    """Finite samples x [n, n_in], y [n, n_out] (float64) and what happened to the others.

    n_requested: rows asked for (n, or the number of given input rows).
    n_nonfinite_dropped: rows dropped because an output was NaN or Inf.
    error: NscError when the program failed on some row (the rows before it are in x, y) or returned
           NaN/Inf for every input; None otherwise.
    sandbox: how the program ran, as in RunResult.
    """

    x: np.ndarray
    y: np.ndarray
    n_requested: int
    n_nonfinite_dropped: int = 0
    error: NscError | None = None
    failure: str | None = None
    sandbox: str = ""


# ---------------------------------------------------------------------------------------------- inputs

def sample_inputs(signature: Signature, n: int, rng: np.random.Generator) -> np.ndarray:
    """float64 [n, n_in] uniform in each input's [lo, hi]; integer inputs uniform integers in
    [ceil(lo), floor(hi)]; a `float` input's values are float32 values, what the function receives (a draw
    kept as the double would record an input the program never saw)."""
    lo, hi = signature.ranges()
    for port, a, b in zip(signature.inputs, lo, hi):
        if not (math.isfinite(a) and math.isfinite(b) and a <= b):
            raise NscError(f"input '{port.name}' has no valid range ({a:g}, {b:g})")
    x = rng.uniform(lo, hi, size=(int(n), signature.n_in))
    for col in np.flatnonzero(signature.integer_inputs()):
        tmin, tmax = INTEGER_LIMITS.get(signature.inputs[col].ctype, (-math.inf, math.inf))
        a, b = max(math.ceil(lo[col]), tmin), min(math.floor(hi[col]), tmax)
        if a > b:
            raise NscError(f"integer input '{signature.inputs[col].name}' has no integer in its range "
                           f"[{lo[col]:g}, {hi[col]:g}]")
        if -2**63 <= a and b < 2**63:
            x[:, col] = rng.integers(a, b, size=int(n), endpoint=True)
        else:  # beyond int64 (unsigned long long): integers as float64 holds them, within [a, b]
            x[:, col] = np.clip(np.floor(rng.uniform(a, float(b) + 1.0, size=int(n))), a, b)
    for col, port in enumerate(signature.inputs):
        if port.ctype == "float":
            x[:, col] = x[:, col].astype(np.float32)
    return x


def _check_inputs(signature: Signature, x, path: str | None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1 and signature.n_in == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != signature.n_in:
        got = x.shape[1] if x.ndim == 2 else f"an array of shape {x.shape}"
        raise NscError(f"{signature.function} takes {signature.n_in} input columns "
                       f"({', '.join(signature.input_names)}), got {got}", path)
    return x


def describe_row(signature: Signature, row: np.ndarray) -> str:
    """'x=0.5, n=3' for messages (integers without a decimal point, floats exact)."""
    parts = []
    for port, value in list(zip(signature.inputs, row))[:MAX_VALUES_SHOWN]:
        v = float(value)
        text = str(int(v)) if port.is_integer and v.is_integer() else repr(v)
        parts.append(f"{port.name}={text}")
    if signature.n_in > MAX_VALUES_SHOWN:
        parts.append(f"... ({signature.n_in - MAX_VALUES_SHOWN} more)")
    return ", ".join(parts)


def _result(outcome: sandbox.BatchOutcome, signature: Signature, x: np.ndarray, path: str) -> RunResult:
    failure = outcome.failure
    if failure is None:
        return RunResult(outcome.y, outcome.n_done, sandbox=outcome.isolation)
    row = outcome.n_done
    message = f"the program {failure.detail} on input row {row + 1}: {describe_row(signature, x[row])}"
    if failure.printed:
        message += f" (it printed: {failure.printed})"
    return RunResult(outcome.y, outcome.n_done, NscError(message, path), failure.kind, outcome.isolation)


# ---------------------------------------------------------------------------------------------- running

def run_program(program: Program, x, timeout: float = sandbox.DEFAULT_TIMEOUT,
                memory_mb: int = sandbox.DEFAULT_MEMORY_MB) -> RunResult:
    """Run the program's target function natively on each row of x [n, n_in].

    Compile errors raise NscError; a crash, hang (no progress for `timeout` s on one row) or memory failure is
    returned in RunResult.error with the rows before it.
    """
    x = _check_inputs(program.signature, x, program.path)
    return _run_target(program, len(x), lambda: x, sandbox.Limits(timeout=timeout, memory_mb=memory_mb))[1]


def _run_target(program: Program, n: int, make_inputs, limits: sandbox.Limits) -> tuple[np.ndarray, RunResult]:
    """Build the harness, start its child, then make the n input rows (make_inputs(): drawing a million takes
    longer than the child's start, namespaces included, so the two overlap) and run them: (x, RunResult)."""
    sig = program.signature
    exe = str(build.build_file(program.path, program.path, [sig], program.include_dirs, program.defines))
    child = sandbox.start_child(exe, limits, n, sig.n_in, sig.n_out)
    try:
        x = make_inputs()
    except BaseException:
        child.close()
        raise
    [outcome] = sandbox.run_jobs(exe, [sandbox.Job(0, x, sig.n_out)], limits, child)
    return x, _result(outcome, sig, x, program.path)


def run_functions(c_source_text: str, signatures, xs, timeout: float = sandbox.DEFAULT_TIMEOUT,
                  include_dirs=(), defines=(), memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
                  path: str = "<corpus>") -> list[RunResult]:
    """Run many functions of one C text, compiled once: xs[k] [n_k, n_in_k] through signatures[k].

    A compile error raises NscError (locations refer to `path`); a crash or hang in one function ends only
    that function's run (its RunResult.error), the others run in a fresh child.
    """
    signatures = list(signatures)
    xs = [_check_inputs(sig, x, path) for sig, x in zip(signatures, xs, strict=True)]
    limits = sandbox.Limits(timeout=timeout, memory_mb=memory_mb)
    with tempfile.TemporaryDirectory(prefix="nsc-unit-") as work_dir:
        exe = build.build_source(c_source_text, signatures, work_dir, include_dirs, defines, path)
        jobs = [sandbox.Job(k, x, sig.n_out) for k, (sig, x) in enumerate(zip(signatures, xs))]
        outcomes = sandbox.run_jobs(str(exe), jobs, limits)
    return [_result(o, sig, x, path) for o, sig, x in zip(outcomes, signatures, xs)]


def sample_program(program: Program, n: int | None = None, seed: int = 0, keep_nonfinite: bool = False,
                   inputs=None, timeout: float = sandbox.DEFAULT_TIMEOUT,
                   memory_mb: int = sandbox.DEFAULT_MEMORY_MB) -> SampleResult:
    """Sample n inputs uniformly in the ranges (or take `inputs`), run the program, drop non-finite rows.

    Rows whose outputs contain NaN or Inf are dropped and counted unless keep_nonfinite. Errors are returned,
    not raised (error): a failing row (the rows before it are kept), or NaN/Inf for every input.
    """
    sig = program.signature
    limits = sandbox.Limits(timeout=timeout, memory_mb=memory_mb)
    if inputs is not None:
        given = _check_inputs(sig, inputs, program.path)
        x, run = _run_target(program, len(given), lambda: given, limits)
    else:
        if n is None:
            raise NscError("give the number of samples to draw, or the input rows to run")
        if int(n) < 1:
            raise NscError(f"the number of samples must be at least 1, not {n}")
        sample_inputs(sig, 0, np.random.default_rng(0))  # (a range error comes before anything is compiled)
        x, run = _run_target(program, int(n), lambda: sample_inputs(sig, int(n), np.random.default_rng(seed)),
                             limits)
    x_done, y = x[: run.n_done], run.y
    dropped, error, failure = 0, run.error, run.failure
    if not keep_nonfinite and run.n_done:
        finite = np.isfinite(y).all(axis=1)
        dropped = int(run.n_done - finite.sum())
        if dropped:
            x_done, y = x_done[finite], y[finite]
        if dropped == run.n_done and error is None:
            error = NscError(f"the program returned NaN or Inf for all {run.n_done} inputs", program.path)
            failure = "nonfinite"
    return SampleResult(x_done, y, len(x), dropped, error, failure, run.sandbox)
