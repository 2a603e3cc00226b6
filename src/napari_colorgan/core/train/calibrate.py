"""Colour calibration after training: predictions as colourful as the annotations they learnt.

A colour regressor trained with L1 predicts a conditional median: where the input leaves the
colour uncertain it hedges towards grey, so whole images come out washed out (on SDSS
NGC 6976: colourfulness 13.4 where the truth has 19.9). One saturation factor, fitted so the
predictions on annotated tiles are as colourful as their targets, restores the look; class
models are exempt (they paint exact palette tints).

Matching colourfulness outright cost PSNR where the model is unsure (−1.2 dB on the Hubble Deep
Field, overshooting its colourfulness by a fifth): the factor now stops where the held-out
tiles' PSNR would fall by more than :data:`PSNR_TOLERANCE` dB from its best.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .. import metrics
from ..model.colorizer import Colorizer, network_input

#: The factor is kept within these bounds: beyond them the model is not washed out but wrong.
GAIN_RANGE = (0.5, 3.0)
#: Refinements of the factor (clipping at the gamut makes colourfulness sublinear in it).
ITERATIONS = 3
#: Most PSNR (dB) on the calibration tiles given up for colourfulness, from the best factor's.
PSNR_TOLERANCE = 0.1
#: Factors tried between 1 and the colourfulness-matching one.
STEPS = 12


@torch.no_grad()
def _network_outputs(
    colorizer: Colorizer, tiles: Sequence[tuple], batch: int = 4
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(colour-space output, input)`` batches: the network runs once; the gain comes after."""
    outputs = []
    for i in range(0, len(tiles), batch):
        x = torch.from_numpy(np.stack([t[0] for t in tiles[i : i + batch]])).to(colorizer.device)
        outputs.append((colorizer.color_output(colorizer.generator(network_input(x))), x))
    return outputs


@torch.no_grad()
def _rgb(colorizer: Colorizer, outputs: list[tuple[torch.Tensor, torch.Tensor]]) -> np.ndarray:
    """RGB predictions (n, h, w, 3) in [0, 1] at the colorizer's current gain."""
    parts = [colorizer.output_to_rgb(out, x) for out, x in outputs]  # (b, 3, h, w) each
    return np.concatenate([p.permute(0, 2, 3, 1).float().cpu().numpy() for p in parts])


def _known(tile: tuple) -> np.ndarray:
    """Where a tile's target is annotated (h, w)."""
    target, mask = tile[1], tile[2]
    return np.ones(target.shape[1:], bool) if mask is None else mask[0] > 0


def fit_chroma_gain(colorizer: Colorizer, tiles: Sequence[tuple]) -> float:
    """The saturation factor that makes ``colorizer`` as colourful as ``tiles``' targets.

    Parameters
    ----------
    colorizer
        A trained colour model in eval mode; its ``config.chroma_gain`` is set during the fit
        and left at the fitted value.
    tiles
        ``(x (c, h, w), target (3, h, w), mask (1, h, w) | None, classes)`` as
        :meth:`~napari_colorgan.core.train.sampler.PatchSampler.tile_at` draws them.

    Returns
    -------
    float
        The factor (1.0 for a class model, or where the targets hold no colour).
    """
    if colorizer.config.classes or not tiles:
        return 1.0
    target = np.stack([np.moveaxis(t[1], 0, -1) for t in tiles])  # (n, h, w, 3)
    known = np.stack([_known(t) for t in tiles])  # (n, h, w)
    wanted = metrics.colorfulness(target, known)
    outputs = _network_outputs(colorizer, tiles)
    gain = 1.0
    for _ in range(ITERATIONS):
        colorizer.set_chroma_gain(gain)
        have = metrics.colorfulness(_rgb(colorizer, outputs), known)
        if wanted <= 0 or have <= 0:
            gain = 1.0
            break
        gain = float(np.clip(gain * wanted / have, *GAIN_RANGE))
    gain = _within_psnr(colorizer, outputs, target, known, gain)
    colorizer.set_chroma_gain(gain)
    return gain


def _within_psnr(
    colorizer: Colorizer,
    outputs: list[tuple[torch.Tensor, torch.Tensor]],
    target: np.ndarray,
    known: np.ndarray,
    match: float,
) -> float:
    """The factor nearest ``match`` (from 1) whose error is within the PSNR tolerance.

    Squared error on the known pixels of the tiles (``target`` (n, h, w, 3)); the tolerance is
    counted from the best factor tried, so a model that is too grey may still gain.
    """
    gains = np.linspace(1.0, match, STEPS + 1)
    errors = []
    for g in gains:
        colorizer.set_chroma_gain(float(g))
        errors.append(float(np.mean((_rgb(colorizer, outputs) - target)[known] ** 2)))
    bound = min(errors) * 10 ** (PSNR_TOLERANCE / 10)
    allowed = [g for g, e in zip(gains, errors, strict=True) if e <= bound]
    return float(allowed[-1])
