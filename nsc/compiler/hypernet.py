"""The trained hypernetwork at compile time: a Program -> the weights of its surrogate, with no torch.

It compiles what the structural compiler (structural.py) cannot translate (inits.py chooses), and is the
`hypernetwork` and `unconditioned` initialisations of `nsc eval`'s ablation:
  Compiler.compile        the shipped hypernetwork (weights/compiler.onnx) run with onnxruntime on the program's
                          encoding; the output map (out_scale, out_shift) is predicted too, so the surrogate works
                          zero-shot in the program's units. out_calibrated is the manifest's choice: False (the
                          default) lets fine-tuning replace the predicted map by the data's mean/std. A program the
                          analysis proves piecewise affine is then compiled exactly (exact.py; params.extra["exact"]
                          is True); one whose forms have Euclidean lengths to a stated relative error
                          (params.extra["closed_form_error"])
  Compiler.unconditioned  the one learned initialisation shipped with the compiler (weights/unconditioned.safetensors),
                          the same for every program; output map calibrated from data later (out_calibrated False)

The weights directory is the package's `weights/` unless the environment variable NSC_COMPILER_DIR names
another (e.g. a candidate model under evaluation). onnxruntime and safetensors are imported lazily, the
InferenceSession is created once per process with one intra-op thread. `nsc compile` starts creating it in a
background thread (`Compiler.prepare`) while the front-end reads the program: onnxruntime releases the GIL while
it loads the model, so the two overlap (measured: 228 -> 218 ms median over 5 examples x 9 runs, interleaved).
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from nsc.compiler.encoding import (MODEL_OUTPUTS, check_fits, check_limits, collate, encode,
                                  encoding_from_manifest)
from nsc.compiler.exact import emit_exact_outputs
from nsc.errors import NscError
from nsc.analysis import flows, linearization
from nsc.analysis.linearize import Unsupported, linearize_tokens
from nsc.surrogate.params import SurrogateParams, input_normalisation

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def weights_dir() -> Path:
    return Path(os.environ.get("NSC_COMPILER_DIR") or WEIGHTS_DIR)


class Compiler:
    """A trained compiler: manifest, hypernetwork session (created on first use) and unconditioned init."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        manifest_path = self.directory / "manifest.json"
        if not (manifest_path.is_file() and (self.directory / "compiler.onnx").is_file()):
            raise NscError(f"no trained compiler is installed ({self.directory / 'compiler.onnx'} is missing); "
                           f"use --init random, or build it with `make compiler`")
        try:
            with open(manifest_path) as f:
                self.manifest = json.load(f)
            self.id: str = self.manifest["id"]
            self.vocab, self.encoding = encoding_from_manifest(self.manifest["encoding"])
            self.hidden = tuple(self.manifest["hidden"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise _broken(manifest_path, e) from e
        self.activation = self.manifest.get("activation", "silu")
        self.out_calibrated = bool(self.manifest.get("out_calibrated", False))
        self._session = None
        self._loading: threading.Thread | None = None
        self._loading_error: BaseException | None = None

    def prepare(self) -> None:
        """Start creating the inference session in a background thread; `session()` waits for it. Not a daemon:
        an interpreter that exits while onnxruntime is still loading waits for it rather than killing native
        code mid-call."""
        if self._session is not None or self._loading is not None:
            return
        import onnxruntime  # noqa: F401  (imported here: an import in the thread would hold the GIL throughout)

        def load():
            try:
                self._session = self._new_session()
            except BaseException as e:  # re-raised by session(), in the caller's thread
                self._loading_error = e

        self._loading = threading.Thread(target=load, name="nsc-compiler-session")
        self._loading.start()

    def session(self):
        if self._loading is not None:
            self._loading.join()
            self._loading = None
            if self._loading_error is not None:
                error, self._loading_error = self._loading_error, None
                raise error
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _new_session(self):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        # one inference per process: graph optimisations cost more to set up than they save on a single
        # run (measured: session 13 ms instead of 21 ms with the basic ones, inference no slower; the export
        # applies them once, nsc/training/export.py `simplify_onnx`), and so does pre-packing the weights
        # for repeated matrix products (session 11 -> 10 ms; inference the same)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.add_session_config_entry("session.disable_prepacking", "1")
        path = self.directory / "compiler.onnx"
        try:
            return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...) share no base
            raise _broken(path, e) from e

    def compile(self, program) -> tuple[SurrogateParams, list[str]]:
        """The hypernetwork's surrogate for `program` and notes for the user."""
        sig = program.signature
        check_fits(sig, program.tokens, self.encoding)  # before the analysis: a refusal should come at once
        linear = linearization(program) if program.code else linearize_tokens(program.tokens, sig)
        enc = encode(sig, program.tokens, self.vocab, self.encoding, flows(program) if program.code else None,
                     linear)
        wanted = {i.name for i in self.session().get_inputs()}  # older compilers lack some inputs (flows, lin_*)
        feeds = {k: v for k, v in collate([enc]).items() if k in wanted}
        outs = dict(zip(MODEL_OUTPUTS, self.session().run(list(MODEL_OUTPUTS), feeds)))
        in_shift, in_scale = input_normalisation(*sig.ranges())
        params = SurrogateParams(
            in_shift, in_scale,
            weights=[outs["w0"][0].T, outs["w1"][0], outs["w2"][0]],
            biases=[outs["b0"][0], outs["b1"][0], outs["b2"][0]],
            out_scale=outs["out_scale"][0], out_shift=outs["out_shift"][0],
            activation=self.activation, out_calibrated=self.out_calibrated).astype32()
        params, error = emit_exact_outputs(params, linear)
        if error == 0.0:
            params.extra["exact"] = True
        elif error is not None:  # Euclidean lengths approximated by ReLU units
            params.extra["closed_form_error"] = error
        _check(params, sig)
        notes = list(enc.notes)
        if "lin_beta" in wanted and isinstance(linear, Unsupported):
            notes.append(f"the front-end's linearisation does not model this function ({linear}); the compiler "
                         f"reads its text alone")
        return params, notes

    def unconditioned(self, signature) -> SurrogateParams:
        """The shared learned initialisation, sliced to the signature's inputs and outputs."""
        path = self.directory / "unconditioned.safetensors"
        if not path.is_file():
            raise NscError(f"the installed compiler has no unconditioned initialisation ({path} is missing); "
                           f"rebuild it with `make compiler`")
        from safetensors.numpy import load_file

        check_limits(signature, self.encoding)
        try:
            w = load_file(str(path))
        except Exception as e:  # safetensors' SafetensorError, OSError
            raise _broken(path, e) from e
        n_in, n_out = signature.n_in, signature.n_out
        in_shift, in_scale = input_normalisation(*signature.ranges())
        params = SurrogateParams(
            in_shift, in_scale, weights=[w["w0"][:n_in].T, w["w1"], w["w2"][:n_out]],
            biases=[w["b0"], w["b1"], w["b2"][:n_out]], out_scale=np.ones(n_out, np.float32),
            out_shift=np.zeros(n_out, np.float32), activation=self.activation, out_calibrated=False).astype32()
        _check(params, signature)
        return params


def _broken(path: Path, error: Exception) -> NscError:
    reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return NscError(f"the installed compiler is damaged ({path}: {reason}); reinstall nsc, rebuild the compiler "
                    f"with `make compiler`, or use --init random")


def _check(params: SurrogateParams, signature) -> None:
    try:
        params.validate()
    except ValueError as e:
        raise NscError(f"the compiler produced unusable weights for '{signature.function}' ({e}); "
                       f"use --init random") from e


@lru_cache(maxsize=4)
def _load(directory: str) -> Compiler:
    return Compiler(Path(directory))


def installed_compiler() -> Compiler:
    """The compiler in `weights_dir()` (cached per directory); NscError if none is installed."""
    return _load(str(weights_dir()))


def prepare(init: str = "compiled") -> None:
    """Start loading, in the background, what `compile_params(..., init)` may need (`Compiler.prepare`), so it
    overlaps the front-end's work. A missing compiler is left for compile_params to report, after any error in
    the program itself."""
    if init in ("compiled", "hypernetwork"):
        try:
            installed_compiler().prepare()
        except NscError:
            pass  # compile_params raises the same error
