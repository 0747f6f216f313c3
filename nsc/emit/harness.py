"""A C `main` around an emitted surrogate, to run it on float rows from Python: what tests/ and bench/ use to
compare the emitted C with onnxruntime and the original function.

    driver_source(signature, name, native=False, header=None) -> C text
    build(c_path, driver_path, exe_path, flags=(), extra_sources=()) -> exe   (cc -O2 ... -lm)
    run(exe, mode, x) -> y float32 [n, n_out]

The driver reads a little-endian uint64 n and n rows of float32 inputs on stdin and writes n rows of float32
outputs on stdout, computed by mode: "batch" (NAME_batch), "rows" (NAME, the original signature, once per row)
or, built with native=True and the program's source, "native" (the original function, once per row). A guarded
surrogate's driver prints its counters on stderr (`run(..., stats=True)` reads them).
"""

from __future__ import annotations

import subprocess

import numpy as np

from nsc.emit.c_source import row_stub
from nsc.errors import NscError

_MAIN = r"""
int main(int argc, char **argv)
{
    unsigned long long n, k;
    float *x, *y;
    if (argc != 2 || fread(&n, sizeof n, 1, stdin) != 1) return 2;
    x = malloc((n ? n : 1) * N_IN * sizeof *x);
    y = malloc((n ? n : 1) * N_OUT * sizeof *y);
    if (!x || !y || fread(x, sizeof *x * N_IN, n, stdin) != n) return 3;
    if (!strcmp(argv[1], "batch")) @NAME@_batch(x, y, n);
    else if (!strcmp(argv[1], "rows")) for (k = 0; k < n; k++) call_surrogate(x + k * N_IN, y + k * N_OUT);
@NATIVE@    else return 4;
    if (fwrite(y, sizeof *y * N_OUT, n, stdout) != n) return 5;
#if @UPPER@_GUARDED
    {
        @NAME@_stats_t s;
        @NAME@_stats(&s);
        fprintf(stderr, "calls=%llu fallbacks=%llu out_of_range=%llu predicted_error=%llu\n", s.calls, s.fallbacks,
                s.out_of_range, s.predicted_error);
    }
#endif
    return 0;
}
"""


def driver_source(signature, name: str, native: bool = False, header: str | None = None) -> str:
    """The driver's C (it includes `header`, default NAME.h; with native, it calls the original function too)."""
    from nsc.emit.c_source import prototype

    parts = [f'#include "{header or name + ".h"}"', "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
             f"#define N_IN {signature.n_in}", f"#define N_OUT {signature.n_out}",
             row_stub(signature, name, "call_surrogate")]
    if native:
        parts += [f"{prototype(signature, signature.function)};", row_stub(signature, signature.function,
                                                                           "call_native")]
    text = _MAIN.replace("@NAME@", name).replace("@UPPER@", name.upper()).replace(
        "@NATIVE@", '    else if (!strcmp(argv[1], "native")) for (k = 0; k < n; k++) '
                    'call_native(x + k * N_IN, y + k * N_OUT);\n' if native else "")
    return "\n".join(parts) + text


def build(c_path, driver_path, exe_path, flags=(), extra_sources=()) -> str:
    """cc -O2 the emitted C, the driver and `extra_sources` (the program, for native) into exe_path."""
    cmd = ["cc", "-O2", *flags, "-o", str(exe_path), str(c_path), str(driver_path), *map(str, extra_sources), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise NscError(f"cc failed ({' '.join(cmd)}):\n{done.stderr}")
    return str(exe_path)


def run(exe, mode: str, x: np.ndarray, n_out: int, stats: bool = False):
    """The outputs [n, n_out]; with stats, (outputs, the guard's counters as a dict) of a guarded surrogate."""
    x = np.ascontiguousarray(x, dtype="<f4")
    data = np.uint64(x.shape[0]).tobytes() + x.tobytes()
    done = subprocess.run([str(exe), mode], input=data, capture_output=True)
    if done.returncode != 0:
        raise NscError(f"{exe} {mode} exited with {done.returncode}: {done.stderr.decode(errors='replace')}")
    y = np.frombuffer(done.stdout, dtype="<f4").reshape(x.shape[0], n_out)
    if not stats:
        return y
    counters = dict(item.split("=") for item in done.stderr.decode().split())
    return y, {k: int(v) for k, v in counters.items()}
