"""Output paths, as cc treats its -o (nsc/outputs.py): a regular file replaced atomically, a device or FIFO written
through, a directory refused, a symlink followed, never a file the command reads; and SIGTERM / SIGHUP as clean
as Ctrl-C (exit 128 + the signal, nothing left over, the previous output intact)."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from nsc import outputs
from nsc.cli import main
from nsc.errors import NscError

POLY = """\
#include <math.h>
#include "scale.h"
#pragma nsc range x -2 2
#pragma nsc range y 0 3
double poly(double x, double y) { return SCALE * x * x - 0.5 * y + sin(x * y); }
"""


def nsc(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def refused(result, *needles):
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


@pytest.fixture
def work(tmp_path):
    """A program that includes a header of its own, its surrogate, samples of it, and inputs for `run`."""
    (tmp_path / "scale.h").write_text("#define SCALE 1.5\n")
    prog = tmp_path / "poly.c"
    prog.write_text(POLY)
    model, data = tmp_path / "poly.onnx", tmp_path / "d.csv"
    ok(nsc("compile", prog, "--init", "random", "-o", model))
    ok(nsc("sample", prog, "-n", "40", "--seed", "1", "-o", data))
    queries = tmp_path / "q.csv"
    queries.write_text("x,y\n0.5,1\n-1,2\n")
    return tmp_path, prog, model, data, queries


def commands(work, out):
    """One invocation of every command that writes a file, writing `out`."""
    tmp, prog, model, data, queries = work
    return {
        "compile": ["compile", prog, "--init", "random", "-o", out],
        "compile --depfile": ["compile", prog, "--init", "random", "-o", tmp / "other.onnx", "--depfile", out],
        "sample": ["sample", prog, "-n", "20", "-o", out],
        "run": ["run", model, "--inputs", queries, "-o", out],
        "finetune": ["finetune", model, data, "--epochs", "2", "-o", out],
        "eval -o": ["eval", prog, "--budgets", "0", "--seeds", "1", "--inits", "random", "--test-size", "100",
                    "-o", out],
        "check -o": ["check", model, prog, "-n", "200", "-o", out],
    }


@pytest.fixture
def no_replacing_devices(monkeypatch):
    """os.replace onto anything but a regular file fails the test before it happens (old code replaced
    /dev/null itself when run as root: this keeps the machine's /dev/null safe whatever the code does)."""
    real_replace = os.replace

    def guarded(src, dst, **kwargs):
        if os.path.lexists(dst) and not stat.S_ISREG(os.lstat(dst).st_mode):
            raise AssertionError(f"os.replace would replace {dst}, which is not a regular file")
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", guarded)


def through_fifo(fifo, run):
    """run() while a thread reads the FIFO to its end: (run's result, the bytes read)."""
    got = []

    def reader():
        with open(fifo, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    result = run()
    if not got:  # release a reader still waiting to open the FIFO (when nothing opened it to write)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    thread.join(30)
    return result, b"".join(got)


def leftovers(directory) -> list[str]:
    return sorted(p for p in os.listdir(directory) if p.startswith(".") or p.endswith(".tmp"))


# ------------------------------------------------------------------------------------------------ the helper

def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with outputs.open_output(path) as f:
            f.write("partial")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["s.csv"]


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        outputs.write_output(tmp_path / "new.csv", "a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640


def test_what_each_kind_of_path_resolves_to(tmp_path):
    (tmp_path / "f").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "d").mkdir()
    os.symlink("f", tmp_path / "link")
    os.symlink("loop", tmp_path / "loop")
    assert outputs.resolve_output(tmp_path / "f") == (str(tmp_path / "f"), outputs.REGULAR)
    assert outputs.resolve_output(tmp_path / "new") == (str(tmp_path / "new"), outputs.NEW)
    assert outputs.resolve_output(tmp_path / "link") == (str(tmp_path / "f"), outputs.REGULAR)
    assert outputs.resolve_output(tmp_path / "fifo")[1] == outputs.STREAM
    assert outputs.resolve_output("/dev/null") == ("/dev/null", outputs.STREAM)
    for name, message in (("d", "it is a directory"), ("loop", "cannot write:"),
                          ("no/x", "directory '" + str(tmp_path / "no") + "' does not exist")):
        with pytest.raises(NscError, match=message):
            outputs.resolve_output(tmp_path / name)


# ------------------------------------------------------------------------------------------------ devices, FIFOs

@pytest.mark.parametrize("command", ["compile", "compile --depfile", "sample", "run", "finetune", "eval -o",
                                     "check -o"])
def test_dev_null_is_written_through_not_replaced(work, command, no_replacing_devices):
    before = os.stat("/dev/null")
    ok(nsc(*commands(work, "/dev/null")[command]))
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [p for p in os.listdir("/dev") if p.startswith(".null.")]


@pytest.mark.parametrize("command", ["compile", "compile --depfile", "sample", "run"])
def test_a_fifo_is_written_through_and_stays_a_fifo(work, command):
    tmp = work[0]
    fifo = tmp / "pipe"
    os.mkfifo(fifo)
    result, got = through_fifo(fifo, lambda: nsc(*commands(work, fifo)[command]))
    ok(result)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got, "nothing came through the FIFO"
    if command in ("sample", "run"):
        assert got.decode().startswith("x,y,return\n")
    if command == "compile --depfile":
        assert got.decode().startswith(f"{tmp / 'other.onnx'}: {work[1]}")
    assert not leftovers(tmp)


# ------------------------------------------------------------------------------------------------ directories

@pytest.mark.parametrize("command", ["compile", "compile --depfile", "sample", "run", "finetune", "eval -o",
                                     "check -o"])
def test_a_directory_is_refused_in_one_line_and_nothing_is_written(work, command):
    tmp = work[0]
    target = tmp / "dir"
    target.mkdir()
    before = sorted(os.listdir(tmp))
    refused(nsc(*commands(work, target)[command]), "dir: error: cannot write: it is a directory")
    assert sorted(os.listdir(tmp)) == before and os.listdir(target) == []


def test_a_plot_that_is_a_directory_is_refused(work):
    tmp, prog = work[0], work[1]
    (tmp / "curves.png").mkdir()
    refused(nsc("eval", prog, "--budgets", "0", "--seeds", "1", "--inits", "random", "--plot", tmp / "curves.png"),
            "curves.png: error: cannot write: it is a directory")


# ------------------------------------------------------------------------------------------------ symlinks

@pytest.mark.parametrize("command", ["compile", "sample", "run", "finetune", "check -o"])
def test_a_symlink_is_followed_and_its_target_replaced(work, command):
    tmp = work[0]
    (tmp / "real").mkdir()
    target = tmp / "real" / "target"
    target.write_text("previous")
    link = tmp / "link"
    os.symlink(os.path.join("real", "target"), link)
    ok(nsc(*commands(work, link)[command]))
    assert os.path.islink(link) and os.readlink(link) == os.path.join("real", "target")
    assert target.read_bytes() != b"previous" and len(target.read_bytes()) > 20
    assert not leftovers(tmp) and not leftovers(tmp / "real")


def test_emit_c_writes_a_fifo_through_and_follows_a_symlink(work):
    tmp, model = work[0], work[2]
    os.mkfifo(tmp / "pipe.c")
    result, got = through_fifo(tmp / "pipe.c", lambda: nsc("emit-c", model, "-o", tmp / "pipe.c"))
    ok(result)
    assert stat.S_ISFIFO(os.lstat(tmp / "pipe.c").st_mode) and b"poly_surrogate" in got
    (tmp / "real").mkdir()
    (tmp / "real" / "k.c").write_text("previous")
    os.symlink(os.path.join("real", "k.c"), tmp / "k.c")
    ok(nsc("emit-c", model, "-o", tmp / "k.c"))
    assert os.path.islink(tmp / "k.c") and b"poly_surrogate" in (tmp / "real" / "k.c").read_bytes()
    (tmp / "d.h").mkdir()
    refused(nsc("emit-c", model, "-o", tmp / "d.c"), "d.h: error: cannot write: it is a directory")
    assert not (tmp / "d.c").exists() and not leftovers(tmp) and not leftovers(tmp / "real")


def test_a_dangling_symlink_creates_its_target(work):
    tmp = work[0]
    link = tmp / "link.csv"
    os.symlink("made.csv", link)
    ok(nsc(*commands(work, link)["sample"]))
    assert os.path.islink(link) and (tmp / "made.csv").read_text().startswith("x,y,return\n")


# ------------------------------------------------------------------------------------------------ inputs

def test_no_command_writes_over_a_file_it_reads(work):
    """Headers included (`nsc sample prog.c -o scale.h` replaced the header the program includes), by any name:
    a symlink or a hard link to an input is that input."""
    tmp, prog, model, data, queries = work
    header = tmp / "scale.h"
    os.symlink("scale.h", tmp / "header-link.h")
    os.link(data, tmp / "data-hardlink.csv")
    os.link(model, tmp / "model-hardlink.onnx")
    os.link(queries, tmp / "queries-hardlink.csv")
    read = {p: p.read_bytes() for p in (prog, header, model, data, queries)}
    for args, culprit in (
            (["sample", prog, "-n", "5", "-o", header], "scale.h"),
            (["sample", prog, "-n", "5", "-o", tmp / "header-link.h"], "scale.h"),
            (["sample", prog, "--inputs", queries, "-o", tmp / "queries-hardlink.csv"], "q.csv"),
            (["compile", prog, "--init", "random", "-o", tmp / "header-link.h"], "scale.h"),
            (["compile", prog, "--init", "random", "-o", tmp / "p.onnx", "--depfile", header], "scale.h"),
            (["eval", prog, "--budgets", "0", "--seeds", "1", "--inits", "random", "-o", header], "scale.h"),
            (["check", model, prog, "-n", "50", "-o", header], "scale.h"),
            (["check", model, prog, "-n", "50", "-o", prog], "poly.c"),
            (["finetune", model, data, "-o", tmp / "data-hardlink.csv"], "d.csv"),
            (["run", model, "--inputs", queries, "-o", tmp / "model-hardlink.onnx"], "poly.onnx"),
            (["run", model, "--inputs", queries, "-o", tmp / "queries-hardlink.csv"], "q.csv")):
        refused(nsc(*args), f"{culprit}: error: the input file is the same as the output file")
    assert {p: p.read_bytes() for p in read} == read
    assert not (tmp / "p.onnx").exists()


def test_finetune_in_place_is_still_allowed(work):
    model, data = work[2], work[3]
    before = model.read_bytes()
    ok(nsc("finetune", model, data, "--epochs", "2"))
    assert model.read_bytes() != before


# ------------------------------------------------------------------------------------------------ signals

SPIN = """\
#pragma nsc range x 0 1
double spin(double x) { double s = x; for (int i = 0; i < 3000000; i++) s = s * 0.9999999 + 1e-9; return s; }
"""


def _start(args, tmp_path):
    """`nsc ARGS` as a process, with its own TMPDIR (where the sampling harness makes its nsc-run-* directory)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(scratch))
    # (each signal at its default disposition, as in a terminal, even under nohup: conftest.py)
    proc = subprocess.Popen([sys.executable, "-m", "nsc.cli", *map(str, args)], env=env, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, scratch


def _wait_for(predicate, proc, what, limit=120.0):
    end = time.monotonic() + limit
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"nsc ended ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"no {what} after {limit} s")
        time.sleep(0.01)


def _stopped_cleanly(proc, sig, out, scratch):
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err and "no output was written" in err, err
    assert out.read_bytes() == b"previous output"
    # (onnxruntime keeps a file .ses of its own in TMPDIR, whatever happens)
    assert not leftovers(out.parent) and not [p for p in os.listdir(scratch) if p.startswith("nsc-")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_program_runs_leaves_nothing(tmp_path, sig):
    prog = tmp_path / "spin.c"
    prog.write_text(SPIN)
    out = tmp_path / "out.csv"
    out.write_bytes(b"previous output")
    proc, scratch = _start(["sample", prog, "-n", "1000000", "-o", out], tmp_path)
    _wait_for(lambda: any(p.startswith("nsc-run-") for p in os.listdir(scratch)), proc, "harness directory")
    time.sleep(0.3)  # well into the run
    proc.send_signal(sig)
    _stopped_cleanly(proc, sig, out, scratch)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_output_is_written_leaves_the_previous_output(tmp_path, sig):
    prog = tmp_path / "poly.c"
    prog.write_text(POLY.replace('#include "scale.h"\n', "#define SCALE 1\n"))
    out = tmp_path / "out.csv"
    out.write_bytes(b"previous output")
    proc, scratch = _start(["sample", prog, "-n", "2000000", "-o", out], tmp_path)
    _wait_for(lambda: leftovers(tmp_path), proc, "temporary output file")
    proc.send_signal(sig)
    _stopped_cleanly(proc, sig, out, scratch)


def test_a_signal_during_finetune_leaves_the_previous_output(tmp_path, work):
    model, data = work[2], work[3]
    out = tmp_path / "out.onnx"
    out.write_bytes(b"previous output")
    proc, scratch = _start(["finetune", model, data, "-o", out, "--epochs", "100000", "--patience", "100000"],
                           tmp_path)
    time.sleep(4.0)  # into the training loop (torch's import alone takes ~2 s)
    proc.send_signal(signal.SIGTERM)
    _stopped_cleanly(proc, signal.SIGTERM, out, scratch)


def test_a_signal_while_torch_is_imported_is_clean(tmp_path, work):
    """torch's import calls Python from C++: a signal raised there aborted the process (exit -6, `terminate called
    after throwing an instance of 'pybind11::error_already_set'`), and a plain KeyboardInterrupt through it made
    Python end by SIGINT (-2) after printing that it exits 130. The signal now waits for the import."""
    model, data = work[2], work[3]
    out = tmp_path / "out.onnx"
    out.write_bytes(b"previous output")
    for delay, sig in ((1.0, signal.SIGINT), (1.8, signal.SIGTERM), (2.6, signal.SIGINT)):
        proc, scratch = _start(["finetune", model, data, "-o", out, "--epochs", "100000", "--patience", "100000"],
                               tmp_path)
        time.sleep(delay)
        proc.send_signal(sig)
        _stopped_cleanly(proc, sig, out, scratch)


def test_a_signal_during_an_import_waits_for_it(tmp_path, monkeypatch):
    """A C extension's initialisation calls Python (onnxruntime's does): Terminated raised in there failed the
    import with `ImportError: initialization failed` and a traceback. A signal that finds an import under way is
    sent again until the import is done, and then stops the command as usual."""
    import importlib
    import threading

    from nsc import interrupts

    (tmp_path / "slow_to_import.py").write_text("import time\nfor _ in range(30):\n    time.sleep(0.01)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(interrupts.Terminated) as stopped:
        with interrupts.signals_raise():
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
            importlib.import_module("slow_to_import")
            time.sleep(5)  # (the signal comes back within 20 ms of the import's end)
    assert stopped.value.signum == signal.SIGTERM
    assert sys.modules["slow_to_import"].DONE  # imported whole, not cut short
