"""The Train widget's worker side: the palette of a Labels target, then training's events.

Run in napari's worker thread, with one core left to napari's own thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from napari_colorgan._widgets._common import palette_from_colormap
from napari_colorgan._widgets._cores import leaving_a_core_to_napari


def training_events(*, colormap: tuple[Any, str] | None = None, **kwargs: Any) -> Iterator[Any]:
    """Worker side of Start: the palette of a Labels target, then ``train_iter``'s events."""
    from napari_colorgan.core.train.loop import train_iter

    with leaving_a_core_to_napari():
        if colormap is not None:
            (cmap, name), labels = colormap, kwargs["labels"]
            # The ids present, read plane by plane; the layer's own array goes on to training,
            # so tiles see strokes painted while it runs (a copy would freeze them).
            kwargs["palette"] = palette_from_colormap(cmap, label_ids(labels), name)
        yield from train_iter(**kwargs)


def label_ids(labels: Any) -> np.ndarray:
    """The distinct label values of an array-like (numpy, zarr, dask), one plane at a time."""
    if np.ndim(labels) <= 2:
        return np.unique(np.asarray(labels))
    return np.unique(np.concatenate([label_ids(plane) for plane in labels]))
