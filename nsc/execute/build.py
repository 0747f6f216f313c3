"""Compiling harnesses with the system C compiler, and caching the executables.

`cc -O2 -std=gnu11` compiles the generated unit (harness.py) with the user's -I/-D flags and
`-Dmain=nsc__user_main`, and links it with the runtime object (runtime_c.py, compiled once per compiler) and
`-lm`. The user's allocators are wrapped (`-Wl,--wrap=malloc,...`) so that running out of memory can be told
apart from other crashes. The sandbox launcher (namespaces.py) is compiled once per compiler, like the runtime.

Cache: NSC_CACHE_DIR (default ~/.cache/nsc/harness). An executable is keyed by the sha256 of the unit source,
the user file's path and bytes, the flags and the compiler's version; next to it a manifest lists every file the
compile read (from cc's -MD dependency output: the user file and every header, system headers included) with
its sha256, and a cached executable is used only while all of those still hash the same. Files are written to
a temporary name and renamed into place, so concurrent builders never see a partial executable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nsc.background import Background
from nsc.errors import NscError
from nsc.execute.namespaces import LAUNCHER_SOURCE
from nsc.execute.runtime_c import RUNTIME_SOURCE

CC = "cc"
BASE_FLAGS = ("-O2", "-std=gnu11")
USER_MAIN = "nsc__user_main"
WRAPPED_ALLOCATORS = ("malloc", "calloc", "realloc")
# Bump when the meaning of a cached executable changes without its inputs changing.
CACHE_FORMAT = "nsc-harness-2"


@dataclass(frozen=True)
class Unit:
    """What to compile: the user's file (absolute path), how to name it in messages, the functions, the flags."""

    user_file: str
    display_path: str
    signatures: tuple
    include_dirs: tuple[str, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()

    def flags(self) -> list[str]:
        flags = [f"-I{os.path.abspath(d)}" for d in self.include_dirs]
        flags += [f"-D{name}={value}" if value != "" else f"-D{name}" for name, value in self.defines]
        return flags + [f"-Dmain={USER_MAIN}"]


def _digest(f) -> str:
    """sha256 of an open binary file, read in chunks."""
    h = hashlib.sha256()
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("NSC_CACHE_DIR") or Path.home() / ".cache" / "nsc" / "harness")


@functools.lru_cache(maxsize=None)
def compiler_version() -> str:
    """`cc --version`'s first line plus the resolved path of cc (part of every cache key)."""
    path = shutil.which(CC)
    if path is None:
        raise NscError(f"the C compiler '{CC}' was not found on PATH; nsc needs it to run programs natively")
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise NscError(f"cannot run the C compiler '{CC}': {e}") from None
    return f"{os.path.realpath(path)}\n{out.splitlines()[0] if out else ''}"


def _sha256_file(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return _digest(f)
    except OSError:
        return None


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dst)


def _atomic_write_text(dst: Path, text: str) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, dst)


def _ensure_cache_dir() -> Path:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NscError(f"cannot create the harness cache directory '{d}': {e.strerror}") from None
    return d


# ---------------------------------------------------------------------------------------------- diagnostics

# (patterns compiled on first use, by re's cache: compiling both at import cost `nsc compile` ~4 ms)
_DIAGNOSTIC = r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$"
_LINKER = r"(undefined reference to .*|multiple definition of .*)$"


def compile_error(stderr: str, unit: Unit, unit_file: str) -> NscError:
    """The first error in cc's output as an NscError pointing at the user's file:line:col."""
    stderr = stderr.replace(USER_MAIN, "main")
    errors = [m for line in stderr.splitlines() if (m := re.match(_DIAGNOSTIC, line))]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        path = first["path"]
        if os.path.abspath(path) == unit.user_file:
            path = unit.display_path
        elif os.path.abspath(path) == unit_file:
            # An error in the generated stubs: the signature does not fit the function as compiled.
            return NscError(f"cannot call the function from the native harness: {first['msg']}{more}",
                            unit.display_path)
        return NscError(first["msg"] + more, path, int(first["line"]), int(first["col"]) if first["col"] else None)
    linker = [m.group(1) for line in stderr.splitlines() if (m := re.search(_LINKER, line))]
    if linker:
        return NscError(f"the program does not link: {linker[0]}", unit.display_path)
    tail = " ".join(stderr.strip().splitlines()[-3:]) or "no message"
    return NscError(f"the C compiler failed: {tail}", unit.display_path)


# ---------------------------------------------------------------------------------------------- building

def _run_cc(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    try:
        # LC_ALL=C: plain ASCII quotes in diagnostics, whatever the user's locale.
        env = {**os.environ, "LC_ALL": "C"}
        return subprocess.run([CC, *args], cwd=cwd, env=env, capture_output=True, text=True, errors="replace",
                              timeout=600)
    except subprocess.TimeoutExpired:
        raise NscError("the C compiler did not finish within 600 s") from None
    except OSError as e:
        raise NscError(f"cannot run the C compiler '{CC}': {e.strerror}") from None


def start_syntax_check(user_file: str, display_path: str, include_dirs=(), defines=()):
    """Start `cc -fsyntax-only` on the user's file, as the native build compiles it, in a background thread;
    returns a function that waits for it and raises its first error as an NscError. The front-end parses C but
    does not type-check it (`x + "s"` parses), so `nsc compile` runs this beside it: a program cc rejects gets
    cc's error, not a surrogate. (~15 ms of cc, overlapping the front-end and the hypernetwork.)"""
    unit = Unit(os.path.abspath(user_file), display_path, (), tuple(include_dirs), tuple(defines))
    running = Background(_run_cc, [BASE_FLAGS[1], "-fsyntax-only", *unit.flags(), unit.user_file], os.getcwd(),
                         name="nsc-syntax-check")

    def wait() -> None:
        done = running.result()
        if done.returncode != 0:
            raise compile_error(done.stderr, unit, "")
    return wait


def _cached_build(stem: str, source: str, cc_args: list[str], suffix: str = "") -> Path:
    """`source` compiled by `cc CC_ARGS SRC -o OUT` into the cache, once per compiler (stem names it there)."""
    key = hashlib.sha256("\0".join([CACHE_FORMAT, source, compiler_version(), *cc_args]).encode())
    out = _ensure_cache_dir() / f"{stem}-{key.hexdigest()[:32]}{suffix}"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(prefix="nsc-build-", dir=out.parent) as tmp:
        (Path(tmp) / "source.c").write_text(source)
        done = _run_cc([*cc_args, "source.c", "-o", "out"], tmp)
        if done.returncode != 0:
            raise NscError(f"cannot compile the {stem.replace('-', ' ')}: {done.stderr.strip()}")
        _atomic_copy(Path(tmp) / "out", out)
    return out


def runtime_object() -> Path:
    """The harness runtime compiled to an object file, cached per compiler."""
    return _cached_build("harness-runtime", RUNTIME_SOURCE, [*BASE_FLAGS, "-c"], ".o")


def launcher_executable(defines: tuple[str, ...] = ()) -> Path:
    """The sandbox launcher (namespaces.py), cached per compiler; `defines` are for tests."""
    return _cached_build("sandbox-launcher", LAUNCHER_SOURCE, [*BASE_FLAGS, *(f"-D{d}" for d in defines)])


def _parse_depfile(text: str) -> list[str]:
    """The prerequisites listed in a make rule written by cc -MD (escaped spaces kept in names)."""
    body = text.replace("\\\n", " ").split(":", 1)[1] if ":" in text else ""
    return [t.replace("\\ ", " ") for t in re.split(r"(?<!\\)\s+", body.strip()) if t]


def _deps_still_valid(manifest: Path) -> bool:
    try:
        deps = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return all(_sha256_file(path) == digest for path, digest in deps)


def build(unit: Unit, work_dir: str | None = None) -> Path:
    """Compile `unit` and return the path of the executable.

    Without work_dir the executable comes from (or goes into) the cache; with work_dir it is built there and not
    cached (for one-off units such as corpus shards, which would only fill the cache).
    """
    try:
        user_bytes = Path(unit.user_file).read_bytes()
    except OSError as e:
        raise NscError(f"cannot read the program: {e.strerror}", unit.display_path) from None
    from nsc.execute import harness  # (here: harness imports the front-end, which nsc compile's check needs not)

    source = harness.unit_source(unit.user_file, unit.signatures)
    flags = unit.flags()
    runtime = runtime_object()
    if work_dir is not None:
        return _compile(unit, source, flags, runtime, work_dir)[0]

    h = hashlib.sha256()
    for part in (CACHE_FORMAT, compiler_version(), source, unit.user_file, *BASE_FLAGS, *flags):
        h.update(part.encode() + b"\0")
    h.update(hashlib.sha256(user_bytes).digest())
    key = h.hexdigest()[:40]
    cache = runtime.parent
    exe, manifest = cache / f"{key}.exe", cache / f"{key}.deps.json"
    if exe.exists() and _deps_still_valid(manifest):
        return exe
    with tempfile.TemporaryDirectory(prefix="nsc-build-", dir=cache) as tmp:
        built, deps = _compile(unit, source, flags, runtime, tmp)
        _atomic_write_text(manifest, json.dumps([[d, _sha256_file(d)] for d in deps]))
        _atomic_copy(built, exe)
    return exe


def _compile(unit: Unit, source: str, flags: list[str], runtime: Path, work_dir: str) -> tuple[Path, list[str]]:
    """Run cc in work_dir; return the executable and every file the compile read (but the generated unit)."""
    unit_file = os.path.join(os.path.abspath(work_dir), "nsc_unit.c")
    Path(unit_file).write_text(source)
    wrap = "-Wl," + ",".join(f"--wrap={name}" for name in WRAPPED_ALLOCATORS)
    done = _run_cc([*BASE_FLAGS, *flags, "-MD", "-MF", "nsc_unit.d", unit_file, str(runtime), wrap,
                    "-o", "nsc_harness", "-lm"], work_dir)
    if done.returncode != 0:
        raise compile_error(done.stderr, unit, unit_file)
    deps = _parse_depfile(Path(work_dir, "nsc_unit.d").read_text())
    deps = [os.path.abspath(os.path.join(work_dir, d)) for d in deps]
    return Path(work_dir, "nsc_harness"), [d for d in deps if d != unit_file]


def build_file(user_file: str, display_path: str, signatures, include_dirs=(), defines=()) -> Path:
    """Build (or find in the cache) a harness around the user's file on disk."""
    return build(Unit(os.path.abspath(user_file), display_path, tuple(signatures), tuple(include_dirs),
                      tuple(defines)))


def build_source(source_text: str, signatures, work_dir: str, include_dirs=(), defines=(),
                 display_path="<source>") -> Path:
    """Build a harness around C source text (the corpus) in work_dir, uncached: the text is written to
    work_dir/<display name>.c and included from there."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(display_path)) or "source"
    path = os.path.join(os.path.abspath(work_dir), name if name.endswith(".c") else name + ".c")
    Path(path).write_text(source_text)
    return build(Unit(path, display_path, tuple(signatures), tuple(include_dirs), tuple(defines)), work_dir)
