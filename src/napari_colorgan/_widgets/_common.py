"""Helpers shared by the widgets: layer choices, errors as notifications, the session's model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_colorgan._widgets._recent import remember
from napari_colorgan._widgets._warm import ready_for_torch

if TYPE_CHECKING:
    import napari

    from napari_colorgan.core.model.colorizer import Colorizer


def class_colormap(palette: dict[int, tuple[int, int, int]]) -> dict[Any, Any]:
    """A Labels layer's colours (napari's direct mapping) from label id to RGB 0-255.

    Here, not beside the OME-Zarr reader that also uses it: that module imports dask.array,
    which napari's thread must not load when a colour layer is added.
    """
    colours: dict[Any, Any] = {None: (0.0, 0.0, 0.0, 0.0), 0: (0.0, 0.0, 0.0, 0.0)}
    colours.update({i: (*(v / 255 for v in rgb), 1.0) for i, rgb in palette.items()})
    return colours


#: The colorizer trained most recently in this napari session (offered by the Colorize widget).
SESSION: dict[str, Any] = {"model": None, "snapshot": None}


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


def palette_from_colormap(
    colormap: Any, labels: np.ndarray, name: str
) -> dict[int, tuple[int, int, int]]:
    """``{label: (r, g, b)}`` of the labels present, from a Labels layer's colormap."""
    from napari_colorgan.core.annotations import labels_palette_from_colormap

    ids = [int(i) for i in np.unique(labels) if i > 0]
    if not ids:
        raise ValueError(f"no annotated pixel in {name!r}: paint a few strokes first")
    rgba = np.asarray(colormap.map(np.array(ids)))  # (n, 4) floats in [0, 1]
    return labels_palette_from_colormap(dict(zip(ids, rgba, strict=True)))


def level0(layer: Any) -> Any:
    """A layer's data at full resolution (a multiscale layer's ``data`` is its levels)."""
    return layer.data[0] if layer.multiscale else layer.data


def show_rgb_over(viewer: Any, name: str, layer: Any, rgb: np.ndarray, offset: Any) -> None:
    """Show ``rgb`` as layer ``name``, laid exactly over ``layer`` from pixel ``offset`` (y, x)."""
    scale = np.asarray(layer.scale[-2:])
    translate = np.asarray(layer.translate[-2:]) + scale * np.asarray(offset)
    if name in viewer.layers:
        shown = viewer.layers[name]
        shown.data, shown.translate = rgb, translate
    else:
        viewer.add_image(rgb, rgb=True, name=name, scale=scale, translate=translate)


def keep_choices_fresh(viewer: napari.viewer.Viewer, container: Any) -> None:
    """Refresh the container's layer lists whenever layers are added, removed or renamed."""
    for event in (viewer.layers.events.inserted, viewer.layers.events.removed):
        event.connect(lambda *_: container.reset_choices())


def explain(error: BaseException) -> str:
    """What to tell the user about ``error``: the problem and what to do."""
    if isinstance(error, WorkerFailed) and error.__cause__ is not None:
        error = error.__cause__
    text = str(error)
    if type(error).__name__ == "OutOfMemoryError" or "out of memory" in text.lower():
        return (
            "the GPU ran out of memory: lower the batch size or the tile size, pick precision "
            "bf16/fp16, or choose device cpu"
        )
    # The core speaks to scripts and the command line; the widget's control is a checkbox.
    for said in (
        "pass if_exists='overwrite' (--overwrite)",
        "if_exists='overwrite' (--overwrite)",
    ):
        text = text.replace(said, 'tick "replace an existing export"')
    return text


def report(error: BaseException) -> None:
    """Show an error as a napari notification (never a traceback dialog)."""
    from napari.utils.notifications import show_error

    show_error(f"napari-colorgan: {explain(error)}")


class WorkerFailed(Exception):
    """An error raised by the events a worker streams, passed on to the GUI intact.

    superqt takes a ``RuntimeError`` escaping a generator worker for a sign that the worker was
    deleted and drops it with a warning; a CUDA out-of-memory error is a ``RuntimeError``, so it
    travels wrapped in this instead.
    """


def _passing_errors(events: Iterator[Any], after: Any = None) -> Iterator[Any]:
    ready_for_torch(after)  # in the worker: torch is imported by one thread at a time
    try:
        yield from events
    except Exception as err:
        raise WorkerFailed(str(err)) from err


def stream_in_worker(
    events: Iterator[Any], on_event: Callable[[Any], Any], after: Any = None
) -> Any:
    """A (not yet started) worker thread that yields ``events`` to ``on_event``.

    Errors become notifications, never napari's traceback dialog. ``after``: a
    :func:`~napari_colorgan._widgets._warm.after_napari_draws` event the worker waits for
    before it loads torch, if torch is not loaded yet.
    """
    from napari.qt.threading import create_worker

    worker = create_worker(
        _passing_errors, events, after, _connect={"errored": report}, _start_thread=False
    )
    _quiet_relay(worker)
    worker.yielded.connect(unless_gone(on_event))
    return worker


def unless_gone(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler``, silent once its widget's Qt objects were deleted (the viewer closed).

    Events already on their way when a widget goes would otherwise end in "wrapped C/C++
    object ... has been deleted", once per event.
    """

    def handle(*args: Any) -> Any:
        try:
            return handler(*args)
        except RuntimeError as err:
            if "has been deleted" not in str(err):
                raise
            return None

    return handle


def end_with_widget(widget: Any, stop: Callable[[], Any]) -> None:
    """Call ``stop`` when ``widget`` is deleted (its dock closed, or the viewer).

    A training then ends after its step, writing its checkpoint; an export stops after its
    tile, resumable.
    """
    native = getattr(widget, "native", widget)
    native.destroyed.connect(lambda *_: stop())


def call_in_worker(func: Callable[[], Any], on_return: Callable[[Any], Any]) -> Any:
    """A started worker thread running ``func()``; its result goes to ``on_return``."""
    from napari.qt.threading import create_worker

    def after_warm_up() -> Any:
        ready_for_torch()  # in the worker: torch is imported by one thread at a time
        return func()

    connect = {"errored": report, "returned": on_return}
    worker = create_worker(after_warm_up, _connect=connect, _start_thread=False)
    _quiet_relay(worker)
    worker.start()
    return worker


def _quiet_relay(worker: Any) -> None:
    """Stop napari relaying the worker's errors itself.

    Its notification carries the raw message and a traceback button; ``report`` already says
    what to do.
    """
    relay = getattr(worker, "_relay_error", None)
    if relay is not None:
        try:
            worker.errored.disconnect(relay)
        except (TypeError, RuntimeError):
            pass  # not connected in this napari version


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
    from napari_colorgan.core.model.colorizer import Colorizer

    if use_session:
        return session_snapshot()
    if not path or str(path) in (".", ""):
        raise ValueError("choose a model file (.safetensors) first")
    model = Colorizer.load(path)
    remember(path)
    return model


def session_snapshot() -> Colorizer:
    """A frozen copy of this session's trained model.

    Lazy layers and exports keep computing after training resumes; a copy (made once per
    weights version) keeps their colours from the weights they were started with.
    """
    import copy

    from napari_colorgan.core.infer.payload import weights_version

    model = SESSION["model"]
    if model is None:
        raise ValueError("no model was trained in this session yet: train one or pick a file")
    version = weights_version(model)
    cached = SESSION.get("snapshot")
    if cached is None or cached[0] is not model or cached[1] != version:
        cached = (model, version, copy.deepcopy(model))
        SESSION["snapshot"] = cached
    return cached[2]


def visible_region(
    layer: Any, shape: tuple[int, ...], most: float = 0.5
) -> tuple[slice, slice] | None:
    """Rows and columns of a plane of ``shape`` (y, x) shown on the canvas.

    None when the canvas shows more than ``most`` of the plane (or was never drawn): then the
    whole plane is worth computing.
    """
    import numpy as np

    corners = np.asarray(layer.corner_pixels, dtype=float)[:, -2:]  # (2, yx), inclusive
    factor = 1.0
    if layer.multiscale:  # corners are pixels of the displayed level
        factor = np.asarray(layer.downsample_factors[layer.data_level], dtype=float)[-2:]
    lo = np.clip(np.floor(corners[0] * factor).astype(int), 0, shape[-2:])
    hi = np.clip(np.ceil((corners[1] + 1) * factor).astype(int), 0, shape[-2:])
    if np.any(hi - lo < 2) or np.prod(hi - lo) > most * np.prod(shape[-2:]):
        return None
    return slice(int(lo[0]), int(hi[0])), slice(int(lo[1]), int(hi[1]))


def fold_advanced(container: Any, widgets: list[Any]) -> Any:
    """Put ``widgets`` (already in ``container``) behind an "advanced settings" checkbox.

    Hidden at first: the defaults are sound. Call it after the container was filled, so the
    widgets' labels hide with them.
    """
    from magicgui.widgets import CheckBox

    toggle = CheckBox(text="advanced settings", value=False)
    container.insert(container.index(widgets[0]), toggle)

    def show(on: bool) -> None:
        for w in widgets:
            w.visible = on

    toggle.changed.connect(show)
    show(False)
    return toggle
