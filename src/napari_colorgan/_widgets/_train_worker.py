"""The Train widget's worker side: the palette of a Labels target, then training's events.

Run in napari's worker thread, with one core left to napari's own thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from napari_colorgan._widgets._common import palette_from_colormap


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


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def leaving_a_core_to_napari() -> Iterator[int]:
    """Cap torch's CPU threads at one fewer than the cores while training runs in napari.

    Torch starts one intra-op thread per core. Beside napari's GUI thread that oversubscribes
    the CPU: on 2 cores the GUI thread waited for a core behind torch's two (spinning) OpenMP
    threads, the viewer stalled for up to 0.5 s at a time and the steps themselves ran 3x
    slower (benchmarks/gui_block_train.py). The previous count is restored afterwards (it is
    process-wide).

    Yields
    ------
    int
        The thread count training runs with.
    """
    import torch

    before = torch.get_num_threads()
    threads = max(1, min(before, usable_cores() - 1))
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def label_ids(labels: Any) -> np.ndarray:
    """The distinct label values of an array-like (numpy, zarr, dask), one plane at a time."""
    if np.ndim(labels) <= 2:
        return np.unique(np.asarray(labels))
    return np.unique(np.concatenate([label_ids(plane) for plane in labels]))
