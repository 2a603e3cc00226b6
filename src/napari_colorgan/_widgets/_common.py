"""Helpers shared by the widgets: layer choices, errors as notifications, the session's model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import napari

    from ..core.colorizer import Colorizer

#: The colorizer trained most recently in this napari session (offered by the Colorize widget).
SESSION: dict[str, Any] = {"model": None}


def layer_choices(
    viewer: napari.viewer.Viewer, kinds: tuple[str, ...], rgb: bool | None = None
) -> Callable[[Any], list[tuple[str, Any]]]:
    """A magicgui ``choices`` callable listing the viewer's layers of the given kinds."""

    def choices(_widget: Any = None) -> list[tuple[str, Any]]:
        out = []
        for layer in viewer.layers:
            if type(layer).__name__.lower() not in kinds:
                continue
            if rgb is not None and getattr(layer, "rgb", False) != rgb:
                continue
            out.append((layer.name, layer))
        return out

    return choices


def keep_choices_fresh(viewer: napari.viewer.Viewer, container: Any) -> None:
    """Refresh the container's layer lists whenever layers are added, removed or renamed."""
    for event in (viewer.layers.events.inserted, viewer.layers.events.removed):
        event.connect(lambda *_: container.reset_choices())


def report(error: BaseException) -> None:
    """Show an error as a napari notification (never a traceback dialog)."""
    from napari.utils.notifications import show_error

    show_error(f"napari-colorgan: {error}")


def guarded(func: Callable[[], Any]) -> Callable[..., Any]:
    """A button callback running ``func()``, reporting bad input as a notification."""

    def run(*_signal_args: Any) -> Any:
        try:
            return func()
        except (ValueError, FileNotFoundError, MemoryError, RuntimeError, OSError) as err:
            report(err)
            return None

    return run


def current_plane_index(viewer: napari.viewer.Viewer, ndim: int) -> tuple[int, ...]:
    """The viewer's current position on the leading (non-YX) axes of an ``ndim`` layer."""
    step = tuple(int(s) for s in viewer.dims.current_step)
    return step[len(step) - ndim : len(step) - 2] if ndim > 2 else ()


def model_from(path: Any, use_session: bool) -> Colorizer:
    """The chosen colorizer: this session's trained model, or one loaded from ``path``."""
    from ..core.colorizer import Colorizer

    if use_session:
        if SESSION["model"] is None:
            raise ValueError("no model was trained in this session yet: train one or pick a file")
        return SESSION["model"]
    if not path or str(path) in (".", ""):
        raise ValueError("choose a model file (.safetensors) first")
    return Colorizer.load(path)
