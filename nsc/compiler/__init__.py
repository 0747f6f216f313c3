"""The compiler: a program's canonical tokens and signature -> the initial weights of its surrogate.

  encoding.py  Program -> the hypernetwork's input arrays (numpy; shared with training)
  hypernet.py  `compile_params`: runs the shipped hypernetwork (weights/compiler.onnx) with onnxruntime
  weights/     the trained model, its manifest and the unconditioned initialisation (built by `make compiler`)

Never imports torch. Importing this package is cheap: onnxruntime loads on the first compiled surrogate.
"""

from nsc.compiler.hypernet import CompileResult, compile_params, installed_compiler, prepare

__all__ = ["CompileResult", "compile_params", "installed_compiler", "prepare"]
