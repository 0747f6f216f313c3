"""Export a trained hypernetwork for shipping: ONNX graph + manifest + unconditioned init.

    python -m nsc.training.export --config nsc/training/configs/compiler.json --out nsc/compiler/weights
                                  [--last-layer generated|channels]   (default: the config's export_last_layer)

Reads out_dir/checkpoint of the training run and writes, into the weights directory (atomically, file by file,
manifest last):
  compiler.onnx              the hypernetwork: inputs encoding.MODEL_INPUTS, outputs encoding.MODEL_OUTPUTS
                             (w0 [B, I, H1], b0, w1, b1, w2 [B, O, H2], b2, out_scale, out_shift); dynamic batch,
                             sequence length and port counts; simplified once here (`simplify_onnx`) so that
                             `nsc compile` loads it faster
  unconditioned.safetensors  the unconditioned initialisation (w0 [max_inputs, H1], b0, w1, b1, w2 [max_outputs,
                             H2], b2), loaded with safetensors.numpy
  manifest.json              id, model config, encoding (vocabulary and settings), corpus id, training figures,
                             held-out quality, file hashes

Before writing, onnxruntime's outputs are checked against torch's on random programs of several shapes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

from nsc.compiler.encoding import (MODEL_INPUTS, MODEL_OUTPUTS, N_NUMERIC, ROLE_CLS, ROLE_IN, ROLE_OUT, ROLE_SEP,
                                   ROLE_TARGET, dumps_manifest)
from nsc.errors import NscError
from nsc.outputs import write_output
from nsc.training.model import HyperNet, UnconditionedInit
from nsc.training.train import TrainConfig, checkpoint_dir, load_models

MANIFEST_FORMAT = 1
MAX_SHIPPED_BYTES = 30_000_000  # the package carries the compiler in git: keep it small


class ExportedHyperNet(torch.nn.Module):
    """The hypernetwork with its output map in the surrogate's terms (out_scale, out_shift)."""

    def __init__(self, hypernet: HyperNet):
        super().__init__()
        self.hypernet = hypernet

    def forward(self, *inputs):  # encoding.MODEL_INPUTS, in order
        g = self.hypernet(*inputs)
        out_scale = torch.exp(g["log_scale"])
        return g["w0"], g["b0"], g["w1"], g["b1"], g["w2"], g["b2"], out_scale, g["shift_units"] * out_scale


def example_inputs(vocab_size: int, n_in: int, n_out: int, n_code: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A random well-formed single-program input batch (for tracing and checking the export)."""
    rng = np.random.default_rng(seed)
    L = 2 + n_in + n_out + n_code
    roles = np.array([ROLE_CLS] + [ROLE_IN] * n_in + [ROLE_OUT] * n_out + [ROLE_SEP] + [ROLE_TARGET] * n_code)
    numeric = np.zeros((1, L, N_NUMERIC), np.float32)
    numeric[0, 1:1 + n_in + n_out] = rng.normal(size=(n_in + n_out, N_NUMERIC))
    return {"token_ids": rng.integers(0, vocab_size, (1, L)), "role_ids": roles[None].astype(np.int64),
            "index_ids": rng.integers(0, 4, (1, L)), "numeric": numeric,
            "in_pos": np.arange(1, 1 + n_in)[None], "in_mask": np.ones((1, n_in), np.float32),
            "out_pos": np.arange(1 + n_in, 1 + n_in + n_out)[None], "out_mask": np.ones((1, n_out), np.float32),
            "flows": (rng.random((1, n_in, n_out)) < 0.7).astype(np.float32),
            "lin_beta": rng.normal(size=(1, n_in, n_out)).astype(np.float32),
            "lin_out": np.stack([np.ones((1, n_out)), rng.normal(0, 1, (1, n_out)), rng.normal(0, 1, (1, n_out)),
                                 rng.random((1, n_out))], -1).astype(np.float32)}


def export_onnx(hypernet: HyperNet, path: str) -> None:
    module = ExportedHyperNet(hypernet).eval()
    feeds = example_inputs(hypernet.cfg.vocab_size, 3, 2, 20)
    args = tuple(torch.from_numpy(feeds[k]) for k in MODEL_INPUTS)
    dynamic = {"token_ids": {0: "batch", 1: "length"}, "role_ids": {0: "batch", 1: "length"},
               "index_ids": {0: "batch", 1: "length"}, "numeric": {0: "batch", 1: "length"},
               "in_pos": {0: "batch", 1: "n_in"}, "in_mask": {0: "batch", 1: "n_in"},
               "out_pos": {0: "batch", 1: "n_out"}, "out_mask": {0: "batch", 1: "n_out"},
               "flows": {0: "batch", 1: "n_in", 2: "n_out"}, "lin_beta": {0: "batch", 1: "n_in", 2: "n_out"},
               "lin_out": {0: "batch", 1: "n_out"},
               "w0": {0: "batch", 1: "n_in"}, "b0": {0: "batch"}, "w1": {0: "batch"}, "b1": {0: "batch"},
               "w2": {0: "batch", 1: "n_out"}, "b2": {0: "batch", 1: "n_out"},
               "out_scale": {0: "batch", 1: "n_out"}, "out_shift": {0: "batch", 1: "n_out"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, args, path, input_names=list(MODEL_INPUTS), output_names=list(MODEL_OUTPUTS),
                          dynamic_axes=dynamic, opset_version=17, dynamo=False)


def simplify_onnx(path: str) -> tuple[int, int]:
    """Rewrite the exported graph at `path` with onnxruntime's basic optimisations (constant folding, redundant
    nodes removed; standard ONNX ops only); returns the node counts (before, after).

    The exporter leaves the shape arithmetic of the dynamic axes as hundreds of small nodes (840 for the shipped
    model, 260 of them Constant). `nsc compile` creates one session per process with graph optimisations off,
    because optimising costs more than it saves on one run; simplifying once here instead halves the nodes, and
    session creation went from 17 to 11 ms (bench/bench_compile.py measures the whole process).
    """
    import onnx
    import onnxruntime as ort

    before = len(onnx.load(path, load_external_data=False).graph.node)
    with tempfile.TemporaryDirectory() as tmp:
        simplified = os.path.join(tmp, "simplified.onnx")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = simplified
        ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        model = onnx.load(simplified)
    foreign = sorted({n.domain for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    if foreign:
        raise RuntimeError(f"simplifying the exported graph introduced non-standard ops (domains {foreign})")
    # onnxruntime declares every domain it knows; keep the standard one the graph uses
    standard = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    del model.opset_import[:]
    model.opset_import.extend(standard)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return before, len(model.graph.node)


def check_onnx(hypernet: HyperNet, path: str, rtol: float = 1e-4, atol: float = 1e-5) -> float:
    """Max abs difference between onnxruntime and torch on random programs of several shapes (raises if over
    tolerance)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    module = ExportedHyperNet(hypernet).eval()
    worst = 0.0
    for k, (n_in, n_out, n_code) in enumerate([(1, 1, 5), (3, 2, 40), (32, 16, 100), (7, 3, 300)]):
        n_code = min(n_code, hypernet.cfg.max_len - 2 - n_in - n_out)
        feeds = example_inputs(hypernet.cfg.vocab_size, n_in, n_out, n_code, seed=k)
        wanted = {i.name for i in sess.get_inputs()}  # the exporter drops inputs the model does not read
        got = sess.run(list(MODEL_OUTPUTS), {k: v for k, v in feeds.items() if k in wanted})
        with torch.no_grad():
            want = module(*(torch.from_numpy(feeds[k]) for k in MODEL_INPUTS))
        for name, g, w in zip(MODEL_OUTPUTS, got, want):
            w = w.numpy()
            if g.shape != w.shape or not np.allclose(g, w, rtol=rtol, atol=atol):
                raise RuntimeError(f"ONNX export mismatch in {name} for shape {(n_in, n_out, n_code)}: "
                                   f"max diff {np.max(np.abs(g - w)) if g.shape == w.shape else g.shape}")
            worst = max(worst, float(np.max(np.abs(g - w))))
    return worst


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(ckpt: str, out_dir: str, last_layer: str | None = None) -> dict:
    """Export the checkpoint directory `ckpt` into `out_dir`; returns the manifest. `last_layer` is the exported
    model's `last_layer` (default: the training config's export_last_layer)."""
    hypernet, uncond, state = load_models(ckpt)
    last_layer = last_layer or (state.get("config") or {}).get("export_last_layer", "generated")
    trained = hypernet.cfg.last_layer
    if last_layer != trained:
        hypernet.set_last_layer(last_layer)
        # the training figures ("quality") were measured with the last layer it was trained with
        state = {**state, "model": {**state["model"], "last_layer": last_layer},
                 "metrics": {**state.get("metrics", {}), "measured_with_last_layer": trained}}
    return export_models(hypernet, uncond, state, out_dir)


def export_models(hypernet: HyperNet, uncond: UnconditionedInit, state: dict, out_dir: str) -> dict:
    """Write the shipped files for these models; `state` is a checkpoint's state.json (model config, encoding,
    training figures, metrics)."""
    from safetensors.numpy import save_file

    hypernet.eval()
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        onnx_tmp = os.path.join(tmp, "compiler.onnx")
        export_onnx(hypernet, onnx_tmp)
        nodes = simplify_onnx(onnx_tmp)
        max_diff = check_onnx(hypernet, onnx_tmp)
        uncond_tmp = os.path.join(tmp, "unconditioned.safetensors")
        save_file({k: v.numpy() for k, v in uncond.arrays().items()}, uncond_tmp)
        size = os.path.getsize(onnx_tmp) + os.path.getsize(uncond_tmp)
        if size > MAX_SHIPPED_BYTES:
            raise NscError(f"the exported compiler is {size / 1e6:.1f} MB, over the {MAX_SHIPPED_BYTES / 1e6:.0f} MB "
                           f"limit: train a smaller model")
        digest = _sha256(onnx_tmp)
        manifest = {
            "format": MANIFEST_FORMAT,
            "id": f"compnet-{time.strftime('%Y%m%d', time.gmtime())}-{digest[:8]}",
            "model": state["model"],
            "activation": "silu",
            "out_calibrated": bool((state.get("config") or {}).get("out_calibrated", False)),
            "hidden": state["model"]["hidden"],
            "encoding": state["encoding"],
            "corpus_id": state.get("corpus_id"),
            "training": {"steps": state.get("step"), "programs_seen": state.get("programs_seen"),
                         "wall_time_s": round(state.get("elapsed_s", 0.0), 1), "world_size": state.get("world_size", 1),
                         "n_train_programs": state.get("n_train"), "n_heldout_programs": state.get("n_heldout"),
                         "config": state.get("config")},
            "quality": state.get("metrics", {}),
            "export": {"onnx_max_abs_diff": max_diff, "onnx_nodes": nodes[1], "onnx_nodes_unsimplified": nodes[0],
                       "torch": torch.__version__,
                       "seconds": round(time.time() - t0, 1)},
            "files": {"compiler.onnx": digest, "unconditioned.safetensors": _sha256(uncond_tmp)},
        }
        for name in ("compiler.onnx", "unconditioned.safetensors"):  # the manifest last: it names their hashes
            with open(os.path.join(tmp, name), "rb") as f:
                write_output(os.path.join(out_dir, name), f.read())
        write_output(os.path.join(out_dir, "manifest.json"), dumps_manifest(manifest))
    return manifest


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m nsc.training.export", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="training configuration (its out_dir holds the checkpoint)")
    ap.add_argument("--checkpoint", help="checkpoint directory (instead of --config)")
    ap.add_argument("--out", required=True, help="weights directory to write (nsc/compiler/weights: replace the "
                    "compiler nsc ships, as `make compiler` does)")
    ap.add_argument("--last-layer", choices=("generated", "channels"),
                    help="the exported model's last_layer (default: the training config's export_last_layer)")
    args = ap.parse_args(argv)
    if args.checkpoint:
        ckpt = where = args.checkpoint
    elif args.config:
        out_dir = TrainConfig.load(args.config).out_dir
        ckpt, where = checkpoint_dir(out_dir), os.path.join(out_dir, "checkpoint")
    else:
        ap.error("give --config or --checkpoint")
    if not ckpt or not os.path.isfile(os.path.join(ckpt, "state.json")):
        raise NscError(f"no training checkpoint found ({where})")
    manifest = export(ckpt, args.out, args.last_layer)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in manifest["files"])
    print(f"exported {manifest['id']} to {args.out} ({size / 1e6:.1f} MB; onnxruntime vs torch max diff "
          f"{manifest['export']['onnx_max_abs_diff']:.2e})", file=sys.stderr)
    return manifest


if __name__ == "__main__":
    try:
        main()
    except NscError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
