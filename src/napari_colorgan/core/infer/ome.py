"""The OME-Zarr 0.5 layout of a colour result, and writing an RGB array in it.

NGFF orders axes time, channel, space: a colour result of a (t, z, y, x) input is stored as
(t, c, z, y, x) uint8 with c = red, green, blue, and ``omero`` metadata telling viewers to show
the three channels as colour. The pipeline computes channel-last blocks (..., y, x, 3); they
are moved to the store's order when written and back when read (:func:`open_multiscale`), so
napari and scripts see RGB (..., y, x, 3).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from ..io.atomic import finish_replacement, remove_path, replace_tree, sibling
from ..io.axes import Axis, default_axes

#: Downsample until both sides are at most this many pixels.
PYRAMID_MIN = 256
#: The store's attribute recording what was computed (and how it is laid out).
FINGERPRINT_KEY = "napari_colorgan"
#: Version of the store layout; 0.1.0 wrote channel-last arrays and had no such entry.
LAYOUT = "ome-zarr-0.5"
_CHANNELS = (("red", "FF0000"), ("green", "00FF00"), ("blue", "0000FF"))


def check_axes(axes: list[Axis], ndim: int) -> None:
    """Refuse axes OME-Zarr 0.5 cannot hold: at most one time axis, first; then 2-3 space axes.

    Raises
    ------
    ValueError
        Naming what is wrong and what to do.
    """
    names = [a.name for a in axes]
    if len(axes) != ndim:
        raise ValueError(f"{len(axes)} axes {names} given for a {ndim}D grayscale input")
    kinds = [a.type for a in axes]
    space = kinds.count("space")
    if len(set(names)) != ndim or kinds.count("time") > 1 or "time" in kinds[1:]:
        raise ValueError(f"axes {names}: OME-Zarr needs unique names and time first, if any")
    bad = [f"{a.name}: {a.scale}" for a in axes if not (math.isfinite(a.scale) and a.scale > 0)]
    if bad:  # zarr.json would hold bare NaN / Infinity, and napari refuses a zero scale
        raise ValueError(
            f"pixel sizes must be finite and > 0, got {', '.join(bad)}: give the axes' sizes"
        )
    if not 2 <= space <= 3 or set(kinds) - {"time", "space"}:
        raise ValueError(
            f"a grayscale input with axes {names} cannot be written as OME-Zarr, which holds "
            "at most time, z, y, x: split or merge the leading axes first (e.g. write one "
            "store per position)"
        )


def channel_position(axes: list[Axis]) -> int:
    """Where ``c`` goes among the grayscale's axes: after the time axes, before space."""
    return sum(1 for a in axes if a.type == "time")


def store_axes(axes: list[Axis]) -> list[Axis]:
    """The colour result's axes in store order."""
    at = channel_position(axes)
    return [*axes[:at], Axis("c", "channel"), *axes[at:]]


def to_store_order(rgb: Any, position: int) -> Any:
    """Channel-last (..., y, x, 3) to store order (numpy or dask)."""
    move = da.moveaxis if isinstance(rgb, da.Array) else np.moveaxis
    return move(rgb, -1, position)


def store_shape(shape: tuple[int, ...], position: int) -> tuple[int, ...]:
    """The store-order shape (or chunks) of a channel-last shape."""
    return (*shape[:position], shape[-1], *shape[position:-1])


def multiscales(
    axes: list[Axis], levels: int, name: str, origin: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The ``ome`` attributes: multiscales (2x per level in y and x) and RGB omero channels.

    ``origin``: the (y, x) pixel of the source where this store's first pixel lies (a region
    export), written as a translation so viewers lay it over the source.
    """
    stored = store_axes(axes)
    datasets = []
    shift = dict(zip(("y", "x"), origin or (0, 0), strict=True))
    translation = [a.scale * shift.get(a.name, 0) for a in stored]
    for i in range(levels):
        factor = [2.0**i if a.name in ("y", "x") else 1.0 for a in stored]
        scale = [a.scale * f for a, f in zip(stored, factor, strict=True)]
        transforms: list[dict[str, Any]] = [{"type": "scale", "scale": scale}]
        if origin is not None:
            transforms.append({"type": "translation", "translation": translation})
        datasets.append({"path": str(i), "coordinateTransformations": transforms})
    window = {"start": 0, "end": 255, "min": 0, "max": 255}
    channels = [
        {"label": label, "color": colour, "window": window, "active": True}
        for label, colour in _CHANNELS
    ]
    return {
        "version": "0.5",
        "multiscales": [
            {"name": name, "axes": [a.to_ome() for a in stored], "datasets": datasets}
        ],
        "omero": {"channels": channels, "rdefs": {"model": "color"}},
    }


def write_pyramid(
    path: Path,
    axes: list[Axis],
    name: str = "colorized",
    downsample: bool = True,
    origin: tuple[int, int] | None = None,
) -> int:
    """Write 2x-downsampled levels ``1, 2, ...`` and the OME metadata; return how many levels.

    ``downsample=False`` writes the metadata of level 0 alone; ``origin`` as for
    :func:`multiscales`.
    """
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    level = da.from_zarr(group["0"])
    count = 1
    while downsample and max(level.shape[-2:]) > PYRAMID_MIN and min(level.shape[-2:]) >= 2:
        even = level[..., : level.shape[-2] // 2 * 2, : level.shape[-1] // 2 * 2]
        halves = {level.ndim - 2: 2, level.ndim - 1: 2}
        level = da.coarsen(np.mean, even.astype(np.float32), halves).round().astype(np.uint8)
        level = store_level(group, str(count), level.rechunk(group["0"].chunks), axes)
        count += 1
    group.attrs["ome"] = multiscales(axes, count, name, origin)
    return count


def create_level(
    group: Any, name: str, shape: tuple[int, ...], chunks: tuple[int, ...], axes: list[Axis]
) -> Any:
    """An empty uint8 level in store order, its dimensions named (NGFF 0.5 asks for that)."""
    names = [a.name for a in store_axes(axes)]
    chunks = tuple(min(c, n) for c, n in zip(chunks, shape, strict=True))
    return group.create_array(
        name, shape=shape, chunks=chunks, dtype="u1", fill_value=0, dimension_names=names,
        overwrite=True,
    )  # fmt: skip


def store_level(group: Any, name: str, data: da.Array, axes: list[Axis]) -> da.Array:
    """Write a store-order dask array as level ``name``; the level, read back lazily."""
    chunks = tuple(int(c[0]) for c in data.chunks)
    target = create_level(group, name, data.shape, chunks, axes)
    da.store(data, target, lock=False)
    return da.from_zarr(target)


def multiscale_of(group: Any) -> dict[str, Any] | None:
    """The first OME-Zarr multiscales entry of a zarr group (axes, datasets), or None."""
    entries = dict(group.attrs).get("ome", {}).get("multiscales")
    return entries[0] if entries else None


def level0_scale(meta: dict[str, Any]) -> list[float]:
    """The full-resolution level's pixel size per axis, from a multiscales entry."""
    return [float(s) for s in meta["datasets"][0]["coordinateTransformations"][0]["scale"]]


def level0_translation(meta: dict[str, Any]) -> list[float]:
    """The full-resolution level's translation per axis (zeros when it has none)."""
    for transform in meta["datasets"][0]["coordinateTransformations"]:
        if transform.get("type") == "translation":
            return [float(t) for t in transform["translation"]]
    return [0.0] * len(meta["axes"])


def open_multiscale(path: str | os.PathLike[str]) -> list[da.Array]:
    """The levels of a colour store, full resolution first, each RGB (..., y, x, 3) (lazy).

    What napari takes as a multiscale RGB layer; ``open_multiscale(path)[0]`` is the whole
    result for scripts.
    """
    import zarr

    group = zarr.open_group(str(path), mode="r")
    meta = multiscale_of(group)
    if meta is None:
        raise ValueError(
            f"{path} has no OME-Zarr metadata yet: the colorization writing it did not finish; "
            "run it again to finish it"
        )
    names = [d["path"] for d in meta["datasets"]]
    at = [a.get("type") for a in meta["axes"]].index("channel")
    return [da.moveaxis(da.from_zarr(group[n]), at, -1) for n in names]


def store_name(path: str | os.PathLike[str]) -> str:
    """A store's name without ``.zarr`` / ``.ome.zarr``: ``cells.ome.zarr`` -> ``cells``."""
    return Path(path).name.removesuffix(".zarr").removesuffix(".ome")


def rgb_layer(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """A colour store as one RGB image layer: its data and the keyword arguments to show it.

    The data is the list of levels when the store has a pyramid (a multiscale layer), else
    level 0; the arguments carry the name, pixel size, units and axis labels, so every caller
    (the reader, the widgets, the demo) shows a store the same way.
    """
    import zarr

    levels = open_multiscale(path)
    scale, units = store_scale(path)
    meta = multiscale_of(zarr.open_group(str(path), mode="r")) or {"axes": []}
    spatial = [a.get("type") != "channel" for a in meta["axes"]]
    shift = level0_translation(meta) if meta["axes"] else []
    kwargs: dict[str, Any] = {
        "rgb": True,
        "multiscale": len(levels) > 1,
        "name": store_name(path),
        "scale": scale,
        "units": [u or "pixel" for u in units],
        "axis_labels": [a["name"] for a in meta["axes"] if a.get("type") != "channel"],
    }
    if any(shift):  # a region export: laid where it was cut from
        kwargs["translate"] = [t for t, keep in zip(shift, spatial, strict=True) if keep]
    return (levels if len(levels) > 1 else levels[0]), kwargs


def store_scale(path: str | os.PathLike[str]) -> tuple[list[float], list[str | None]]:
    """Pixel size and unit of each axis of the RGB view (channel dropped), from the metadata."""
    import zarr

    meta = multiscale_of(zarr.open_group(str(path), mode="r"))
    if meta is None:
        raise ValueError(f"{path} has no OME-Zarr multiscales metadata")
    pairs = [
        (s, a.get("unit"))
        for a, s in zip(meta["axes"], level0_scale(meta), strict=True)
        if a.get("type") != "channel"
    ]
    return [s for s, _ in pairs], [u for _, u in pairs]


def write_rgb(
    rgb: Any, path: str | os.PathLike[str], axes: list[Axis] | None = None, name: str = "colour"
) -> Path:
    """Write an RGB array (..., y, x, 3) as an OME-Zarr 0.5 image with a pyramid.

    Written beside ``path`` and moved into place when complete, so a failed write never leaves
    a half store where a good one was. ``axes`` describe the (..., y, x) part (default
    :func:`~napari_colorgan.core.io.axes.default_axes`).
    """
    import zarr

    path = Path(path)
    data = da.asarray(rgb)
    if data.ndim < 3 or data.shape[-1] != 3:
        raise ValueError(f"expected RGB (..., y, x, 3), got shape {data.shape}")
    if data.dtype != np.uint8:
        raise ValueError(f"expected uint8 RGB, got {data.dtype}: convert with to_uint8 first")
    axes = axes or default_axes(data.ndim - 1)
    check_axes(axes, data.ndim - 1)
    position = channel_position(axes)
    work = sibling(path, "writing")
    finish_replacement(path, work)  # a swap a crash cut short
    remove_path(work)
    group = zarr.open_group(str(work), mode="w")
    chunks = store_shape((*(1,) * (data.ndim - 3), 1024, 1024, 3), position)
    chunks = tuple(
        min(c, n) for c, n in zip(chunks, store_shape(data.shape, position), strict=True)
    )
    store_level(group, "0", to_store_order(data, position).rechunk(chunks), axes)
    write_pyramid(work, axes, name)
    zarr.open_group(str(work), mode="r+").attrs[FINGERPRINT_KEY] = {
        "layout": LAYOUT,
        "source": "an RGB array",
    }
    return replace_tree(work, path)
