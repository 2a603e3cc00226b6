"""Colour for what is in view: fixed tiles of any pyramid level, computed on demand.

The pieces a view-driven colour layer is built from, none of which knows about a viewer:

* :class:`TileSource` cuts each level's planes into tiles (its plan's blocks: the unit of
  caching and work) and computes one tile's colour, reading only the input its windows need
  (the tile and its halo), with the planner's windows for that level: at level 0 a tile equals
  the same pixels of :func:`~napari_colorgan.core.infer.graph.colorize`;
* :class:`TileCache` keeps computed tiles within a byte limit, least recently used out first;
* :class:`TileQueue` orders the work as the large-data viewers of the field do: the newest view
  first, its centre first, prefetch after, and tiles that left the view dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..model.colorizer import Colorizer
from .blocks import colorize_block
from .config import ColorizeConfig
from .planner import Plan, plan
from .tile_cache import TileCache, TileKey, TileQueue
from .tile_levels import lazy_pyramid, nearest, read_now

__all__ = [
    "TILE",
    "TileCache",
    "TileKey",
    "TileQueue",
    "TileSource",
    "compute_queued",
    "lazy_pyramid",
    "nearest",
    "read_now",
]

#: Tile side in pixels of its level (ilastik's volumina uses 512² too).
TILE = 512


class TileSource:
    """Computes the colour of any tile of any level of a grayscale pyramid.

    A level's tiles are its plan's output blocks (about ``side`` px, edges on the network's
    grid), so in exact tiling each tile gets its own windows, its core and halo: no pixel is
    computed for a tile it does not belong to.

    Parameters
    ----------
    levels
        Grayscale levels (..., y, x), full resolution first (a napari multiscale list, or one
        array); read only where a tile's windows need them.
    model
        The colorizer.
    config
        Settings; each level gets its own plan from them, with blocks of ``side`` px.
    side
        Tile side in pixels (about: blocks are split evenly on the grid).
    """

    def __init__(
        self,
        levels: Sequence[Any],
        model: Colorizer,
        config: ColorizeConfig | None = None,
        side: int = TILE,
    ) -> None:
        self.levels = list(levels)
        self.model = model
        self.config = ColorizeConfig.create(config, block_size=side)
        self.side = side
        #: The level whose pixels match the model's training pixels: finer levels are its
        #: colour upsampled (nearest), never the model run at a scale it did not learn.
        self.exact = 0
        self._plans: dict[int, Plan] = {}
        self._lock = threading.Lock()
        self._own: TileCache | None = None  # exact-level tiles when no cache is given

    def plan(self, level: int) -> Plan:
        """The windows of ``level``'s planes, planned once per level."""
        with self._lock:
            if level not in self._plans:
                shape = self.levels[level].shape
                self._plans[level] = plan(self.model.config, shape, self.config)
            return self._plans[level]

    def counts(self, level: int) -> tuple[int, int]:
        """Rows and columns of tiles over ``level``'s planes."""
        rows, cols = self.plan(level).block_edges()
        return len(rows), len(cols)

    def region(self, key: TileKey) -> tuple[int, int, int, int]:
        """Rows ``[y0, y1)`` and columns ``[x0, x1)`` of tile ``key`` in its level's plane."""
        rows, cols = self.plan(key.level).block_edges()
        return (*rows[key.row], *cols[key.col])

    def covering(
        self, level: int, rows: tuple[float, float], cols: tuple[float, float]
    ) -> list[tuple[int, int]]:
        """The (row, col) of every tile of ``level`` meeting a view's pixel rows and columns.

        ``rows`` and ``cols`` are half-open ``(lo, hi)`` in the level's pixels; what lies
        outside the plane meets no tile.
        """
        edges_y, edges_x = self.plan(level).block_edges()

        def meeting(edges: list[tuple[int, int]], lo: float, hi: float) -> list[int]:
            return [i for i, (a, b) in enumerate(edges) if a < hi and b > lo]

        return [(r, c) for r in meeting(edges_y, *rows) for c in meeting(edges_x, *cols)]

    def compute(self, key: TileKey, cache: TileCache | None = None) -> np.ndarray:
        """The uint8 RGB (y, x, 3) of tile ``key``: its windows' input read, then colorized.

        With ``config.classes``: (y, x, 5), the class index and confidence after RGB.

        A tile finer than :attr:`exact` is the exact level's colour upsampled (nearest, as a
        view shows coarser colour), its tiles taken from ``cache`` when given.
        """
        if key.level < self.exact:
            return self._upsampled(key, cache)
        source, level_plan = self.levels[key.level], self.plan(key.level)
        region = self.region(key)
        ya, yb, xa, xb = level_plan.input_region(region)
        window = self._read(source, key.plane, slice(ya, yb), slice(xa, xb))
        return colorize_block(self.model, level_plan, window, (ya, xa), region)

    def _upsampled(self, key: TileKey, cache: TileCache | None) -> np.ndarray:
        """Tile ``key`` (finer than :attr:`exact`) from the exact level's colour, nearest."""
        if cache is None:
            with self._lock:
                if self._own is None:
                    self._own = TileCache(64 << 20)
            cache = self._own
        y0, y1, x0, x1 = self.region(key)
        h, w = self.levels[key.level].shape[-2:]
        he, we = self.levels[self.exact].shape[-2:]
        iy, ix = nearest(y0, y1, h, he), nearest(x0, x1, w, we)  # rows, columns of the exact level
        part = (int(iy[0]), int(iy[-1]) + 1, int(ix[0]), int(ix[-1]) + 1)
        coarse = self.assemble(self.exact, key.plane, part, cache)  # (rows, cols, 3)
        return coarse[iy - part[0]][:, ix - part[2]]

    def tile(self, key: TileKey, cache: TileCache | None = None) -> np.ndarray:
        """Tile ``key`` from ``cache`` when there, else computed (and kept there)."""
        found = None if cache is None else cache.get(key)
        if found is None:
            found = self.compute(key, cache)
            if cache is not None:
                cache.put(key, found)
        return found

    def assemble(
        self,
        level: int,
        plane: tuple[int, ...],
        region: tuple[int, int, int, int],
        cache: TileCache | None = None,
    ) -> np.ndarray:
        """The uint8 RGB (y, x, 3) of ``region`` (y0, y1, x0, x1) of a plane, from its tiles.

        With ``config.classes``: (y, x, 5), RGB, class index and confidence, as the tiles.

        Whole tiles are computed (or taken from ``cache``) and cut to the region, so any region
        holds exactly the pixels a view of the same tiles shows.
        """
        y0, y1, x0, x1 = region
        out = np.zeros((y1 - y0, x1 - x0, self.plan(level).channels), np.uint8)
        for r, c in self.covering(level, (y0, y1), (x0, x1)):
            key = TileKey(level, plane, r, c)
            ta, tb, tc, td = self.region(key)
            a, b, cc, d = max(ta, y0), min(tb, y1), max(tc, x0), min(td, x1)
            out[a - y0 : b - y0, cc - x0 : d - x0] = self.tile(key, cache)[
                a - ta : b - ta, cc - tc : d - tc
            ]
        return out

    def _read(self, source: Any, plane: tuple[int, ...], ys: slice, xs: slice) -> np.ndarray:
        """The input (1 + 2·context, y, x): the plane and its neighbours along the first axis."""
        ctx = self.model.config.context
        if not ctx:
            return read_now(source[(*plane, ys, xs)])[None]
        depth = source.shape[0]
        zs = [min(max(plane[0] + dz, 0), depth - 1) for dz in range(-ctx, ctx + 1)]
        return np.stack([read_now(source[(z, *plane[1:], ys, xs)]) for z in zs])


def compute_queued(
    source: TileSource, cache: TileCache, queue: TileQueue, most: int = 4
) -> Iterator[list[TileKey]]:
    """Compute queued tiles into ``cache``, yielding each batch's keys once they are cached.

    The worker side of a view-driven layer: run it in a worker thread (napari's
    ``thread_worker``, or any thread) and refresh the view on each yield. It waits while the
    queue is empty and returns once :meth:`TileQueue.close` was called; a tile already cached
    (another view asked for it first) is not computed again.
    """
    while True:
        keys = queue.pop(most, timeout=0.5)
        if queue.closed:
            return
        fresh = [k for k in keys if k not in cache]
        for key in fresh:
            cache.put(key, source.compute(key, cache))
        if fresh:
            yield fresh
