"""``ColorizeJob``: a model, an input and a tile plan resolved once for one colorization.

``colorize`` (the lazy dask array) and ``colorize_to_zarr`` (the resumable store) both start
from :func:`prepare`, so the model file is read, the image opened and the plan made exactly once,
and what crosses modules has a name instead of travelling as keyword dictionaries.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, TypedDict

import dask.array as da
import numpy as np

from ..devices import pick_device
from ..events import Planned
from ..io.images import open_image
from ..io.selection import select_planes
from ..model.colorizer import Colorizer
from .blocks import BlockJob, Precision, resolve_precision
from .payload import ModelPayload, model_payload
from .tiling import BLOCK, TilePlan, check_count
from .window_size import WindowChoice, choose_window, fit_batch

#: Most tiles per forward pass accepted: more is a typo (the default is 4 on a CPU, 16 on CUDA).
MAX_BATCH = 4096


class ColorizeOptions(TypedDict, total=False):
    """The options of :func:`prepare`, as ``colorize`` and ``colorize_to_zarr`` take them."""

    tile: int | None
    overlap: int | None
    batch_size: int | str
    device: str
    precision: Precision
    worker_resources: dict[str, float] | None
    block_size: int
    slices: slice | None


@dataclass(frozen=True)
class ColorizeJob:
    """Everything one colorization needs, resolved.

    Attributes
    ----------
    model
        The colorizer.
    payload
        The model as it travels through the dask graph (content token, bytes when shipped).
    source
        The lazy grayscale input (..., y, x).
    block
        Tiling plan, plane size, device, precision and batch size of every block task.
    worker_resources
        Dask resources each task claims on a cluster (e.g. ``{"GPU": 1}``), or None.
    slices
        The planes of the first axis the input was cut to, or None for all.
    window
        How the default window was chosen, or None when the tile was given.
    """

    model: Colorizer
    payload: ModelPayload
    source: da.Array
    block: BlockJob
    worker_resources: dict[str, float] | None = None
    slices: slice | None = None
    window: WindowChoice | None = None

    @property
    def plan(self) -> TilePlan:
        """The tiling plan."""
        return self.block.plan

    def planned(self, why: str | None = None) -> Planned:
        """The event that says how this job tiles its planes, and why (default: its choice)."""
        plan, block = self.plan, self.block
        rows, cols = plan.layout(block.height), plan.layout(block.width)
        dev = pick_device(block.device)
        dtype = str(resolve_precision(block.precision, dev)).removeprefix("torch.")
        tiling = (
            f"{plan.mode} tiling: {len(rows)}x{len(cols)} windows of up to "
            f"{max(w.size for w in rows)}x{max(w.size for w in cols)} px a plane (overlap >= "
            f"{plan.overlap} px), {block.batch_size} per pass, computing "
            f"{plan.cost(block.height, block.width):.2f}x the output pixels; {dev}, {dtype}"
        )
        if why is None:
            why = self.window.describe() if self.window else "the tile was given"
        return Planned(tiling, why)

    @property
    def block_size(self) -> int:
        """Side of the output chunks for planes larger than it."""
        return self.plan.block

    @property
    def lead(self) -> tuple[int, ...]:
        """The leading (non-plane) axes of the input, e.g. (z,) or (t, z)."""
        return tuple(self.source.shape[:-2])


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


def auto_batch(device: str) -> int:
    """Most tiles per forward pass when the user does not say: 16 on CUDA, 4 on the CPU."""
    return 16 if pick_device(device).type == "cuda" else 4


def prepare(
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
    slices: slice | None = None,
) -> ColorizeJob:
    """Resolve the model, open and check the input, and plan the tiles, once.

    Parameters are those of :func:`napari_colorgan.colorize`; ``slices`` selects planes of the
    first axis (see :func:`~napari_colorgan.core.io.selection.parse_slices`).

    Returns
    -------
    ColorizeJob

    Raises
    ------
    ValueError
        An unknown or unavailable device, a batch size or tile outside 1..the maximum, or an
        input that cannot be colorized (see :func:`check_input`).
    """
    # Settings first: they are cheap to check and a bad one should not cost a model load.
    dev = pick_device(device)
    dtype = resolve_precision(precision, dev)
    batch = None if batch_size == "auto" else check_count("batch_size", batch_size, MAX_BATCH)
    model = as_colorizer(colorizer)
    src = open_image(data)
    check_input(src, model)
    lead, (height, width) = tuple(src.shape[:-2]), tuple(src.shape[-2:])
    window = None
    if tile is None:
        window = choose_window(
            model.config, height, width, dev, dtype, overlap=overlap, block=block_size,
            most_batch=auto_batch(device),
        )  # fmt: skip
        tile = window.tile
    plan = TilePlan.for_model(model.config, tile, overlap, block_size)
    if batch is None:  # as many windows as fit the memory share, whoever chose the tile
        batch = fit_batch(model.config, plan.tile, dev, dtype, auto_batch(device))
    elif window is not None:  # the caller's batch is the one used: say that one
        window = dataclasses.replace(window, batch_size=batch)
    if not isinstance(src, da.Array):
        src = da.from_array(src, chunks=(1,) * len(lead) + (min(height, BLOCK), min(width, BLOCK)))
    # Selected lazily: indexing a zarr array itself would read the planes into memory.
    src = select_planes(src, slices)
    block = BlockJob(plan, height, width, device, precision, batch)
    payload = model_payload(model)
    return ColorizeJob(model, payload, src, block, worker_resources, slices, window)
