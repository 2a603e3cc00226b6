"""``classify``: what a model trained on labels knows, as lazy class and confidence maps.

A class model's blocks carry five channels (RGB, the class index, the confidence times 255;
see :func:`~.blocks.colorize_block`). Here they become what a user works with: the label ids
as painted, the confidence as a float in [0, 1] and the colour, three lazy arrays that share
their tasks (computed together, each block is colorized once).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np

from ..model.colorizer import Colorizer
from ..model.config import ModelConfig, class_palette, label_ids
from .config import ColorizeConfig
from .graph import build_graph
from .job import prepare


@dataclass(frozen=True)
class ClassMaps:
    """A class model's colour, class map and confidence of the same planes, lazily.

    Attributes
    ----------
    colour
        uint8 RGB (..., y, x, 3), the colorization.
    labels
        The most likely class of each pixel (..., y, x) as its label id in the model's palette
        (the ids the user painted), of the smallest unsigned dtype holding them.
    confidence
        The model's probability of that class (..., y, x), float32 in [0, 1] (steps of 1/255).
    palette
        Label id to RGB colour, as painted.
    """

    colour: da.Array
    labels: da.Array
    confidence: da.Array
    palette: dict[int, tuple[int, int, int]]


def split_blocks(blocks: da.Array, model: ModelConfig) -> ClassMaps:
    """Five-channel blocks (..., y, x, 5) as a :class:`ClassMaps`, lazily."""
    lut = label_ids(model)
    labels = blocks[..., 3].map_blocks(lambda b: lut[b], dtype=lut.dtype)
    confidence = blocks[..., 4].map_blocks(decode_confidence, dtype=np.float32)
    palette = class_palette(model)
    return ClassMaps(blocks[..., :3], labels, confidence, palette)


def decode_confidence(level: np.ndarray) -> np.ndarray:
    """Stored confidence levels (uint8, 0-255) as probabilities, float32 in [0, 1]."""
    return np.asarray(level, np.float32) / np.float32(255)


def classify(
    data: Any,
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None = None,
    **overrides: Any,
) -> ClassMaps:
    """The class map, confidence and colour of grayscale planes, for a model trained on labels.

    Parameters
    ----------
    data
        Grayscale (..., y, x): numpy, dask, zarr, a file path, or a napari multiscale list.
    colorizer
        A class model (trained from a Labels layer): a :class:`Colorizer` or a model file.
    config
        The settings, as for :func:`~.graph.colorize`.
    **overrides
        Settings of ``config`` to change, e.g. ``tile=256``.

    Returns
    -------
    ClassMaps
        Lazy arrays sharing their tasks: ``dask.compute(maps.labels, maps.confidence)``
        colorizes each block once.

    Raises
    ------
    ValueError
        The model was trained on colour targets (it has no classes), or as ``colorize``.

    Examples
    --------
    >>> maps = classify(stack, "membranes.safetensors")  # doctest: +SKIP
    >>> viewer.add_labels(maps.labels)  # doctest: +SKIP
    >>> viewer.add_image(maps.confidence, colormap="magma")  # doctest: +SKIP
    """
    job = prepare(data, colorizer, ColorizeConfig.create(config, **{**overrides, "classes": True}))
    if job.plan.notice:
        warnings.warn(job.plan.notice, UserWarning, stacklevel=2)
    return split_blocks(build_graph(job), job.model.config)
