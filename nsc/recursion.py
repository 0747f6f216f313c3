"""Deep programs: the passes over C syntax trees run on a thread with a deep stack, up to a documented nesting.

pycparser's parser and CGenerator, and nsc's own passes (nsc/frontend, nsc/analysis, nsc/compiler), recurse once
or more per level of the syntax tree: a sum of 5000 terms is a tree 5000 levels deep, and Python's default
recursion limit (1000 frames) stopped at about 100. Rather than rewrite every visitor, the entry points of those
passes are decorated with `@deep`: the call runs on a worker thread whose stack holds `RECURSION_LIMIT` frames, with
the recursion limit raised while it runs (a call made from inside such a thread runs inline). The trees a program
may have are bounded by `MAX_NESTING` levels (`check_nesting`, called by the parser), and every pass gets
`FRAMES_PER_LEVEL` frames per level, so within the limit no pass runs out of depth; beyond it the user gets one line
naming the limit, never a traceback.

Used by nsc/frontend (parse.py checks the nesting; load_program runs deep), nsc/analysis and nsc/compiler (their
entry points run deep). Depends on nothing of nsc but errors.py.
"""

from __future__ import annotations

import contextvars
import functools
import sys
import threading

from nsc.errors import NscError

MAX_NESTING = 10_000        # levels of syntax tree a program may have (a sum of N terms is N levels deep)
FRAMES_PER_LEVEL = 16       # Python frames a pass may spend per level (pycparser's parser spends up to 10)
RECURSION_LIMIT = MAX_NESTING * FRAMES_PER_LEVEL + 20_000
STACK_BYTES = 512 << 20     # C stack of the worker: ~600 bytes a frame on Python 3.10, which recurses in C

_local = threading.local()
_limit_lock = threading.Lock()
_limit_users = 0
_saved_limit = None


def deep(fn):
    """Decorator: run `fn` with room for `RECURSION_LIMIT` frames (see the module's docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if getattr(_local, "deep", False):
            return fn(*args, **kwargs)
        return run_deep(fn, *args, **kwargs)

    return wrapper


def run_deep(fn, *args, **kwargs):
    """fn(*args, **kwargs) on a deep-stack thread, in a copy of the caller's context; its result or exception."""
    context = contextvars.copy_context()
    outcome = {}

    def work():
        _local.deep = True
        try:
            outcome["value"] = context.run(fn, *args, **kwargs)
        except BaseException as e:  # re-raised in the caller's thread
            outcome["error"] = e

    _raise_limit()
    try:
        thread = _start(work)
        thread.join()
    finally:
        _restore_limit()
    if "error" in outcome:
        error = outcome.pop("error")
        if isinstance(error, RecursionError):  # a pass spent more than FRAMES_PER_LEVEL frames a level: say so
            raise NscError(f"the program is nested too deeply for nsc: a pass over it recursed more than "
                           f"{RECURSION_LIMIT} frames deep (nsc accepts {MAX_NESTING} levels of nesting; "
                           "please report this program)") from None
        raise error
    return outcome["value"]


def _start(work) -> threading.Thread:
    # threading.stack_size applies to threads started after it, process-wide: set it for this one thread only
    with _limit_lock:
        try:
            previous = threading.stack_size(STACK_BYTES)
        except (ValueError, RuntimeError):  # a platform without settable stacks: the default, and a clear error
            previous = None
        try:
            thread = threading.Thread(target=work, name="nsc-deep", daemon=True)
            thread.start()
        finally:
            if previous is not None:
                threading.stack_size(previous)
    return thread


def _raise_limit() -> None:
    """The recursion limit is per interpreter: raised while any deep call runs, restored after the last."""
    global _limit_users, _saved_limit
    with _limit_lock:
        if _limit_users == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _limit_users += 1


def _restore_limit() -> None:
    global _limit_users
    with _limit_lock:
        _limit_users -= 1
        if _limit_users == 0:
            sys.setrecursionlimit(_saved_limit)


def check_nesting(tree, path: str) -> None:
    """NscError, at the first node too deep, if the syntax tree has more than MAX_NESTING levels (iterative)."""
    level, depth = [tree], 0
    while level:
        depth += 1
        if depth > MAX_NESTING:
            raise nesting_error(path, next((n.coord for n in level if getattr(n, "coord", None) is not None), None))
        level = [child for node in level for _, child in node.children()]


def nesting_error(path: str, coord=None) -> NscError:
    """The one-line error for a program beyond MAX_NESTING, at `coord` (a pycparser Coord) where known."""
    return NscError(f"expression or statement nested more than {MAX_NESTING} levels deep (a sum of N terms is N "
                    "levels): nsc's limit; split it into several statements", getattr(coord, "file", None) or path,
                    getattr(coord, "line", None), getattr(coord, "column", None))
