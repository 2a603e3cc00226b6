"""The view-driven layer's bookkeeping: tile keys, a bounded tile cache and the work queue.

Light on purpose (numpy and the standard library): napari's thread builds these when a colour
layer is added, before the worker has imported torch and loaded the model.

* :class:`TileCache` keeps computed tiles within a byte limit, least recently used out first;
* :class:`TileQueue` orders the work as the large-data viewers of the field do: the newest view
  first, its centre first, prefetch after, and tiles that left the view dropped.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .tile_spill import SpillStore


class TileKey(NamedTuple):
    """One tile: pyramid ``level``, ``plane`` (leading-axes index), tile ``row`` and ``col``."""

    level: int
    plane: tuple[int, ...]
    row: int
    col: int


class TileCache:
    """Computed tiles within ``limit`` bytes, the least recently used dropped first; thread-safe.

    With a ``spill`` store, tiles dropped from memory are written there and read back when
    asked for again.

    Attributes
    ----------
    evicted
        How many tiles were dropped to stay within the limit.
    """

    def __init__(self, limit: int = 512 << 20, spill: SpillStore | None = None) -> None:
        if limit < 1:
            raise ValueError(f"the tile cache limit must be >= 1 byte, got {limit}")
        self.limit = limit
        self.spill = spill  # where tiles dropped from memory go, if anywhere
        self.nbytes = 0
        self.evicted = 0
        self.closed = False
        self._tiles: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            if key in self._tiles:
                return True
        return self.spill is not None and key in self.spill

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
        tile = None if self.spill is None else self.spill.read(key)
        if tile is not None:
            self.put(key, tile)  # back in memory: it is in use again
        return tile

    def put(self, key: TileKey, tile: np.ndarray) -> None:
        """Keep ``tile``, dropping the least recently used ones beyond the limit.

        Once closed, nothing is kept: a tile that was in flight when its layer went away
        does not outlive it.
        """
        dropped = []
        with self._lock:
            if self.closed:
                return
            old = self._tiles.pop(key, None)
            self.nbytes -= 0 if old is None else old.nbytes
            self._tiles[key] = tile
            self.nbytes += tile.nbytes
            while self.nbytes > self.limit and len(self._tiles) > 1:
                dropped.append(self._tiles.popitem(last=False))
                self.nbytes -= dropped[-1][1].nbytes
                self.evicted += 1
        for gone in dropped if self.spill is not None else ():  # the disk, outside the lock
            self.spill.write(*gone)

    def clear(self) -> None:
        """Drop every tile."""
        with self._lock:
            self._tiles.clear()
            self.nbytes = 0

    def close(self) -> None:
        """Drop every tile and keep none from now on."""
        with self._lock:
            self.closed = True
        self.clear()
        if self.spill is not None:
            self.spill.close()


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
        source: Any,
        prefetch: Iterable[TileKey] = (),
        skip: Any = (),
    ) -> None:
        """Replace the pending tiles with this view's.

        ``visible`` come first, nearest (tile centre to ``centre``, in pixels of their level,
        from ``source``, the :class:`~napari_colorgan.core.infer.tiles.TileSource`) first,
        then ``prefetch``; tiles in ``skip`` (e.g. the cache) are left out.
        """

        def distance(key: TileKey) -> float:
            y0, y1, x0, x1 = source.region(key)
            return math.hypot((y0 + y1) / 2 - centre[0], (x0 + x1) / 2 - centre[1])

        visible, prefetch = list(visible), list(dict.fromkeys(prefetch))
        in_view = set(visible) | set(prefetch)
        near = sorted((k for k in visible if k not in skip), key=distance)
        later = [k for k in prefetch if k not in skip and k not in near]
        with self._lock:
            self.dropped += sum(1 for k in self._order if k not in in_view)  # left the view
            self._order = [*near, *later]
            self._lock.notify_all()

    def add(self, keys: Iterable[TileKey], skip: Any = ()) -> None:
        """Queue ``keys`` after the pending ones, keeping those (not a new view: a thumbnail)."""
        with self._lock:
            known = set(self._order)
            self._order += [k for k in dict.fromkeys(keys) if k not in known and k not in skip]
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
