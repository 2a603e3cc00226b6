"""napari widgets: widget values become configs, core events become GUI updates."""

from ._colorize import ColorizeWidget
from ._evaluate import EvaluateWidget
from ._train import TrainWidget

__all__ = ["ColorizeWidget", "EvaluateWidget", "TrainWidget"]
