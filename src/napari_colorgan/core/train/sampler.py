"""Training batches: random augmented patches drawn from the annotated planes of a stack.

With sparse labels, patches are centred on annotated pixels most of the time (class first,
then a pixel of it), so a few strokes on one slice are enough; whole planes, or the right part
of a single plane, are held out for validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .anchors import MAX_ANCHORS
from .data import AnnotatedStack, _rgb01

#: Probability that a patch is centred on an annotated pixel when labels are sparse.
FOCUS = 0.9
#: With ``sampling="signal"``: probability that a colour-target patch is centred on one of the
#: most colourful pixels, and the share of a region's pixels that counts as such.
SIGNAL_SHARE, SIGNAL_TOP = 0.5, 0.05


@dataclass(frozen=True)
class Batch:
    """A training batch.

    ``x`` (b, c, t, t) in [0, 1]; ``target`` (b, 3, t, t) RGB in [0, 1]; ``mask`` (b, 1, t, t),
    1 where the colour is known, or None when every pixel is; ``classes`` (b, t, t) int64 class
    indices (:data:`IGNORE` where unlabelled) when training from labels, else None.
    """

    x: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor | None
    classes: torch.Tensor | None = None


@dataclass(frozen=True)
class Region:
    """Columns ``[x0, x1)`` of one plane (its index tuple over the leading axes)."""

    plane: tuple[int, ...]
    x0: int
    x1: int


def split_regions(
    stack: AnnotatedStack, tile: int, val_fraction: float
) -> tuple[list[Region], list[Region]]:
    """Hold out whole annotated planes for validation, or the right part of a single plane."""
    planes = stack.annotated
    n_val = round(len(planes) * val_fraction)
    if len(planes) >= 2 and val_fraction > 0:
        n_val = min(max(n_val, 1), len(planes) - 1)
        every = np.linspace(0, len(planes) - 1, n_val + 2)[1:-1].round().astype(int)
        val = [planes[i] for i in sorted(set(every))]
        train = [p for p in planes if p not in val]
        full = lambda ps: [Region(p, 0, stack.width) for p in ps]  # noqa: E731
        return full(train), full(val)
    whole = [Region(p, 0, stack.width) for p in planes]
    if len(planes) == 1 and val_fraction > 0:
        cut = int(stack.width * (1 - val_fraction))
        if cut >= tile and stack.width - cut >= tile // 2:
            return [Region(planes[0], 0, cut)], [Region(planes[0], cut, stack.width)]
    return whole, whole  # nothing held out (or too small to split): validation sees training


def signal_anchors(stack: AnnotatedStack, region: Region, seed: int = 0) -> np.ndarray:
    """(n, 2) rows ``(y, x)``: the most colourful pixels of a colour target's region.

    Colourfulness is the target's RGB spread (max − min), so grey background and white cores
    rank low and coloured sources high; the top :data:`SIGNAL_TOP` of the region's pixels are
    kept (at most :data:`~napari_colorgan.core.train.anchors.MAX_ANCHORS`, a seeded subset),
    read on a grid of at most ~4 MP so a huge plane costs one strided read.
    """
    h, w = stack.height, region.x1 - region.x0
    step = max(1, int(np.ceil(np.sqrt(h * w / 4e6))))
    window = np.asarray(stack.target[region.plane][::step, region.x0 : region.x1 : step])
    rgb = _rgb01(window)  # (h', w', 3)
    spread = rgb.max(-1) - rgb.min(-1)
    cut = np.quantile(spread, 1 - SIGNAL_TOP)
    ys, xs = np.nonzero((spread >= cut) & (spread > 0))
    keep = np.random.default_rng(seed).permutation(ys.size)[:MAX_ANCHORS]
    return np.stack([ys[keep] * step, xs[keep] * step + region.x0], 1).astype(np.int64)


class PatchSampler:
    """Draw augmented random patches from regions of an :class:`AnnotatedStack`.

    ``sampling="signal"`` centres half of a colour target's patches on its most colourful
    pixels (:func:`signal_anchors`); labels always centre patches on their strokes.
    """

    def __init__(
        self, stack: AnnotatedStack, regions: list[Region], tile: int, sampling: str = "uniform"
    ) -> None:
        self.stack, self.regions, self.tile = stack, regions, tile
        self._signal: dict[Region, np.ndarray] | None = None
        self._groups: dict[Region, tuple[np.ndarray, list[np.ndarray]]] = {}
        if sampling == "signal" and stack.labels is None:
            self._signal = {r: signal_anchors(stack, r) for r in regions}

    def _position(self, region: Region, rng: np.random.Generator) -> tuple[int, int]:
        t = self.tile
        if self._signal is not None and rng.random() < SIGNAL_SHARE:
            rows = self._signal[region]
            if rows.size:
                cy, cx = rows[rng.integers(len(rows))]
                return self._clip(
                    region, int(cy) - int(rng.integers(t)), int(cx) - int(rng.integers(t))
                )
        anchors = self.stack.anchors.get(region.plane)
        if anchors is not None and rng.random() < FOCUS:
            by_class = self._by_class(region, anchors)
            if by_class:
                # Class first, then a pixel of it: small classes (synapses, mitochondria) are
                # centred as often as the background, whatever their share of the pixels.
                of_k = by_class[int(rng.integers(len(by_class)))]
                cy, cx = of_k[rng.integers(len(of_k))]
                return self._clip(
                    region, int(cy) - int(rng.integers(t)), int(cx) - int(rng.integers(t))
                )
        y = int(rng.integers(max(1, self.stack.height - t + 1)))
        x = region.x0 + int(rng.integers(max(1, region.x1 - region.x0 - t + 1)))
        return y, x

    def _by_class(self, region: Region, anchors: np.ndarray) -> list[np.ndarray]:
        """The region's anchors (y, x) grouped by class, in class order; made once per scan.

        Grouping them at every patch (a filter and a sort of up to MAX_ANCHORS rows) took
        about a tenth of a class model's step. A rescan (strokes painted during a live run)
        gives the plane a new anchors array, which is grouped anew.
        """
        found = self._groups.get(region)
        if found is None or found[0] is not anchors:
            inside = anchors[(anchors[:, 1] >= region.x0) & (anchors[:, 1] < region.x1)]
            ids = inside[:, 2]
            found = (anchors, [inside[ids == k, :2] for k in np.unique(ids)])
            self._groups[region] = found
        return found[1]

    def _clip(self, region: Region, y: int, x: int) -> tuple[int, int]:
        """A patch corner moved inside the plane and the region's columns."""
        t, h = self.tile, self.stack.height
        return (
            int(np.clip(y, min(0, h - t), max(0, h - t))),
            int(np.clip(x, region.x0, max(region.x0, region.x1 - t))),
        )

    def tile_at(self, region: Region, rng: np.random.Generator) -> tuple[Any, ...]:
        """One un-augmented patch of ``region`` at a random position (see ``read_tile``)."""
        y, x = self._position(region, rng)
        return self.stack.read_tile(region.plane, y, x, self.tile)

    def sample(self, batch_size: int, rng: np.random.Generator, augment: bool = True) -> Batch:
        """A batch of patches from random regions, flipped and rotated at random."""
        parts: list[list[Any]] = [[], [], [], []]  # x, target, mask, classes
        for _ in range(batch_size):
            region = self.regions[int(rng.integers(len(self.regions)))]
            tile = self.tile_at(region, rng)
            if augment:
                k, flip = int(rng.integers(4)), bool(rng.integers(2))
                tile = tuple(None if a is None else _augment(a, k, flip) for a in tile)
            for part, a in zip(parts, tile, strict=True):
                part.append(a)
        x, target, mask, classes = (
            None if p[0] is None else torch.from_numpy(np.stack(p)) for p in parts
        )
        assert x is not None and target is not None
        return Batch(x, target, mask, None if classes is None else classes[:, 0])


def _augment(a: np.ndarray, k: int, flip: bool) -> np.ndarray:
    """Rotate (c, t, t) by ``k`` quarter turns and optionally mirror it."""
    a = np.rot90(a, k, axes=(1, 2))
    return np.ascontiguousarray(a[:, :, ::-1] if flip else a)
