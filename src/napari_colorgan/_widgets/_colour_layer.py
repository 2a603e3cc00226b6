"""``add_colour_layer``: a view-driven colour layer in a viewer, from the widget or a script.

The layer is a pyramid with the input's levels (a single-scale input gets strided levels), so
napari reads only the visible region at the level it shows; each read answers from the tile
cache of :class:`~napari_colorgan._widgets._tiled.TiledColour` and queues what is missing. A
worker computes queued tiles; the layer is refreshed at most every :data:`REFRESH_MS` when
tiles of the plane on screen arrive. Removing the layer, or closing the viewer, ends the
worker and frees the cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from napari_colorgan._widgets._level_view import describe
from napari_colorgan._widgets._tiled import CACHE_BYTES, TiledColour

#: Least time between two refreshes of the layer, in milliseconds.
REFRESH_MS = 100


def add_colour_layer(
    viewer: Any,
    data: Any,
    model: Any,
    config: Any = None,
    *,
    cache_mb: float = CACHE_BYTES / 2**20,
    spill_to: str | os.PathLike[str] | None = None,
    name: str | None = None,
    classes: bool = False,
    confidence: bool = False,
    see_through: bool = True,
) -> Any:
    """Add a colour layer computed where the viewer looks, off napari's thread; returns it.

    Parameters
    ----------
    viewer
        The napari viewer.
    data
        A grayscale napari Image layer (its scale and translate are kept), a list of levels
        (a pyramid, full resolution first), or one array (numpy, dask, zarr) or file path:
        (..., y, x). A single-scale input larger than 1024 px gets strided levels, so a
        zoomed-out view colours a small level instead of the whole plane.
    model
        A :class:`~napari_colorgan.Colorizer`, a model file path, or a function returning a
        Colorizer; a path or function is loaded in the worker, so this returns at once.
    config
        A :class:`~napari_colorgan.ColorizeConfig` (device, precision, tile...).
    cache_mb
        Most megabytes of colour tiles kept in memory (least recently used out first).
    spill_to
        A folder where tiles dropped from memory are kept instead (a zarr scratch folder is
        made inside it and removed with the layer), read back rather than computed again.
    name
        The layer's name (default: the input layer's name + " colorized").
    classes, confidence
        For a model trained on labels: also add its class map (a Labels layer ``NAME
        classes``, label ids and colours as painted) and its confidence (an image ``NAME
        confidence``, the top class probability, 0-1; added hidden: tick its eye to see it),
        computed with the colour from the same tiles, as :func:`~napari_colorgan.classify`
        gives them.
    see_through
        When ``data`` is a layer of this viewer: RGBA, transparent (that layer showing) where no
        colour is computed yet. False: RGB, the input's grey there.

    Returns
    -------
    napari.layers.Image
        A multiscale layer (single-scale when the input has one small level), RGBA or RGB
        (``see_through``). Level 0 is the exact colorization, equal to
        :func:`~napari_colorgan.colorize`; coarser levels are previews colorized at their own
        resolution. The class layers, when asked for, are in ``layer.metadata["colorgan_parts"]``.

    Examples
    --------
    >>> layer = ncg.add_colour_layer(viewer, viewer.layers["section"], "model.safetensors")
    """
    levels, kwargs, given = _levels_of(data)
    settings = _config(config, classes or confidence)
    # Before anything is added: a colour model is refused now.
    dtype, palette = class_info(model) if settings.classes else (None, None)
    see_through = see_through and any(layer is data for layer in viewer.layers)
    cache_bytes = max(1, int(cache_mb * 2**20))
    tiled = TiledColour(levels, _loader(model), settings, cache_bytes, spill_to, see_through)
    tiled.input, tiled.pixel = given, pixel_of(data)
    kwargs["name"] = name or kwargs.get("name", "colour")
    many = len(levels) > 1
    added = viewer.add_image(
        tiled.levels if many else tiled.levels[0], rgb=True, multiscale=many, **kwargs
    )
    added.metadata["colorgan_tiles"] = tiled  # for Evaluate, tests and scripts
    parts = [added]
    if classes:
        parts.append(_add_part(viewer, tiled, "classes", kwargs, dtype, palette))
    if confidence:
        parts.append(_add_part(viewer, tiled, "confidence", kwargs, dtype, palette))
    added.metadata["colorgan_parts"] = parts[1:]
    _connect(viewer, parts, tiled)
    return added


def _add_part(
    viewer: Any,
    tiled: TiledColour,
    part: str,
    kwargs: dict[str, Any],
    dtype: Any,
    palette: dict[int, tuple[int, int, int]] | None,
) -> Any:
    """The class map (Labels) or confidence (image) layer of the colour layer's tiles.

    Without a ``palette`` yet (a model loader), the class map gets its colours once the
    model is loaded.
    """
    from napari_colorgan._widgets._common import class_colormap

    levels = tiled.part_levels(part, dtype)
    data = levels if len(levels) > 1 else levels[0]
    place = {k: v for k, v in kwargs.items() if k != "name"}
    name = f"{kwargs['name']} {part}"
    if part == "classes":
        colours = None if palette is None else class_colormap(palette)
        layer = viewer.add_labels(
            data, multiscale=len(levels) > 1, name=name, colormap=colours, opacity=0.5, **place
        )
    else:
        # Hidden, as the OME-Zarr reader opens it: opaque, it would cover the colour and class
        # map, and napari slices and uploads a visible layer at every move (not a hidden one).
        layer = viewer.add_image(
            data, multiscale=len(levels) > 1, name=name, colormap="magma",
            contrast_limits=(0.0, 1.0), visible=False, **place,
        )  # fmt: skip
    layer.metadata["colorgan_tiles"] = tiled
    return layer


def class_info(model: Any) -> tuple[Any, dict[int, tuple[int, int, int]] | None]:
    """A class model's label id dtype and palette, read without loading its weights.

    Also refuses a colour model now, before any layer is added. For a loader both are known
    only once it ran: uint32 (any painted id fits) and None.
    """
    import numpy as np

    from napari_colorgan.core.model.config import (
        NO_CLASSES,
        ModelConfig,
        class_palette,
        label_ids,
    )
    from napari_colorgan.core.model.file import read_metadata

    if hasattr(model, "config"):
        config = model.config
    elif isinstance(model, str | os.PathLike):
        config = ModelConfig.from_dict(read_metadata(model)["model"])
    else:
        return np.dtype(np.uint32), None
    if not config.classes:
        raise ValueError(NO_CLASSES)
    return label_ids(config).dtype, class_palette(config)


def _levels_of(data: Any) -> tuple[list[Any], dict[str, Any], Any]:
    """The grayscale levels of ``data``, the layer keywords it brings, its level 0 as given.

    The keywords: name and placement of a layer; level 0 as given, before any wrapping, lets
    Export find the colour layer of an input.
    """
    from napari_colorgan.core.infer.input_check import check_input
    from napari_colorgan.core.infer.tile_levels import lazy_pyramid
    from napari_colorgan.core.io.images import open_image

    kwargs: dict[str, Any] = {}
    if hasattr(data, "data") and hasattr(data, "multiscale"):  # a napari layer
        if getattr(data, "rgb", False):
            raise ValueError(f"layer {data.name!r} is RGB: colorize takes a grayscale layer")
        kwargs = {
            "name": f"{data.name} colorized",
            "scale": data.scale,
            "translate": data.translate,
        }
        data = list(data.data) if data.multiscale else data.data
    if isinstance(data, str | os.PathLike):
        data = open_image(data)
    levels = list(data) if isinstance(data, list | tuple) else lazy_pyramid(data)
    check_input(levels[0])
    return levels, kwargs, data[0] if isinstance(data, list | tuple) else data


def pixel_of(data: Any) -> tuple[float, str | None]:
    """Level 0's x pixel size and unit: a layer's scale and units, a file's metadata."""
    from napari_colorgan.core.io.axes import image_axes

    if hasattr(data, "data") and hasattr(data, "multiscale"):  # a napari layer
        units = getattr(data, "units", None)
        return float(data.scale[-1]), None if units is None else ome_unit_of(units[-1])
    if isinstance(data, str | os.PathLike):
        from napari_colorgan.core.io.images import open_image

        x = image_axes(data, open_image(data).ndim)[-1]
        return float(x.scale), x.unit
    return 1.0, None


def layer_pixel_size(layer: Any) -> dict[str, Any] | None:
    """A layer's pixel-size record for a model file (None when it is napari's default 1)."""
    from napari_colorgan.core.io.axes import Axis
    from napari_colorgan.core.model.pixel_size import pixel_size_record

    units = getattr(layer, "units", None)
    axes = []
    for i in (-2, -1):
        unit = None if units is None else ome_unit_of(units[i])
        axes.append(Axis("yx"[i], "space", float(layer.scale[i]), unit))
    return pixel_size_record(axes)


def ome_unit_of(unit: Any) -> str | None:
    """A napari (pint) unit as OME-Zarr names it; None for "pixel" or unknown."""
    from napari_colorgan.core.io.axes import ome_unit

    return ome_unit(str(unit))


def _loader(model: Any) -> Callable[[], Any]:
    """A function loading ``model`` (called in the worker)."""
    if callable(model) and not hasattr(model, "generator"):
        return model

    def load() -> Any:
        # Imported here, in the worker: the module pulls in dask.array, a second on
        # napari's thread the first time.
        from napari_colorgan.core.infer.job import as_colorizer

        return as_colorizer(model)

    return load


def _config(config: Any, classes: bool = False) -> Any:
    from napari_colorgan.core.infer.config import ColorizeConfig

    config = ColorizeConfig.create(config)
    return ColorizeConfig.create(config, classes=True) if classes else config


def _connect(viewer: Any, parts: list[Any], tiled: TiledColour) -> None:
    """Run the worker and tie it to the viewer: refreshes, zooms, plane changes, removal.

    ``parts``: the colour layer first (its view drives the tiles asked for), then the class
    map and confidence layers of the same tiles, if any.
    """
    from qtpy.QtCore import QTimer

    from napari_colorgan._widgets._common import current_plane_index, stream_in_worker
    from napari_colorgan._widgets._warm import after_napari_draws

    added = parts[0]
    top = len(tiled.levels) - 1
    due = {"refresh": False, "level": -1, "thumbnail": False}

    def refresh() -> None:
        due["refresh"] = False
        thumbnail, due["thumbnail"] = due["thumbnail"], False
        for layer in parts:
            if layer in viewer.layers:
                # The view alone: a thumbnail costs a read of the coarsest level and its
                # downsampling (about 25 ms), due only when that level changed; the extent
                # never changes.
                layer.refresh(thumbnail=thumbnail, highlight=False, extent=False)

    def sliced(*_event: Any) -> None:
        # After each slice (a pan, zoom or plane change, or a refresh): the level shown is
        # known only now, napari picks it when it draws.
        if added not in viewer.layers:
            return
        level = added.data_level if added.multiscale else 0
        if level != due["level"]:  # say whether the view shows a preview or the exact colour
            due["level"] = level
            added.help = describe(tiled, level)
        # At the coarsest level napari slices its own copy of it and reads nothing from us.
        if level == top:
            tiled.want_coarsest(current_plane_index(viewer, added.ndim))

    def on_tiles(keys: list[Any]) -> None:
        if not keys:  # the model is ready
            _colour_classes(parts[1:], tiled)
            sliced()
        # napari keeps its own copy of the coarsest level (the thumbnail, and the view when
        # zoomed out): renew it when that level's tiles arrive.
        if any(k.level == top for k in keys):
            for layer in parts:
                getattr(layer, "_reset_thumbnail_level_data", lambda: None)()
            due["thumbnail"] = True
        shown = current_plane_index(viewer, added.ndim)
        level = added.data_level if added.multiscale else 0
        # What the view shows changed: its own level's tiles, or coarser ones while it still
        # misses some (they are drawn upsampled in the gaps). Each refresh costs napari's
        # thread a slice and a texture upload, so others do not refresh.
        changed = not keys or any(
            k.plane == shown and (k.level == level or (k.level > level and tiled.asked))
            for k in keys
        )
        if changed and not due["refresh"]:
            due["refresh"] = True  # at most one refresh per REFRESH_MS
            QTimer.singleShot(REFRESH_MS, refresh)

    def forget(event: Any) -> None:
        if event.value is added:  # the tiles go with the colour layer, and their other parts
            tiled.close()
            viewer.layers.events.removed.disconnect(forget)
            added.events.set_data.disconnect(sliced)
            for layer in parts[1:]:
                if layer in viewer.layers:
                    viewer.layers.remove(layer)

    def drop(_error: Any) -> None:
        for layer in parts:  # the model failed (already reported): no grey layer stays
            if layer in viewer.layers:
                viewer.layers.remove(layer)

    worker = stream_in_worker(tiled.work(), on_tiles, after_napari_draws())  # torch, once drawn
    worker.errored.connect(drop)
    viewer.layers.events.removed.connect(forget)
    added.events.set_data.connect(sliced)
    worker.start()


def _colour_classes(layers: list[Any], tiled: TiledColour) -> None:
    """Give a class map layer made before its model loaded the model's label colours."""
    from napari_colorgan._widgets._common import class_colormap

    for layer in layers:
        if layer._type_string == "labels" and tiled.palette:
            layer.colormap = class_colormap(tiled.palette)
