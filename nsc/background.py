"""Work on a thread whose result is collected later, so that a C compiler run overlaps Python's own work.

`nsc compile` starts the preprocessor (nsc/frontend/preprocess.py) and cc's syntax check (nsc/execute/build.py)
before it imports the parser and the analysis; both run on the machine's other core meanwhile. Depends on nothing
of nsc.
"""

from __future__ import annotations

import threading


class Background:
    """fn(*args) running on a daemon thread; `result()` waits for it and returns its value or raises its error."""

    def __init__(self, fn, *args, name: str):
        self._outcome: dict = {}
        self._thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._outcome["value"] = fn(*args)
        except BaseException as e:  # re-raised by result(), in the caller's thread
            self._outcome["error"] = e

    def result(self):
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["value"]
