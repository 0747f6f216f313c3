"""Native execution: a sandboxed harness around the user's C function, fed in binary batches.

    sample_inputs(signature, n, rng) -> float64 [n, n_in]
    run_program(program, x, timeout=5.0, memory_mb=1024) -> RunResult
    run_functions(c_source_text, signatures, xs, timeout=5.0, include_dirs=(), defines=(), memory_mb=1024,
                  path="<corpus>") -> list[RunResult]
    sample_program(program, n=None, seed=0, keep_nonfinite=False, inputs=None, timeout=5.0, memory_mb=1024)
        -> SampleResult
    isolation() -> "namespaces" | "rlimits only: <why>";  isolation_warning(isolation) -> str | None

Modules: harness (generated C stubs), runtime_c (the fixed C runtime), build (cc + cache), namespaces (the
launcher that puts a harness in its own Linux namespaces), sandbox (child process, limits, batches), sampling
(this API).
"""

__all__ = ["RunResult", "SampleResult", "describe_row", "isolation", "isolation_warning", "run_functions",
           "run_program", "sample_inputs", "sample_program"]


def __getattr__(name: str):
    # The API is imported on first use: `nsc compile` needs only build's syntax check, not the sandbox (PEP 562)
    if name in __all__:
        from nsc.execute import sampling

        return getattr(sampling, name)
    raise AttributeError(f"module 'nsc.execute' has no attribute {name!r}")
