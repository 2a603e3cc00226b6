"""A region of the view-driven colour layer as composed, kept between napari's reads.

Grey (or transparent), coarser colour upsampled on it, then its own level's tiles pasted.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from napari_colorgan._widgets._level_view import NOT_YET


class Shown:
    """A region's composed tiles: its grey, and which tiles were painted on it.

    Channels as the tiles': RGB, then for a class model the class index (:data:`NOT_YET`
    until a tile comes) and the confidence (0). A see-through region given a ``blank`` is
    *blank* until painted on: its pixels, and every part converted from them, are zeros shared
    with other regions (its class index reads 0 then, not :data:`NOT_YET`: use :meth:`pixels`).
    """

    def __init__(
        self,
        grey: np.ndarray | None,
        shape: tuple[int, ...],
        coarse: frozenset[Any],
        see_through: bool = False,
        blank: Blank | None = None,
    ) -> None:
        self.grey = grey  # None where coarser colour covers the whole region
        self._blank = blank if see_through else None
        if self._blank is not None:
            self.out = self._blank.take(shape)  # its own buffer once painted on
        elif see_through:
            self.out = transparent(shape)
        else:
            self.out = np.empty(shape, np.uint8)
        if grey is not None:
            self.out[..., :3] = grey
            self.out[..., 3:] = (NOT_YET, 0)[: shape[-1] - 3]
        self.coarse = coarse  # coarser tiles upsampled on it
        self.fine: set[Any] = set()  # tiles of its own level pasted on it
        self.keys: list[Any] = []  # the tiles of its own level that cover it
        # RGBA of a colour model: painted as 4-byte pixels. Writing RGB into every 4 bytes
        # and alpha into the 4th took 40-120 ms for a 2048² view, on napari's thread.
        self._pixels = None if self.blank else _as_pixels(self.out)  # blank: until its own
        self.version = 0  # paints so far: a conversion made before the last one is stale
        # The worker converts the parts again after its paint: napari's reads meanwhile take
        # them as they were (the newest tiles missing until the next refresh), not convert
        # on napari's thread (a class map of a 2048² view: up to 100 ms).
        self.converting = False
        #: Per part (class map, confidence...): (version, converted, how to convert).
        self.parts: dict[str, tuple[int, Any, Callable[[np.ndarray], Any]]] = {}

    @property
    def blank(self) -> bool:
        """Whether nothing is painted yet on a see-through region: its pixels are shared."""
        return not self.out.flags.writeable

    def _own(self) -> None:
        """A buffer of its own instead of the shared blank one, before the first paint."""
        if self.blank:
            self.out = transparent(self.out.shape)
            self._pixels = _as_pixels(self.out)

    def pixels(self) -> np.ndarray:
        """A copy of the composed channels (a blank region's class index :data:`NOT_YET`)."""
        return transparent(self.out.shape) if self.blank else self.out.copy()

    def _converted(self, convert: Callable[[np.ndarray], Any]) -> Any:
        """``convert(out)``; of a blank region, shared zeros as one pixel's conversion is shaped.

        Zeros are a blank region's every part (transparent, label 0, confidence 0): a new
        2048² view of a class model was converted for three layers on napari's thread, up to
        100 ms.
        """
        if self._blank is None or not self.blank:
            return convert(self.out)
        one = np.asarray(convert(transparent((1, 1, self.out.shape[-1]))))
        return self._blank.take((*self.out.shape[:2], *one.shape[2:]), one.dtype)

    def as_part(self, part: str, convert: Callable[[np.ndarray], Any]) -> Any:
        """``convert(out)``, kept until the next paint.

        napari re-reads a view at each refresh, and converting a class model's 2048² view for
        its three layers took up to 90 ms a read.
        """
        kept = self.parts.get(part)
        if kept is None or (kept[0] != self.version and not self.converting):
            kept = (self.version, self._converted(convert), convert)
            self.parts[part] = kept
        return kept[1]

    def convert_parts(self, like: Shown | None = None, lock: Any = None) -> None:
        """Convert again every part read before (of this region, or of ``like`` it replaces).

        With the ``lock`` that paints hold, the conversions run outside it: a conversion is
        kept only if nothing was painted meanwhile.
        """
        lock = lock or contextlib.nullcontext()
        for part, (_, _, convert) in list((like or self).parts.items()):
            with lock:
                version, kept = self.version, self.parts.get(part)
            if kept is not None and kept[0] == version:
                continue
            converted = self._converted(convert)
            with lock:
                if self.version == version:
                    self.parts[part] = (version, converted, convert)
        with lock:
            self.converting = False

    def paint(self, where: tuple[int, int, int, int], tile: np.ndarray) -> None:
        """Paint tile channels (y, x, 3 or 5) on rows ``a:b``, columns ``c:d``, opaque."""
        a, b, c, d = where
        self._own()
        self.version += 1
        if self._pixels is not None:
            self._pixels[a:b, c:d] = opaque(tile)
            return
        n = tile.shape[-1]
        self.out[a:b, c:d, :n] = tile
        self.out[a:b, c:d, n:] = 255  # opaque, when there is an alpha channel

    def paint_upsampled(
        self, where: tuple[int, int, int, int], tile: np.ndarray, rows: Any, cols: Any
    ) -> None:
        """Paint ``tile``'s ``rows`` and ``cols`` (nearest neighbour) on ``where``, opaque."""
        self._own()
        if self._pixels is not None:
            a, b, c, d = where
            self.version += 1
            self._pixels[a:b, c:d] = upsampled(opaque(tile), rows, cols)
        else:
            self.paint(where, upsampled(tile, rows, cols))


class Blank:
    """Transparent RGBA for see-through regions nothing is painted on yet, one buffer shared.

    A new view's own buffer cost napari's thread up to 27 ms for 2048 x 1532 RGBA (glibc's
    calloc zeroes a recycled heap block in full); a region gets its own when first painted on,
    mostly by the worker. The shared zeros are the kernel's zero page, read-only: no memory
    used (:meth:`reserve` them in a worker, where mapping them costs about 4 ms per 16 MB).
    """

    def __init__(self) -> None:
        self._zeros = np.zeros(0, np.uint8)

    def reserve(self, nbytes: int) -> None:
        """Map at least ``nbytes`` of zeros."""
        if self._zeros.size < nbytes:
            self._zeros = zero_pages(nbytes)

    def take(self, shape: tuple[int, ...], dtype: Any = np.uint8) -> np.ndarray:
        """Read-only zeros of ``shape``, ``dtype``: contiguous, uploaded to OpenGL as they are."""
        dtype = np.dtype(dtype)
        n = int(np.prod(shape)) * dtype.itemsize
        self.reserve(n + n // 4)  # a larger view: room for views a little larger still
        return self._zeros[:n].view(dtype).reshape(shape)


def _as_pixels(out: np.ndarray) -> np.ndarray | None:
    """RGBA ``out`` (y, x, 4) as (y, x) uint32 pixels sharing its memory; else None."""
    return out.view(np.uint32)[..., 0] if out.shape[-1] == 4 else None


def transparent(shape: tuple[int, ...]) -> np.ndarray:
    """See-through channels of nothing computed: alpha 0, class index :data:`NOT_YET`."""
    out = np.zeros(shape, np.uint8)
    out[..., 3:-1] = (NOT_YET, 0)[: shape[-1] - 4]
    return out


def zero_pages(nbytes: int) -> np.ndarray:
    """``nbytes`` read-only zeros, each page mapped (read once) to the kernel's zero page."""
    if not hasattr(mmap, "MAP_PRIVATE"):  # Windows: plain zeros
        zeros = np.zeros(nbytes, np.uint8)
        zeros.flags.writeable = False
        return zeros
    pages = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    zeros = np.frombuffer(pages, np.uint8)
    zeros[:: mmap.PAGESIZE].max()  # each page's first read maps it: here, not at an upload
    return zeros


def opaque(rgb: np.ndarray) -> np.ndarray:
    """RGB (y, x, 3) uint8 as (y, x) uint32 pixels: the bytes R, G, B, 255 of RGBA."""
    pixels = np.empty((*rgb.shape[:2], 4), np.uint8)
    pixels[..., :3] = rgb
    pixels[..., 3] = 255
    return pixels.view(np.uint32)[..., 0]


def upsampled(tile: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``tile[np.ix_(rows, cols)]`` for sorted ``rows``, about 4x faster (54 -> 14 ms for 2048²).

    The columns of the rows needed are gathered first (on the small tile), then whole rows
    are copied, instead of gathering every pixel of the large result one by one.
    """
    if not len(rows) or not len(cols):
        return tile[np.ix_(rows, cols)]
    first = int(rows[0])
    narrow = np.take(tile[first : int(rows[-1]) + 1], cols, axis=1)
    return np.take(narrow, rows - first, axis=0)


def coarser_tiles(
    source: Any,
    cache: Any,
    sizes: Sequence[tuple[int, ...]],
    level: int,
    plane: tuple[int, ...],
    ys: range,
    xs: range,
) -> tuple[list[tuple[Any, np.ndarray, tuple[int, int, int, int], Any, Any]], bool]:
    """Cached tiles of levels coarser than ``level`` over a region, coarsest first, to upsample.

    ``source`` is the tile source, ``cache`` the tile cache, ``sizes`` each level's (y, x).
    Each: key, tile, where it goes in the region (a, b, c, d), and the tile's rows and
    columns to take for it (nearest neighbour). Also whether the coarsest level's tiles
    cover the whole region.
    """
    from napari_colorgan.core.infer.tile_cache import TileKey
    from napari_colorgan.core.infer.tile_levels import nearest

    found, covered = [], False
    h, w = sizes[level]
    for coarse in range(len(sizes) - 1, level, -1):
        hc, wc = sizes[coarse]
        iy, ix = nearest(ys.start, ys.stop, h, hc), nearest(xs.start, xs.stop, w, wc)
        rows = (int(iy[0]), int(iy[-1]) + 1)
        cols = (int(ix[0]), int(ix[-1]) + 1)
        meeting = source.covering(coarse, rows, cols)
        before = len(found)
        for r, c in meeting:
            key = TileKey(coarse, plane, r, c)
            tile = cache.get(key)
            if tile is None:
                continue
            y0, y1, x0, x1 = source.region(key)
            a, b = (int(i) for i in np.searchsorted(iy, (y0, y1)))  # our rows in the tile
            cc, d = (int(i) for i in np.searchsorted(ix, (x0, x1)))
            found.append((key, tile, (a, b, cc, d), iy[a:b] - y0, ix[cc:d] - x0))
        covered = covered or len(found) - before == len(meeting)
    return found, covered
