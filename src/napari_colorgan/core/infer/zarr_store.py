"""Stream a colorization into an OME-Zarr 0.5 store, resumable after a crash.

Each output chunk is computed, written, and only then marked done in a small ``done`` array (one
flag per chunk, each its own zarr chunk so flags never share a file), kept in the store's
``napari_colorgan`` sub-group, away from the image's arrays. A rerun skips the flagged chunks, so
a crash or ``kill -9`` loses at most the chunks in flight, and a finished store is left
untouched. Memory stays bounded: only the chunks in flight are held. The layout (axes order,
metadata) is :mod:`.ome`'s.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import numpy as np

from ..events import Event, Finished, Progress, StopSignal, stop_requested
from ..io.atomic import remove_path
from ..io.axes import Axis, image_axes
from ..io.fingerprint import input_fingerprint
from ..model.colorizer import Colorizer
from ..progress import drive_chunks
from .graph import BlockMaker
from .job import ColorizeJob, ColorizeOptions, prepare
from .ome import (
    FINGERPRINT_KEY,
    LAYOUT,
    PYRAMID_MIN,
    channel_position,
    check_axes,
    create_level,
    level0_scale,
    multiscale_of,
    open_multiscale,
    store_shape,
    to_store_order,
    write_pyramid,
)
from .tiling import WINDOWS_LAYOUT

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The sub-group holding the resume flags (``done``), beside the image's levels.
BOOKKEEPING = "napari_colorgan"
__all__ = ["colorize_to_zarr", "colorize_to_zarr_iter", "open_multiscale"]


def _fingerprint(blocks: BlockMaker, job: ColorizeJob, axes: list[Axis]) -> dict[str, Any]:
    """What the store holds the result of: input content and selection, model and tiling.

    The axis names fix where the channel axis goes in the store, so a resume with other axes
    would write into the wrong layout: they are part of the identity.
    """
    selection = None if job.slices is None else [job.slices.start, job.slices.stop]
    return {
        "axes": [a.name for a in axes],
        "shape": list(blocks.shape),
        "chunks": [int(c[0]) for c in blocks.chunks],
        "model": job.payload.token,
        "tile": job.plan.tile,
        "overlap": job.plan.overlap,
        "windows": WINDOWS_LAYOUT,
        "input": input_fingerprint(job.source),
        "slices": selection,
        "layout": LAYOUT,
    }


#: How a fingerprint's entries are named to a person, in the order they are reported.
_DIFFERENCES = {
    "input": "input content",
    "slices": "--slices selection",
    "shape": "shape",
    "model": "model",
    "tile": "tiling",
    "overlap": "tiling",
    "windows": "tiling",
    "chunks": "chunking",
    "axes": "axis names",
}


def _differences(found: Any, wanted: dict[str, Any]) -> str:
    """The names of what differs between a store's fingerprint and this run's, or a reason."""
    if not isinstance(found, dict):
        return "it is not a napari-colorgan store"
    names = [name for key, name in _DIFFERENCES.items() if found.get(key) != wanted.get(key)]
    return "other " + ", ".join(dict.fromkeys(names))


def _read_fingerprint(path: Path) -> Any:
    """The fingerprint a store records, or None when ``path`` is not a store of ours."""
    import zarr

    try:
        return dict(zarr.open_group(str(path), mode="r").attrs).get(FINGERPRINT_KEY)
    except Exception:  # not a zarr group, or an unreadable one: not ours
        return None


def _old_layout_message(path: Path, found: Any) -> str | None:
    """The one-line refusal for a store napari-colorgan 0.1 wrote (channel-last), else None."""
    if not isinstance(found, dict) or "layout" in found:
        return None
    return (
        f"{path} was written by napari-colorgan 0.1 in its channel-last layout, which napari "
        "and OME-Zarr readers cannot open: pass overwrite=True (--overwrite) to compute it "
        f"anew, or, if it is finished, convert it with `napari-colorgan convert {path} -o "
        "NEW.ome.zarr`"
    )


def _open_store(
    path: Path,
    blocks: BlockMaker,
    fingerprint: dict[str, Any],
    resume: bool,
    overwrite: bool,
    axes: list[Axis],
) -> tuple[Any, Any]:
    """Create the store (or reopen a compatible one); return the level-0 and done arrays."""
    import zarr

    grid = tuple(len(c) for c in blocks.chunks[:-1])
    if path.exists() and not overwrite:
        if not path.is_dir():
            raise ValueError(
                f"{path} is a file, not a zarr store: choose another output or pass "
                "overwrite=True (--overwrite) to replace it"
            )
        found = _read_fingerprint(path)
        old = _old_layout_message(path, found)
        if old is not None:
            raise ValueError(old)
        if found != fingerprint:
            raise ValueError(
                f"{path} already exists and holds another result "
                f"({_differences(found, fingerprint)}): choose another output or pass "
                "overwrite=True (--overwrite)"
            )
        if not resume:
            raise ValueError(f"{path} exists: pass resume=True to finish it or overwrite=True")
        group = zarr.open_group(str(path), mode="r+")
        return group["0"], group[f"{BOOKKEEPING}/done"]
    if path.exists():
        remove_path(path)
    group = zarr.open_group(str(path), mode="w")
    position = channel_position(axes)
    shape, chunks = (
        store_shape(blocks.shape, position),
        store_shape(fingerprint["chunks"], position),
    )
    level0 = create_level(group, "0", shape, chunks, axes)
    done = group.create_group(BOOKKEEPING).create_array(
        "done", shape=grid, chunks=(1,) * len(grid), dtype="u1", fill_value=0
    )
    group.attrs[FINGERPRINT_KEY] = fingerprint
    return level0, done


def _replacement(path: Path) -> Path:
    """Where ``overwrite=True`` builds the new store, beside the one it will replace."""
    return path.with_name(f".{path.name}.new")


def _swap_in(new: Path, path: Path) -> None:
    """Put the finished store ``new`` in the place of ``path``, deleting the old one last.

    Two renames: a crash between them leaves both stores beside an empty ``path``, never a
    half-written result in its place.
    """
    old = path.with_name(f".{path.name}.old")
    if old.exists():
        remove_path(old)
    os.replace(path, old)
    os.replace(new, path)
    remove_path(old)


def _finish_interrupted_swap(path: Path) -> None:
    """Complete a :func:`_swap_in` that a crash cut between its two renames.

    Then ``path`` is missing while ``.NAME.old`` (the previous result) and ``.NAME.new`` (the
    finished new one: it is only swapped in once finished) both exist.
    """
    old, new = path.with_name(f".{path.name}.old"), _replacement(path)
    if not path.exists() and old.exists() and new.exists():
        os.replace(new, path)
        remove_path(old)


def _chunk_slices(blocks: BlockMaker, index: tuple[int, ...], position: int) -> tuple[slice, ...]:
    """Where chunk ``index`` of the channel-last graph goes in the store-order array."""
    starts = [sum(c[:i]) for c, i in zip(blocks.chunks[:-1], index, strict=True)]
    spans = [slice(s, s + c[i]) for s, c, i in zip(starts, blocks.chunks[:-1], index, strict=True)]
    return (*spans[:position], slice(None), *spans[position:])


def colorize_to_zarr_iter(
    data: Any,
    store: str | os.PathLike[str],
    colorizer: Colorizer | str | os.PathLike[str],
    *,
    resume: bool = True,
    overwrite: bool = False,
    pyramid: bool = True,
    stop: StopSignal | None = None,
    parallel: int | None = None,
    axes: list[Axis] | None = None,
    **options: Unpack[ColorizeOptions],
) -> Iterator[Event]:
    """Colorize into a zarr store chunk by chunk, yielding :class:`Progress` events.

    Parameters
    ----------
    data, colorizer, **options
        As for :func:`~napari_colorgan.core.infer.graph.colorize` (``tile``, ``overlap``,
        ``batch_size``, ``device``, ``precision``, ``worker_resources``, ``block_size``).
    store
        Directory of the zarr v3 store (``.zarr`` / ``.ome.zarr``).
    resume
        Finish a store a previous run left incomplete, computing only its missing chunks.
    overwrite
        Replace an existing store (or file), whatever it holds. The new store is written
        beside it (``.NAME.new``) and swapped in only once finished, so a run that fails or is
        stopped leaves the previous result intact; rerunning finishes the one beside.
    pyramid
        Also write 2x-downsampled levels. The OME-Zarr metadata (axes, scale, RGB channels)
        is written either way, once the store is finished.
    stop
        Set it to stop cleanly between chunks; rerun with ``resume=True`` to finish.
    parallel
        Chunks computed at once (default: the dask scheduler's worker count, at least 2).
    axes
        Names, units and pixel sizes of the input's axes (..., y, x) for the OME-Zarr
        metadata; default: read from ``data`` when it is a path (OME-Zarr, OME-TIFF, ImageJ
        TIFF), else ``z`` / ``t, z`` before y, x with unit pixel size.

    Yields
    ------
    Event
        :class:`Planned` (the tiling and why), :class:`Progress` after each written chunk,
        then :class:`Finished` with the path.
    """
    path = Path(store)
    _finish_interrupted_swap(path)
    # A rerun finishes a store (or an overwrite's replacement) with the tiling it began with.
    options, adopted = _stored_tiling(_replacement(path) if overwrite else path, options)
    job = prepare(data, colorizer, **options)
    # Blocks are made group by group as they are written: the graph of the whole stack is never
    # held, so memory does not grow with the number of planes.
    blocks = BlockMaker(job)
    axes = axes or image_axes(data, blocks.ndim - 1)  # names, units, pixel sizes carried over
    check_axes(axes, blocks.ndim - 1)
    fingerprint = _fingerprint(blocks, job, axes)
    position = channel_position(axes)
    # Overwriting builds the new store beside the old one, which stays until the new one is
    # finished: a run that fails or is stopped loses nothing. A rerun finishes that beside store.
    work = _replacement(path) if overwrite and path.exists() else path
    fresh = overwrite and (work == path or _read_fingerprint(work) != fingerprint)
    level0, done = _open_store(work, blocks, fingerprint, resume or work != path, fresh, axes)
    yield job.planned(
        f"the tiling {path.name} was started with, to finish it" if adopted else None
    )
    # One read of the flags (each is its own small file in the store).
    flags = np.asarray(done[...]).astype(bool)
    finished, stopped = yield from _write_chunks(
        blocks, level0, done, flags, stop, parallel, position
    )
    if stopped:
        yield Finished(finished, path, stopped=True)
        return
    if not (flags.all() and _pyramid_written(work, pyramid)):  # a rerun of a finished job
        name = path.name.removesuffix(".zarr").removesuffix(".ome")
        write_pyramid(work, axes, name, downsample=pyramid)
    if work != path:
        _swap_in(work, path)
    yield Finished(finished, path)


def _stored_tiling(path: Path, options: ColorizeOptions) -> tuple[ColorizeOptions, bool]:
    """``options`` with the tile of the store at ``path``, when the caller named none.

    The second value says whether the store's tiling was taken.

    The default window depends on the machine's memory: a resume on another machine, or with
    another device, would otherwise choose other windows and be refused as another result.
    """
    found = _read_fingerprint(path) if path.is_dir() else None
    if options.get("tile") is not None or not isinstance(found, dict) or "tile" not in found:
        return options, False
    overlap = options.get("overlap")
    overlap = found["overlap"] if overlap is None else overlap
    return {**options, "tile": found["tile"], "overlap": overlap}, True


def _pyramid_written(path: Path, pyramid: bool) -> bool:
    """Whether the store's metadata (and, when asked for, its pyramid) was written already.

    The metadata is written last, after the pyramid's levels, so its presence means both are
    complete.
    """
    import zarr

    group = zarr.open_group(str(path), mode="r")
    meta = multiscale_of(group)
    if meta is None:
        return False
    levels = len(meta["datasets"])
    small = max(group["0"].shape[-2:]) <= PYRAMID_MIN
    return not pyramid or levels > 1 or small


def _write_chunks(
    blocks: BlockMaker,
    level0: Any,
    done: Any,
    flags: np.ndarray,
    stop: StopSignal | None,
    parallel: int | None,
    position: int,
) -> Generator[Event, None, tuple[int, bool]]:
    """Compute and write the chunks not flagged in ``flags`` (``done`` as read at the start).

    Returns (chunks done, stopped).
    """
    todo = [i for i in itertools.product(*(range(n) for n in flags.shape)) if not flags[i]]
    total, skipped = flags.size, int(flags.sum())
    t0 = time.perf_counter()
    yield Progress(skipped, total, skipped, 0.0)
    # Enough chunks in flight to keep every worker busy while others write.
    group_size = parallel or 2 * max(2, _workers())
    finished = skipped
    for start in range(0, len(todo), group_size):
        if stop_requested(stop):
            return finished, True
        batch = todo[start : start + group_size]
        # Each task computes and writes its own chunk, so writing overlaps other chunks'
        # compute; a chunk is flagged done only after its task (and so its write) returned.
        tasks = [
            dask.delayed(_write_chunk, pure=False)(
                blocks(i), level0, _chunk_slices(blocks, i, position), position
            )
            for i in batch
        ]
        dask.compute(*tasks)
        for index in batch:
            done[index] = 1
            finished += 1
            yield Progress(finished, total, skipped, time.perf_counter() - t0)
    return finished, False


def _write_chunk(block: np.ndarray, target: Any, where: tuple[slice, ...], position: int) -> None:
    """Write one computed block (y, x, 3) into the store-order level-0 array at ``where``.

    Chunk-aligned, so no lock is needed.
    """
    lead = len(where) - 3  # the plane's leading axes: length 1 each in the chunk
    target[where] = to_store_order(block[(None,) * lead], position)


def colorize_to_zarr(
    data: Any,
    store: str | os.PathLike[str],
    colorizer: Colorizer | str | os.PathLike[str],
    *,
    progress: bool = False,
    **options: Any,
) -> Path:
    """Run :func:`colorize_to_zarr_iter` to the end and return the store's path.

    ``options`` are those of :func:`colorize_to_zarr_iter`; ``progress=True`` shows a tqdm bar
    (chunks, with rate and ETA).
    """
    events = colorize_to_zarr_iter(data, store, colorizer, **options)
    for _event in drive_chunks(events) if progress else events:
        pass
    return Path(store)


def _workers() -> int:
    try:
        from distributed import get_client

        return sum(get_client().nthreads().values())
    except (ImportError, ValueError):
        return os.cpu_count() or 2


def store_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a colour store holds: layout, axes, levels and how much of it is done.

    Keys: ``layout`` (``"ome-zarr-0.5"``, ``"0.1"`` or ``"unknown"``), ``finished``,
    ``chunks_done`` / ``chunks`` (None when there are no resume flags), ``axes`` (OME entries
    with ``scale``), ``levels`` (shapes in store order), ``model`` (content token or None),
    ``tiling`` (``tile`` and ``overlap`` in px, or None).
    """
    import zarr

    group = zarr.open_group(str(path), mode="r")
    attrs = dict(group.attrs)
    ours = attrs.get(FINGERPRINT_KEY)
    layout = "unknown" if not isinstance(ours, dict) else ours.get("layout", "0.1")
    flags_path = f"{BOOKKEEPING}/done" if layout == LAYOUT else "done"
    try:
        flags = np.asarray(group[flags_path][...]).astype(bool)
    except KeyError:
        flags = None
    meta = multiscale_of(group)
    axes, levels = [], []
    if meta is not None:
        axes = [{**a, "scale": s} for a, s in zip(meta["axes"], level0_scale(meta), strict=True)]
        levels = [list(group[d["path"]].shape) for d in meta["datasets"]]
    return {
        "layout": layout,
        "finished": meta is not None and (flags is None or bool(flags.all())),
        "chunks_done": None if flags is None else int(flags.sum()),
        "chunks": None if flags is None else int(flags.size),
        "axes": axes,
        "levels": levels,
        "model": ours.get("model") if isinstance(ours, dict) else None,
        "tiling": {k: ours.get(k) for k in ("tile", "overlap")}
        if isinstance(ours, dict)
        else None,
    }
