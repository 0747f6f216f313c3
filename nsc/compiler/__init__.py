"""The compiler: a Program -> the initial weights of its surrogate.

  inits.py       `compile_params(program, init)`: which initialisation, made how (structural first, by default)
  structural.py  structural compilation: the analysis's network of the program's own computation (nsc/analysis)
  hypernet.py    the trained hypernetwork, run with onnxruntime, for what the structural compiler cannot translate
  encoding.py    Program -> the hypernetwork's input arrays (numpy; shared with training)
  exact.py       closed forms the analysis proves, compiled into the hypernetwork's surrogate
  weights/       the trained hypernetwork, its manifest and the unconditioned initialisation (`make compiler`)

Never imports torch. Importing this package is cheap (its names load on first use; `nsc run` imports inits.py
for the list of initialisations only): onnxruntime loads on the first hypernetwork surrogate.
"""

_NAMES = {"CompileResult": "inits", "INITS": "inits", "compile_params": "inits", "installed_compiler": "hypernet",
          "prepare": "hypernet", "vouched": "inits"}
__all__ = sorted(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(f"nsc.compiler.{_NAMES[name]}"), name)
    raise AttributeError(name)
