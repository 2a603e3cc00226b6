"""What can be colorized: one check, light enough for napari's thread.

Kept apart from ``job`` (which imports dask.array, about a second the first time) so the click
that adds a colour layer checks its input without that import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..model.colorizer import Colorizer


def check_input(data: Any, colorizer: Colorizer | None = None) -> None:
    """Reject what cannot be colorized, naming the problem.

    Raises
    ------
    ValueError
        Empty, fewer than 2 dimensions, RGB/multichannel-looking, or a non-numeric dtype.
    """
    shape = tuple(data.shape)
    if len(shape) < 2:
        raise ValueError(
            f"expected a grayscale image (y, x) or a stack of them, got shape {shape}"
        )
    if 0 in shape:
        raise ValueError(f"the image is empty (shape {shape})")
    if len(shape) >= 3 and shape[-1] in (3, 4) and shape[-2] > 4:
        raise ValueError(
            f"shape {shape} looks like RGB/multichannel (last axis {shape[-1]}): "
            "colorize takes grayscale planes; convert to one channel first"
        )
    dtype = np.dtype(data.dtype)
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ValueError(f"cannot colorize data of dtype {dtype}: use integers or floats")
    if colorizer is not None and colorizer.config.context and len(shape) < 3:
        raise ValueError("this model uses neighbouring slices (context) and needs a stack")
