"""What the Colorize widget exports: everything, the current view, or a drawn rectangle.

Every export goes through the colour layer's tile engine
(:func:`~napari_colorgan.core.infer.tile_export.export_tiles_iter`): when the input already
has a colour layer, its tiles and cache are used, so the export holds the pixels that layer
shows; otherwise the same tiles are computed in the export's worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: Region choices besides the Shapes layers.
EVERYTHING, VIEW = "everything", "current view"


def region_choices(viewer: Any) -> Callable[[Any], list[tuple[str, Any]]]:
    """A magicgui ``choices`` callable: everything, the current view, each Shapes layer."""

    def choices(_widget: Any = None) -> list[tuple[str, Any]]:
        shapes = [
            (f"rectangle in {layer.name}", layer)
            for layer in viewer.layers
            if type(layer).__name__ == "Shapes"
        ]
        return [(EVERYTHING, EVERYTHING), (VIEW, VIEW), *shapes]

    return choices


def region_of(choice: Any, layer: Any) -> tuple[int, int, int, int] | None:
    """Level-0 rows and columns (y0, y1, x0, x1) of ``layer`` that ``choice`` covers.

    None for everything. The current view is what the canvas shows of the layer; a Shapes
    layer gives the bounding box of its selected shape (else its last one), in the layer's
    pixels.
    """
    from napari_colorgan._widgets._common import level0, visible_region

    shape = level0(layer).shape[-2:]
    if choice == EVERYTHING:
        return None
    if choice == VIEW:
        seen = visible_region(layer, shape, most=1.0)
        if seen is None:
            return None
        return seen[0].start, seen[0].stop, seen[1].start, seen[1].stop
    if not len(choice.data):
        raise ValueError(f"draw a rectangle in {choice.name!r} first: it holds no shape")
    picked = sorted(choice.selected_data) or [len(choice.data) - 1]
    world = choice.data_to_world(np.asarray(choice.data[picked[-1]]))  # (corners, ndim)
    pixels = np.asarray([layer.world_to_data(p) for p in world])[:, -2:]
    lo = np.clip(np.floor(pixels.min(0)).astype(int), 0, shape)
    hi = np.clip(np.ceil(pixels.max(0)).astype(int), 0, shape)
    if np.any(hi <= lo):
        raise ValueError(f"the shape in {choice.name!r} lies outside {layer.name!r}")
    return int(lo[0]), int(hi[0]), int(lo[1]), int(hi[1])


def colour_tiles_of(viewer: Any, layer: Any) -> Any:
    """The tiles of a colour layer of ``layer`` already in the viewer (model ready), or None."""
    from napari_colorgan._widgets._common import level0

    source = level0(layer)
    for other in viewer.layers:
        tiled = other.metadata.get("colorgan_tiles")
        if tiled is not None and tiled.input is source and tiled.source is not None:
            return tiled
    return None


def export_events(
    levels: list[Any],
    target: Any,
    region: tuple[int, int, int, int] | None,
    load: Callable[[], Any],
    config: Any,
    tiles: Any = None,
    stop: Any = None,
    pixel: tuple[float, str | None] = (1.0, None),
) -> Iterator[Any]:
    """The export's events, in its worker: the colour layer's tiles, or new ones.

    The layer's tiles are taken only when they are this model's (same weights) with these
    settings: a layer made with another model, or another tile size, is not exported instead.
    """
    from napari_colorgan.core.infer.payload import model_payload
    from napari_colorgan.core.infer.tile_export import export_tiles_iter
    from napari_colorgan.core.infer.tiles import TileSource
    from napari_colorgan.core.model.pixel_size import exact_level

    source = TileSource(levels, load(), config)  # the model loads here, in the worker
    source.exact = exact_level([level.shape[-1] for level in levels], pixel, source.model)
    cache = None
    if tiles is not None and tiles.source is not None:
        same = model_payload(tiles.source.model).token == model_payload(source.model).token
        alike = (tiles.source.config, tiles.source.side, tiles.source.exact)
        if same and alike == (source.config, source.side, source.exact):
            source, cache = tiles.source, tiles.cache
    yield from export_tiles_iter(source, target, region, cache, stop)


def placed(path: Path, layer: Any) -> dict[str, Any]:
    """The store at ``path`` as layer keywords, laid over ``layer`` where it was cut from."""
    from napari_colorgan.core.infer.ome import rgb_layer

    data, kwargs = rgb_layer(path)
    shift = np.asarray(kwargs.pop("translate", np.zeros(len(layer.translate))))
    kwargs.update(name=f"{layer.name} export", translate=np.asarray(layer.translate) + shift)
    return {"data": data, **kwargs}
