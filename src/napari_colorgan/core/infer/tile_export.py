"""Export what a view-driven colour layer shows: a region, or everything, from the same tiles.

The tiles of :class:`~napari_colorgan.core.infer.tiles.TileSource` at level 0 are written into
an OME-Zarr store, cut to the region asked for: the pixels exported are the pixels the layer
shows there (tiles already in the view's cache are taken as they are, the others computed
with the same plan). As :mod:`.zarr_store` does, each tile is flagged done once written, so a
stopped or killed export resumes where it was, and ``if_exists`` says what to do with a store
already at the path. Tiles are written one at a time, by the generator's thread: a region's
edge cuts through the store's chunks, so two writers could overwrite each other's halves.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..events import Event, Finished, Planned, Progress, StopSignal, stop_requested
from ..io.atomic import finish_replacement, remove_path, replace_tree
from ..io.axes import Axis, image_axes
from ..io.fingerprint import input_fingerprint
from ..io.lock import writer_lock
from ..model.config import class_palette, label_ids
from .ome import (
    FINGERPRINT_KEY,
    LAYOUT,
    channel_position,
    check_axes,
    create_level,
    store_name,
    store_shape,
    to_store_order,
    write_pyramid,
)
from .ome_labels import CLASSES, LABELS, create_class_level, open_level, write_class_pyramid
from .payload import model_payload
from .store_fate import check_not_input, decide, replacement
from .tiles import TileCache, TileKey, TileSource
from .zarr_store import BOOKKEEPING, ZarrTarget, read_fingerprint

Region = tuple[int, int, int, int]


def export_tiles_iter(
    source: TileSource,
    target: ZarrTarget,
    region: Region | None = None,
    cache: TileCache | None = None,
    stop: StopSignal | None = None,
) -> Iterator[Event]:
    """Write level 0's colour of ``region`` of every plane into an OME-Zarr store, tile by tile.

    Parameters
    ----------
    source
        The tiles (the colour layer's own, so the export equals what it shows).
    target
        The store, what to do if it exists, the input's axes, whether to add a pyramid.
    region
        Rows and columns ``(y0, y1, x0, x1)`` of level 0 to export (None: the whole plane).
        The store records it as a translation, so it opens where it was cut from.
    cache
        Tiles already computed (a view's): taken as they are, and left as they were.
    stop
        Set it to stop between tiles; rerun to finish.

    Yields
    ------
    Event
        :class:`Planned`, :class:`Progress` after each tile, then :class:`Finished`.
    """
    check_not_input(source.levels[0], target.path)
    with writer_lock(target.path):  # one writer per store, as colorize_to_zarr
        yield from _export_locked(source, target, region, cache, stop)


def _export_locked(
    source: TileSource,
    target: ZarrTarget,
    region: Region | None,
    cache: TileCache | None,
    stop: StopSignal | None,
) -> Iterator[Event]:
    """:func:`export_tiles_iter` once its store's lock is held."""
    full = source.levels[0].shape
    region = check_region(region, full[-2:])
    planes = list(itertools.product(*(range(n) for n in full[:-2])))
    tiles = source.covering(0, region[:2], region[2:])
    axes = list(target.axes or image_axes(source.levels[0], len(full)))
    check_axes(axes, len(full))
    wanted = _fingerprint(source, region, axes)
    path, beside = target.path, replacement(target.path)
    finish_replacement(path, beside)  # a swap a crash cut short
    fate = decide(path, wanted, target.if_exists, read_fingerprint(path), read_fingerprint(beside))
    work = beside if fate.beside else path
    shape = (*full[:-2], region[1] - region[0], region[3] - region[2], 3)
    grid = (len(planes), len(tiles))
    lut = label_ids(source.model.config) if wanted.get("classes") else None
    level0, classes, done = (_create if fate.creates else _open)(
        work, shape, grid, wanted, axes, lut
    )
    plan = source.plan(0)
    yield Planned(plan.describe(), plan.why, plan.notice)
    flags = np.asarray(done[...]).astype(bool)  # (planes, tiles)
    total, skipped, t0 = flags.size, int(flags.sum()), time.perf_counter()
    yield Progress(skipped, total, skipped, 0.0)
    finished, position = skipped, channel_position(axes)
    for (p, plane), (t, (r, c)) in itertools.product(enumerate(planes), enumerate(tiles)):
        if flags[p, t]:
            continue
        if stop_requested(stop):
            yield Finished(finished, path, stopped=True)
            return
        where = _write_tile(source, cache, TileKey(0, plane, r, c), region, level0, position)
        if classes is not None:  # a class model's layer: its class map too
            classes[where[0]] = lut[where[1]]
        done[p, t] = 1
        finished += 1
        yield Progress(finished, total, skipped, time.perf_counter() - t0)
    origin = (region[0], region[2])
    levels = write_pyramid(work, axes, store_name(path), target.pyramid, origin=origin)
    if classes is not None:
        palette = class_palette(source.model.config)
        write_class_pyramid(work, axes, levels, palette, origin=origin)
    if fate.beside:
        replace_tree(work, path)
    yield Finished(finished, path)


def check_region(region: Region | None, plane: tuple[int, ...]) -> Region:
    """``region`` as four ints inside a plane of ``plane`` (y, x) px; None: the whole plane."""
    height, width = (int(n) for n in plane)
    if region is None:
        return 0, height, 0, width
    y0, y1, x0, x1 = (int(v) for v in region)
    if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
        raise ValueError(
            f"the region rows {y0}:{y1}, columns {x0}:{x1} is empty or leaves the "
            f"{height}x{width} px plane"
        )
    return y0, y1, x0, x1


def _fingerprint(source: TileSource, region: Region, axes: list[Axis]) -> dict[str, Any]:
    """What the store holds: input, model, windows, tiles and region."""
    return {
        "axes": [a.name for a in axes],
        "model": model_payload(source.model).token,
        **source.plan(0).record(),
        "tile_side": source.side,
        "input": input_fingerprint(source.levels[0]),
        "region": list(region),
        "layout": LAYOUT,
        # Colour finer than the model's pixels is its exact level's, upsampled (older stores,
        # all at level 0, keep their fingerprint).
        **({"exact_level": source.exact} if source.exact else {}),
        # A class model's layer (tiles with class indices): the class map is exported too.
        **({"classes": True} if source.plan(0).channels == 5 else {}),
    }


def _create(
    path: Path,
    shape: tuple[int, ...],
    grid: tuple[int, int],
    wanted: dict,
    axes: list[Axis],
    lut: np.ndarray | None,
) -> tuple[Any, Any, Any]:
    """An empty store: level 0 (store order), the class map (with ``lut``) and the flags."""
    import zarr

    remove_path(path)
    group = zarr.open_group(str(path), mode="w")
    position = channel_position(axes)
    chunks = (*(1 for _ in shape[:-3]), 512, 512, 3)
    level0 = create_level(
        group, "0", store_shape(shape, position), store_shape(chunks, position), axes
    )
    classes = None
    if lut is not None:
        classes = create_class_level(group, shape[:-1], chunks[:-1], axes, lut.dtype)
    # One writer: the flags of a plane share a chunk.
    done = group.create_group(BOOKKEEPING).create_array(
        "done", shape=grid, chunks=(1, grid[1]), dtype="u1", fill_value=0
    )
    group.attrs[FINGERPRINT_KEY] = wanted
    return level0, classes, done


def _open(path: Path, *_args: Any) -> tuple[Any, Any, Any]:
    """A store holding this export, opened to finish it."""
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    classes = open_level(group, f"{LABELS}/{CLASSES}")
    return group["0"], classes, group[f"{BOOKKEEPING}/done"]


def _write_tile(
    source: TileSource,
    cache: TileCache | None,
    key: TileKey,
    region: Region,
    level0: Any,
    position: int,
) -> tuple[tuple[slice, ...], np.ndarray]:
    """Write tile ``key``'s colour, cut to ``region``, where it lies in the store.

    Returns where its pixels lie in a plane-shaped array (no channel axis) and their class
    indices, if the tiles have them (else an empty array).
    """
    found = None if cache is None else cache.get(key)
    tile = source.compute(key) if found is None else found  # the view's cache is left as is
    ty0, ty1, tx0, tx1 = source.region(key)
    y0, y1, x0, x1 = region
    a, b, c, d = max(ty0, y0), min(ty1, y1), max(tx0, x0), min(tx1, x1)
    # The colour: a class model's tiles also carry its class index and confidence.
    part = tile[a - ty0 : b - ty0, c - tx0 : d - tx0, :3][(None,) * len(key.plane)]
    plane = (*(slice(i, i + 1) for i in key.plane), slice(a - y0, b - y0), slice(c - x0, d - x0))
    where = (*plane[:position], slice(None), *plane[position:])
    level0[where] = to_store_order(part, position)
    if tile.shape[-1] < 5:
        return plane, np.empty(0, np.uint8)
    return plane, tile[a - ty0 : b - ty0, c - tx0 : d - tx0, 3][(None,) * len(key.plane)]
