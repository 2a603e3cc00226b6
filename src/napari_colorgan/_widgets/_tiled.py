"""The view-driven colour layer's arrays and cache: napari reads only what is in view.

napari reads a multiscale layer at the displayed level, only the visible region, and again when
the view moves. Here each level is an array-like that never computes: a read answers from the
tile cache (colour computed), a coarser level's cached colour upsampled, or the grey of the
input (nothing yet), and asks the tile queue for the tiles it did not find, the newest view
first. A worker computes queued tiles
(:func:`~napari_colorgan.core.infer.tiles.compute_queued`); :mod:`._colour_layer` ties all of it
to a viewer.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

#: Bytes of colour tiles kept (the user can set it).
CACHE_BYTES = 512 << 20
#: The grey shown until colour comes is read this many levels coarser (at most).
GREY_SKIP = 2
#: Regions whose composed colour is kept between refreshes (a view per level, a thumbnail).
SHOWN_KEPT = 4


class _Shown:
    """A region's composed colour: its grey, and which tiles were painted on it."""

    def __init__(
        self, grey: np.ndarray | None, shape: tuple[int, ...], coarse: frozenset[Any]
    ) -> None:
        self.grey = grey  # None where coarser colour covers the whole region
        self.out = np.empty(shape, np.uint8) if grey is None else grey.copy()
        self.coarse = coarse  # coarser tiles upsampled on it
        self.fine: set[Any] = set()  # tiles of its own level pasted on it


class TiledColour:
    """The tile cache, queue and worker behind one view-driven colour layer.

    Parameters
    ----------
    gray
        The grayscale levels (..., y, x), full resolution first.
    load
        Loads the colorizer; called in the worker.
    config
        The colorize settings (a ``ColorizeConfig``).
    cache_bytes
        Most bytes of colour tiles kept in memory.
    spill
        A folder to keep tiles dropped from memory in (a zarr scratch folder inside it,
        removed with the layer); None: they are dropped.
    """

    def __init__(
        self,
        gray: Sequence[Any],
        load: Callable[[], Any],
        config: Any,
        cache_bytes: int = CACHE_BYTES,
        spill: Any = None,
    ) -> None:
        from napari_colorgan.core.infer.tile_spill import SpillStore
        from napari_colorgan.core.infer.tiles import TileCache, TileQueue

        self.gray = list(gray)
        self.input: Any = self.gray[0]  # what the user gave (level 0, before any wrapping)
        store = None if spill is None else SpillStore(spill)
        self.cache, self.queue = TileCache(cache_bytes, store), TileQueue()
        self.source: Any = None  # made in a worker, with the model
        self._load, self._config = load, config
        self._loading = threading.Lock()
        self.levels = [LevelView(self, i) for i in range(len(self.gray))]
        self.asked: list[Any] = []  # the tiles the latest view was missing
        self._shown: OrderedDict[tuple[Any, ...], _Shown] = OrderedDict()
        self.low, self.high = _stretch(self.gray[-1])
        # Level 0's pixel size and unit (the layer's scale and units, or the file's), and the
        # level matching the model's training pixels, known once the model is loaded.
        self.pixel: tuple[float, str | None] = (1.0, None)
        self.exact = 0
        self._tables: dict[np.dtype, np.ndarray] = {}  # grey of each 8/16-bit value

    def ready_source(self) -> Any:
        """The tile source, the model loaded first if need be (call it in a worker)."""
        from napari_colorgan.core.infer.tiles import TileSource
        from napari_colorgan.core.model.pixel_size import exact_level

        with self._loading:
            if self.source is None:
                source = TileSource(self.gray, self._load(), self._config)
                widths = [level.shape[-1] for level in self.gray]
                source.exact = self.exact = exact_level(widths, self.pixel, source.model)
                for level in range(len(self.gray)):  # planning a level takes up to 0.2 s:
                    source.plan(level)  # here, not in napari's thread at its first read
                self.source = source
            return self.source

    def work(self) -> Iterator[list[Any]]:
        """Load the model, then compute queued tiles; yields each batch of keys cached.

        The first yield is empty: the model is ready, the view can ask for tiles.
        """
        from napari_colorgan.core.infer.tiles import compute_queued

        source = self.ready_source()
        yield []
        # One tile at a time: a new view waits for one tile at most, and each tile shows as
        # soon as it is done.
        yield from compute_queued(source, self.cache, self.queue, most=1)

    def close(self) -> None:
        """End the worker (after the tile in progress) and free the cache."""
        self.queue.close()
        self.cache.close()
        self._shown.clear()

    def colorized(self) -> Any:
        """Full-resolution colour (..., y, x, 3) as a dask array, one chunk per plane.

        Computed from the same tiles the view shows (taken from the cache where there): what
        Evaluate scores is what the user saw. Compute it in a worker.
        """
        import dask.array as da

        shape = (*self.gray[0].shape, 3)
        lead = shape[:-3]

        def plane(block_id: tuple[int, ...]) -> np.ndarray:
            source = self.ready_source()
            where = tuple(block_id[: len(lead)])
            colour = source.assemble(0, where, (0, shape[-3], 0, shape[-2]), self.cache)
            return colour[(None,) * len(lead)]

        chunks = (*((1,) * n for n in lead), (shape[-3],), (shape[-2],), (3,))
        return da.map_blocks(plane, chunks=chunks, dtype=np.uint8, meta=np.empty((0,) * 4, "u1"))

    def read(self, level: int, plane: tuple[int, ...], ys: range, xs: range, ask: bool) -> Any:
        """Colour (len(ys), len(xs), 3) of a region: tiles, coarser colour, or grey.

        Cached tiles where there are; elsewhere a coarser level's cached colour upsampled, or
        the grey of the input. ``ask``: queue the tiles not cached (a view), else only look
        (a thumbnail).
        """
        source = self.source
        if source is None or not len(ys) or not len(xs):
            return self._grey(level, plane, ys, xs)
        from napari_colorgan.core.infer.tiles import TileKey

        keys = [
            TileKey(level, plane, r, c)
            for r, c in source.covering(level, (ys.start, ys.stop), (xs.start, xs.stop))
        ]
        shown = self._compose(level, plane, ys, xs, keys)
        missing = [k for k in keys if k not in shown.fine]
        if ask and level == len(self.levels) - 1:  # the thumbnail too: keep the view's tiles
            self.queue.add(missing, skip=self.cache)
        elif ask:
            centre = ((ys.start + ys.stop) / 2, (xs.start + xs.stop) / 2)
            self.asked = missing
            self.queue.want(missing, centre, source, self.coarsest(plane), skip=self.cache)
        return shown.out.copy()  # napari keeps what it gets; the kept one is pasted on

    def _compose(
        self, level: int, plane: tuple[int, ...], ys: range, xs: range, keys: list[Any]
    ) -> _Shown:
        """The region's colour, kept: a refresh pastes only the tiles cached since.

        napari re-reads the whole view at each refresh (each time tiles arrive); reading the
        grey and upsampling coarser colour again each time kept its thread busy for up to
        90 ms a refresh on a 1000 px view. Coarser colour is painted anew only when new
        coarser tiles arrived.
        """
        region = (level, plane, ys.start, ys.stop, xs.start, xs.stop)
        coarse, covered = self._coarser_tiles(level, plane, ys, xs)
        shown = self._shown.get(region)
        if shown is None or shown.coarse != frozenset(k for k, *_ in coarse):
            grey = None if shown is None else shown.grey
            if grey is None and not covered:  # no need to read the input where colour covers
                grey = self._grey(level, plane, ys, xs)
            shape = (len(ys), len(xs), 3)
            shown = _Shown(grey, shape, frozenset(k for k, *_ in coarse))
            for _key, tile, (a, b, c, d), rows, cols in coarse:  # coarsest first: finer wins
                shown.out[a:b, c:d] = tile[rows][:, cols]
            self._shown[region] = shown
        self._shown.move_to_end(region)
        while len(self._shown) > SHOWN_KEPT:
            self._shown.popitem(last=False)
        for key in keys:
            if key not in shown.fine and self._paste(shown.out, key, ys, xs):
                shown.fine.add(key)
        return shown

    def _paste(self, out: np.ndarray, key: Any, ys: range, xs: range) -> bool:
        """Copy cached tile ``key`` into ``out`` (region ``ys``, ``xs``); False if not cached."""
        tile = self.cache.get(key)
        if tile is None:
            return False
        y0, y1, x0, x1 = self.source.region(key)
        a, b = max(y0, ys.start), min(y1, ys.stop)
        c, d = max(x0, xs.start), min(x1, xs.stop)
        out[a - ys.start : b - ys.start, c - xs.start : d - xs.start] = tile[
            a - y0 : b - y0, c - x0 : d - x0
        ]
        return True

    def _coarser_tiles(
        self, level: int, plane: tuple[int, ...], ys: range, xs: range
    ) -> tuple[list[tuple[Any, np.ndarray, tuple[int, int, int, int], Any, Any]], bool]:
        """Cached tiles of coarser levels over a region, coarsest first, to upsample.

        Each: key, tile, where it goes in the region (a, b, c, d), and the tile's rows and
        columns to take for it (nearest neighbour). Also whether the coarsest level's tiles
        cover the whole region.
        """
        from napari_colorgan.core.infer.tiles import TileKey, nearest

        found, covered = [], False
        h, w = self.gray[level].shape[-2:]
        for coarse in range(len(self.levels) - 1, level, -1):
            hc, wc = self.gray[coarse].shape[-2:]
            iy, ix = nearest(ys.start, ys.stop, h, hc), nearest(xs.start, xs.stop, w, wc)
            rows = (int(iy[0]), int(iy[-1]) + 1)
            cols = (int(ix[0]), int(ix[-1]) + 1)
            meeting = self.source.covering(coarse, rows, cols)
            before = len(found)
            for r, c in meeting:
                key = TileKey(coarse, plane, r, c)
                tile = self.cache.get(key)
                if tile is None:
                    continue
                y0, y1, x0, x1 = self.source.region(key)
                a, b = (int(i) for i in np.searchsorted(iy, (y0, y1)))  # our rows in the tile
                cc, d = (int(i) for i in np.searchsorted(ix, (x0, x1)))
                found.append((key, tile, (a, b, cc, d), iy[a:b] - y0, ix[cc:d] - x0))
            covered = covered or len(found) - before == len(meeting)
        return found, covered

    def coarsest(self, plane: tuple[int, ...]) -> list[Any]:
        """Every tile of ``plane`` at the coarsest level: small, and shown when zoomed out."""
        from napari_colorgan.core.infer.tiles import TileKey

        if self.source is None:
            return []
        top = len(self.levels) - 1
        rows, cols = self.source.counts(top)
        return [TileKey(top, plane, r, c) for r in range(rows) for c in range(cols)]

    def want_coarsest(self, plane: tuple[int, ...]) -> None:
        """Queue the coarsest level of ``plane``: napari shows it without reading us anew."""
        self.queue.add(self.coarsest(plane), skip=self.cache)

    def describe(self, level: int) -> str:
        """What the colour at ``level`` is, for the status bar."""
        exact = self.exact
        if level == exact:
            at = "full resolution" if exact == 0 else f"level {exact}, the model's pixel size"
            return f"colour: the exact colorization ({at})"
        factor = self.gray[0].shape[-1] / self.gray[level].shape[-1]
        if level < exact:
            return (
                f"colour: the exact colorization of level {exact} (the model's pixel size), "
                f"upsampled: level {level} is finer than the pixels the model was trained on"
            )
        return (
            f"colour: a preview, colorized at level {level} (1/{factor:.0f} resolution); "
            "zoom in for the exact colorization"
        )

    def _grey(self, level: int, plane: tuple[int, ...], ys: range, xs: range) -> np.ndarray:
        """The input's grey (y, x, 3) uint8, one stretch for every tile and level.

        Read from up to :data:`GREY_SKIP` levels coarser and upsampled (nearest): a placeholder
        until the colour comes, and a 16x smaller read on napari's thread.
        """
        from napari_colorgan.core.infer.tiles import nearest, read_now

        if not len(ys) or not len(xs):
            return np.zeros((len(ys), len(xs), 3), np.uint8)
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
        return np.repeat(grey[..., None], 3, -1)

    def _stretched(self, values: np.ndarray) -> np.ndarray:
        """Float values to uint8 grey, the 1st-99th percentile stretch of the input."""
        scale = 255 / max(self.high - self.low, 1e-12)
        return np.clip((values - self.low) * scale, 0, 255).astype(np.uint8)

    def _table(self, dtype: np.dtype) -> np.ndarray:
        """The grey of every value of an 8/16-bit ``dtype``, made once (not at each read)."""
        if dtype not in self._tables:
            values = np.arange(np.iinfo(dtype).max + 1, dtype=np.float32)
            self._tables[dtype] = self._stretched(values)
        return self._tables[dtype]


def _stretch(level: Any) -> tuple[float, float]:
    """1st and 99th percentiles of a strided sample of the coarsest level."""
    from napari_colorgan.core.infer.tiles import read_now

    plane = read_now(level[(0,) * (level.ndim - 2)])
    step = max(1, max(plane.shape) // 256)
    low, high = np.nanpercentile(plane[::step, ::step].astype(np.float32), (1, 99))
    return float(low), float(high)


class LevelView:
    """One level of the colour layer, (..., y, x, 3) uint8, that napari indexes lazily.

    napari first cuts the displayed region with ``slice(None)`` on the other axes, then picks
    the plane: a cut keeps the selection (:class:`_Selection`) and only a single plane's read
    computes anything.
    """

    def __init__(self, parent: TiledColour, level: int) -> None:
        self.parent, self.level = parent, level
        self.shape = (*parent.gray[level].shape, 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    def __getitem__(self, key: Any) -> Any:
        return _Selection(self, [range(n) for n in self.shape])[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # A whole level (napari's thumbnail): looked up, never a view's request.
        out = _Selection(self, [range(n) for n in self.shape]).read(ask=False)
        return out if dtype is None else out.astype(dtype)

    def __len__(self) -> int:
        return self.shape[0]


class _Selection:
    """A part of a :class:`LevelView`: per axis an index (axis dropped) or a range."""

    def __init__(self, view: LevelView, axes: list[Any]) -> None:
        self.view, self.axes = view, axes
        self.shape = tuple(len(a) for a in axes if isinstance(a, range))
        self.ndim, self.dtype = len(self.shape), view.dtype
        self.size = int(np.prod(self.shape))

    def __getitem__(self, key: Any) -> Any:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            key = (*key[:i], *(slice(None),) * (self.ndim - len(key) + 1), *key[i + 1 :])
        key = iter((*key, *(slice(None),) * (self.ndim - len(key))))
        axes = [a if not isinstance(a, range) else a[_index(next(key))] for a in self.axes]
        chosen = _Selection(self.view, axes)
        lead = axes[: len(axes) - 3]
        return chosen if any(isinstance(a, range) for a in lead) else np.asarray(chosen)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(ask=True)
        return out if dtype is None else out.astype(dtype)

    def read(self, ask: bool) -> np.ndarray:
        """The selected colours; with ``ask``, a single plane's missing tiles are queued."""
        *lead, ys, xs, channels = self.axes
        span_y, span_x = _span(ys), _span(xs)  # contiguous rows and columns to read
        planes = [a if isinstance(a, range) else range(a, a + 1) for a in lead]
        view = ask and all(len(r) == 1 for r in planes)  # one plane: what is on screen
        parent, level = self.view.parent, self.view.level
        parts = [
            parent.read(level, plane, span_y, span_x, ask=view)
            for plane in itertools.product(*planes)
        ]
        shape = (*(len(r) for r in planes), len(span_y), len(span_x), 3)
        out = parts[0].reshape(shape) if len(parts) == 1 else np.stack(parts).reshape(shape)
        keep = tuple(slice(None) if isinstance(a, range) else 0 for a in lead)
        local = (_local(ys, span_y), _local(xs, span_x), _local(channels, range(3)))
        return out[(*keep, *local)]


def _index(k: Any) -> Any:
    """A numpy-style index on one axis as something ``range`` takes."""
    return int(k) if isinstance(k, int | np.integer) else k


def _span(a: Any) -> range:
    """The contiguous range holding an index or a range (empty stays empty)."""
    if not isinstance(a, range):
        return range(a, a + 1)
    return range(min(a), max(a) + 1) if len(a) else range(0)


def _local(a: Any, span: range) -> Any:
    """Index ``a`` (an int or a range) relative to ``span``'s start."""
    if not isinstance(a, range):
        return a - span.start
    if not len(a):
        return slice(0, 0)
    start = a.start - span.start
    stop = start + len(a) * a.step
    return slice(start, stop if stop >= 0 else None, a.step)
