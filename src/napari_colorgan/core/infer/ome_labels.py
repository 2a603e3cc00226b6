"""A class model's class map inside its colour store, as an OME-Zarr 0.5 image-label.

NGFF keeps segmentations of an image in its ``labels/`` group: ``labels/classes`` is a
multiscale integer image on the same grid as the colour (no channel axis), with the painted
label ids as values, their colours (``image-label.colors``) and names (``properties``), so
napari-ome-zarr, MoBIE and other viewers show it as a segmentation over the colour. Levels are
taken by striding (nearest neighbour: a coarser label is one of the finer ones, never a mean).
"""

from __future__ import annotations

import os
from typing import Any

import dask.array as da

from ..io.axes import Axis
from .ome import multiscale_of

#: The image-label's path inside the store's ``labels`` group.
CLASSES = "classes"
LABELS = "labels"
VERSION = "0.5"


def create_class_level(
    group: Any, shape: tuple[int, ...], chunks: tuple[int, ...], axes: list[Axis], dtype: Any
) -> Any:
    """The empty full-resolution class map ``labels/classes/0`` (..., y, x) of ``group``."""
    image = group.require_group(LABELS).require_group(CLASSES)
    chunks = tuple(min(c, n) for c, n in zip(chunks, shape, strict=True))
    return image.create_array(
        "0", shape=shape, chunks=chunks, dtype=dtype, fill_value=0,
        dimension_names=[a.name for a in axes], overwrite=True,
    ).with_config({"write_empty_chunks": True})  # fmt: skip


def open_class_level(group: Any) -> Any | None:
    """The full-resolution class map of a store opened for writing, or None if it has none."""
    try:
        return group[f"{LABELS}/{CLASSES}/0"].with_config({"write_empty_chunks": True})
    except KeyError:
        return None


def write_class_pyramid(
    path: str | os.PathLike[str],
    axes: list[Axis],
    levels: int,
    palette: dict[int, tuple[int, int, int]],
    names: dict[int, str] | None = None,
) -> None:
    """Write levels ``1 .. levels - 1`` of the class map and its NGFF metadata.

    ``levels`` is the colour's level count, so both pyramids match level for level.
    """
    import zarr

    image = zarr.open_group(str(path), mode="r+")[f"{LABELS}/{CLASSES}"]
    level = da.from_zarr(image["0"])
    for i in range(1, levels):
        even = level[..., : level.shape[-2] // 2 * 2, : level.shape[-1] // 2 * 2]
        half = even[..., ::2, ::2]
        chunks = tuple(min(c, n) for c, n in zip(image["0"].chunks, half.shape, strict=True))
        target = image.create_array(
            str(i), shape=half.shape, chunks=chunks, dtype=half.dtype, fill_value=0,
            dimension_names=[a.name for a in axes], overwrite=True,
        )  # fmt: skip
        da.store(half.rechunk(chunks), target, lock=False)
        level = da.from_zarr(target)
    image.attrs["ome"] = label_metadata(axes, levels, palette, names)
    # Written last: a viewer that finds the class map listed finds it complete.
    zarr.open_group(str(path), mode="r+")[LABELS].attrs["ome"] = {
        "version": VERSION,
        "labels": [CLASSES],
    }


def label_metadata(
    axes: list[Axis],
    levels: int,
    palette: dict[int, tuple[int, int, int]],
    names: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The ``ome`` attributes of the class map: multiscales and ``image-label``."""
    datasets = []
    for i in range(levels):
        scale = [a.scale * (2.0**i if a.name in ("y", "x") else 1.0) for a in axes]
        transforms = [{"type": "scale", "scale": scale}]
        datasets.append({"path": str(i), "coordinateTransformations": transforms})
    names = names or {}
    return {
        "version": VERSION,
        "multiscales": [
            {"name": CLASSES, "axes": [a.to_ome() for a in axes], "datasets": datasets}
        ],
        "image-label": {
            "version": VERSION,
            "colors": [
                {"label-value": int(i), "rgba": [*map(int, rgb), 255]}
                for i, rgb in palette.items()
            ],
            "properties": [
                {"label-value": int(i), "class": names.get(i, f"class {i}")} for i in palette
            ],
            "source": {"image": "../../"},
        },
    }


def class_map_complete(path: str | os.PathLike[str]) -> bool:
    """Whether a store's class map was finished (its ``labels`` group lists it)."""
    import zarr

    try:
        labels = zarr.open_group(str(path), mode="r")[LABELS]
    except KeyError:
        return False
    return CLASSES in dict(labels.attrs).get("ome", {}).get("labels", [])


def open_class_map(
    path: str | os.PathLike[str],
) -> tuple[list[da.Array], dict[int, tuple[int, int, int]]] | None:
    """A store's class map levels (..., y, x), full resolution first, and its colours.

    None when the store has no finished class map.
    """
    import zarr

    if not class_map_complete(path):
        return None
    image = zarr.open_group(str(path), mode="r")[f"{LABELS}/{CLASSES}"]
    meta = multiscale_of(image)
    if meta is None:
        return None
    levels = [da.from_zarr(image[d["path"]]) for d in meta["datasets"]]
    colours = dict(image.attrs)["ome"]["image-label"].get("colors", [])
    palette = {int(c["label-value"]): tuple(c["rgba"][:3]) for c in colours}
    return levels, palette
