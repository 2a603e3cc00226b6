"""The grey a colour layer shows where no colour is computed yet (an RGB layer over nothing).

Read on napari's thread at each view, so it is small: up to :data:`GREY_SKIP` levels coarser
than the view and upsampled, stretched once for every tile and level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: The grey shown until colour comes is read this many levels coarser (at most).
GREY_SKIP = 2


class GreyPlaceholder:
    """The grey of a pyramid's regions as uint8, the 1st-99th percentile stretch of the input.

    Parameters
    ----------
    gray
        The grayscale levels (..., y, x), full resolution first.
    """

    def __init__(self, gray: Sequence[Any]) -> None:
        self.gray = list(gray)
        # Measured at the first read: a layer over its own input never reads grey, and the
        # measure reads the coarsest level (on napari's thread, when a layer is added).
        self._range: tuple[float, float] | None = None
        self._tables: dict[np.dtype, np.ndarray] = {}  # grey of each 8/16-bit value

    def read(self, level: int, plane: tuple[int, ...], ys: range, xs: range) -> np.ndarray:
        """The input's grey (y, x, 1) uint8, one stretch for every tile and level.

        Read from up to :data:`GREY_SKIP` levels coarser and upsampled (nearest): a placeholder
        until the colour comes, and a 16x smaller read on napari's thread.
        """
        from napari_colorgan.core.infer.tile_levels import nearest, read_now

        if not len(ys) or not len(xs):
            return np.zeros((len(ys), len(xs), 1), np.uint8)
        src = min(level + GREY_SKIP, len(self.gray) - 1)
        (h, w), (hs, ws) = self.gray[level].shape[-2:], self.gray[src].shape[-2:]
        iy, ix = nearest(ys.start, ys.stop, h, hs), nearest(xs.start, xs.stop, w, ws)
        raw = read_now(
            self.gray[src][(*plane, slice(iy[0], iy[-1] + 1), slice(ix[0], ix[-1] + 1))]
        )
        if src != level:
            raw = raw[iy - iy[0]][:, ix - ix[0]]
        if raw.dtype in (np.uint8, np.uint16):  # one table lookup a pixel: napari's thread
            grey = self._table(raw.dtype)[raw]
        else:
            grey = self._stretched(raw.astype(np.float32))
        return grey[..., None]  # (y, x, 1): broadcast where it is pasted, not copied thrice

    def _stretched(self, values: np.ndarray) -> np.ndarray:
        """Float values to uint8 grey, the 1st-99th percentile stretch of the input."""
        if self._range is None:
            self._range = _stretch(self.gray[-1])
        low, high = self._range
        scale = 255 / max(high - low, 1e-12)
        return np.clip((values - low) * scale, 0, 255).astype(np.uint8)

    def _table(self, dtype: np.dtype) -> np.ndarray:
        """The grey of every value of an 8/16-bit ``dtype``, made once (not at each read)."""
        if dtype not in self._tables:
            values = np.arange(np.iinfo(dtype).max + 1, dtype=np.float32)
            self._tables[dtype] = self._stretched(values)
        return self._tables[dtype]


def _stretch(level: Any) -> tuple[float, float]:
    """1st and 99th percentiles of a strided sample of the coarsest level."""
    from napari_colorgan.core.infer.tile_levels import read_now

    plane = read_now(level[(0,) * (level.ndim - 2)])
    step = max(1, max(plane.shape) // 256)
    low, high = np.nanpercentile(plane[::step, ::step].astype(np.float32), (1, 99))
    return float(low), float(high)
