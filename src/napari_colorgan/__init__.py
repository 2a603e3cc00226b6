"""napari-colorgan: colorize grayscale scientific images with conditional GANs.

The top-level names load lazily, so ``import napari_colorgan`` (e.g. by napari reading the
plugin manifest) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from napari_colorgan.core.version import package_version

__version__ = package_version()

if TYPE_CHECKING:
    from napari_colorgan import metrics
    from napari_colorgan._widgets._colour_layer import add_colour_layer
    from napari_colorgan.core.infer.class_maps import classify
    from napari_colorgan.core.infer.config import ColorizeConfig
    from napari_colorgan.core.infer.graph import colorize
    from napari_colorgan.core.infer.zarr_store import (
        ZarrTarget,
        colorize_to_zarr,
        colorize_to_zarr_iter,
        open_multiscale,
    )
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import InputNormalization, ModelConfig, preset
    from napari_colorgan.core.model.pix2pix_import import load_pix2pix_generator
    from napari_colorgan.core.train.config import TrainConfig
    from napari_colorgan.core.train.loop import train, train_iter

_LAZY = {
    "add_colour_layer": ("napari_colorgan._widgets._colour_layer", "add_colour_layer"),
    "ColorizeConfig": ("napari_colorgan.core.infer.config", "ColorizeConfig"),
    "ZarrTarget": ("napari_colorgan.core.infer.zarr_store", "ZarrTarget"),
    "Colorizer": ("napari_colorgan.core.model.colorizer", "Colorizer"),
    "ModelConfig": ("napari_colorgan.core.model.config", "ModelConfig"),
    "InputNormalization": ("napari_colorgan.core.model.config", "InputNormalization"),
    "preset": ("napari_colorgan.core.model.config", "preset"),
    "load_pix2pix_generator": (
        "napari_colorgan.core.model.pix2pix_import",
        "load_pix2pix_generator",
    ),
    "metrics": ("napari_colorgan.metrics", None),
    "TrainConfig": ("napari_colorgan.core.train.config", "TrainConfig"),
    "train": ("napari_colorgan.core.train.loop", "train"),
    "train_iter": ("napari_colorgan.core.train.loop", "train_iter"),
    "colorize": ("napari_colorgan.core.infer.graph", "colorize"),
    "classify": ("napari_colorgan.core.infer.class_maps", "classify"),
    "colorize_to_zarr": ("napari_colorgan.core.infer.zarr_store", "colorize_to_zarr"),
    "colorize_to_zarr_iter": ("napari_colorgan.core.infer.zarr_store", "colorize_to_zarr_iter"),
    "open_multiscale": ("napari_colorgan.core.infer.zarr_store", "open_multiscale"),
}

__all__ = [
    "ColorizeConfig",
    "Colorizer",
    "InputNormalization",
    "ModelConfig",
    "TrainConfig",
    "ZarrTarget",
    "__version__",
    "add_colour_layer",
    "classify",
    "colorize",
    "colorize_to_zarr",
    "colorize_to_zarr_iter",
    "load_pix2pix_generator",
    "metrics",
    "open_multiscale",
    "preset",
    "train",
    "train_iter",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'napari_colorgan' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
