"""Test-session set-up shared by every module.

Signals at their default dispositions: a test suite started in the background of a script (`make test &`, where
the shell ignores SIGINT) or under `nohup` (SIGHUP) would hand those ignored signals on to every nsc process the
tests start, and nsc rightly keeps an ignored signal ignored, so the tests of Ctrl-C, SIGTERM and SIGHUP would see
the signal do nothing.
"""

import signal

for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) is signal.SIG_IGN:
        signal.signal(_sig, signal.default_int_handler if _sig == signal.SIGINT else signal.SIG_DFL)
