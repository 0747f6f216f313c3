"""Output paths: every file an nsc command writes goes through here, treated as cc treats its -o.

- A regular file, or a name that does not exist yet, is replaced atomically: the data goes to a temporary file in
  the same directory, then os.replace, so a reader never sees a partial file and a failed or interrupted command
  leaves the previous file as it was.
- A character or block device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written straight through, with
  no temporary file: replacing it would turn it into a regular file (as root, the machine's /dev/null).
- A directory is refused, and so is anything else that is not one of the above (a socket).
- A symbolic link is followed, as cc follows it: its target is written by the rules above (a regular target is
  replaced atomically and the link stays a link; a dangling link's target is created).
- check_output(path, reads) refuses, before any work, an output that is one of the files the command reads (its
  program, headers, data, model or inputs): writing it would destroy what the result was made from.

Neighbours: nsc/data.py (CSV/NPZ/JSON tables), nsc/surrogate/onnx_io.py (surrogates), nsc/toolchain.py (depfiles,
eval's JSON), nsc/evaluate.py (plots) and nsc/training/ write through open_output; nsc/cli.py turns SIGTERM and
SIGHUP into an exception so that the temporary file is removed then too.
"""

from __future__ import annotations

import contextlib
import os
import stat

from nsc.errors import NscError

NEW, REGULAR, STREAM = "new", "regular", "stream"


def resolve_output(path) -> tuple[str, str]:
    """(the path to write, its kind): NEW (no such file yet), REGULAR (a regular file, replaced atomically) or
    STREAM (a device or FIFO, written through). A symlink resolves to its target; NscError for a directory, a
    missing directory, a socket, a link loop."""
    path = os.fspath(path)
    target = os.path.realpath(path)  # a symlink writes its target, as cc does
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            shown = parent if os.path.islink(path) else os.path.dirname(path)  # (a dangling link's target's)
            raise NscError(f"cannot write: directory '{shown}' does not exist", path) from None
        return target, NEW
    except OSError as e:  # a symlink loop, a component that is not a directory, no permission
        raise NscError(f"cannot write: {e.strerror}", path) from None
    if stat.S_ISDIR(mode):
        raise NscError("cannot write: it is a directory (name a file)", path)
    if stat.S_ISREG(mode):
        return target, REGULAR
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
        return target, STREAM
    raise NscError("cannot write: not a regular file, a device or a FIFO", path)


def check_output(path, reads=()) -> None:
    """Before any work: `path` can be written (see resolve_output), and it is none of the files in `reads` (as cc
    refuses `cc -c t.c -o t.c`). Entries of `reads` that are not existing files (inline inputs, '-', None) are
    skipped; a device or FIFO output replaces nothing, so it may also be read (/dev/stdin and /dev/stdout)."""
    target, kind = resolve_output(path)
    if kind != REGULAR:
        return
    for source in reads:
        if not isinstance(source, (str, os.PathLike)) or os.fspath(source) in ("", "-"):
            continue  # (not a file name: run's inputs given as rows)
        with contextlib.suppress(OSError):
            if os.path.samefile(source, target):
                raise NscError("the input file is the same as the output file (-o)", path=os.fspath(source))


@contextlib.contextmanager
def open_output(path, mode: str = "w"):
    """A file object that writes `path` by the rules of this module. For a regular file the data goes to a
    temporary file that replaces `path` when the block ends without an exception, and is removed on any exception
    (KeyboardInterrupt and nsc's SIGTERM/SIGHUP exception included). Text modes are UTF-8 with no newline
    translation."""
    shown = os.fspath(path)
    target, kind = resolve_output(shown)
    text_options = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
    if kind == STREAM:
        try:
            with open(target, mode, **text_options) as f:
                yield f
        except BrokenPipeError:  # the reader went away: as for standard output (the CLI exits quietly)
            raise
        except OSError as e:  # no permission on the device, a write it refuses
            raise NscError(f"cannot write: {e.strerror}", shown) from None
        return
    # The name comes first, so that a signal arriving the instant the file is created still finds it to remove
    # (mkstemp could be interrupted after creating it, before returning its name).
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.urandom(6).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # (the umask applies, as to open())
        with os.fdopen(fd, mode, **text_options) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        if not isinstance(e, FileExistsError):  # (the one failure where the file there is not ours)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError):  # no permission, a full disk, a quota
            raise NscError(f"cannot write: {e.strerror}", shown) from None
        raise


def write_output(path, data: str | bytes) -> None:
    """Write all of `data` (text or bytes) to `path` by the rules of this module."""
    with open_output(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
