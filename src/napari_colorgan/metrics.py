"""Colorization quality metrics (re-exported from :mod:`napari_colorgan.core.metrics`)."""

from .core.metrics import *  # noqa: F403
from .core.metrics import __all__  # noqa: F401
