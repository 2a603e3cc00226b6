"""``colorize``: a lazy dask array of RGB planes, computed tile by tile where it is looked at."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from contextlib import nullcontext
from typing import Any

import dask
import dask.array as da
import numpy as np

from napari_colorgan.core.devices import pick_device
from napari_colorgan.core.infer.blocks import BLOCK, BlockJob, Precision, _block_task
from napari_colorgan.core.infer.payload import model_payload
from napari_colorgan.core.infer.tiling import TilePlan, round_up
from napari_colorgan.core.io.images import open_image
from napari_colorgan.core.model.colorizer import Colorizer


def as_colorizer(model: Colorizer | str | os.PathLike[str]) -> Colorizer:
    """A ``Colorizer`` from itself or from a model file path."""
    return model if isinstance(model, Colorizer) else Colorizer.load(model)


def check_input(data: Any, colorizer: Colorizer | None = None) -> None:
    """Reject what cannot be colorized, naming the problem.

    Raises
    ------
    ValueError
        Empty, fewer than 2 dimensions, RGB/multichannel-looking, or a non-numeric dtype.
    """
    shape = tuple(data.shape)
    if len(shape) < 2:
        raise ValueError(
            f"expected a grayscale image (y, x) or a stack of them, got shape {shape}"
        )
    if 0 in shape:
        raise ValueError(f"the image is empty (shape {shape})")
    if len(shape) >= 3 and shape[-1] in (3, 4) and shape[-2] > 4:
        raise ValueError(
            f"shape {shape} looks like RGB/multichannel (last axis {shape[-1]}): "
            "colorize takes grayscale planes; convert to one channel first"
        )
    dtype = np.dtype(data.dtype)
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ValueError(f"cannot colorize data of dtype {dtype}: use integers or floats")
    if colorizer is not None and colorizer.config.context and len(shape) < 3:
        raise ValueError("this model uses neighbouring slices (context) and needs a stack")


def block_edges(length: int, plan: TilePlan, block: int = BLOCK) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into output blocks of about ``block`` px on the tiling's stride."""
    if length <= block:
        return [(0, length)]
    # Regular blocks (the last one may be shorter) so they map one-to-one onto zarr chunks;
    # an even split avoids a thin last block, whose border windows would be computed twice.
    count = math.ceil(length / block)
    step = round_up(math.ceil(length / count), plan.stride)
    return list(itertools.pairwise([*range(0, length, step), length]))


def _auto_batch(device: str) -> int:
    return 16 if pick_device(device).type == "cuda" else 4


def colorize(
    data: Any,
    colorizer: Colorizer | str | os.PathLike[str],
    *,
    tile: int | None = None,
    overlap: int | None = None,
    batch_size: int | str = "auto",
    device: str = "auto",
    precision: Precision = "auto",
    worker_resources: dict[str, float] | None = None,
    block_size: int = BLOCK,
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

    Returns
    -------
    dask.array.Array
        uint8 RGB of shape ``data.shape + (3,)``, one chunk per plane (or per ~4096² block of
        larger planes), computed only when read.
    """
    model = as_colorizer(colorizer)
    src = open_image(data)
    check_input(src, model)
    plan = TilePlan.for_model(model.config, tile, overlap)
    lead, (height, width) = tuple(src.shape[:-2]), tuple(src.shape[-2:])
    if not isinstance(src, da.Array):
        src = da.from_array(src, chunks=(1,) * len(lead) + (min(height, BLOCK), min(width, BLOCK)))
    batch = _auto_batch(device) if batch_size == "auto" else int(batch_size)
    job = BlockJob(plan, height, width, device, precision, batch)
    serialised = model_payload(model)
    # One graph key for all tasks, named rather than tokenised: hashing 200 MB of weights
    # through dask's tokenizer took longer than colorizing a plane.
    payload = dask.delayed(serialised, name=f"colorgan-model-{serialised.token}")
    ctx = model.config.context
    job_token = hashlib.sha256(repr(job).encode()).hexdigest()[:12]
    y_edges, x_edges = block_edges(height, plan, block_size), block_edges(width, plan, block_size)
    annotate = dask.annotate(resources=worker_resources) if worker_resources else nullcontext()
    with annotate:
        planes = [
            _plane(job_token, src, index, lead, ctx, y_edges, x_edges, plan, payload, job)
            for index in itertools.product(*(range(n) for n in lead))
        ]
    out = da.stack(planes) if lead else planes[0]
    return out.reshape((*lead, height, width, 3)) if lead else out


def _plane(
    job_token: str,
    src: da.Array,
    index: tuple[int, ...],
    lead: tuple[int, ...],
    ctx: int,
    y_edges: list[tuple[int, int]],
    x_edges: list[tuple[int, int]],
    plan: TilePlan,
    payload: Any,
    job: BlockJob,
) -> da.Array:
    """The lazy RGB (y, x, 3) of one plane, assembled from its blocks."""
    rows = []
    for y0, y1 in y_edges:
        wy = plan.windows(job.height, y0, y1)
        ya, yb = wy[0].start, min(max(w.start + w.size for w in wy), job.height)
        cols = []
        for x0, x1 in x_edges:
            wx = plan.windows(job.width, x0, x1)
            xa, xb = wx[0].start, min(max(w.start + w.size for w in wx), job.width)
            window = _window(src, index, lead, ctx, slice(ya, yb), slice(xa, xb))
            key = f"colorgan-block-{payload.key}-{job_token}-{window.name}-{y0}-{x0}"
            task = dask.delayed(_block_task)(
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
