"""A colour layer whose planes a worker computes as the user browses, off napari's thread.

napari slices a dask-backed layer on its GUI thread: a lazy colorization there runs the model
on that thread and freezes the viewer for each new plane (1.4-1.9 s per 2048² plane with the
``small`` preset on a 2-core CPU). Here the layer's dask array only *looks up* planes: a plane
already computed comes from a small cache; any other shows its grayscale at once, and a worker
thread colorizes it (the plane on screen first, then its neighbours) and swaps it in.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import dask.array as da
import numpy as np

#: Bytes of colorized planes kept (at least two planes, whatever their size).
CACHE_BYTES = 512 * 2**20
#: Neighbouring planes colorized ahead, on each side of the one shown.
PREFETCH = 1


def grey_placeholder(plane: np.ndarray) -> np.ndarray:
    """A raw grayscale plane (y, x) as grey RGB uint8 (y, x, 3), stretched 1st-99th percentile.

    It runs on napari's thread, so it stays cheap: percentiles of a strided sample, and for
    8/16-bit integers one table lookup per pixel instead of float arithmetic.
    """
    sample = plane[:: max(1, plane.shape[0] // 256), :: max(1, plane.shape[1] // 256)]
    low, high = np.nanpercentile(sample.astype(np.float32), (1, 99))
    scale = 255 / max(float(high - low), 1e-12)
    if plane.dtype in (np.uint8, np.uint16):
        values = np.arange(np.iinfo(plane.dtype).max + 1, dtype=np.float32)
        lut = np.clip((values - low) * scale, 0, 255).astype(np.uint8)
        grey = lut[plane]
    else:
        grey = np.clip((plane.astype(np.float32) - low) * scale, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, -1)


class BackgroundPlanes:
    """The cache, the queue and the worker behind one lazy colour layer.

    Parameters
    ----------
    rgb
        The lazy colorization (..., y, x, 3) from :func:`napari_colorgan.colorize`; computed
        one plane at a time, in the worker only.
    gray
        The grayscale source (..., y, x), shown (as grey) until a plane's colour is ready.
    """

    def __init__(self, rgb: Any, gray: Any) -> None:
        self.rgb, self.gray = rgb, gray
        self.lead = rgb.shape[:-3]
        plane_bytes = int(np.prod(rgb.shape[-3:]))
        self.capacity = max(2, CACHE_BYTES // max(plane_bytes, 1))
        self.cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()
        # Last in, first out: the plane requested last is the one on screen now.
        self.todo: queue.LifoQueue[tuple[int, ...] | None] = queue.LifoQueue()
        self.pending: set[tuple[int, ...]] = set()
        self.version = 0

    # ---- GUI side: fast lookups ------------------------------------------------------------

    def array(self) -> da.Array:
        """A dask array (..., y, x, 3) uint8 whose chunks are planes looked up in the cache.

        Its name changes with every plane computed, so no dask cache serves a stale grey one.
        """
        self.version += 1
        chunks = (*((1,) * len(self.lead)), *self.rgb.shape[-3:])
        return da.map_blocks(
            self._block,
            chunks=tuple((c,) * (n // c) for c, n in zip(chunks, self.rgb.shape, strict=True)),
            dtype=np.uint8,
            meta=np.empty((0,) * self.rgb.ndim, np.uint8),
            name=f"colorgan-lazy-{id(self)}-{self.version}",
        )

    def _block(self, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        where = tuple(block_info[None]["chunk-location"][: len(self.lead)]) if block_info else ()
        plane = self.lookup(where)
        return plane.reshape((1,) * len(self.lead) + plane.shape)

    def lookup(self, where: tuple[int, ...]) -> np.ndarray:
        """The colour plane ``where`` if computed; else its grey, and ask the worker for it."""
        with self.lock:
            if where in self.cache:
                self.cache.move_to_end(where)
                return self.cache[where]
        self.request(where)
        return grey_placeholder(np.asarray(self.gray[where]))

    def request(self, where: tuple[int, ...]) -> None:
        """Queue ``where``'s neighbours along the first axis (prefetch), then ``where`` itself."""
        around = []
        if where:
            for d in range(PREFETCH, 0, -1):
                for k in (where[0] + d, where[0] - d):
                    if 0 <= k < self.lead[0]:
                        around.append((k, *where[1:]))
        around.append(where)  # popped first
        with self.lock:
            for w in around:
                if w not in self.cache and w not in self.pending:
                    self.pending.add(w)
                    self.todo.put(w)

    # ---- worker side -------------------------------------------------------------------------

    def work(self) -> Iterator[tuple[int, ...]]:
        """Colorize queued planes; yields each plane done (a ``None`` in the queue ends it)."""
        while True:
            where = self.todo.get()
            if where is None:
                return
            rgb = np.asarray(self.rgb[where])  # the model runs here, in the worker
            with self.lock:
                self.pending.discard(where)
                self.cache[where] = rgb
                while len(self.cache) > self.capacity:
                    self.cache.popitem(last=False)
            yield where

    def close(self) -> None:
        """End the worker after the plane in progress."""
        self.todo.put(None)
