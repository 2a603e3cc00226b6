"""The levels of a view-driven layer as napari indexes them: lazy under chained indexing.

napari first cuts the displayed region with ``slice(None)`` on the other axes, then picks the
plane: a cut keeps the selection (:class:`_Selection`) and only a single plane's read asks
:class:`~napari_colorgan._widgets._tiled.TiledColour` for anything. One tile cache serves three
parts of a class model's tiles: the colour (RGB), the class map (label ids) and the confidence
(0-1); a colour model's tiles have the colour only.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

#: Class index of a pixel whose tile is not computed yet (shown as label 0: nothing).
NOT_YET = 255


class LevelView:
    """One level of a view-driven layer that napari indexes lazily.

    ``part`` ``"colour"``: (..., y, x, 3) uint8; ``"classes"``: (..., y, x) label ids;
    ``"confidence"``: (..., y, x) float32 in [0, 1].
    """

    def __init__(self, parent: Any, level: int, part: str = "colour") -> None:
        self.parent, self.level, self.part = parent, level, part
        plane = tuple(parent.gray[level].shape)
        rgba = getattr(parent, "see_through", False)
        self.shape = (*plane, 4 if rgba else 3) if part == "colour" else plane
        self.dtype = np.dtype(
            {"colour": np.uint8, "classes": parent.label_dtype, "confidence": np.float32}[part]
        )
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

    def convert(self, tiles: np.ndarray) -> np.ndarray:
        """Composed tile channels (..., y, x, 3 or 5) as this part: colour, ids, confidence.

        A contiguous array: OpenGL would otherwise copy a strided colour on napari's thread at
        each texture upload. The colour of a colour model's view is the kept composition
        itself, not a copy: napari re-reads a view at each refresh, and a fresh 12-16 MB array
        (a 2048² view) cost up to 50 ms of page faults on its thread each time; tiles painted
        on it later only show what the next refresh would.
        """
        if self.part == "colour":
            # A view's composition ends with its alpha channel when the layer is RGBA; tiles
            # assembled for an export have none.
            alpha = self.shape[-1] == 4 and tiles.shape[-1] == self.parent.width
            keep = [0, 1, 2, -1] if alpha else [0, 1, 2]
            if tiles.shape[-1] == len(keep):
                return tiles
            # Of more channels, a gather: a strided copy of three was 5x slower (15 ms a view).
            return tiles[..., keep]
        if self.part == "classes":
            return np.take(self.parent.label_table, tiles[..., 3])
        return np.multiply(tiles[..., 4], np.float32(1 / 255), dtype=np.float32)


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
        lead = axes[: len(axes) - self._plane_axes]
        return chosen if any(isinstance(a, range) for a in lead) else np.asarray(chosen)

    @property
    def _plane_axes(self) -> int:
        """Axes of a plane: y, x and, for colour, the channel."""
        return 3 if self.view.part == "colour" else 2

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(ask=True)
        return out if dtype is None else out.astype(dtype)

    def read(self, ask: bool) -> np.ndarray:
        """The selected pixels; with ``ask``, a single plane's missing tiles are queued."""
        colour = self.view.part == "colour"
        *lead, ys, xs = self.axes[:-1] if colour else self.axes
        span_y, span_x = _span(ys), _span(xs)  # contiguous rows and columns to read
        planes = [a if isinstance(a, range) else range(a, a + 1) for a in lead]
        view = ask and all(len(r) == 1 for r in planes)  # one plane: what is on screen
        parent, level = self.view.parent, self.view.level
        parts = [
            parent.read(
                level, plane, span_y, span_x, view, part=self.view.part, convert=self.view.convert
            )
            for plane in itertools.product(*planes)
        ]
        shape = (*(len(r) for r in planes), *parts[0].shape)
        out = parts[0].reshape(shape) if len(parts) == 1 else np.stack(parts).reshape(shape)
        keep = tuple(slice(None) if isinstance(a, range) else 0 for a in lead)
        local = (_local(ys, span_y), _local(xs, span_x))
        if colour:
            local += (_local(self.axes[-1], range(self.view.shape[-1])),)
        return out[(*keep, *local)]


def _index(k: Any) -> Any:
    """A numpy-style index on one axis as something ``range`` takes."""
    return int(k) if isinstance(k, int | np.integer) else k


def _span(a: Any) -> range:
    """The contiguous range holding an index or a range (empty stays empty)."""
    if not isinstance(a, range):
        return range(a, a + 1)
    if not len(a):
        return range(0)
    ends = (a[0], a[-1])  # min() and max() of a range walk it: 2 ms a 2048-row read
    return range(min(ends), max(ends) + 1)


def _local(a: Any, span: range) -> Any:
    """Index ``a`` (an int or a range) relative to ``span``'s start."""
    if not isinstance(a, range):
        return a - span.start
    if not len(a):
        return slice(0, 0)
    start = a.start - span.start
    stop = start + len(a) * a.step
    return slice(start, stop if stop >= 0 else None, a.step)


def colorized(tiled: Any, part: str = "colour") -> Any:
    """``tiled``'s full-resolution colour (..., y, x, 3) as a dask array, one chunk per plane.

    Computed from the same tiles the view shows (taken from the cache where there): what
    Evaluate scores is what the user saw. ``part="classes"``: the class map (..., y, x)
    of label ids instead. Compute it in a worker.
    """
    import dask.array as da

    plane_shape = tuple(tiled.gray[0].shape)
    lead = plane_shape[:-2]
    view = LevelView(tiled, 0, part)

    def plane(block_id: tuple[int, ...]) -> np.ndarray:
        source = tiled.ready_source()
        where = tuple(block_id[: len(lead)])
        tiles = source.assemble(0, where, (0, plane_shape[-2], 0, plane_shape[-1]), tiled.cache)
        return view.convert(tiles)[(None,) * len(lead)]

    rgb = part == "colour"
    chunks = (
        *((1,) * n for n in lead),
        *((n,) for n in plane_shape[-2:]),
        *((3,) if rgb else ()),
    )
    meta = np.empty((0,) * len(chunks), view.dtype)
    return da.map_blocks(plane, chunks=chunks, dtype=view.dtype, meta=meta)


def describe(tiled: Any, level: int) -> str:
    """What the colour of ``tiled`` at ``level`` is, for the status bar."""
    exact = tiled.exact
    if level == exact:
        at = "full resolution" if exact == 0 else f"level {exact}, the model's pixel size"
        return f"colour: the exact colorization ({at})"
    factor = tiled.gray[0].shape[-1] / tiled.gray[level].shape[-1]
    if level < exact:
        return (
            f"colour: the exact colorization of level {exact} (the model's pixel size), "
            f"upsampled: level {level} is finer than the pixels the model was trained on"
        )
    return (
        f"colour: a preview, colorized at level {level} (1/{factor:.0f} resolution); "
        "zoom in for the exact colorization"
    )
