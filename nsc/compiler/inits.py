"""The initialisations nsc offers, and how each is made: `compile_params(program, init)`.

  compiled       the default: the structural compiler (structural.py: the program's own computation as the
                 network, no program runs) where it translates the function with a small estimated error; else
                 an MLP distilled from the program's computation graph (traced.py: long loops, deep iterations),
                 where that is small; else the trained hypernetwork (hypernet.py); with a note that says why
  structural     the structural compiler alone (the network, else the distilled graph); random initialisation
                 where neither holds (with a note): the ablation's "structural" row
  hypernetwork   the trained hypernetwork alone (the compiler before structural compilation)
  unconditioned  the one learned initialisation shipped with the hypernetwork, the same for every program
  random         nsc.surrogate.init.random_params (seeded), the from-scratch baseline
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

from nsc.errors import NscError
from nsc.recursion import deep
from nsc.surrogate.params import SurrogateParams

INITS = ("compiled", "structural", "hypernetwork", "unconditioned", "random")
STRUCTURAL_ID = "structural-1"  # the structural compiler's version, in the surrogate's nsc.compiler metadata
TRACED_ID = "traced-1"  # an MLP distilled from the program's computation graph (traced.py)
# The structural network is kept where its estimated error (network.py) is at most this share of an output's
# std, and its size within these bounds; beyond them the hypernetwork compiles the function.
MAX_ESTIMATED_ERROR = 0.2
# An MLP distilled from the computation graph is kept below this stated error: it is then a better start than the
# hypernetwork's (zero-shot median rel-RMSE 0.62 over the 68 programs of bench/RESULTS.md's ablation), and
# fine-tuning tries a random restart beside it anyway (nsc/surrogate/finetune.py needs_restart).
MAX_TRACED_ERROR = 0.5
# Above that, it is still kept where it follows the graph better than the hypernetwork's start does (both
# measured against the graph on synthetic inputs), even where neither beats the outputs' mean (1): the low 8 bits
# of a product, 1.0 against the hypernetwork's 1.97, is a function no start follows, and the closer start is
# the better one.
MAX_PARAMETERS = 4_000_000


def vouched(compiler_id: str) -> bool:
    """Does this compiler vouch for its start with a stated error: a structural network, a distilled graph, or
    an MLP distilled from either (`--arch`)? Fine-tuning then keeps the start unless the validation rows show the
    tuned weights better (nsc/surrogate/finetune.py keep_start); a learned start is tuned as a random one is."""
    return compiler_id.split("+")[0] in (STRUCTURAL_ID, TRACED_ID)


class CompileResult(NamedTuple):
    """What `compile_params` returns; unpacks as (params, compiler_id, notes)."""

    params: SurrogateParams
    compiler_id: str
    notes: list[str]  # warnings for the user, e.g. that a long program was truncated


@deep
def compile_params(program, init: str = "compiled", seed: int = 0, hidden: tuple[int, ...] | None = None
                   ) -> CompileResult:
    """Initial surrogate weights for `program` (a nsc.frontend Program); see the module docstring for `init`.
    hidden: the widths of an MLP the user asked for (`--arch`): random init draws one of that shape, every other
    init is distilled into one (distill.py). Raises NscError, naming the program, for programs beyond the
    hypernetwork's limits (inputs, outputs, a target function longer than its context) or when no trained
    compiler is installed, where it is needed."""
    try:
        result = _sized(program, init, seed, tuple(hidden)) if hidden is not None else \
            _compile_params(program, init, seed, None)
    except NscError as e:  # every error names the file it is about, as a compiler's do
        if e.path is None:
            e.path = str(program.path)
        raise
    from nsc.analysis import trace_warnings

    result.notes.extend(w for w in trace_warnings(program) if w not in result.notes)
    return result


def structural_or_reason(program) -> tuple[SurrogateParams | None, str]:
    """(params, "") of the structural network, or (None, why it is not used)."""
    from nsc.analysis.values import Unsupported
    from nsc.compiler.structural import compile_structural

    result = compile_structural(program)
    if isinstance(result, Unsupported):
        return None, f"the structural compiler cannot translate it ({result})"
    params, info = result
    worst = max(info["estimated_error"], default=0.0)
    if worst > MAX_ESTIMATED_ERROR:
        return None, (f"its structural network's estimated error ({worst:.2g} of an output's spread) is above "
                      f"{MAX_ESTIMATED_ERROR}")
    if info["parameters"] > MAX_PARAMETERS:
        return None, f"its structural network would have {info['parameters']:,} parameters (more than " \
                     f"{MAX_PARAMETERS:,})"
    return params, ""


def traced_or_reason(program, seed: int, hidden: tuple[int, ...] | None, structural_reason: str = "",
                     rival: SurrogateParams | Callable[[], SurrogateParams | None] | None = None
                     ) -> tuple[SurrogateParams | None, str]:
    """(params, a note) of an MLP distilled from the program's computation graph (traced.py), or (None, why
    not, after `structural_reason`). Kept where its stated error is at most MAX_TRACED_ERROR, or, where a
    `rival` start is given (the hypernetwork's), below the rival's own error against the same graph:
    both measured on synthetic inputs, no program runs. rival may be a function that makes it (or None): it is
    called only where the fit's error is above MAX_TRACED_ERROR, so a program distilled well never pays for it."""
    from nsc.analysis.values import Unsupported
    from nsc.compiler.traced import (DEFAULT_HIDDEN, GIVE_UP_FACTOR, check_computation, compile_traced,
                                     graph_errors)

    checked = check_computation(program, seed)

    @functools.cache
    def rival_worst() -> float | None:  # the rival's worst error against the graph, made once asked for
        start = rival() if callable(rival) else rival
        if start is None or isinstance(checked, Unsupported):
            return None
        return max(graph_errors(start, checked), default=0.0)

    def bar() -> float:  # (the rival only raises it: asked only where the error is above MAX_TRACED_ERROR)
        worst = rival_worst()
        return MAX_TRACED_ERROR if worst is None else max(MAX_TRACED_ERROR, worst)

    def give_up(errors) -> bool:
        return max(errors) > GIVE_UP_FACTOR * MAX_TRACED_ERROR and max(errors) > GIVE_UP_FACTOR * bar()

    result = compile_traced(program, hidden or DEFAULT_HIDDEN, seed, checked=checked, give_up=give_up)
    if isinstance(result, Unsupported):
        same = isinstance(structural_reason, str) and f"({result})" in structural_reason  # said once is enough
        return None, "nor can its computation graph be distilled" + ("" if same else f" ({result})")
    params, info = result
    worst = max(info["estimated_error"], default=0.0)
    if worst > MAX_TRACED_ERROR and not (rival_worst() is not None and worst < rival_worst()):
        return None, (f"nor does an MLP distilled from its computation graph come within {MAX_TRACED_ERROR} "
                      f"of an output's spread ({worst:.2g})")
    than = f", better than the hypernetwork's start ({rival_worst():.2g})" if worst > MAX_TRACED_ERROR else ""
    return params, (f"an MLP distilled from its computation graph ({info['operations']:,} operations, no program "
                    f"runs) instead, estimated error {worst:.2g} of an output's std{than}")


class _HypernetworkStart:
    """The trained hypernetwork's start for a program, compiled when first asked for: the distilled graph compares
    with it only where its own error is high, and a program no other route reaches falls back to it."""

    def __init__(self, program):
        self.program = program
        self.params = self.compiler = self.failure = None
        self.notes: list[str] = []
        self._asked = False

    def __call__(self) -> SurrogateParams | None:
        if not self._asked:
            self._asked = True
            try:
                self.compiler = _hypernetwork()
                self.params, self.notes = self.compiler.compile(self.program)
            except NscError as e:  # (beyond its limits: raised by the caller unless the graph serves)
                self.failure = e
        return self.params


def _compile_params(program, init: str, seed: int, hidden: tuple[int, ...] | None) -> CompileResult:
    sig = program.signature
    if init not in INITS:
        raise NscError(f"unknown initialisation '{init}' (choose from {', '.join(INITS)})")
    if init in ("compiled", "structural"):
        params, reason = structural_or_reason(program)
        if params is not None:
            return CompileResult(params, STRUCTURAL_ID, [])
        rival = _HypernetworkStart(program) if init == "compiled" else None  # to compare the distilled graph with
        params, why = traced_or_reason(program, seed, hidden, reason, rival)
        if params is not None:
            return CompileResult(params, TRACED_ID, [f"{reason}; {why}"])
        reason = f"{reason}, {why}"
        if init == "structural":
            return CompileResult(_random(sig, seed), "random", [f"{reason}: random initialisation"])
        if rival() is None:
            raise rival.failure
        return CompileResult(rival.params, rival.compiler.id,
                             [f"{reason}; the trained hypernetwork compiled it", *rival.notes])
    if init == "hypernetwork":
        compiler = _hypernetwork()
        params, notes = compiler.compile(program)
        return CompileResult(params, compiler.id, notes)
    if init == "unconditioned":
        compiler = _hypernetwork()
        return CompileResult(compiler.unconditioned(sig), f"unconditioned:{compiler.id}", [])
    return CompileResult(_random(sig, seed), "random", [])


def _sized(program, init: str, seed: int, hidden: tuple[int, ...]) -> CompileResult:
    """The initialisation as an MLP of the given hidden widths: random of that shape, else distilled."""
    if init == "random":
        return CompileResult(_random(program.signature, seed, hidden), "random", [])
    from nsc.compiler.distill import distill

    teacher, teacher_id, notes = _compile_params(program, init, seed, hidden)
    if teacher_id == TRACED_ID:  # distilled into that shape already
        return CompileResult(teacher, teacher_id, notes)
    student, error = distill(teacher, program.signature, hidden, seed)
    student.extra = {"distilled": {"from": teacher_id, "distillation_error": error,
                                   "teacher": {k: v for k, v in teacher.extra.items() if k != "distilled"}}}
    return CompileResult(student, f"{teacher_id}+distilled", notes)


def _random(sig, seed: int, hidden: tuple[int, ...] | None = None) -> SurrogateParams:
    from nsc.surrogate.init import random_params

    lo, hi = sig.ranges()
    if hidden is None:
        return random_params(sig.n_in, sig.n_out, lo, hi, seed=seed)
    return random_params(sig.n_in, sig.n_out, lo, hi, seed=seed, hidden=hidden)


def _hypernetwork():
    from nsc.compiler.hypernet import installed_compiler

    return installed_compiler()
