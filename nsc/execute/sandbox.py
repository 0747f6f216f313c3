"""Running a harness executable in a sandboxed child process, in batches, and saying what went wrong.

Where the kernel allows it, the child runs in its own Linux namespaces (namespaces.py's launcher starts it): a
read-only view of the system's program and library directories and nothing else of the file system, a private
tmpfs scratch directory as its working directory, no network, its own PID namespace (nothing it starts outlives
it), and no capabilities. Where the kernel refuses (or NSC_SANDBOX=off, for testing), it runs as a plain child
with the limits below only; `isolation()` says which, in words, and every outcome carries it, so that commands
can say so. Either way the child (see runtime_c.py for its side of the protocol) gets:
  - a fresh empty working directory (the scratch tmpfs, or a temporary directory), and an empty environment;
  - no file descriptors but the two control pipes, the shared memory region, /dev/null on stdin and an unlinked
    log file (capped at 1 MiB) on stdout/stderr: it cannot reach nsc's own files or state through them;
  - its own session and process group (killed as a whole), RLIMIT_AS (memory_mb), RLIMIT_CORE 0 (and
    PR_SET_DUMPABLE 0), RLIMIT_CPU as a backstop per batch, and PR_SET_PDEATHSIG so it dies with its parent.
Inputs and outputs travel as float64 batches (BATCH_ROWS rows at most) through a shared memory region
(memfd), so memory stays bounded however many rows are run, and one child runs any number of batches.

Hangs: the child stores the number of rows done after every row. The parent watches that counter; if it does
not move for `timeout` seconds (wall clock, default 5 s per row), the whole process group is killed and the
row that was running is reported. A crash (signal, exit) is pinned to its row the same way.

Without namespaces this protects nsc from the program's failures (crashes, hangs, runaway memory, stray output)
only; it is not a security boundary (the child can read and write what the user can, and open sockets).
"""

from __future__ import annotations

import math
import mmap
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from nsc.errors import NscError
from nsc.execute import build, namespaces
from nsc.execute.runtime_c import (FAULT_NO_MEMORY, FAULT_STACK, HEADER_BYTES, HEADER_FIELDS, HEADER_MAGIC)

BATCH_ROWS = 65536
DEFAULT_TIMEOUT = 5.0
DEFAULT_MEMORY_MB = 1024
LOG_TAIL_CHARS = 300
PROGRAM_NAME = "nsc-harness"  # the child's argv[0], which glibc's assert() prefixes to its message
_FIELD = {name: k for k, name in enumerate(HEADER_FIELDS)}
NAMESPACES = "namespaces"  # isolation() where the child runs in its own namespaces
SANDBOX_ENV = "NSC_SANDBOX"  # NSC_SANDBOX=off: no namespaces (rlimits only), to test that path
_refusal: str | None = None  # why the kernel refused namespaces to this process (found at the first refusal)


def isolation() -> str:
    """How this process runs harnesses: "namespaces", or "rlimits only: <why>" (the kernel refused namespaces,
    or NSC_SANDBOX=off)."""
    if os.environ.get(SANDBOX_ENV) == "off":
        return f"rlimits only: {SANDBOX_ENV}=off"
    if _refusal is not None:
        return f"rlimits only: {_refusal}"
    return NAMESPACES


class NamespacesRefused(Exception):
    """The launcher could not set up the namespaces (the reason in words); the batch reruns without them."""


SIGNAL_NAMES = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating-point exception, e.g. an integer division by zero",
    signal.SIGABRT: "abort",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trap",
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGXCPU: "CPU time limit",
}


@dataclass
class Failure:
    """Why a child stopped before finishing its rows.

    kind: "crash" (a signal), "exit" (the program called exit), "timeout", "memory", "stack".
    """

    kind: str
    detail: str  # words after "the program ...": "crashed with SIGSEGV (segmentation fault)"
    printed: str = ""  # the last line the program printed, if any (an assert's message, say)


@dataclass
class BatchOutcome:
    """Outputs of the rows that finished (y[:n_done]) and the failure that stopped the rest, if any; isolation:
    how the child ran (`isolation()`'s words)."""

    y: np.ndarray
    n_done: int
    failure: Failure | None = None
    isolation: str = ""


@dataclass(frozen=True)
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    batch_rows: int = BATCH_ROWS

    def __post_init__(self):
        if not (self.timeout > 0 and math.isfinite(self.timeout)):
            raise NscError(f"the timeout must be a positive number of seconds, not {self.timeout!r}")
        if not self.memory_mb >= 16:
            raise NscError(f"the memory limit must be at least 16 MiB, not {self.memory_mb!r}")


class Child:
    """One running harness process with its shared memory region, sized for the widest function."""

    def __init__(self, exe: str, rows: int, n_in: int, n_out: int, limits: Limits):
        self.limits = limits
        self.rows, self.n_in, self.n_out = rows, max(n_in, 1), max(n_out, 1)
        in_bytes = self.rows * self.n_in * 8
        size = HEADER_BYTES + in_bytes + self.rows * self.n_out * 8
        self.proc, self.cmd_w, self.ack_r, self.report_r = None, None, None, None
        self.isolation = isolation()
        self.workdir = tempfile.mkdtemp(prefix="nsc-run-")
        # The program's stdout/stderr: an unlinked temporary file outside its working directory.
        self.log = tempfile.TemporaryFile(prefix="nsc-run-log-")
        self.mem_fd = os.memfd_create("nsc-harness")
        try:
            os.ftruncate(self.mem_fd, size)
            self.region = mmap.mmap(self.mem_fd, size)
            self.header = np.frombuffer(self.region, dtype=np.int64, count=len(HEADER_FIELDS))
            self.inputs = np.frombuffer(self.region, dtype=np.float64, count=self.rows * self.n_in,
                                        offset=HEADER_BYTES)
            self.outputs = np.frombuffer(self.region, dtype=np.float64, count=self.rows * self.n_out,
                                         offset=HEADER_BYTES + in_bytes)
            self._set(magic=HEADER_MAGIC, in_offset=HEADER_BYTES, out_offset=HEADER_BYTES + in_bytes)
            self._start(exe)
        except BaseException:
            self.close()
            raise

    def _set(self, **fields):
        for name, value in fields.items():
            self.header[_FIELD[name]] = value

    def _get(self, name: str) -> int:
        return int(self.header[_FIELD[name]])

    def _start(self, exe: str) -> None:
        cmd_r, self.cmd_w = os.pipe()
        self.ack_r, ack_w = os.pipe()
        as_limit = self.limits.memory_mb * 1024 * 1024
        harness_args = [str(cmd_r), str(ack_w), str(self.mem_fd), str(as_limit)]
        fds = [cmd_r, ack_w, self.mem_fd]
        if self.isolation == NAMESPACES:
            # The launcher makes the namespaces and exec's the harness inside, as the child of their init (pid 1).
            self.report_r, report_w = os.pipe()
            os.set_blocking(self.report_r, False)
            fds.append(report_w)
            argv = [namespaces.LAUNCHER_NAME, str(report_w), str(os.getpid()), exe, PROGRAM_NAME, *harness_args,
                    "1"]
            executable = str(build.launcher_executable())
        else:
            argv, executable = [PROGRAM_NAME, *harness_args, str(os.getpid())], exe
        try:
            self.proc = subprocess.Popen(
                argv, executable=executable, cwd=self.workdir, env={}, stdin=subprocess.DEVNULL, stdout=self.log,
                stderr=self.log, pass_fds=fds, close_fds=True, start_new_session=True)
        finally:
            for fd in fds:
                if fd != self.mem_fd:  # (the child's copies; the region stays mapped here)
                    os.close(fd)

    def run_batch(self, func: int, x: np.ndarray, n_out: int) -> BatchOutcome:
        """Run rows x [b, n_in] through stub `func`; stop at the first failure."""
        b, n_in = x.shape
        self.inputs[: b * n_in] = x.reshape(-1)
        cpu_budget = int(min(b * self.limits.timeout + 1, 2**40))
        self._set(func=func, n_rows=b, n_in=n_in, n_out=n_out, done=0, fault=0, cpu_budget=cpu_budget)
        try:
            os.write(self.cmd_w, b"r")
        except BrokenPipeError:
            return self._outcome(b, n_out, self._diagnose(b))
        failure = self._wait(b)
        return self._outcome(b, n_out, failure)

    def _outcome(self, b: int, n_out: int, failure: Failure | None) -> BatchOutcome:
        n_done = b if failure is None else min(self._get("done"), b)
        y = self.outputs[: n_done * n_out].reshape(n_done, n_out).copy()
        return BatchOutcome(y, n_done, failure)

    def _wait(self, b: int) -> Failure | None:
        """Wait for the batch's acknowledgement, watching the row counter for hangs."""
        timeout = self.limits.timeout
        poll = select.poll()
        poll.register(self.ack_r, select.POLLIN | select.POLLHUP | select.POLLERR)
        step_ms = max(10, min(250, int(timeout * 250)))
        last_done, last_move = -1, time.monotonic()
        while True:
            if poll.poll(step_ms):
                answer = os.read(self.ack_r, 1)
                if answer:
                    return None
                return self._diagnose(b)  # EOF: the child died
            done = self._get("done")
            now = time.monotonic()
            if done != last_done:
                last_done, last_move = done, now
            elif now - last_move >= timeout:
                self._kill()
                return Failure("timeout", f"did not finish within {timeout:g} s")

    def _diagnose(self, b: int) -> Failure:
        """The child is gone (or going): reap it and say why."""
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._kill()
            code = self.proc.wait()
        self._kill()
        if self.report_r is not None and (reason := self._refusal()) is not None:
            raise NamespacesRefused(reason)
        fault = self._get("fault")
        printed = self._log_tail()
        memory_mb = self.limits.memory_mb
        if fault == FAULT_NO_MEMORY:
            return Failure("memory", f"ran out of memory (limit {memory_mb} MiB)", printed)
        if fault == FAULT_STACK:
            stack_mb = self._get("stack_limit") / 2**20
            return Failure("stack", f"ran out of stack space (limit {stack_mb:g} MiB; a large local array "
                                    "or deep recursion?)", printed)
        if code < 0:
            sig = signal.Signals(-code)
            if sig == signal.SIGKILL:
                return Failure("memory", f"was killed (SIGKILL), probably for running out of memory "
                                         f"(limit {memory_mb} MiB)", printed)
            if sig == signal.SIGXCPU:
                return Failure("timeout", "used up its CPU time limit", printed)
            words = SIGNAL_NAMES.get(sig, sig.name)
            return Failure("crash", f"crashed with {sig.name} ({words})", printed)
        if code >= 90 and self._get("done") == 0 and not printed:
            return Failure("crash", f"harness failed to start (status {code})", printed)
        return Failure("exit", f"exited with status {code} (it called exit())", printed)

    def _refusal(self) -> str | None:
        """The launcher's report of the step the kernel refused, in words (None: it reported nothing)."""
        try:
            return namespaces.refusal_reason(os.read(self.report_r, 256))
        except OSError:  # (BlockingIOError: nothing written)
            return None

    def _log_tail(self) -> str:
        try:
            size = os.fstat(self.log.fileno()).st_size
            tail = os.pread(self.log.fileno(), 4096, max(0, size - 4096))  # pread: the child shares the offset
        except OSError:
            return ""
        text = tail.decode("utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            return ""
        last = lines[-1].removeprefix(PROGRAM_NAME + ": ")
        return last if len(last) <= LOG_TAIL_CHARS else "..." + last[-LOG_TAIL_CHARS:]

    def _kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """End the child (EOF on its command pipe, then a kill of its group) and free everything."""
        for fd in (self.cmd_w, self.ack_r, self.report_r):
            if fd is not None:
                os.close(fd)
        self.cmd_w = self.ack_r = self.report_r = None
        if self.proc is not None:
            _wait_for_exit(self.proc, 1.0)
            self._kill()
            self.proc.wait()
            self.proc = None
        for name in ("header", "inputs", "outputs"):
            self.__dict__.pop(name, None)
        region = self.__dict__.pop("region", None)
        if region is not None:
            region.close()
        if self.mem_fd is not None:
            os.close(self.mem_fd)
            self.mem_fd = None
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _wait_for_exit(proc: subprocess.Popen, timeout: float) -> None:
    """Wait up to `timeout` s for proc to end, without reaping it. A pidfd wakes as it ends; Popen.wait(timeout)
    polls with growing sleeps, ~3 ms late per child."""
    if proc.returncode is not None:
        return
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # (Linux before 5.3)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        return
    try:
        select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)


@dataclass
class Job:
    """Rows x [n, n_in] for stub `func`, which writes n_out outputs per row."""

    func: int
    x: np.ndarray
    n_out: int


def batch_rows(limits: Limits, longest: int, n_in: int, n_out: int) -> int:
    """Rows per batch for jobs of at most `longest` rows: the shared region counts against the child's memory
    limit, so it is kept within a quarter of it."""
    row_bytes = 8 * (max(n_in, 1) + max(n_out, 1))
    return max(1, min(limits.batch_rows, longest, limits.memory_mb * 2**20 // 4 // row_bytes))


def start_child(exe: str, limits: Limits, longest: int, n_in: int, n_out: int) -> Child:
    """A child for `run_jobs` with jobs of at most `longest` rows, started now: it sets itself up (namespaces
    included) while the caller prepares the inputs."""
    return Child(exe, batch_rows(limits, longest, n_in, n_out), n_in, n_out, limits)


def run_jobs(exe: str, jobs: list[Job], limits: Limits = Limits(), child: Child | None = None) -> list[BatchOutcome]:
    """Run every job through one harness executable; a failure ends only its own job.

    One child serves all jobs in order (`child`, from start_child, if given; run_jobs closes it); after a failure
    it is replaced by a fresh one for the next job. Where the kernel refuses namespaces, the refusal is remembered
    (`isolation()`) and the batch reruns without them.
    """
    global _refusal
    if not jobs:
        if child is not None:
            child.close()
        return []
    n_in = max(j.x.shape[1] for j in jobs)
    n_out = max(j.n_out for j in jobs)
    rows = batch_rows(limits, max(len(j.x) for j in jobs), n_in, n_out)
    if child is not None and (child.rows, child.n_in, child.n_out) != (rows, max(n_in, 1), max(n_out, 1)):
        child.close()
        raise ValueError("run_jobs: the child was started for other jobs")
    outcomes = []
    try:
        for job in jobs:
            x = np.ascontiguousarray(job.x, dtype=np.float64)
            n = len(x)
            y = np.empty((n, job.n_out), dtype=np.float64)
            n_done, failure, used = 0, None, isolation()
            while n_done < n and failure is None:
                if child is None:
                    child = Child(exe, rows, n_in, n_out, limits)
                try:
                    batch = child.run_batch(job.func, x[n_done: n_done + rows], job.n_out)
                except NamespacesRefused as refused:
                    _refusal = str(refused)
                    child.close()
                    child = None
                    continue
                used = child.isolation
                y[n_done: n_done + batch.n_done] = batch.y
                n_done += batch.n_done
                failure = batch.failure
                if failure is not None:
                    child.close()
                    child = None
            outcomes.append(BatchOutcome(y if n_done == n else y[:n_done].copy(), n_done, failure, used))
    finally:
        if child is not None:
            child.close()
    return outcomes
