"""nsc: a neural surrogate compiler for numeric C functions.

The Python API is what the commands do, as functions (nsc/toolchain.py), importable from here:

    import nsc
    nsc.compile_file("examples/blackscholes.c", "bs.onnx", ranges={"spot": (50, 150)})
    nsc.sample_file("examples/blackscholes.c", n=1024, seed=1, output="train.csv")
    nsc.finetune_file("bs.onnx", "train.csv", output="bs.tuned.onnx")
    nsc.run_model("bs.tuned.onnx", "spot=100,strike=95,rate=0.05,volatility=0.2,time=1")["return"]
    nsc.inspect_model("bs.tuned.onnx")["metadata"]["history"]

Each takes the command's options as documented keyword arguments and returns its result (the `--json` summary;
for run_model, the columns: inputs as read, then predictions); none prints on standard output. Errors, wrong
argument types included, are `nsc.NscError`, with the command line's one-line message. To predict from arrays,
use the runtime package: `nsc_runtime.load("bs.tuned.onnx").predict(...)`.
"""

__version__ = "0.1.0"
__all__ = ["NscError", "compile_file", "sample_file", "run_model", "finetune_file", "inspect_model",
           "evaluate_files", "check_file", "emit_c_file"]


def __getattr__(name: str):
    # imported on first use: `import nsc` stays as light as the command line needs it (PEP 562)
    if name == "NscError":
        from nsc.errors import NscError

        return NscError
    if name in __all__:
        from nsc import toolchain

        return getattr(toolchain, name)
    raise AttributeError(f"module 'nsc' has no attribute {name!r}")
