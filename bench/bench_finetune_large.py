"""`nsc finetune` on large CSVs: wall time and peak memory, 1M and 10M rows of examples/blackscholes.c.

    python bench/bench_finetune_large.py [--rows 1000000 10000000] [--epochs 1] [--timeout 900]
                                         [--data-dir DIR] [--out bench/results]

For each size: the data is the real program's (`nsc sample examples/blackscholes.c -n ROWS --seed 1`, a CSV of 5
inputs and 1 output at 17 digits: ~110 bytes a row), kept in --data-dir when given (and reused from there), else in
a temporary directory. Then `nsc finetune MODEL DATA --epochs E -o OUT` runs as a child process (the model
compiled by `nsc compile --init random`), and its wall time, CPU time and peak resident memory are recorded:
VmHWM from /proc, read while it runs, so that a run stopped by --timeout has its figure too. For scale: the CSV's size and the float32 size of
its table (24 bytes a row). Prints a line a size and writes OUT/finetune_large.json. Issue 17: 10M rows held 2 GB
and had not finished an epoch after 400 s; memory must follow the float32 table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = "examples/blackscholes.c"


def peak_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_measured(command: list[str], timeout: float) -> dict:
    """Wall time, peak RSS (MB) and exit status of `command`; stopped (SIGINT, then SIGKILL) after `timeout` s."""
    with tempfile.TemporaryFile(mode="w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        peak, finished, stopped_at = 0.0, True, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)  # (a high-water mark: any reading is the peak so far)
            now = time.perf_counter()
            if stopped_at is None and now - t0 > timeout:
                finished, stopped_at = False, now
                proc.send_signal(signal.SIGINT)
            elif stopped_at is not None and now - stopped_at > 30:
                proc.kill()
            time.sleep(0.2)
        wall = (stopped_at or time.perf_counter()) - t0
        err.seek(0)
        stderr = err.read()
    peak = max(peak, usage.ru_maxrss / 1024)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(peak),
            "finished": finished, "exit": proc.returncode, "stderr_tail": stderr[-300:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900, help="seconds a run may take before it is stopped")
    ap.add_argument("--data-dir", help="keep (and reuse) the sampled CSVs here")
    ap.add_argument("--out", default="bench/results", help="folder for finetune_large.json")
    args = ap.parse_args()
    nsc = [sys.executable, "-m", "nsc.cli"]
    results = []
    with tempfile.TemporaryDirectory(prefix="nsc-bench-finetune-") as tmp:
        data_dir = Path(args.data_dir or tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        model = Path(tmp, "bs.onnx")
        subprocess.run([*nsc, "compile", PROGRAM, "--init", "random", "-o", str(model)], check=True,
                       stdout=subprocess.DEVNULL)
        for rows in args.rows:
            data = data_dir / f"blackscholes_{rows}.csv"
            if not data.exists():
                t0 = time.perf_counter()
                subprocess.run([*nsc, "sample", PROGRAM, "-n", str(rows), "--seed", "1", "-o", str(data)],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print(f"sampled {rows:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
            run = run_measured([*nsc, "finetune", str(model), str(data), "--epochs", str(args.epochs), "-o",
                                str(Path(tmp, "tuned.onnx"))], args.timeout)
            result = {"rows": rows, "epochs": args.epochs, "csv_mb": round(data.stat().st_size / 1e6),
                      "float32_table_mb": round(rows * 6 * 4 / 1e6), **run}
            results.append(result)
            state = "" if run["finished"] else f" (stopped after {args.timeout:.0f} s, not finished)"
            print(f"nsc finetune --epochs {args.epochs} on {rows:,} rows ({result['csv_mb']} MB of CSV, "
                  f"{result['float32_table_mb']} MB as float32): {run['wall_s']} s{state} ({run['cpu_s']} s of CPU), "
                  f"peak memory {run['peak_rss_mb']} MB", flush=True)
            if run["finished"] and run["exit"] != 0:
                print(run["stderr_tail"], file=sys.stderr)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, "finetune_large.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
