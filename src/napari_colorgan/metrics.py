"""Colorization quality metrics (re-exported from :mod:`napari_colorgan.core.metrics`)."""

from napari_colorgan.core.metrics import *  # noqa: F403
from napari_colorgan.core.metrics import __all__  # noqa: F401
