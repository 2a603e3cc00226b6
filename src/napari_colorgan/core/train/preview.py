"""Previews of the region a user is looking at, made by the training run between steps.

A fixed validation tile says how training goes; a painter wants to see the colours on the
structures they are working on. The GUI hands the run a :class:`RegionSource`; at each
validation the run colorizes its latest crop with the current weights.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from ..model.colorizer import Colorizer

#: The largest crop side colorized for a preview: it runs between training steps.
MAX_SIDE = 512


class RegionSource(Protocol):
    """Where the run gets the region to preview; called from the training thread."""

    def latest(self) -> tuple[np.ndarray, Any] | None:
        """A raw grayscale crop (y, x) and what to send back with it, or None (nothing to show).

        The crop must already be read into memory: the training thread must not touch GUI
        objects.
        """


@torch.no_grad()
def colorize_crop(colorizer: Colorizer, crop: np.ndarray) -> np.ndarray | None:
    """The colorizer on a raw grayscale crop (y, x): uint8 RGB (y, x, 3); None if unsuitable.

    Models with neighbouring-slice context need a stack, not a crop: they get no preview.
    Crops larger than :data:`MAX_SIDE` are cut to their top-left ``MAX_SIDE`` square.
    """
    if colorizer.config.context or crop.ndim != 2 or 0 in crop.shape:
        return None
    found = preview_crop(colorizer, crop)
    return None if found is None else found[0]


def preview_crop(
    colorizer: Colorizer, crop: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """As :func:`colorize_crop`, and a class model's confidence (y, x) from the same pass.

    The confidence (the top class probability, float32) is None for a colour model.
    """
    if colorizer.config.context or crop.ndim != 2 or 0 in crop.shape:
        return None
    generator = colorizer.generator
    was_training = generator.training  # mid-run: training goes on after the preview
    crop = crop[:MAX_SIDE, :MAX_SIDE]
    try:
        if colorizer.config.classes:
            return colorizer.classify_plane(crop)
        return colorizer.colorize_plane(crop), None
    finally:
        generator.train(was_training)
