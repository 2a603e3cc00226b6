"""Reading pyramid levels for a view, light enough for napari's thread.

Small reads on the calling thread, nearest-neighbour index maps between levels, and strided
levels of a single-scale input (never computed).

Light on purpose (numpy; dask only for arrays that cannot be strided): napari's thread uses
these while a colour layer is added and at every read of the view.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def read_now(part: Any) -> np.ndarray:
    """A small part of an array as numpy, read by the calling thread.

    A dask array is computed with the synchronous scheduler: through dask's shared thread
    pool, napari's thread would queue behind the tile worker's reads (and the GIL) for a few
    chunks it can read itself.
    """
    compute = getattr(part, "compute", None)
    return np.asarray(part if compute is None else compute(scheduler="synchronous"))


def nearest(start: int, stop: int, size: int, coarse: int) -> np.ndarray:
    """Indices (stop - start,) in a coarser axis of ``coarse`` px of a finer one's ``start:stop``.

    Nearest neighbour: the one mapping every upsampling of coarser colour or grey uses, so a
    view and an export of the same tiles agree pixel for pixel.
    """
    return np.minimum(np.arange(start, stop) * coarse // size, coarse - 1)


def lazy_pyramid(data: Any, smallest: int = 1024) -> list[Any]:
    """Levels of a single-scale grayscale ``data`` (..., y, x), 2x smaller each, never computed.

    A napari multiscale layer reads only the visible region at the displayed level; a
    single-scale one reads whole planes. Each level here is a strided view of the full
    resolution (numpy: no copy; anything else through dask: read where indexed), made down to
    planes of at most ``smallest`` px: enough for a colour preview when zoomed out.
    """
    if not isinstance(data, np.ndarray) and not hasattr(data, "dask"):
        # Only for arrays that cannot be strided themselves (zarr, memmaps of others): the
        # import of dask.array costs about a second, on napari's thread when a layer is added.
        import dask.array as da

        data = da.from_array(data, chunks=getattr(data, "chunks", "auto"))
    levels, step = [data], 2
    while max(data.shape[-2:]) // (step // 2) > smallest:
        levels.append(data[..., ::step, ::step])
        step *= 2
    return levels
