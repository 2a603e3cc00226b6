"""A colour layer whose planes a worker computes as the user browses, off napari's thread.

napari slices a dask-backed layer on its GUI thread: a lazy colorization there runs the model
on that thread and freezes the viewer for each new plane (1.4-1.9 s per 2048² plane with the
``small`` preset on a 2-core CPU). Here the layer's dask array only *looks up* planes: a plane
already computed comes from a small cache; any other shows its grayscale at once, and a worker
thread colorizes it (the plane on screen first, then its neighbours) and swaps it in.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

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
        The lazy colorization (..., y, x, 3) from :func:`napari_colorgan.colorize`, or a
        function making it (called in the worker: it loads the model); computed one plane at a
        time, in the worker only.
    gray
        The grayscale source (..., y, x), shown (as grey) until a plane's colour is ready.
    """

    def __init__(self, rgb: Any, gray: Any) -> None:
        self.rgb, self.gray = rgb, gray
        self.shape = (*gray.shape, 3)
        self.lead = self.shape[:-3]
        plane_bytes = int(np.prod(self.shape[-3:]))
        self.capacity = max(2, CACHE_BYTES // max(plane_bytes, 1))
        self.cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()
        # Last in, first out: the plane requested last is the one on screen now.
        self.todo: queue.LifoQueue[tuple[int, ...] | None] = queue.LifoQueue()
        self.pending: set[tuple[int, ...]] = set()
        self.version = 0

    # ---- GUI side: fast lookups ------------------------------------------------------------

    def array(self) -> PlaneView:
        """The array (..., y, x, 3) uint8 napari shows: planes looked up in the cache."""
        return PlaneView(self)

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
        if callable(self.rgb):  # made here, off napari's thread
            self.rgb = self.rgb()
        while True:
            where = self.todo.get()
            if where is None:
                return
            # The model runs here, in the worker; dask's synchronous scheduler keeps its shared
            # thread pool (and the GIL) free of this work for napari's other layers.
            plane = self.rgb[where]
            compute = getattr(plane, "compute", None)
            rgb = np.asarray(plane if compute is None else compute(scheduler="synchronous"))
            with self.lock:
                self.pending.discard(where)
                self.cache[where] = rgb
                while len(self.cache) > self.capacity:
                    self.cache.popitem(last=False)
            yield where

    def close(self) -> None:
        """End the worker after the plane in progress, and free the cached planes."""
        self.todo.put(None)
        with self.lock:
            self.cache.clear()


class PlaneView:
    """A read-only array-like over :class:`BackgroundPlanes` for a napari layer.

    Not a dask array: napari slices dask arrays through dask's thread pool and its own cache,
    and the GUI thread then waits on pool threads that compete with the colorizing worker; this
    answers ``view[z]`` directly from the cache (or with the grey placeholder).
    """

    def __init__(self, planes: BackgroundPlanes) -> None:
        self.planes = planes
        self.shape = tuple(planes.shape)
        self.dtype = np.dtype(np.uint8)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            key = (*key[:i], *(slice(None),) * (self.ndim - len(key) + 1), *key[i + 1 :])
        lead_n = len(self.planes.lead)
        key = (*key, *(slice(None),) * (self.ndim - len(key)))
        lead, rest = key[:lead_n], key[lead_n:]
        if all(isinstance(k, int | np.integer) for k in lead):
            return self.planes.lookup(tuple(int(k) for k in lead))[rest]
        # A range of planes (a 3D view, a thumbnail): each plane looked up in turn.
        axes = [
            range(n)[k] if isinstance(k, slice) else [int(k)]
            for k, n in zip(lead, self.planes.lead, strict=True)
        ]
        found = [self.planes.lookup(w)[rest] for w in itertools.product(*axes)]
        kept = [len(a) for a, k in zip(axes, lead, strict=True) if isinstance(k, slice)]
        if not found:
            return np.empty((*kept, *self.shape[lead_n:]), np.uint8)[rest]
        return np.stack(found).reshape(*kept, *found[0].shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[(slice(None),) * self.ndim]
        return out if dtype is None else out.astype(dtype)
