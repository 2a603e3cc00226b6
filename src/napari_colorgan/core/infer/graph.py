"""``colorize``: a lazy dask array of RGB planes, computed tile by tile where it is looked at."""

from __future__ import annotations

import hashlib
import itertools
import os
import warnings
from contextlib import nullcontext
from typing import Any

import dask
import dask.array as da
import numpy as np

from ..model.colorizer import Colorizer
from .blocks import block_task
from .config import ColorizeConfig
from .job import ColorizeJob, prepare


def colorize(
    data: Any,
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None = None,
    **overrides: Any,
) -> da.Array:
    """Colorize grayscale planes lazily.

    Parameters
    ----------
    data
        Grayscale (..., y, x): numpy, dask, zarr, a file path, or a napari multiscale list
        (its full resolution is used). Leading axes (Z, T, ...) are planes.
    colorizer
        A :class:`Colorizer` or a model file path.
    config
        The settings (:class:`~napari_colorgan.core.infer.config.ColorizeConfig`: ``tile``,
        ``overlap``, ``batch_size``, ``device``, ``precision``, ``block_size``, ``slices``,
        ``worker_resources``); default: its defaults.
    **overrides
        Settings of ``config`` to change, e.g. ``tile=256, device="cpu"``.

    Returns
    -------
    dask.array.Array
        uint8 RGB of shape ``data.shape + (3,)``, one chunk per plane (or per ~4096² block of
        larger planes), computed only when read.

    Warns
    -----
    UserWarning
        When the tiling asked for costs quality (a window too small to tile exactly).
    """
    config = ColorizeConfig.create(config, **overrides)
    if config.classes:
        raise ValueError("colorize gives colour only: napari_colorgan.classify gives class maps")
    job = prepare(data, colorizer, config)
    if job.plan.notice:
        warnings.warn(job.plan.notice, UserWarning, stacklevel=2)
    return build_graph(job)


def build_graph(job: ColorizeJob) -> da.Array:
    """The lazy uint8 RGB of ``job``'s input: shape ``input + (channels,)``, a task per block.

    ``channels`` is 3, or 5 with class maps (:attr:`ColorizeConfig.classes`).
    """
    make = BlockMaker(job)
    channels = job.plan.channels

    def plane(index: tuple[int, ...]) -> da.Array:
        rows = []
        for r, (y0, y1) in enumerate(make.y_edges):
            cols = [
                da.from_delayed(
                    make((*index, r, c)), shape=(y1 - y0, x1 - x0, channels), dtype=np.uint8
                )
                for c, (x0, x1) in enumerate(make.x_edges)
            ]
            rows.append(da.concatenate(cols, axis=1) if len(cols) > 1 else cols[0])
        return da.concatenate(rows, axis=0) if len(rows) > 1 else rows[0]

    if not job.lead:
        return plane(())
    planes = [plane(index) for index in itertools.product(*(range(n) for n in job.lead))]
    return da.stack(planes).reshape(make.shape)


class BlockMaker:
    """Makes the delayed task of any output block of a job, on demand.

    Each task's graph holds only its own input window and the model key, so a writer can make
    and compute blocks one group at a time: memory for the graph stays that of a group, and
    dask never walks the whole stack's graph for one block (which made the cost per plane grow
    with the stack). ``shape`` and ``chunks`` are those of :func:`build_graph`'s array.
    """

    def __init__(self, job: ColorizeJob) -> None:
        self.job = job
        serialised = job.payload
        # One graph key for all tasks, named rather than tokenised: hashing 200 MB of weights
        # through dask's tokenizer took longer than colorizing a plane.
        self.payload = dask.delayed(serialised, name=f"colorgan-model-{serialised.token}")
        self.token = hashlib.sha256(repr(job.plan).encode()).hexdigest()[:12]
        self.y_edges, self.x_edges = job.plan.block_edges()
        lead, plan = job.lead, job.plan
        self.shape = (*lead, plan.height, plan.width, plan.channels)
        sizes = [[b - a for a, b in edges] for edges in (self.y_edges, self.x_edges)]
        self.chunks = (*((1,) * n for n in lead), *(tuple(s) for s in sizes), (plan.channels,))
        self.ndim = len(self.shape)
        self.grid = (*lead, len(self.y_edges), len(self.x_edges))

    def __call__(self, index: tuple[int, ...]) -> Any:
        """The delayed uint8 (y, x, channels) of block ``(*plane index, row, column)``."""
        job, lead = self.job, len(self.job.lead)
        (y0, y1), (x0, x1) = self.y_edges[index[lead]], self.x_edges[index[lead + 1]]
        ya, yb, xa, xb = job.plan.input_region((y0, y1, x0, x1))
        ctx = job.model.config.context
        plane = tuple(index[:lead])
        window = _window(job.source, plane, job.lead, ctx, slice(ya, yb), slice(xa, xb))
        key = f"colorgan-block-{self.payload.key}-{self.token}-{window.name}-{y0}-{x0}"
        resources = job.config.worker_resources
        with dask.annotate(resources=dict(resources)) if resources else nullcontext():
            return dask.delayed(block_task)(
                self.payload, job.plan, window, (ya, xa), (y0, y1, x0, x1), dask_key_name=key
            )


def _window(
    src: da.Array, index: tuple[int, ...], lead: tuple[int, ...], ctx: int, ys: slice, xs: slice
) -> da.Array:
    """Lazy input (1 + 2·ctx, y, x): the plane and its neighbours along the first axis."""
    if not ctx:
        return src[(*index, ys, xs)][None]
    z = index[0]
    zs = [min(max(z + dz, 0), lead[0] - 1) for dz in range(-ctx, ctx + 1)]
    return da.stack([src[(zz, *index[1:], ys, xs)] for zz in zs])
