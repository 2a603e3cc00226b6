"""``ColorizeJob``: a model, an input and a plan resolved once for one colorization.

``colorize`` (the lazy dask array), ``colorize_to_zarr`` (the resumable store) and the viewer's
colour layer all start from :func:`prepare`, so the model file is read, the image opened and the
windows planned exactly once, and what crosses modules has a name instead of travelling as
keyword dictionaries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import dask.array as da

from ..devices import pick_device
from ..events import Planned
from ..io.images import open_image
from ..io.selection import select_planes
from ..model.colorizer import Colorizer
from .config import BLOCK, ColorizeConfig
from .input_check import check_input
from .payload import ModelPayload, model_payload
from .planner import Plan, plan


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
        The lazy grayscale input (..., y, x), cut to ``config.slices``.
    plan
        Windows, batch, device and precision of every block (see :func:`plan`).
    config
        The settings it was made from.
    """

    model: Colorizer
    payload: ModelPayload
    source: da.Array
    plan: Plan
    config: ColorizeConfig

    def planned(self) -> Planned:
        """The event that says how this job tiles its planes, why, and any warning."""
        return Planned(self.plan.describe(), self.plan.why, self.plan.notice)

    @property
    def lead(self) -> tuple[int, ...]:
        """The leading (non-plane) axes of the input, e.g. (z,) or (t, z)."""
        return tuple(self.source.shape[:-2])


def as_colorizer(model: Colorizer | str | os.PathLike[str]) -> Colorizer:
    """A ``Colorizer`` from itself or from a model file path."""
    return model if isinstance(model, Colorizer) else Colorizer.load(model)


def prepare(
    data: Any,
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None = None,
    stored: dict[str, Any] | None = None,
) -> ColorizeJob:
    """Resolve the model, open and check the input, and plan the windows, once.

    Parameters
    ----------
    data
        Grayscale (..., y, x): numpy, dask, zarr, a file path, or a napari multiscale list.
    colorizer
        A :class:`Colorizer` or a model file path.
    config
        The settings (default: :class:`ColorizeConfig`'s).
    stored
        The tiling a store being finished recorded (see :func:`plan`).

    Returns
    -------
    ColorizeJob

    Raises
    ------
    ValueError
        An unknown or unavailable device, or an input that cannot be colorized (see
        :func:`check_input`). Settings are checked when the config is made, before any model
        file is read.
    """
    config = config or ColorizeConfig()
    pick_device(config.device)  # a typo is named before a model file is read
    model = as_colorizer(colorizer)
    src = open_image(data)
    check_input(src, model)
    lead, (height, width) = tuple(src.shape[:-2]), tuple(src.shape[-2:])
    if not isinstance(src, da.Array):
        src = da.from_array(src, chunks=(1,) * len(lead) + (min(height, BLOCK), min(width, BLOCK)))
    # Selected lazily: indexing a zarr array itself would read the planes into memory.
    src = select_planes(src, config.selection)
    windows = plan(model.config, src.shape, config, stored)
    return ColorizeJob(model, model_payload(model), src, windows, config)
