"""Where tiles go: window positions, kept regions and blending weights along one axis.

Two modes, chosen from the generator's receptive field:

* **exact** — windows start on a grid aligned to ``2**num_downs`` and are computed with a halo
  of at least half the receptive field; only their centre (the *core*) is kept. Windows that
  would leave the image are shifted inwards, so a kept pixel either sees its whole receptive
  field inside the window or sees the image border exactly as whole-plane inference does. The
  tiled result then equals whole-plane inference (to float rounding).
* **blended** — for deep nets whose receptive field is too large for a halo: neighbouring
  windows overlap by at least ``overlap`` pixels and are averaged with a raised-cosine ramp
  across their whole overlap, which sums to one between neighbours, so no seam shows.

An axis gets the fewest windows of at most ``tile`` px that cover it, all of one size: the
smallest multiple of the grid that does. So ``tile`` is a ceiling, and a plane that fits in one
window is computed in one, exactly as whole-plane inference computes it. Planes larger than
``block`` px are cut into output blocks (on the grid and regular, so they map one-to-one onto
zarr chunks); in exact mode each block gets its own windows, so no core is computed twice.

Planes are padded (reflect) at the bottom/right to a multiple of ``2**num_downs`` exactly as
:func:`pad_to_multiple` does for whole-plane inference.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..model.config import ModelConfig
from .config import BLOCK, MAX_TILE, check_count

#: How windows are placed, part of a store's identity: 1 spaced them by a fixed stride, 2 uses
#: the fewest windows of one size spread evenly (blended results differ between the two).
WINDOWS_LAYOUT = 2
#: Largest halo (px) tiled exactly: deeper models' windows would be mostly halo, so they blend.
MOST_EXACT_HALO = 256

Mode = Literal["exact", "blended"]


def halo_of(config: ModelConfig) -> int:
    """Half the generator's receptive field, rounded up to its grid (``2**num_downs``) in px."""
    grid = 2**config.num_downs
    return round_up((config.receptive_field + 1) // 2, grid)


def exact_capable(config: ModelConfig) -> bool:
    """Whether the model's receptive field is small enough for exact tiling by default."""
    return halo_of(config) <= MOST_EXACT_HALO


def smallest_exact_window(config: ModelConfig) -> int:
    """The smallest window (px) that tiles ``config`` exactly with the default overlap."""
    return 4 * halo_of(config)


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
    """One window along an axis: read ``[start, start + size)``, keep ``[keep0, keep1)``.

    ``fade0`` / ``fade1`` (blended mode): how many pixels at the window's start / end it shares
    with the window before / after, over which its weight ramps in / out.
    """

    start: int
    size: int
    keep0: int
    keep1: int
    fade0: int = 0
    fade1: int = 0


@dataclass(frozen=True)
class TilePlan:
    """Tiling of planes for one model.

    Attributes
    ----------
    mode
        ``"exact"`` or ``"blended"``.
    tile
        Largest window side in pixels (the network's input), a multiple of ``grid``.
    overlap
        Least overlap of neighbouring windows (twice the halo in exact mode).
    grid
        ``2**num_downs``: window sides, plane padding and exact window starts are multiples.
    block
        Side of the output blocks (about; on the grid) that planes larger than it are cut into.
    """

    mode: Mode
    tile: int
    overlap: int
    grid: int
    block: int = BLOCK

    @classmethod
    def for_model(
        cls,
        config: ModelConfig,
        tile: int | None = None,
        overlap: int | None = None,
        block: int = BLOCK,
    ) -> TilePlan:
        """Plan for ``config``: exact where the overlap covers the receptive field, else blended.

        Defaults: exact-capable models get a halo of half the receptive field (rounded up to
        the grid) and a tile of eight halos; deeper models get their training tile, and an
        overlap of a quarter of the training tile however large the tile (the blend only has
        to hide the difference between two windows' views, which does not grow with the
        window), or of the tile when it is smaller.
        """
        grid, halo, exact_ok = 2**config.num_downs, halo_of(config), exact_capable(config)
        if tile is None:
            tile = max(config.tile, 8 * halo) if exact_ok else config.tile
        check_count("tile", tile, MAX_TILE, "px")
        tile = round_up(max(int(tile), grid), grid)
        if overlap is None:
            quarter = min(config.tile, tile) // 4  # a smaller window: a quarter of itself
            overlap = 2 * halo if exact_ok and 4 * halo <= tile else quarter
        overlap = int(overlap)
        if overlap < 0 or overlap >= tile:
            raise ValueError(
                f"overlap {overlap} px must be >= 0 and smaller than the tile {tile} px"
            )
        # Exact needs the halo to cover the receptive field and every window start on the grid.
        exact = overlap >= 2 * halo and overlap % (2 * grid) == 0
        block = round_up(check_count("block_size", block, 1 << 20, "px"), grid)
        return cls("exact" if exact else "blended", tile, overlap, grid, block)

    def block_edges(self, length: int) -> list[tuple[int, int]]:
        """Split ``[0, length)`` into output blocks of about ``block`` px, edges on the grid.

        Regular (the last block may be shorter), so blocks map one-to-one onto zarr chunks; an
        even split avoids a thin last block.
        """
        if length <= self.block:
            return [(0, length)]
        step = _even(length, math.ceil(length / self.block), self.grid)
        return list(itertools.pairwise([*range(0, length, step), length]))

    def windows(self, length: int, lo: int = 0, hi: int | None = None) -> list[AxisWindow]:
        """Windows along an axis of ``length`` px that contribute to output ``[lo, hi)``.

        Their ``keep`` ranges are cut to ``[lo, hi)``.
        """
        hi = length if hi is None else hi
        out = []
        for w in _layout(self, length):
            k0, k1 = max(w.keep0, lo), min(w.keep1, hi)
            if k0 < k1:
                out.append(AxisWindow(w.start, w.size, k0, k1, w.fade0, w.fade1))
        return out

    def computed(self, length: int) -> int:
        """Window pixels computed along an axis of ``length`` px, per block that needs them.

        A window that two blocks need is computed by both; ``computed(h) * computed(w) /
        (h * w)`` is how many pixels a plane's windows cost per output pixel.
        """
        return sum(w.size for e in self.block_edges(length) for w in self.windows(length, *e))

    def cost(self, height: int, width: int) -> float:
        """Window pixels computed per output pixel of a ``height`` x ``width`` plane."""
        return self.computed(height) * self.computed(width) / (height * width)

    def layout(self, length: int) -> list[AxisWindow]:
        """Every window of an axis of ``length`` px, in order."""
        return list(_layout(self, length))

    def _windows(self, length: int) -> tuple[AxisWindow, ...]:
        """:meth:`layout`, made once per plan and length by :func:`_layout`."""
        padded = round_up(length, self.grid)
        edges = self.block_edges(length)
        if self.mode == "exact":
            return tuple(w for e in edges for w in self._exact(e, length, padded))
        return tuple(self._blended(length, padded))

    def _exact(self, edge: tuple[int, int], length: int, padded: int) -> list[AxisWindow]:
        """The windows of one block: cores cut evenly on the grid, each with its halos."""
        e0, e1 = edge
        halo, span = self.overlap // 2, round_up(e1, self.grid) - e0
        a, b = max(e0 - halo, 0), min(e0 + span + halo, padded)
        # One window when the block and its halos fit (border blocks need one halo only).
        n = 1 if b - a <= self.tile else math.ceil(span / (self.tile - 2 * halo))
        step = _even(span, n, self.grid)
        size = min(step + 2 * halo, b - a)
        cores = [e0 + k * step for k in range(n) if e0 + k * step < e1] + [e1]
        return [
            AxisWindow(min(max(c0 - halo, a), b - size), size, c0, c1)
            for c0, c1 in itertools.pairwise(cores)
        ]

    def _blended(self, length: int, padded: int) -> list[AxisWindow]:
        """The fewest windows of one size <= ``tile`` overlapping by >= ``overlap``, evenly.

        One layout for the whole axis, whatever the blocks: a block's result is then the same
        as if the plane were one block. (A window across a block edge is computed by both
        blocks; when blending, no cut avoids that.)
        """
        n = max(1, math.ceil((padded - self.overlap) / (self.tile - self.overlap)))
        size = _even(padded + (n - 1) * self.overlap, n, self.grid)
        starts = [round(k * (padded - size) / (n - 1)) for k in range(n)] if n > 1 else [0]
        return _fade(starts, size, length)

    def weights(self, window: AxisWindow) -> np.ndarray:
        """Blending weight of each pixel of ``window`` (1 everywhere in exact mode).

        A raised-cosine ramp across each shared stretch: ``sin²`` in, ``cos²`` out, so two
        neighbours' weights sum to one there. Image borders get no ramp.
        """
        w = np.ones(window.size, np.float32)
        if self.mode == "exact":
            return w
        if window.fade0:
            w[: window.fade0] = _ramp(window.fade0)
        if window.fade1:
            w[-window.fade1 :] = np.minimum(w[-window.fade1 :], _ramp(window.fade1)[::-1])
        return w


@functools.lru_cache(maxsize=256)
def _layout(plan: TilePlan, length: int) -> tuple[AxisWindow, ...]:
    """An axis's windows, made once: every block, batch and cost estimate asks for them."""
    return plan._windows(length)


def _even(total: int, parts: int, grid: int) -> int:
    """Part size that splits ``total`` px into ``parts`` on the grid (the last may be less)."""
    return round_up(math.ceil(total / parts), grid)


def _ramp(width: int) -> np.ndarray:
    """Raised-cosine ramp from ~0 to ~1 over ``width`` px, shape (width,)."""
    return (np.sin(0.5 * math.pi * (np.arange(width) + 0.5) / width) ** 2).astype(np.float32)


def _fade(starts: list[int], size: int, length: int) -> list[AxisWindow]:
    """Blended windows of ``size`` px at ``starts`` (ascending).

    Each keeps what it covers of ``[0, length)`` and fades over the stretches it shares with
    its neighbours.
    """
    out = []
    for i, s in enumerate(starts):
        fade0 = starts[i - 1] + size - s if i else 0
        fade1 = s + size - starts[i + 1] if i + 1 < len(starts) else 0
        out.append(AxisWindow(s, size, min(s, length), min(s + size, length), fade0, fade1))
    return [w for w in out if w.keep0 < w.keep1]
