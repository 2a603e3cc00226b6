"""napari widgets: widget values become configs, core events become GUI updates.

The widget classes load on first use (napari asks for them by name): the Train widget pulls in
torch, seconds that a console user's ``ncg.add_colour_layer`` must not spend on napari's thread.
"""

import importlib
from typing import Any

_WIDGETS = {
    "ColorizeWidget": "_colorize",
    "EvaluateWidget": "_evaluate",
    "TrainWidget": "_train",
}

__all__ = sorted(_WIDGETS)


def __getattr__(name: str) -> Any:
    if name not in _WIDGETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WIDGETS[name]}"), name)
    globals()[name] = value
    return value
