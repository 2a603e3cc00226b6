"""Where tiles go: window positions, kept regions and blending weights along one axis.

Two modes, chosen from the generator's receptive field:

* **exact** — windows of ``tile`` pixels on a grid aligned to ``2**num_downs``, each computed
  with a halo of at least half the receptive field; only the centre (the *core*) is kept.
  Windows that would leave the image are shifted inwards, so a kept pixel either sees its whole
  receptive field inside the window or sees the image border exactly as whole-plane inference
  does. The tiled result then equals whole-plane inference (to float rounding).
* **blended** — for deep nets whose receptive field is too large for a halo: windows overlap by
  ``overlap`` pixels and are averaged with a raised-cosine ramp over the overlap, which sums to
  one between neighbours, so no seam shows.

Planes are padded (reflect) at the bottom/right to a multiple of ``2**num_downs`` exactly as
:func:`pad_to_multiple` does for whole-plane inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..model.config import ModelConfig

#: Largest inference window side accepted (pixels): far beyond any device's memory already.
MAX_TILE = 16384

Mode = Literal["exact", "blended"]


def check_count(name: str, value: object, most: int, unit: str = "") -> int:
    """``value`` as an int in ``[1, most]``, or a ``ValueError`` naming the setting.

    Zero or negative sizes used to be clamped or looped over silently (a store of black chunks
    flagged done); a size beyond ``most`` is a typo, not a request.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not 1 <= int(value) <= most:
        unit = f" {unit}" if unit else ""
        raise ValueError(f"{name} must lie between 1 and {most}{unit}, got {value}")
    return int(value)


def round_up(value: int, multiple: int) -> int:
    """Smallest multiple of ``multiple`` that is >= ``value``."""
    return -(-value // multiple) * multiple


def pad_to_multiple(plane: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the last two axes at the bottom/right up to multiples of ``multiple``."""
    h, w = plane.shape[-2:]
    pad = ((0, 0),) * (plane.ndim - 2) + ((0, -h % multiple), (0, -w % multiple))
    if not any(p for pair in pad for p in pair):
        return plane
    return np.pad(plane, pad, mode="reflect" if min(h, w) > 1 else "edge")


@dataclass(frozen=True)
class AxisWindow:
    """One window along an axis: read ``[start, start + size)``, keep ``[keep0, keep1)``."""

    start: int
    size: int
    keep0: int
    keep1: int


@dataclass(frozen=True)
class TilePlan:
    """Tiling of planes for one model.

    Attributes
    ----------
    mode
        ``"exact"`` or ``"blended"``.
    tile
        Window side in pixels (the network's input), a multiple of ``grid``.
    overlap
        Pixels shared by neighbouring windows (twice the halo in exact mode).
    grid
        ``2**num_downs``: window starts and plane padding are multiples of it.
    """

    mode: Mode
    tile: int
    overlap: int
    grid: int

    @classmethod
    def for_model(
        cls, config: ModelConfig, tile: int | None = None, overlap: int | None = None
    ) -> TilePlan:
        """Plan for ``config``: exact where the overlap covers the receptive field, else blended.

        Defaults: exact-capable models get a halo of half the receptive field (rounded up to
        the grid) and a tile of eight halos; deeper models get their training tile and a
        quarter of it as overlap.
        """
        grid = 2**config.num_downs
        halo = round_up((config.receptive_field + 1) // 2, grid)
        if tile is None:
            tile = max(config.tile, 8 * halo) if 4 * halo <= 1024 else config.tile
        check_count("tile", tile, MAX_TILE, "px")
        tile = round_up(max(int(tile), grid), grid)
        if overlap is None:
            overlap = 2 * halo if 4 * halo <= tile else tile // 4
        overlap = int(overlap)
        if overlap < 0 or overlap >= tile:
            raise ValueError(
                f"overlap {overlap} px must be >= 0 and smaller than the tile {tile} px"
            )
        # Exact needs the halo to cover the receptive field and every window start on the grid.
        exact = overlap >= 2 * halo and overlap % (2 * grid) == 0 and (tile - overlap) % grid == 0
        return cls("exact" if exact else "blended", tile, overlap, grid)

    @property
    def stride(self) -> int:
        """Distance between neighbouring window starts (the core size in exact mode)."""
        return self.tile - self.overlap

    def windows(self, length: int, lo: int = 0, hi: int | None = None) -> list[AxisWindow]:
        """Windows along an axis of ``length`` px that contribute to output ``[lo, hi)``."""
        hi = length if hi is None else hi
        padded = round_up(length, self.grid)
        size = min(self.tile, padded)
        if self.mode == "exact":
            return self._exact(padded, size, length, lo, hi)
        return self._blended(padded, size, length, lo, hi)

    def _exact(self, padded: int, size: int, length: int, lo: int, hi: int) -> list[AxisWindow]:
        halo = self.overlap // 2
        core = self.stride
        out = []
        first = (lo // core) * core
        for c0 in range(first, hi, core):
            c1 = min(c0 + core, length)
            start = min(max(c0 - halo, 0), padded - size)
            out.append(AxisWindow(start, size, max(c0, lo), min(c1, hi)))
        return out

    def _blended(self, padded: int, size: int, length: int, lo: int, hi: int) -> list[AxisWindow]:
        starts = list(range(0, max(padded - size, 0) + 1, self.stride))
        if starts[-1] + size < padded:
            starts.append(padded - size)  # the last window ends at the border
        out = []
        for s in starts:
            k0, k1 = max(s, lo), min(s + size, hi, length)
            if k0 < k1:
                out.append(AxisWindow(s, size, k0, k1))
        return out

    def weights(self, window: AxisWindow, length: int) -> np.ndarray:
        """Blending weight of each pixel of ``window`` (1 everywhere in exact mode)."""
        w = np.ones(window.size, np.float32)
        if self.mode == "exact" or self.overlap == 0:
            return w
        ramp = np.sin(0.5 * math.pi * (np.arange(self.overlap) + 0.5) / self.overlap) ** 2
        padded = round_up(length, self.grid)
        if window.start > 0:  # an interior side fades in; the image border does not
            w[: self.overlap] = ramp
        if window.start + window.size < padded:
            w[-self.overlap :] = np.minimum(w[-self.overlap :], ramp[::-1])
        return w
