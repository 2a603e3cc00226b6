"""Previews of the region a user is looking at, made by the training run between steps.

A fixed validation tile says how training goes; a painter wants to see the colours on the
structures they are working on. The GUI hands the run a :class:`RegionSource`; at each
validation the run colorizes its latest crop with the current weights.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from ..color import to_uint8
from ..infer.tiling import pad_to_multiple
from ..model.colorizer import Colorizer
from ..model.normalize import apply_normalization

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
    crop = crop[:MAX_SIDE, :MAX_SIDE]
    h, w = crop.shape
    x = apply_normalization(np.asarray(crop), colorizer.normalization)
    x = pad_to_multiple(x, 2**colorizer.config.num_downs)
    generator = colorizer.generator
    was_training = generator.training
    generator.eval()
    try:
        t = torch.from_numpy(np.ascontiguousarray(x, np.float32))[None, None]  # (1, 1, h', w')
        rgb = colorizer.forward_rgb(t.to(colorizer.device))[0, :, :h, :w]  # (3, h, w)
    finally:
        generator.train(was_training)
    return to_uint8(rgb.permute(1, 2, 0).float().cpu().numpy())
