"""A class model's class map inside its colour store, as an OME-Zarr 0.5 image-label.

NGFF keeps segmentations of an image in its ``labels/`` group: ``labels/classes`` is a
multiscale integer image on the same grid as the colour (no channel axis), with the painted
label ids as values, their colours (``image-label.colors``) and names (``properties``), so
napari-ome-zarr, MoBIE and other viewers show it as a segmentation over the colour. Levels are
taken by striding (nearest neighbour: a coarser label is one of the finer ones, never a mean).

The confidence, when asked for, is a multiscale image group ``confidence`` in the store (uint8:
the top class probability times 255), its levels averaged as the colour's are.
"""

from __future__ import annotations

import os
from typing import Any

import dask.array as da
import numpy as np

from ..io.axes import Axis
from .ome import multiscale_of

#: The image-label's path inside the store's ``labels`` group.
CLASSES = "classes"
LABELS = "labels"
#: The confidence image's group in the store.
CONFIDENCE = "confidence"
VERSION = "0.5"


def create_class_level(
    group: Any, shape: tuple[int, ...], chunks: tuple[int, ...], axes: list[Axis], dtype: Any
) -> Any:
    """The empty full-resolution class map ``labels/classes/0`` (..., y, x) of ``group``."""
    return _create_level(
        group.require_group(LABELS).require_group(CLASSES), shape, chunks, axes, dtype
    )


def create_confidence_level(
    group: Any, shape: tuple[int, ...], chunks: tuple[int, ...], axes: list[Axis]
) -> Any:
    """The empty full-resolution confidence ``confidence/0`` (..., y, x) uint8 of ``group``."""
    return _create_level(group.require_group(CONFIDENCE), shape, chunks, axes, "u1")


def _create_level(
    image: Any, shape: tuple[int, ...], chunks: tuple[int, ...], axes: list[Axis], dtype: Any
) -> Any:
    """Level ``0`` of ``image``, every chunk stored (a missing chunk file is a lost chunk)."""
    chunks = tuple(min(c, n) for c, n in zip(chunks, shape, strict=True))
    return image.create_array(
        "0", shape=shape, chunks=chunks, dtype=dtype, fill_value=0,
        dimension_names=[a.name for a in axes], overwrite=True,
    ).with_config({"write_empty_chunks": True})  # fmt: skip


def open_level(group: Any, name: str) -> Any | None:
    """Level 0 of image ``name`` of a store opened for writing, or None if it has none.

    ``name``: :data:`CONFIDENCE`, or the class map's ``labels/classes``.
    """
    try:
        return group[f"{name}/0"].with_config({"write_empty_chunks": True})
    except KeyError:
        return None


def write_confidence_pyramid(path: str | os.PathLike[str], axes: list[Axis], levels: int) -> None:
    """Write levels ``1 .. levels - 1`` of the confidence (2x2 means) and its metadata."""
    import zarr

    image = zarr.open_group(str(path), mode="r+")[CONFIDENCE]
    level = da.from_zarr(image["0"])
    for i in range(1, levels):
        even = level[..., : level.shape[-2] // 2 * 2, : level.shape[-1] // 2 * 2]
        halves = {level.ndim - 2: 2, level.ndim - 1: 2}
        half = da.coarsen(np.mean, even.astype(np.float32), halves).round().astype(np.uint8)
        level = _store(image, str(i), half, axes)
    image.attrs["ome"] = {
        "version": VERSION,
        "multiscales": [_multiscale(CONFIDENCE, axes, levels)],
    }


def open_confidence(path: str | os.PathLike[str]) -> list[da.Array] | None:
    """A store's confidence levels (..., y, x) float32 in [0, 1], or None when it has none."""
    import zarr

    from .class_maps import decode_confidence

    try:
        image = zarr.open_group(str(path), mode="r")[CONFIDENCE]
    except KeyError:
        return None
    meta = multiscale_of(image)
    if meta is None:
        return None
    return [
        da.from_zarr(image[d["path"]]).map_blocks(decode_confidence, dtype=np.float32)
        for d in meta["datasets"]
    ]


def _store(image: Any, name: str, data: da.Array, axes: list[Axis]) -> da.Array:
    """Write ``data`` as level ``name`` of ``image`` (chunked as its level 0); read back lazily."""
    chunks = tuple(min(c, n) for c, n in zip(image["0"].chunks, data.shape, strict=True))
    target = image.create_array(
        name, shape=data.shape, chunks=chunks, dtype=data.dtype, fill_value=0,
        dimension_names=[a.name for a in axes], overwrite=True,
    )  # fmt: skip
    da.store(data.rechunk(chunks), target, lock=False)
    return da.from_zarr(target)


def write_class_pyramid(
    path: str | os.PathLike[str],
    axes: list[Axis],
    levels: int,
    palette: dict[int, tuple[int, int, int]],
    names: dict[int, str] | None = None,
    origin: tuple[int, int] | None = None,
) -> None:
    """Write levels ``1 .. levels - 1`` of the class map and its NGFF metadata.

    ``levels`` is the colour's level count, so both pyramids match level for level;
    ``origin`` the (y, x) pixel of the source where a region export starts, as for the colour.
    """
    import zarr

    image = zarr.open_group(str(path), mode="r+")[f"{LABELS}/{CLASSES}"]
    level = da.from_zarr(image["0"])
    for i in range(1, levels):
        even = level[..., : level.shape[-2] // 2 * 2, : level.shape[-1] // 2 * 2]
        level = _store(image, str(i), even[..., ::2, ::2], axes)
    image.attrs["ome"] = label_metadata(axes, levels, palette, names, origin)
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
    origin: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The ``ome`` attributes of the class map: multiscales and ``image-label``."""
    names = names or {}
    return {
        "version": VERSION,
        "multiscales": [_multiscale(CLASSES, axes, levels, origin)],
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


def _multiscale(
    name: str, axes: list[Axis], levels: int, origin: tuple[int, int] | None = None
) -> dict[str, Any]:
    """A multiscales entry: ``levels`` levels, each 2x coarser in y and x.

    ``origin``: where a region export's first pixel lies in the source, as a translation.
    """
    shift = dict(zip(("y", "x"), origin or (0, 0), strict=True))
    translation = [a.scale * shift.get(a.name, 0) for a in axes]
    datasets = []
    for i in range(levels):
        scale = [a.scale * (2.0**i if a.name in ("y", "x") else 1.0) for a in axes]
        transforms: list[dict[str, Any]] = [{"type": "scale", "scale": scale}]
        if origin is not None:
            transforms.append({"type": "translation", "translation": translation})
        datasets.append({"path": str(i), "coordinateTransformations": transforms})
    return {"name": name, "axes": [a.to_ome() for a in axes], "datasets": datasets}


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
