"""Colour for what is in view: fixed tiles of any pyramid level, computed on demand.

The pieces a view-driven colour layer is built from, none of which knows about a viewer:

* :class:`TileGrid` cuts each level's planes into square tiles (the unit of caching and work);
* :class:`TileSource` computes one tile's colour, reading only the input its windows need
  (the tile and its halo), with the planner's windows for that level: at level 0 a tile equals
  the same pixels of :func:`~napari_colorgan.core.infer.graph.colorize`;
* :class:`TileCache` keeps computed tiles within a byte limit, least recently used out first;
* :class:`TileQueue` orders the work as the large-data viewers of the field do: the newest view
  first, its centre first, prefetch after, and tiles that left the view dropped.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..model.colorizer import Colorizer
from .blocks import colorize_block
from .config import ColorizeConfig
from .planner import Plan, plan

#: Tile side in pixels of its level (ilastik's volumina uses 512² too).
TILE = 512


class TileKey(NamedTuple):
    """One tile: pyramid ``level``, ``plane`` (leading-axes index), tile ``row`` and ``col``."""

    level: int
    plane: tuple[int, ...]
    row: int
    col: int


class TileGrid:
    """Square tiles of ``side`` px over planes of each level (the last row/column may be less)."""

    def __init__(self, side: int = TILE) -> None:
        if side < 1:
            raise ValueError(f"tile side must be >= 1 px, got {side}")
        self.side = side

    def counts(self, shape: Sequence[int]) -> tuple[int, int]:
        """Rows and columns of tiles over a plane of ``shape`` (..., y, x)."""
        return math.ceil(shape[-2] / self.side), math.ceil(shape[-1] / self.side)

    def region(self, key: TileKey, shape: Sequence[int]) -> tuple[int, int, int, int]:
        """Rows ``[y0, y1)`` and columns ``[x0, x1)`` of ``key`` in a plane of ``shape``."""
        y0, x0 = key.row * self.side, key.col * self.side
        return y0, min(y0 + self.side, shape[-2]), x0, min(x0 + self.side, shape[-1])

    def covering(
        self, shape: Sequence[int], rows: tuple[int, int], cols: tuple[int, int]
    ) -> list[tuple[int, int]]:
        """The (row, col) of every tile meeting pixel rows ``[r0, r1)`` and cols ``[c0, c1)``."""
        n_rows, n_cols = self.counts(shape)
        r0, r1 = max(rows[0], 0) // self.side, min(math.ceil(rows[1] / self.side), n_rows)
        c0, c1 = max(cols[0], 0) // self.side, min(math.ceil(cols[1] / self.side), n_cols)
        return [(r, c) for r in range(r0, r1) for c in range(c0, c1)]


class TileSource:
    """Computes the colour of any tile of any level of a grayscale pyramid.

    Parameters
    ----------
    levels
        Grayscale levels (..., y, x), full resolution first (a napari multiscale list, or one
        array); read only where a tile's windows need them.
    model
        The colorizer.
    config
        Settings; each level gets its own plan from them.
    grid
        The tiles.
    """

    def __init__(
        self,
        levels: Sequence[Any],
        model: Colorizer,
        config: ColorizeConfig | None = None,
        grid: TileGrid | None = None,
    ) -> None:
        self.levels = list(levels)
        self.model = model
        self.config = config or ColorizeConfig()
        self.grid = grid or TileGrid()
        self._plans: dict[int, Plan] = {}
        self._lock = threading.Lock()

    def plan(self, level: int) -> Plan:
        """The windows of ``level``'s planes, planned once per level."""
        with self._lock:
            if level not in self._plans:
                shape = self.levels[level].shape
                self._plans[level] = plan(self.model.config, shape, self.config)
            return self._plans[level]

    def compute(self, key: TileKey) -> np.ndarray:
        """The uint8 RGB (y, x, 3) of tile ``key``: its windows' input read, then colorized."""
        source, level_plan = self.levels[key.level], self.plan(key.level)
        region = self.grid.region(key, source.shape)
        ya, yb, xa, xb = level_plan.input_region(region)
        window = self._read(source, key.plane, slice(ya, yb), slice(xa, xb))
        return colorize_block(self.model, level_plan, window, (ya, xa), region)

    def _read(self, source: Any, plane: tuple[int, ...], ys: slice, xs: slice) -> np.ndarray:
        """The input (1 + 2·context, y, x): the plane and its neighbours along the first axis."""
        ctx = self.model.config.context
        if not ctx:
            return np.asarray(source[(*plane, ys, xs)])[None]
        depth = source.shape[0]
        zs = [min(max(plane[0] + dz, 0), depth - 1) for dz in range(-ctx, ctx + 1)]
        return np.stack([np.asarray(source[(z, *plane[1:], ys, xs)]) for z in zs])


class TileCache:
    """Computed tiles within ``limit`` bytes, the least recently used dropped first; thread-safe.

    Attributes
    ----------
    evicted
        How many tiles were dropped to stay within the limit.
    """

    def __init__(self, limit: int = 512 << 20) -> None:
        if limit < 1:
            raise ValueError(f"the tile cache limit must be >= 1 byte, got {limit}")
        self.limit = limit
        self.nbytes = 0
        self.evicted = 0
        self._tiles: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._tiles

    def __len__(self) -> int:
        with self._lock:
            return len(self._tiles)

    def get(self, key: TileKey) -> np.ndarray | None:
        """The tile, marked as just used, or None."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: TileKey, tile: np.ndarray) -> None:
        """Keep ``tile``, dropping the least recently used ones beyond the limit."""
        with self._lock:
            old = self._tiles.pop(key, None)
            self.nbytes -= 0 if old is None else old.nbytes
            self._tiles[key] = tile
            self.nbytes += tile.nbytes
            while self.nbytes > self.limit and len(self._tiles) > 1:
                _, dropped = self._tiles.popitem(last=False)
                self.nbytes -= dropped.nbytes
                self.evicted += 1

    def clear(self) -> None:
        """Drop every tile."""
        with self._lock:
            self._tiles.clear()
            self.nbytes = 0


class TileQueue:
    """The tiles to compute, newest view first, its centre first, prefetch last.

    Each :meth:`want` is a new view: what the previous views asked for and this one does not is
    dropped (counted in ``dropped``), so a pan or zoom never waits behind tiles nobody looks at.
    Thread-safe: the viewer's thread wants, a worker pops.
    """

    def __init__(self) -> None:
        self._order: list[TileKey] = []
        self._lock = threading.Condition()
        self.dropped = 0
        self.closed = False

    def want(
        self,
        visible: Iterable[TileKey],
        centre: tuple[float, float],
        grid: TileGrid,
        prefetch: Iterable[TileKey] = (),
        skip: Any = (),
    ) -> None:
        """Replace the pending tiles with this view's.

        ``visible`` come first, nearest (tile centre to ``centre``, in pixels of their level)
        first, then ``prefetch``; tiles in ``skip`` (e.g. the cache) are left out.
        """

        def distance(key: TileKey) -> float:
            cy, cx = (key.row + 0.5) * grid.side, (key.col + 0.5) * grid.side
            return math.hypot(cy - centre[0], cx - centre[1])

        visible, prefetch = list(visible), list(dict.fromkeys(prefetch))
        in_view = set(visible) | set(prefetch)
        near = sorted((k for k in visible if k not in skip), key=distance)
        later = [k for k in prefetch if k not in skip and k not in near]
        with self._lock:
            self.dropped += sum(1 for k in self._order if k not in in_view)  # left the view
            self._order = [*near, *later]
            self._lock.notify_all()

    def pop(self, most: int = 1, timeout: float | None = None) -> list[TileKey]:
        """Up to ``most`` tiles, first in order; waits up to ``timeout`` s for some (None: ever).

        Returns an empty list once :meth:`close` was called, or when the wait timed out.
        """
        with self._lock:
            self._lock.wait_for(lambda: self._order or self.closed, timeout)
            if self.closed:
                return []
            taken, self._order = self._order[:most], self._order[most:]
            return taken

    def pending(self) -> list[TileKey]:
        """The tiles waiting, in order."""
        with self._lock:
            return list(self._order)

    def close(self) -> None:
        """Wake and end every :meth:`pop`, now and later."""
        with self._lock:
            self.closed = True
            self._order = []
            self._lock.notify_all()
