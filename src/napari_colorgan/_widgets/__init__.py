"""napari widgets: widget values become configs, core events become GUI updates."""

from napari_colorgan._widgets._colorize import ColorizeWidget
from napari_colorgan._widgets._evaluate import EvaluateWidget
from napari_colorgan._widgets._train import TrainWidget

__all__ = ["ColorizeWidget", "EvaluateWidget", "TrainWidget"]
