"""``colorize``: a lazy dask array of RGB planes, computed tile by tile where it is looked at."""

from __future__ import annotations

import hashlib
import itertools
import os
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from ..model.colorizer import Colorizer
from .blocks import block_task
from .job import ColorizeJob, ColorizeOptions, prepare

if TYPE_CHECKING:
    from typing_extensions import Unpack


def colorize(
    data: Any,
    colorizer: Colorizer | str | os.PathLike[str],
    **options: Unpack[ColorizeOptions],
) -> da.Array:
    """Colorize grayscale planes lazily.

    Parameters
    ----------
    data
        Grayscale (..., y, x): numpy, dask, zarr, a file path, or a napari multiscale list
        (its full resolution is used). Leading axes (Z, T, ...) are planes.
    colorizer
        A :class:`Colorizer` or a model file path.
    tile, overlap
        Largest window side and least overlap in pixels. Default tile: the layout that
        computes the fewest pixels for this plane size among those that fit a share of the
        device's memory (see :func:`~napari_colorgan.core.infer.window_size.choose_window`);
        default overlap from the model (exact tiling where its receptive field allows,
        blended otherwise; see :class:`~napari_colorgan.core.infer.tiling.TilePlan`).
    batch_size
        Tiles per forward pass; ``"auto"``: as many as fit the same memory share, at most 16 on
        CUDA and 4 on the CPU.
    device
        ``"auto"`` (CUDA, then MPS, then CPU, decided where each task runs), ``"cpu"``,
        ``"cuda:0"``...
    precision
        ``"auto"`` (bf16/fp16 on CUDA, fp32 elsewhere), ``"fp32"``, ``"bf16"`` or ``"fp16"``.
    worker_resources
        Dask worker resources each task claims on a cluster, e.g. ``{"GPU": 1}`` with workers
        started as ``dask worker --resources GPU=1``: one GPU task per GPU at a time.
    block_size
        Side of the output chunks for planes larger than it (rounded up to the network's
        grid).
    slices
        Planes of the first axis to colorize (a ``slice``, e.g. from ``parse_slices("0:20")``);
        default all.

    Returns
    -------
    dask.array.Array
        uint8 RGB of shape ``data.shape + (3,)``, one chunk per plane (or per ~4096² block of
        larger planes), computed only when read.
    """
    job = prepare(data, colorizer, **options)
    return build_graph(job)


def build_graph(job: ColorizeJob) -> da.Array:
    """The lazy uint8 RGB of ``job``'s input: shape ``input + (3,)``, one task per block."""
    make = BlockMaker(job)

    def plane(index: tuple[int, ...]) -> da.Array:
        rows = []
        for r, (y0, y1) in enumerate(make.y_edges):
            cols = [
                da.from_delayed(make((*index, r, c)), shape=(y1 - y0, x1 - x0, 3), dtype=np.uint8)
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
        self.token = hashlib.sha256(repr(job.block).encode()).hexdigest()[:12]
        self.y_edges = job.plan.block_edges(job.block.height)
        self.x_edges = job.plan.block_edges(job.block.width)
        lead, block = job.lead, job.block
        self.shape = (*lead, block.height, block.width, 3)
        sizes = [[b - a for a, b in edges] for edges in (self.y_edges, self.x_edges)]
        self.chunks = (*((1,) * n for n in lead), *(tuple(s) for s in sizes), (3,))
        self.ndim = len(self.shape)
        self.grid = (*lead, len(self.y_edges), len(self.x_edges))

    def __call__(self, index: tuple[int, ...]) -> Any:
        """The delayed RGB (y, x, 3) of block ``(*plane index, row, column)``."""
        job, lead = self.job, len(self.job.lead)
        (y0, y1), (x0, x1) = self.y_edges[index[lead]], self.x_edges[index[lead + 1]]
        block = job.block
        wy = job.plan.windows(block.height, y0, y1)
        wx = job.plan.windows(block.width, x0, x1)
        ya, yb = wy[0].start, min(max(w.start + w.size for w in wy), block.height)
        xa, xb = wx[0].start, min(max(w.start + w.size for w in wx), block.width)
        ctx = job.model.config.context
        plane = tuple(index[:lead])
        window = _window(job.source, plane, job.lead, ctx, slice(ya, yb), slice(xa, xb))
        key = f"colorgan-block-{self.payload.key}-{self.token}-{window.name}-{y0}-{x0}"
        resources = job.worker_resources
        with dask.annotate(resources=resources) if resources else nullcontext():
            return dask.delayed(block_task)(
                self.payload, block, window, (ya, xa), (y0, y1, x0, x1), dask_key_name=key
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
