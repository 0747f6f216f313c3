"""The sandbox around the native harness (nsc/execute/namespaces.py, sandbox.py).

In its namespaces a program cannot write a file outside its scratch directory, read one, reach a socket on
127.0.0.1, make its read-only view writable again, or leave a process behind, and it still computes the right
outputs. Each escape is also tried with the namespaces off (NSC_SANDBOX=off), where it succeeds: the probes are
real. Where the kernel refuses namespaces nsc runs the program with rlimits only and says so, once, in its output
and in --json. Tests of the namespaces skip where this kernel refuses them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nsc.cli import main
from nsc.execute import build, namespaces, run_program, sandbox
from nsc.frontend.program import Param, Port, Program, Signature

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")

X = np.linspace(0.0, 1.0, 50)[:, None]
SIGNATURE = Signature("f", "double", (Param("x", "double"),), (Port("x", "x", None, "double", 0.0, 1.0),),
                      (Port("return", "return", None, "double"),))


def c_string(text) -> str:
    return json.dumps(str(text))  # a C string literal for a path (JSON's escapes are C's for these)


def run_f(tmp_path, body: str, name="prog.c"):
    """Run `double f(double x)` (escape attempts, then `return 2 * x + <what got out>`) on X."""
    path = tmp_path / name
    path.write_text(body)
    return run_program(Program(str(path), body, "", SIGNATURE), X)


def assert_computes(result):
    assert result.error is None, result.error
    np.testing.assert_array_equal(result.y[:, 0], 2 * X[:, 0])


@pytest.fixture(scope="module")
def namespaces_work(tmp_path_factory):
    """Skip where the kernel (or NSC_SANDBOX=off) keeps the harness out of namespaces."""
    result = run_f(tmp_path_factory.mktemp("probe"), "double f(double x) { return 2 * x; }\n")
    if result.sandbox != sandbox.NAMESPACES:
        pytest.skip(f"no namespaces here: {result.sandbox}")


@pytest.fixture
def without_namespaces(monkeypatch):
    monkeypatch.setenv(sandbox.SANDBOX_ENV, "off")


# ----------------------------------------------------------------------------------------- the file system

WRITES = """
#include <stdio.h>
static int wrote;  /* 1 when the file outside could be written */
double f(double x) {
    static int tried;
    if (!tried) {
        tried = 1;
        FILE *out = fopen(OUTSIDE, "w");
        if (out) wrote = fputs("escaped", out) >= 0 && fclose(out) == 0;
        FILE *scratch = fopen("scratch.txt", "w+");  /* the scratch directory stays writable */
        char back[8] = {0};
        if (!scratch || fputs("mine", scratch) < 0 || fseek(scratch, 0, SEEK_SET) != 0 ||
            !fgets(back, sizeof back, scratch) || back[0] != 'm') wrote = 100;
    }
    return 2 * x + wrote;
}
"""


def test_a_program_cannot_write_outside_its_scratch_directory(tmp_path, namespaces_work):
    outside = tmp_path / "outside.txt"  # beside the program's own source
    result = run_f(tmp_path, f"#define OUTSIDE {c_string(outside)}\n{WRITES}")
    assert result.sandbox == "namespaces"
    assert_computes(result)
    assert not outside.exists()


def test_without_namespaces_the_same_write_gets_out(tmp_path, without_namespaces):
    outside = tmp_path / "outside.txt"
    result = run_f(tmp_path, f"#define OUTSIDE {c_string(outside)}\n{WRITES}")
    assert result.sandbox == "rlimits only: NSC_SANDBOX=off"
    np.testing.assert_array_equal(result.y[:, 0], 2 * X[:, 0] + 1)
    assert outside.read_text() == "escaped"


READS = """
#include <stdio.h>
static const char *const paths[] = {PATHS};
double f(double x) {
    int readable = 0;  /* how many of the paths gave a byte */
    for (int i = 0; paths[i]; i++) {
        FILE *in = fopen(paths[i], "r");
        if (in && fgetc(in) != EOF) readable++;
        if (in) fclose(in);
    }
    return 2 * x + readable;
}
"""


def read_probe(tmp_path) -> tuple[str, int]:
    """The program (it reads a secret, its own source, /etc/passwd, nsc's files and /proc) and how many paths."""
    secret = tmp_path / "secret.txt"
    secret.write_text("S3CRET")
    paths = [secret, tmp_path / "prog.c"]
    paths += [p for p in ("/etc/passwd", build.__file__, "/proc/self/status") if os.path.exists(p)]
    return READS.replace("PATHS", ", ".join(c_string(p) for p in paths) + ", 0"), len(paths)


def test_a_program_reads_nothing_of_the_file_system(tmp_path, namespaces_work):
    assert_computes(run_f(tmp_path, read_probe(tmp_path)[0]))


def test_without_namespaces_the_same_reads_succeed(tmp_path, without_namespaces):
    text, n_paths = read_probe(tmp_path)
    result = run_f(tmp_path, text)
    assert result.error is None
    np.testing.assert_array_equal(result.y[:, 0], 2 * X[:, 0] + n_paths)


UNDO = """
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>
double f(double x) {
    static int done, got_out;
    if (!done) {
        done = 1;
        /* make the view writable: as it is, then in a user and mount namespace of its own */
        for (int nested = 0; nested < 2; nested++) {
            if (nested && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) break;
            mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL);
            mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL);
            umount2("/usr", MNT_DETACH);
            FILE *out = fopen(TARGET, "w");
            if (out) {
                got_out = 1;
                fclose(out);
            }
        }
    }
    return 2 * x + got_out;
}
"""


def test_a_program_cannot_make_its_view_writable(tmp_path, namespaces_work):
    """No capabilities to remount with, and in a nested user namespace the mounts are locked."""
    target = Path("/usr") / f".nsc-sandbox-test-{uuid.uuid4().hex}"
    try:
        assert_computes(run_f(tmp_path, f"#define TARGET {c_string(target)}\n{UNDO}"))
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_read_only_view_on_kernels_before_mount_setattr(tmp_path, namespaces_work, monkeypatch):
    """Linux < 5.12 has no mount_setattr: the launcher remounts each bind read-only instead."""
    old_kernel_launcher = build.launcher_executable(defines=("NSC_NO_MOUNT_SETATTR",))
    monkeypatch.setattr(build, "launcher_executable", lambda: old_kernel_launcher)
    outside = tmp_path / "outside.txt"
    result = run_f(tmp_path, f"#define OUTSIDE {c_string(outside)}\n{WRITES}")
    assert result.sandbox == "namespaces"
    assert_computes(result)
    assert not outside.exists()
    target = Path("/usr") / f".nsc-sandbox-test-{uuid.uuid4().hex}"
    try:
        assert_computes(run_f(tmp_path, f"#define TARGET {c_string(target)}\n{UNDO}", "undo.c"))
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------- network, processes

CONNECTS = """
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
double f(double x) {
    static int tried, connected;
    if (!tried) {
        tried = 1;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {0};
        to.sin_family = AF_INET;
        to.sin_port = htons(PORT);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected = s >= 0 && connect(s, (struct sockaddr *)&to, sizeof to) == 0;
        if (s >= 0) close(s);
    }
    return 2 * x + connected;
}
"""


@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.setblocking(False)
    yield server
    server.close()


def accepted(server) -> bool:
    try:
        server.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def test_a_program_cannot_connect_to_a_local_socket(tmp_path, namespaces_work, listener):
    assert_computes(run_f(tmp_path, f"#define PORT {listener.getsockname()[1]}\n{CONNECTS}"))
    assert not accepted(listener)


def test_without_namespaces_the_same_connection_is_made(tmp_path, without_namespaces, listener):
    result = run_f(tmp_path, f"#define PORT {listener.getsockname()[1]}\n{CONNECTS}")
    np.testing.assert_array_equal(result.y[:, 0], 2 * X[:, 0] + 1)
    assert accepted(listener)


DAEMON = """
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
double f(double x) {
    static int started;
    if (!started) {
        started = 1;
        int named[2];
        char byte;
        if (pipe(named) != 0) return -1;
        if (fork() == 0) {  /* a daemon: its own session, a name to find it by, a file written later */
            setsid();
            prctl(PR_SET_NAME, NAME);
            if (write(named[1], "n", 1) != 1) _exit(1);
            usleep(300000);
            FILE *out = fopen(MARKER, "w");
            if (out) fclose(out);
            _exit(0);
        }
        if (read(named[0], &byte, 1) != 1) return -1;  /* (it has its name: the test can find it) */
    }
    return 2 * x;
}
"""


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            pass  # gone meanwhile
    return found


def daemon_probe(tmp_path):
    name, marker = f"nsc{uuid.uuid4().hex[:12]}", tmp_path / "marker"
    return name, marker, f"#define NAME {c_string(name)}\n#define MARKER {c_string(marker)}\n{DAEMON}"


def test_nothing_a_program_starts_outlives_it(tmp_path, namespaces_work):
    name, marker, text = daemon_probe(tmp_path)
    assert_computes(run_f(tmp_path, text))
    assert processes_named(name) == []  # the PID namespace's init is gone, and the kernel killed the rest
    time.sleep(1.0)  # past the daemon's 0.3 s: had it lived, its marker would be there
    assert not marker.exists()


def test_without_namespaces_the_daemon_outlives_the_run(tmp_path, without_namespaces):
    name, marker, text = daemon_probe(tmp_path)
    assert_computes(run_f(tmp_path, text))
    left = processes_named(name)
    for pid in left:
        os.kill(pid, 9)
    assert left


# ----------------------------------------------------------------------------------------- refusals

def fake_launcher(tmp_path, report: str) -> Path:
    """A launcher that reports `report` on its report descriptor and exits as the real one does on a refusal."""
    source, path = tmp_path / "refusing.c", tmp_path / "refusing-launcher"
    source.write_text(f"#include <stdlib.h>\n#include <unistd.h>\nint main(int argc, char **argv) {{\n"
                      f"    return write(atoi(argv[1]), {c_string(report + chr(10))}, {len(report) + 1}) < 0 ? 1 "
                      f": {namespaces.REFUSED_STATUS};\n}}\n")
    subprocess.run(["cc", str(source), "-o", str(path)], check=True)
    return path


def test_a_refused_namespace_falls_back_to_rlimits_and_says_why(tmp_path, monkeypatch):
    """The first child is refused (EPERM at unshare): the batch reruns without namespaces, and the process
    remembers, so the next run starts without them."""
    monkeypatch.setattr(sandbox, "_refusal", None)
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    launcher = fake_launcher(tmp_path, "2 1")
    monkeypatch.setattr(build, "launcher_executable", lambda: launcher)
    expected = ("rlimits only: creating user, mount, network and PID namespaces (unshare) failed: "
                "Operation not permitted (EPERM)")
    first = run_f(tmp_path, "double f(double x) { return 2 * x; }\n")
    assert_computes(first)
    assert first.sandbox == expected and sandbox.isolation() == expected
    launcher.unlink()  # not started again
    second = run_f(tmp_path, "double f(double x) { return 2 * x; }\n", "again.c")
    assert_computes(second)
    assert second.sandbox == expected


def test_refusal_reports_in_words():
    assert namespaces.refusal_reason(b"12 2\n") == ("starting the harness inside the namespaces (execve) failed: "
                                                     "No such file or directory (ENOENT)")
    for nonsense in (b"", b"0 1", b"99 1", b"x y", b"1 2 3"):
        assert namespaces.refusal_reason(nonsense) is None


def test_a_program_cannot_fake_a_refusal(tmp_path, namespaces_work):
    """Exiting with the launcher's refusal status is an exit like any other: it does not turn the sandbox off."""
    status = namespaces.REFUSED_STATUS
    result = run_f(tmp_path, f"#include <stdlib.h>\ndouble f(double x) {{ if (x > 0.5) exit({status}); "
                             "return 2 * x; }\n")
    assert result.failure == "exit" and f"exited with status {status}" in str(result.error)
    assert result.sandbox == "namespaces" and sandbox.isolation() == "namespaces"


# ----------------------------------------------------------------------------------------- what commands say

HIDDEN = """\
#pragma nsc range x 0 1
#ifndef __NSC_PARSE__
#include <stdio.h>
static int escape(void) {  /* unseen by the front-end, which defines __NSC_PARSE__ */
    FILE *out = fopen(OUTSIDE, "w");
    if (!out) return 0;
    fclose(out);
    return 0;
}
#else
static int escape(void) { return 0; }
#endif
double f(double x) { return 2 * x + escape(); }
"""


def sample_json(tmp_path):
    outside = tmp_path / "outside.txt"
    src = tmp_path / "hidden.c"
    src.write_text(f"#define OUTSIDE {c_string(outside)}\n{HIDDEN}")
    result = CliRunner().invoke(main, ["sample", str(src), "-n", "20", "-o",
                                                       str(tmp_path / "d.csv"), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout), result.stderr, outside


def test_sample_json_says_namespaces(tmp_path, namespaces_work):
    summary, stderr, outside = sample_json(tmp_path)
    assert summary["sandbox"] == "namespaces" and "warning" not in stderr
    assert not outside.exists()


def test_sample_says_once_that_it_ran_without_namespaces(tmp_path, without_namespaces):
    summary, stderr, outside = sample_json(tmp_path)
    assert summary["sandbox"] == "rlimits only: NSC_SANDBOX=off"
    assert stderr.count("warning") == 1
    assert ("warning: the program ran without namespace isolation (rlimits only: NSC_SANDBOX=off): it could "
            "read and write your files") in stderr
    assert outside.exists()


def eval_json(tmp_path):
    src = tmp_path / "hidden.c"
    src.write_text(f"#define OUTSIDE {c_string(tmp_path / 'outside.txt')}\n{HIDDEN}")
    result = CliRunner().invoke(main, ["eval", str(src), "--budgets", "0", "--seeds", "1", "--inits", "random",
                                       "--test-size", "100", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_eval_json_says_namespaces(tmp_path, namespaces_work):
    results, stderr = eval_json(tmp_path)
    assert results["sandbox"] == "namespaces" and "warning" not in stderr


def test_eval_says_once_that_it_ran_without_namespaces(tmp_path, without_namespaces):
    results, stderr = eval_json(tmp_path)
    assert results["sandbox"] == "rlimits only: NSC_SANDBOX=off"
    assert stderr.count("warning") == 1 and "nsc eval: warning: the program ran without namespace isolation" in stderr


def run_corpus(out):
    from nsc.training import corpus_run

    return corpus_run.run_shard(corpus_run.RunOptions(str(out), programs=8, samples=8, chunk=8, workers=1,
                                                      rewrites=0, progress=False))


def test_the_corpus_runner_says_it_ran_in_namespaces(tmp_path, namespaces_work, capsys):
    assert run_corpus(tmp_path)["sandbox"] == "namespaces"
    assert "warning" not in capsys.readouterr().err


def test_the_corpus_runner_says_once_that_it_ran_without_namespaces(tmp_path, without_namespaces, capsys):
    assert run_corpus(tmp_path)["sandbox"] == "rlimits only: NSC_SANDBOX=off"
    stderr = capsys.readouterr().err
    assert stderr.count("warning") == 1 and "corpus_run: warning: the program ran without namespace" in stderr
