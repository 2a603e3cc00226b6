"""Does giving the generator neighbouring slices (``context``) reduce slice-to-slice flicker?

    python benchmarks/context_flicker.py [--steps 600]

Trains the same small model with context 0 and 1 on the synthetic EM stack (labels of slices
0-7), colorizes the held-out slices 8-11, and reports the flicker — the mean absolute change of
the predicted chroma between consecutive slices, minus the same for the ground truth (so only
the excess change counts) — next to PSNR.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from napari_colorgan import TrainConfig, colorize, train
from napari_colorgan.core.color import rgb_to_lab
from napari_colorgan.core.metrics import evaluate
from napari_colorgan.core.synthetic import em_split


def chroma(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(torch.from_numpy(rgb / 255.0), dim=-1)[..., 1:].numpy()


def flicker(rgb: np.ndarray) -> float:
    """Mean |Δ chroma| between consecutive slices (Lab a, b units)."""
    return float(np.abs(np.diff(chroma(rgb), axis=0)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    split = em_split()
    full_input = np.concatenate([split.train["image"], split.test_input])
    rows = []
    for context in (0, 1):
        config = TrainConfig(
            preset="small",
            tile=64,
            steps=args.steps,
            context=context,
            perceptual_weights="none",
            val_every=10**9,
            checkpoint_every=0,
        )
        model = train(**split.train, config=config, device="cpu")
        # Colorize the whole stack so held-out slices see their real neighbours.
        pred = np.asarray(colorize(full_input, model, device="cpu"))[len(split.train["image"]) :]
        excess = flicker(pred) - flicker(split.test_truth)
        scores = evaluate(pred, split.test_truth)
        rows.append(
            {
                "context": context,
                "excess_flicker": excess,
                "psnr": scores["psnr"],
                "accuracy": scores["accuracy"],
            }
        )
        print(
            f"context {context}: excess flicker {excess:.3f} (Lab ab units), "
            f"PSNR {scores['psnr']:.2f} dB, accuracy {scores['accuracy']:.3f}",
            flush=True,
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
