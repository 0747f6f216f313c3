"""Training checkpoints scored on the held-out corpus split with the current front-end, as training scores them.

    python bench/bench_checkpoints.py out/compiler/checkpoint [more checkpoints ...] [--config CONFIG]
                                      [--last-layer generated|channels]

Training logs its held-out figures with the analysis it was trained on; after a change to the front-end, this
re-scores checkpoints on the same programs (the first `eval_programs` of the held-out split, `eval_samples`
samples each) with the analysis as it is now, so a shipped compiler and a retrained one can be compared on equal
terms: calibrated loss and median rel-RMSE (the generated network's shape), zero-shot median rel-RMSE (with its
predicted output map), and how often compiled beats the unconditioned init.
"""

from __future__ import annotations

import argparse

import torch

from nsc.compiler.encoding import encoding_from_manifest
from nsc.training.train import (Objective, ProgramSet, TrainConfig, evaluate, load_corpus, load_models,
                                read_checkpoint_state)

FIGURES = ("heldout_calibrated_loss", "heldout_calibrated_relrmse_median", "heldout_zero_shot_relrmse_median",
           "heldout_zero_shot_relrmse_mean", "compiled_beats_uncond")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--config", default="nsc/training/configs/compiler.json")
    ap.add_argument("--last-layer", choices=("generated", "channels"),
                    help="score with this last layer (ModelConfig.last_layer; default: as trained)")
    args = ap.parse_args()
    cfg = TrainConfig.load(args.config)
    _, heldout, _ = load_corpus(cfg)
    heldout = list(heldout)
    print("checkpoint  " + "  ".join(FIGURES))
    for ckpt in args.checkpoints:
        vocab, enc_cfg = encoding_from_manifest(read_checkpoint_state(ckpt)["encoding"])
        programs = ProgramSet(heldout, vocab, enc_cfg, cfg.max_samples, workers=2)
        hypernet, uncond, _ = load_models(ckpt)
        if args.last_layer:
            hypernet.set_last_layer(args.last_layer)
        with torch.no_grad():
            m = evaluate(Objective(hypernet, uncond, cfg.map_loss_weight, cfg.scale_loss_weight), programs, cfg,
                         torch.device("cpu"))
        print(f"{ckpt}  ({m['heldout_programs']} programs)  " + "  ".join(f"{m[k]:.4f}" for k in FIGURES))


if __name__ == "__main__":
    main()
