"""SIGINT, SIGTERM and SIGHUP as one exception, so that a stopped command cleans up as Ctrl-C always did.

While a command runs (`signals_raise()`, entered by nsc/cli.py around each command), each of the three signals
raises Terminated where the program is: every `finally` and `with` runs on the way out, so the temporary output
file is removed (nsc/outputs.py), the sampling harness is killed and its directory removed (nsc/execute/), and
the previous output stays as it was; the CLI then exits with 128 + the signal (130, 143, 129).

Terminated is a KeyboardInterrupt, so code that cleans up on Ctrl-C does so for all three. SIGINT is raised as
Terminated too, not as Python's own KeyboardInterrupt: after a plain KeyboardInterrupt has passed through code
run from C (torch's import runs some), Python ends the process by SIGINT after the CLI's exit(130). And a signal
that arrives while a native library is being imported (`preload`) waits until the import is done: torch's import
calls Python from C++, where an exception aborts the whole process (std::terminate, exit -6). A signal that
arrives during any other import (onnxruntime's, imported where a command first needs it) is sent again 20 ms
later, until it finds no import under way: raised inside a C extension's initialisation it would fail that
import with a traceback instead of stopping the command.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOPPED = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}

_held = {"importing": False, "signum": None}  # a signal that arrived during preload(), raised after it


class Terminated(KeyboardInterrupt):
    """A command stopped by signal `signum` (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    if not _held["importing"] and _importing(frame):
        # an import is under way (numpy's, onnx's, onnxruntime's C extensions call Python while they initialise:
        # an exception raised there fails the import with a traceback, `ImportError: initialization failed`):
        # the same signal again in 20 ms, when the import is most likely done
        timer = threading.Timer(RETRY_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    for sig in HANDLED:  # a second signal must not interrupt the clean-up of the first
        signal.signal(sig, signal.SIG_IGN)
    if _held["importing"]:
        _held["signum"] = signum
        return
    raise Terminated(signum)


RETRY_S = 0.02


def _importing(frame) -> bool:
    """Is `frame` (where the signal found the main thread) inside an import?"""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def signals_raise():
    """The three signals raise Terminated inside the block (one ignored from the start, as under nohup, stays
    ignored); the previous handlers come back after it (click's test runner calls commands in-process). Only the
    main thread can set handlers: elsewhere the block changes nothing."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in HANDLED:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, _raise_terminated)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def preload(*modules: str) -> None:
    """Import `modules` (torch) with any signal held until they are imported, then raised."""
    _held["importing"] = True
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        _held["importing"] = False
    signum, _held["signum"] = _held["signum"], None
    if signum is not None:
        raise Terminated(signum)
