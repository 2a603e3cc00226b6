"""``colorize``: a lazy dask array of RGB planes, computed tile by tile where it is looked at."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from ..model.colorizer import Colorizer
from .blocks import BLOCK, BlockJob, block_task
from .job import ColorizeJob, ColorizeOptions, prepare
from .tiling import TilePlan, round_up

if TYPE_CHECKING:
    from typing_extensions import Unpack


def block_edges(length: int, plan: TilePlan, block: int = BLOCK) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into output blocks of about ``block`` px on the tiling's stride."""
    if length <= block:
        return [(0, length)]
    # Regular blocks (the last one may be shorter) so they map one-to-one onto zarr chunks;
    # an even split avoids a thin last block, whose border windows would be computed twice.
    count = math.ceil(length / block)
    step = round_up(math.ceil(length / count), plan.stride)
    return list(itertools.pairwise([*range(0, length, step), length]))


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
        Window side and overlap in pixels; default from the model (exact tiling where its
        receptive field allows, blended otherwise; see :class:`TilePlan`).
    batch_size
        Tiles per forward pass; ``"auto"`` = 16 on CUDA, 4 on the CPU.
    device
        ``"auto"`` (CUDA, then MPS, then CPU, decided where each task runs), ``"cpu"``,
        ``"cuda:0"``...
    precision
        ``"auto"`` (bf16/fp16 on CUDA, fp32 elsewhere), ``"fp32"``, ``"bf16"`` or ``"fp16"``.
    worker_resources
        Dask worker resources each task claims on a cluster, e.g. ``{"GPU": 1}`` with workers
        started as ``dask worker --resources GPU=1``: one GPU task per GPU at a time.
    block_size
        Side of the output chunks for planes larger than it (a multiple of the tile stride).
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
    serialised = job.payload
    # One graph key for all tasks, named rather than tokenised: hashing 200 MB of weights
    # through dask's tokenizer took longer than colorizing a plane.
    payload = dask.delayed(serialised, name=f"colorgan-model-{serialised.token}")
    block, lead = job.block, job.lead
    ctx = job.model.config.context
    job_token = hashlib.sha256(repr(block).encode()).hexdigest()[:12]
    y_edges = block_edges(block.height, job.plan, job.block_size)
    x_edges = block_edges(block.width, job.plan, job.block_size)
    resources = job.worker_resources
    with dask.annotate(resources=resources) if resources else nullcontext():
        planes = [
            _plane(job_token, job.source, index, lead, ctx, y_edges, x_edges, payload, block)
            for index in itertools.product(*(range(n) for n in lead))
        ]
    out = da.stack(planes) if lead else planes[0]
    return out.reshape((*lead, block.height, block.width, 3)) if lead else out


def _plane(
    job_token: str,
    src: da.Array,
    index: tuple[int, ...],
    lead: tuple[int, ...],
    ctx: int,
    y_edges: list[tuple[int, int]],
    x_edges: list[tuple[int, int]],
    payload: Any,
    job: BlockJob,
) -> da.Array:
    """The lazy RGB (y, x, 3) of one plane, assembled from its blocks."""
    rows = []
    for y0, y1 in y_edges:
        wy = job.plan.windows(job.height, y0, y1)
        ya, yb = wy[0].start, min(max(w.start + w.size for w in wy), job.height)
        cols = []
        for x0, x1 in x_edges:
            wx = job.plan.windows(job.width, x0, x1)
            xa, xb = wx[0].start, min(max(w.start + w.size for w in wx), job.width)
            window = _window(src, index, lead, ctx, slice(ya, yb), slice(xa, xb))
            key = f"colorgan-block-{payload.key}-{job_token}-{window.name}-{y0}-{x0}"
            task = dask.delayed(block_task)(
                payload, job, window, (ya, xa), (y0, y1, x0, x1), dask_key_name=key
            )
            cols.append(da.from_delayed(task, shape=(y1 - y0, x1 - x0, 3), dtype=np.uint8))
        rows.append(da.concatenate(cols, axis=1) if len(cols) > 1 else cols[0])
    return da.concatenate(rows, axis=0) if len(rows) > 1 else rows[0]


def _window(
    src: da.Array, index: tuple[int, ...], lead: tuple[int, ...], ctx: int, ys: slice, xs: slice
) -> da.Array:
    """Lazy input (1 + 2·ctx, y, x): the plane and its neighbours along the first axis."""
    if not ctx:
        return src[(*index, ys, xs)][None]
    z = index[0]
    zs = [min(max(z + dz, 0), lead[0] - 1) for dz in range(-ctx, ctx + 1)]
    return da.stack([src[(zz, *index[1:], ys, xs)] for zz in zs])
