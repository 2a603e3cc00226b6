"""Drag and drop a model file onto napari: it opens in the Colorize widget (no layer is added)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_colorgan.core.model.file import looks_like_model_file

#: What napari takes from a reader for "read, but no layer to add".
NO_LAYER: list[tuple[None]] = [(None,)]


def get_reader(path: str | list[str]) -> Callable[[Any], list] | None:
    """The npe2 reader hook: claim single napari-colorgan model files, nothing else.

    Other ``.safetensors`` files (other tools' weights) are left to other readers.
    """
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    if not str(path).endswith(".safetensors") or not looks_like_model_file(path):
        return None
    return open_in_colorize_widget


def open_in_colorize_widget(path: str | list[str]) -> list[tuple[None]]:
    """Dock the Colorize widget in the current viewer with the model ``path`` chosen."""
    import napari

    path = path[0] if isinstance(path, list) else path
    viewer = napari.current_viewer()
    if viewer is None:
        raise ValueError("open a napari viewer first, then drop the model file onto it")
    _dock, widget = viewer.window.add_plugin_dock_widget("napari-colorgan", "Colorize")
    widget.use_model_file(Path(path))
    return NO_LAYER
