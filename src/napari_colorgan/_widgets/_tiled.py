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

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from napari_colorgan._widgets._cores import leaving_a_core_to_napari
from napari_colorgan._widgets._grey import GreyPlaceholder
from napari_colorgan._widgets._level_view import LevelView
from napari_colorgan._widgets._shown import Blank, Shown, coarser_tiles

#: Bytes of colour tiles kept (the user can set it).
CACHE_BYTES = 512 << 20
#: Regions whose composed colour is kept between refreshes (a view per level, a thumbnail).
SHOWN_KEPT = 4
#: The most recently read regions the worker paints new tiles on (the view, the thumbnail).
PREPARED = 2
#: Zeros mapped for see-through views before anything is painted: a 4096² RGBA view.
BLANK_BYTES = 64 << 20


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
    see_through
        The colour is RGBA, transparent where no colour is computed yet (the input's own
        layer shows through, at full resolution): no grey is read for the view. Else RGB,
        the input's grey (read coarser) where no colour is computed yet.
    """

    def __init__(
        self,
        gray: Sequence[Any],
        load: Callable[[], Any],
        config: Any,
        cache_bytes: int = CACHE_BYTES,
        spill: Any = None,
        see_through: bool = False,
    ) -> None:
        from napari_colorgan.core.infer.tile_cache import TileCache, TileQueue
        from napari_colorgan.core.infer.tile_spill import SpillStore

        self.gray = list(gray)
        self.input: Any = self.gray[0]  # what the user gave (level 0, before any wrapping)
        store = None if spill is None else SpillStore(spill)
        self.cache, self.queue = TileCache(cache_bytes, store), TileQueue()
        self.source: Any = None  # made in a worker, with the model
        self._load, self._config = load, config
        self._loading = threading.Lock()
        #: Tile channels: RGB, and with ``config.classes`` the class index and confidence.
        self.channels = 5 if getattr(config, "classes", False) else 3
        #: Channels of a composed view: the tiles', and an alpha one when ``see_through``.
        self.see_through = see_through
        self.width = self.channels + see_through
        # Label id of each class index (NOT_YET: 0), known once the model is loaded.
        self.label_table = np.zeros(256, np.uint8)
        self.label_dtype = np.dtype(np.uint8)
        self.palette: dict[int, tuple[int, int, int]] = {}  # label id: RGB, as painted
        self.levels = [LevelView(self, i) for i in range(len(self.gray))]
        self._sizes = [tuple(level.shape[-2:]) for level in self.gray]  # (y, x) of each level
        self.asked: list[Any] = []  # the tiles the latest view was missing
        self._shown: OrderedDict[tuple[Any, ...], Shown] = OrderedDict()
        self._reading = threading.Lock()  # one read at a time composes and keeps regions
        self._placeholder = GreyPlaceholder(self.gray)
        self._blank = Blank()  # what see-through regions show before anything is painted
        # Level 0's pixel size and unit (the layer's scale and units, or the file's), and the
        # level matching the model's training pixels, known once the model is loaded.
        self.pixel: tuple[float, str | None] = (1.0, None)
        self.exact = 0

    def ready_source(self) -> Any:
        """The tile source, the model loaded first if need be (call it in a worker)."""
        from napari_colorgan.core.infer.tiles import TileSource
        from napari_colorgan.core.model.pixel_size import exact_level

        with self._loading:
            if self.source is None:
                source = TileSource(self.gray, self._load(), self._config)
                if self.channels == 5:
                    self._know_classes(source.model.config)
                widths = [level.shape[-1] for level in self.gray]
                source.exact = self.exact = exact_level(widths, self.pixel, source.model)
                for level in range(len(self.gray)):  # planning a level takes up to 0.2 s:
                    source.plan(level)  # here, not in napari's thread at its first read
                if self.see_through:
                    self._blank.reserve(BLANK_BYTES)  # likewise
                self.source = source
            return self.source

    def _know_classes(self, model: Any) -> None:
        """The label id of each class index, from the loaded model (checked: it has classes)."""
        from napari_colorgan.core.model.config import NO_CLASSES, class_palette, label_ids

        if not model.classes:
            raise ValueError(NO_CLASSES)
        ids = label_ids(model)
        if ids.max() > np.iinfo(self.label_dtype).max:
            raise ValueError(f"label ids up to {ids.max()} do not fit {self.label_dtype}")
        table = np.zeros(256, self.label_dtype)
        table[: len(ids)] = ids
        self.label_table = table
        self.palette = class_palette(model)

    def part_levels(self, part: str, label_dtype: Any = np.uint8) -> list[LevelView]:
        """The levels of another part of the tiles (``"classes"``, ``"confidence"``).

        ``label_dtype`` must hold the model's label ids (known before the model loads: the
        caller reads it from the model file).
        """
        if self.channels != 5:
            raise ValueError("class maps need a layer made with classes=True")
        self.label_dtype = np.dtype(label_dtype)
        return [LevelView(self, i, part) for i in range(len(self.gray))]

    def work(self) -> Iterator[list[Any]]:
        """Load the model, then compute queued tiles; yields each batch of keys cached.

        The first yield is empty: the model is ready, the view can ask for tiles.
        """
        from napari_colorgan.core.infer.tiles import compute_queued

        # torch runs with a core left to napari's refreshes, only while this worker runs: a
        # worker dropped at a yield would otherwise keep the (process-wide) cap for good.
        with leaving_a_core_to_napari():
            source = self.ready_source()
        yield []
        # One tile at a time: a new view waits for one tile at most, and each tile shows as
        # soon as it is done.
        tiles = compute_queued(source, self.cache, self.queue, most=1)
        while True:
            with leaving_a_core_to_napari():
                keys = next(tiles, None)
                if keys is None:
                    return
                self.prepare(keys)
            yield keys

    def prepare(self, keys: list[Any]) -> None:
        """Paint tiles just cached onto the kept views of their plane (call it in the worker).

        napari then re-reads a view at its refresh and finds it composed, and converted for
        the parts read before (a class model's class map, confidence): its thread takes it as
        it is, instead of pasting tiles, upsampling coarser colour and converting itself.
        """
        planes = {key.plane for key in keys}
        with self._reading:
            # The view and the thumbnail: regions read before them are views left behind.
            regions = [
                (region, shown)
                for region, shown in list(self._shown.items())[-PREPARED:]
                if region[1] in planes and shown.keys
            ]
        composed = []
        for region, old in regions:
            # Made outside the lock napari's reads take: composing a 2048² region anew (its
            # coarser colour changed) held it up to 68 ms, napari's thread waiting.
            fresh = self._recomposed(region, old)
            if fresh is not None:
                fresh.convert_parts(old)  # before napari can read it
            with self._reading:
                if self._shown.get(region) is not old:
                    continue  # left behind meanwhile
                shown = old if fresh is None else fresh
                self._shown[region] = shown
                before = shown.version
                self._paste_fine(shown, range(*region[2:4]), range(*region[4:6]))
                shown.converting = shown.converting or shown.version != before
            composed.append(shown)
        # Converted outside the lock too: napari's reads meanwhile take the parts as they were.
        for shown in composed:
            shown.convert_parts(lock=self._reading)

    def _recomposed(self, region: tuple[Any, ...], old: Shown) -> Shown | None:
        """``region`` composed anew with its level's cached tiles, or None.

        Anew if its coarser colour changed since ``old``, or ``old`` is blank with tiles to
        paint (the new one gets its own buffer here, not at napari's read).
        """
        level, plane, y0, y1, x0, x1 = region
        ys, xs = range(y0, y1), range(x0, x1)
        coarse, covered = self._coarser(level, plane, ys, xs)
        if old.coarse == frozenset(k for k, *_ in coarse) and not (
            old.blank and any(k not in old.fine and k in self.cache for k in old.keys)
        ):
            return None
        fresh = self._made(region, old.grey, coarse, covered)
        fresh.keys = old.keys
        self._paste_fine(fresh, ys, xs)
        return fresh

    def close(self) -> None:
        """End the worker (after the tile in progress) and free the cache."""
        self.queue.close()
        self.cache.close()
        self._shown.clear()

    def read(
        self,
        level: int,
        plane: tuple[int, ...],
        ys: range,
        xs: range,
        ask: bool,
        part: str = "colour",
        convert: Callable[[np.ndarray], Any] | None = None,
    ) -> Any:
        """Colour (len(ys), len(xs), :attr:`width`) of a region: tiles, coarser colour, or grey.

        Cached tiles where there are; elsewhere a coarser level's cached colour upsampled, or
        the grey of the input (transparent, see-through). ``ask``: queue the tiles not cached
        (a view), else only look (a thumbnail). A copy, or with ``convert`` the region's kept
        composition as ``part``, kept with it until tiles are painted on it (the layer's levels
        give it to napari as it is).
        Thread-safe: with napari's asynchronous slicing on, views are read in its slicing
        thread while napari's own thread may read a thumbnail.
        """
        with self._reading:
            if not len(ys) or not len(xs):
                out = np.zeros((len(ys), len(xs), self.width), np.uint8)
                return out if convert is None else convert(out)
            shown = self._read(level, plane, ys, xs, ask)
            if convert is not None:
                return shown.as_part(part, convert)
        return shown.pixels()

    def _read(self, level: int, plane: tuple[int, ...], ys: range, xs: range, ask: bool) -> Shown:
        source = self.source
        if source is None:  # the model is loading: the grey, read once per region
            return self._kept(level, plane, ys, xs)
        from napari_colorgan.core.infer.tile_cache import TileKey

        keys = [
            TileKey(level, plane, r, c)
            for r, c in source.covering(level, (ys.start, ys.stop), (xs.start, xs.stop))
        ]
        # A view of a see-through layer leaves coarser colour to the worker (painted with the
        # next tile it computes): a new 2048² view upsampled here blocked napari 50-90 ms.
        now = not (ask and self.see_through)
        shown = self._compose(level, plane, ys, xs, keys, coarse_now=now)
        missing = [k for k in keys if k not in shown.fine]
        if ask and level == len(self.levels) - 1:  # the thumbnail too: keep the view's tiles
            self.queue.add(missing, skip=self.cache)
        elif ask:
            centre = ((ys.start + ys.stop) / 2, (xs.start + xs.stop) / 2)
            self.asked = missing
            self.queue.want(missing, centre, source, self.coarsest(plane), skip=self.cache)
        return shown

    def _compose(
        self,
        level: int,
        plane: tuple[int, ...],
        ys: range,
        xs: range,
        keys: list[Any],
        coarse_now: bool = True,
    ) -> Shown:
        """The region's colour, kept: a refresh pastes only the tiles cached since.

        napari re-reads the whole view at each refresh (each time tiles arrive); reading the
        grey and upsampling coarser colour again each time kept its thread busy for up to
        90 ms a refresh on a 1000 px view. Coarser colour is painted anew only when new
        coarser tiles arrived, and not at all without ``coarse_now`` (:meth:`prepare` does).
        """
        coarse, covered = None, False
        if coarse_now:
            coarse, covered = self._coarser(level, plane, ys, xs)
        shown = self._kept(level, plane, ys, xs, coarse, covered)
        shown.keys = keys
        self._paste_fine(shown, ys, xs)
        return shown

    def _kept(
        self,
        level: int,
        plane: tuple[int, ...],
        ys: range,
        xs: range,
        coarse: Sequence[Any] | None = (),
        covered: bool = False,
    ) -> Shown:
        """The region's kept composition, made anew only when its ``coarse`` tiles changed.

        The grey is read once per region (napari slices a new layer's view and coarsest level
        five times while adding it), and not at all where coarser colour ``covered`` it.
        ``coarse`` None: as kept, or made without coarser colour.
        """
        region = (level, plane, ys.start, ys.stop, xs.start, xs.stop)
        shown = self._shown.get(region)
        painted = frozenset(k for k, *_ in coarse or ())
        if shown is None or (coarse is not None and shown.coarse != painted):
            grey = None if shown is None else shown.grey
            shown = self._made(region, grey, coarse or (), covered)
            self._shown[region] = shown
        self._shown.move_to_end(region)
        while len(self._shown) > SHOWN_KEPT:
            self._shown.popitem(last=False)
        return shown

    def _made(
        self, region: tuple[Any, ...], grey: Any, coarse: Sequence[Any], covered: bool
    ) -> Shown:
        """A new composition of ``region``: its grey, then ``coarse`` tiles upsampled on it."""
        level, plane, y0, y1, x0, x1 = region
        # No need to read the input where colour covers it, or where it shows through.
        if grey is None and not covered and not self.see_through:
            grey = self._grey(level, plane, range(y0, y1), range(x0, x1))
        painted = frozenset(k for k, *_ in coarse)
        shape = (y1 - y0, x1 - x0, self.width)
        shown = Shown(grey, shape, painted, self.see_through, self._blank)
        for _key, tile, where, rows, cols in coarse:  # coarsest first
            shown.paint_upsampled(where, tile, rows, cols)
        return shown

    def _paste_fine(self, shown: Shown, ys: range, xs: range) -> None:
        """Paint the cached tiles of its own level not yet on ``shown`` (region ``ys``, ``xs``)."""
        for key in shown.keys:
            if key not in shown.fine and self._paste(shown, key, ys, xs):
                shown.fine.add(key)

    def _paste(self, shown: Shown, key: Any, ys: range, xs: range) -> bool:
        """Paint cached tile ``key`` on ``shown`` (region ``ys``, ``xs``); False if not cached."""
        tile = self.cache.get(key)
        if tile is None:
            return False
        y0, y1, x0, x1 = self.source.region(key)
        a, b = max(y0, ys.start), min(y1, ys.stop)
        c, d = max(x0, xs.start), min(x1, xs.stop)
        where = (a - ys.start, b - ys.start, c - xs.start, d - xs.start)
        shown.paint(where, tile[a - y0 : b - y0, c - x0 : d - x0])
        return True

    def _coarser(self, level: int, plane: tuple[int, ...], ys: range, xs: range) -> Any:
        return coarser_tiles(self.source, self.cache, self._sizes, level, plane, ys, xs)

    def coarsest(self, plane: tuple[int, ...]) -> list[Any]:
        """Every tile of ``plane`` at the coarsest level: small, and shown when zoomed out."""
        from napari_colorgan.core.infer.tile_cache import TileKey

        if self.source is None:
            return []
        top = len(self.levels) - 1
        rows, cols = self.source.counts(top)
        return [TileKey(top, plane, r, c) for r in range(rows) for c in range(cols)]

    def want_coarsest(self, plane: tuple[int, ...]) -> None:
        """Queue the coarsest level of ``plane``: napari shows it without reading us anew."""
        self.queue.add(self.coarsest(plane), skip=self.cache)

    def _grey(self, level: int, plane: tuple[int, ...], ys: range, xs: range) -> np.ndarray:
        """The input's grey (y, x, 1) uint8 of a region, from :class:`GreyPlaceholder`."""
        return self._placeholder.read(level, plane, ys, xs)
