"""Diagnostic: are the generated weights harder to fine-tune than random ones?

    python bench/diag_finetunability.py [--programs spring,projectile,sepia,fft_butterfly,blackscholes]

For each example program, fine-tunes on 1024 samples (3 seeds, the one recipe of nsc/surrogate/finetune.py)
from four initialisations and prints the median test rel-RMSE (2000 fresh samples) and epochs run:
  random        random init;
  compiled      the shipped compiler's weights;
  c/randW0      compiled, with the first hidden layer (W0, b0) but for the linear channels' units taken from
                random init;
  c/randW1      compiled, with the second hidden layer (W1, b1) taken from random init;
  c/nochan      compiled, with the hidden units of the outputs' linear channels taken from random init.
If compiled ends far above random while the others do not, the generated hidden layers are what holds
fine-tuning back. Measured 2026-11-29 with compnet-20261129-4fcf006c (`--programs spring,sepia`): spring.c
random 0.311, compiled 0.873, c/randW1 0.363, c/nochan 0.334; sepia.c 0.0039, 0.0096, 0.0101, 0.0054.
Measured 2026-11-29 with compnet-20261129-a2814cbf (the linearisation, generated first layer:
nsc/training/configs/linear_generated_first_layer.json; `--programs spring,kmeans,loan`): compiled / c/randW0 /
random: spring 0.452 / 0.339 / 0.311, kmeans 0.0174 / 0.0086 / 0.0096, loan 0.095 / 0.047 / 0.037.
"""

from __future__ import annotations

import argparse
import copy

import numpy as np

from nsc.compiler import compile_params
from nsc.evaluate import TEST_SEED, _draw, rel_rmse
from nsc.frontend import load_program
from nsc.surrogate import finetune

SEEDS = 3


def variants(program, seed: int) -> dict:
    n_out = program.signature.n_out
    r = compile_params(program, init="random", seed=seed).params
    c = compile_params(program, init="compiled", seed=seed).params
    rand_w0 = copy.deepcopy(c)  # hidden unit j < n_out of both layers is output j's linear channel
    rand_w0.weights[0][n_out:], rand_w0.biases[0][n_out:] = r.weights[0][n_out:], r.biases[0][n_out:]
    rand_w1 = copy.deepcopy(c)
    rand_w1.weights[1], rand_w1.biases[1] = r.weights[1].copy(), r.biases[1].copy()
    no_channels = copy.deepcopy(c)
    no_channels.weights[0][:n_out], no_channels.biases[0][:n_out] = r.weights[0][:n_out], r.biases[0][:n_out]
    no_channels.weights[1][:n_out], no_channels.weights[1][:, :n_out] = r.weights[1][:n_out], r.weights[1][:, :n_out]
    no_channels.biases[1][:n_out] = r.biases[1][:n_out]
    no_channels.weights[2][:, :n_out], no_channels.biases[2] = r.weights[2][:, :n_out], r.biases[2].copy()
    return {"random": r, "compiled": c, "c/randW0": rand_w0, "c/randW1": rand_w1, "c/nochan": no_channels}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", default="spring,projectile,sepia,fft_butterfly,blackscholes")
    ap.add_argument("--samples", type=int, default=1024)
    args = ap.parse_args()
    for name in args.programs.split(","):
        program = load_program(f"examples/{name}.c")
        x_test, y_test = _draw(program, 2000, TEST_SEED)
        pools = [_draw(program, args.samples, s + 1) for s in range(SEEDS)]
        inits = [variants(program, s + 1) for s in range(SEEDS)]
        keys = [(v, s) for v in inits[0] for s in range(SEEDS)]
        outcomes = finetune.finetune_many([inits[s][v] for v, s in keys], [pools[s][0] for _, s in keys],
                                          [pools[s][1] for _, s in keys], finetune.FinetuneRecipe(),
                                          seeds=[s + 1 for _, s in keys])
        errors, epochs = {}, {}
        for (v, _), o in zip(keys, outcomes):
            errors.setdefault(v, []).append(rel_rmse(o.params.predict(x_test), y_test))
            epochs.setdefault(v, []).append(o.epochs)
        print(name, "  ".join(f"{v} {np.median(errors[v]):.4f} ({int(np.median(epochs[v]))} ep)" for v in errors),
              flush=True)


if __name__ == "__main__":
    main()
