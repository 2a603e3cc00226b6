"""napari's side of our OME-Zarr colour stores: open one as an RGB layer, save a layer as one.

A store written by ``colorize`` or by the writer opens as one RGB image layer with its pyramid
and the physical pixel size and units of its axes. File ▸ Save Layers writes a colour layer in
the same layout (:func:`napari_colorgan.core.infer.ome.write_rgb`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_colorgan._widgets._common import class_colormap
from napari_colorgan.core.infer.ome import FINGERPRINT_KEY, LAYOUT


def is_colour_store(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a finished colour store in this package's OME-Zarr layout."""
    p = Path(path)
    if not (p / "zarr.json").is_file():
        return False
    import zarr

    try:
        attrs = dict(zarr.open_group(str(p), mode="r").attrs)
    except Exception:  # not a readable zarr group: someone else's to open
        return False
    ours = attrs.get(FINGERPRINT_KEY)
    return isinstance(ours, dict) and ours.get("layout") == LAYOUT and "ome" in attrs


def layer_data(path: str | os.PathLike[str]) -> list[tuple[Any, dict[str, Any], str]]:
    """The store as napari layer data: one RGB image, multiscale when it has a pyramid.

    A class model's store also holds its class map (``labels/classes``): it comes as a Labels
    layer over the colour, in the painted colours; its confidence, when written, as a hidden
    image.
    """
    from napari_colorgan.core.infer.ome import rgb_layer
    from napari_colorgan.core.infer.ome_labels import open_class_map, open_confidence

    data, kwargs = rgb_layer(path)
    layers = [(data, kwargs, "image")]
    place = {k: kwargs[k] for k in ("scale", "units", "axis_labels", "translate") if k in kwargs}
    found = open_class_map(path)
    if found is not None:
        levels, palette = found
        labels = {
            "name": f"{kwargs['name']} classes",
            "multiscale": len(levels) > 1,
            "colormap": class_colormap(palette),
            "opacity": 0.5,
            **place,
        }
        layers.append((levels if len(levels) > 1 else levels[0], labels, "labels"))
    sure = open_confidence(path)
    if sure is not None:
        image = {
            "name": f"{kwargs['name']} confidence",
            "multiscale": len(sure) > 1,
            "colormap": "magma",
            "contrast_limits": (0.0, 1.0),
            "visible": False,
            **place,
        }
        layers.append((sure if len(sure) > 1 else sure[0], image, "image"))
    return layers


def get_reader(path: str | list[str]) -> Callable[[Any], list] | None:
    """The npe2 reader hook for colour stores (other zarr stores are left to other readers)."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    return layer_data if is_colour_store(path) else None


class WriterRefused(RuntimeError):
    """The colour writer refuses a layer or a path; a RuntimeError, not a ValueError.

    napari takes a writer's ValueError for "this writer does not apply" and shows only "Given
    plugin is not a valid writer", so the reason would be lost.
    """


def write_ome_zarr(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """The npe2 writer: a colour (RGB) image layer as an OME-Zarr 0.5 store with a pyramid."""
    import numpy as np

    from napari_colorgan.core.infer.ome import write_rgb

    if not meta.get("rgb"):
        name = meta.get("name", "this layer")
        raise WriterRefused(
            f"napari-colorgan saves colour (RGB) image layers, and {name!r} is not one: "
            "nothing was written; save it with another writer (TIFF, or napari-ome-zarr)"
        )
    if meta.get("multiscale"):
        data = data[0]
    if np.dtype(data.dtype) != np.uint8:
        data = _to_uint8(data, meta.get("contrast_limits"))
    out = path if path.endswith(".zarr") else f"{path}.ome.zarr"
    _check_replaceable(Path(out))
    write_rgb(data, out, layer_axes(meta, data.ndim - 1), name=str(meta.get("name", "colour")))
    return [out]


def layer_axes(meta: dict[str, Any], ndim: int) -> list[Any]:
    """OME axes of a layer's (..., y, x) from its ``scale``, ``units`` and ``axis_labels``.

    Labels other than t / z / y / x (napari's default "axis -1"...) give the default names.
    """
    from napari_colorgan.core.io.axes import Axis, default_axes, ome_unit

    def last(key: str, default: Any) -> list[Any]:
        value = meta.get(key)  # napari gives arrays and tuples: no truth tests on them
        return list(default if value is None else value)[-ndim:]

    names = [str(n) for n in last("axis_labels", [])]
    valid = names[-2:] == ["y", "x"] and set(names) <= set("tzyx") and "t" not in names[1:]
    if len(set(names)) != ndim or not valid:
        names = [a.name for a in default_axes(ndim)]
    scale, units = last("scale", [1.0] * ndim), last("units", [None] * ndim)
    kinds = {"t": "time"}
    return [
        Axis(n, kinds.get(n, "space"), float(s), ome_unit(str(u)) if u is not None else None)
        for n, s, u in zip(names, scale, units, strict=True)
    ]


def _check_replaceable(out: Path) -> None:
    """Refuse to replace anything at ``out`` but a colour store of ours (a previous save).

    napari asks before replacing a file, but a folder is replaced whole: another OME-Zarr, or
    a folder of the user's own files, would be gone.
    """
    if not out.exists() or is_colour_store(out):
        return
    what = "a file" if not out.is_dir() else "a folder that is not a napari-colorgan colour store"
    raise WriterRefused(
        f"{out} exists and is {what}: nothing was written; save under another name, or "
        "remove it first if it is no longer needed"
    )


def _to_uint8(data: Any, limits: Any = None) -> Any:
    """Float RGB to uint8 (lazily) as napari shows it: its contrast limits to 0-255.

    Without limits, floats are taken as 0-1. Other types are refused.
    """
    import dask.array as da
    import numpy as np

    from napari_colorgan.core.color import to_uint8

    if not np.issubdtype(np.dtype(data.dtype), np.floating):
        raise ValueError(f"cannot save RGB of dtype {data.dtype}: use uint8 or floats in 0-1")
    low, high = (float(v) for v in (limits if limits is not None else (0.0, 1.0)))
    span = high - low if np.isfinite(high - low) and high > low else 1.0

    def scaled(block: np.ndarray) -> np.ndarray:
        return to_uint8((block - low) / span)

    return da.asarray(data).map_blocks(scaled, dtype=np.uint8)
