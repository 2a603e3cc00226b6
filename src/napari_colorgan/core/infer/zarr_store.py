"""Stream a colorization into an OME-Zarr 0.5 store, resumable after a crash.

Each output chunk is computed, written, and only then marked done in a small ``done`` array (one
flag per chunk, each its own zarr chunk so flags never share a file), kept in the store's
``napari_colorgan`` sub-group, away from the image's arrays. A rerun skips the flagged chunks, so
a crash or ``kill -9`` loses at most the chunks in flight, and a finished store is left
untouched. Memory stays bounded: only the chunks in flight are held. The layout (axes order,
metadata) is :mod:`.ome`'s.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import numpy as np

from ..events import Event, Finished, Progress, StopSignal, stop_requested
from ..io.atomic import finish_replacement, replace_tree
from ..io.axes import Axis, image_axes
from ..io.fingerprint import input_fingerprint
from ..io.images import damaged_zarr_json
from ..io.lock import writer_lock
from ..model.colorizer import Colorizer
from ..model.config import class_palette
from ..progress import drive_chunks
from .config import ColorizeConfig
from .graph import BlockMaker
from .job import ColorizeJob, as_colorizer, prepare
from .ome import (
    FINGERPRINT_KEY,
    LAYOUT,
    PYRAMID_MIN,
    check_axes,
    multiscale_of,
    open_multiscale,
    store_name,
    write_pyramid,
)
from .ome_labels import (
    class_map_complete,
    open_confidence,
    write_class_pyramid,
    write_confidence_pyramid,
)
from .store_arrays import Targets, create_store, open_store
from .store_check import STORE_BOOKKEEPING, metadata_fits, recheck_flags
from .store_fate import IF_EXISTS, IfExists, check_not_input, decide, replacement

#: The sub-group holding the resume flags (``done``), beside the image's levels.
BOOKKEEPING = STORE_BOOKKEEPING
__all__ = ["ZarrTarget", "colorize_to_zarr", "colorize_to_zarr_iter", "open_multiscale"]


@dataclass(frozen=True)
class ZarrTarget:
    """Where and how a colorization is stored.

    Parameters
    ----------
    path
        Directory of the zarr v3 store (``.zarr`` / ``.ome.zarr``).
    if_exists
        When ``path`` exists: ``"resume"`` finishes it if it holds this very result (input,
        model, tiling), computing only its missing chunks; ``"fail"`` refuses; ``"overwrite"``
        replaces whatever is there: the new store is built beside it (``.NAME.new``) and swapped
        in only once finished, so a run that fails or is stopped leaves the previous result
        intact, and rerunning finishes the one beside.
    axes
        Names, units and pixel sizes of the input's axes (..., y, x) for the OME-Zarr
        metadata; default: read from the input when it is a path (OME-Zarr, OME-TIFF, ImageJ
        TIFF), else ``z`` / ``t, z`` before y, x with unit pixel size.
    pyramid
        Also write 2x-downsampled levels. The OME-Zarr metadata (axes, scale, RGB channels) is
        written either way, once the store is finished.
    classes
        Also write the class map of a model trained on labels, as the OME-Zarr image-label
        ``labels/classes`` (label ids and colours as painted). None: whenever the model has
        classes.
    confidence
        Also write the model's confidence in each pixel's class (a class model's top class
        probability) as the image ``confidence`` of the store, uint8 (probability × 255).
    """

    path: Path
    if_exists: IfExists = "resume"
    axes: tuple[Axis, ...] | None = None
    pyramid: bool = True
    classes: bool | None = None
    confidence: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if self.axes is not None:
            object.__setattr__(self, "axes", tuple(self.axes))
        if self.if_exists not in IF_EXISTS:
            raise ValueError(
                f"if_exists must be one of {', '.join(IF_EXISTS)}, got {self.if_exists!r}"
            )


def _fingerprint(
    blocks: BlockMaker, job: ColorizeJob, axes: list[Axis], confidence: bool = False
) -> dict[str, Any]:
    """What the store holds the result of: input content and selection, model and tiling.

    The axis names fix where the channel axis goes in the store, so a resume with other axes
    would write into the wrong layout: they are part of the identity.
    """
    selection = job.config.selection
    return {
        "axes": [a.name for a in axes],
        "shape": list(blocks.shape),
        "chunks": [int(c[0]) for c in blocks.chunks],
        "model": job.payload.token,
        **job.plan.record(),
        "input": input_fingerprint(job.source),
        "slices": None if selection is None else [selection.start, selection.stop],
        "layout": LAYOUT,
        **({"confidence": True} if confidence else {}),
    }


def read_fingerprint(path: Path) -> Any:
    """The fingerprint a store records, or None when ``path`` is not a store of ours."""
    import zarr

    if not path.is_dir():
        return None
    try:
        return dict(zarr.open_group(str(path), mode="r").attrs).get(FINGERPRINT_KEY)
    except Exception:  # not a zarr group, or an unreadable one: not ours
        return None


def _chunk_slices(blocks: BlockMaker, index: tuple[int, ...], position: int) -> tuple[slice, ...]:
    """Where chunk ``index`` of the channel-last graph goes in the store-order array."""
    starts = [sum(c[:i]) for c, i in zip(blocks.chunks[:-1], index, strict=True)]
    spans = [slice(s, s + c[i]) for s, c, i in zip(starts, blocks.chunks[:-1], index, strict=True)]
    return (*spans[:position], slice(None), *spans[position:])


def colorize_to_zarr_iter(
    data: Any,
    target: ZarrTarget | str | os.PathLike[str],
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None = None,
    stop: StopSignal | None = None,
) -> Iterator[Event]:
    """Colorize into a zarr store chunk by chunk, yielding events.

    Parameters
    ----------
    data, colorizer, config
        As for :func:`~napari_colorgan.core.infer.graph.colorize`.
    target
        The store: a path (finished if it holds this result, created if absent) or a
        :class:`ZarrTarget` saying what to do if it exists, its axes and whether to add a
        pyramid.
    stop
        Set it to stop cleanly between chunks; rerun to finish.

    Yields
    ------
    Event
        :class:`Planned` (the tiling, why, and any warning), :class:`Progress` after each
        written chunk, then :class:`Finished` with the path.
    """
    target = target if isinstance(target, ZarrTarget) else ZarrTarget(Path(target))
    check_not_input(data, target.path)
    with writer_lock(target.path):  # one writer per store: two would mix their chunks
        yield from _colorize_locked(data, target, colorizer, config, stop)


def _colorize_locked(
    data: Any,
    target: ZarrTarget,
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None,
    stop: StopSignal | None,
) -> Iterator[Event]:
    """:func:`colorize_to_zarr_iter` once its store's lock is held."""
    path, beside = target.path, replacement(target.path)
    finish_replacement(path, beside)  # a swap a crash cut short
    damaged = damaged_zarr_json(path) if path.is_dir() else None
    if damaged is not None and target.if_exists != "overwrite":
        raise ValueError(damaged)  # else it would be taken for someone else's store
    found, found_beside = read_fingerprint(path), read_fingerprint(beside)
    # A rerun finishes a store (or an overwrite's replacement) with the tiling it began with.
    stored = found_beside if target.if_exists == "overwrite" else found
    model = as_colorizer(colorizer)
    config = _with_classes(config or ColorizeConfig(), model, target)
    job = prepare(data, model, config, stored if isinstance(stored, dict) else None)
    # Blocks are made group by group as they are written: the graph of the whole stack is never
    # held, so memory does not grow with the number of planes.
    blocks = BlockMaker(job)
    axes = list(target.axes or image_axes(data, blocks.ndim - 1))  # names, units, pixel sizes
    check_axes(axes, blocks.ndim - 1)
    fingerprint = _fingerprint(blocks, job, axes, target.confidence)
    fate = decide(path, fingerprint, target.if_exists, found, found_beside)
    work = beside if fate.beside else path
    if fate.creates:
        targets, done = create_store(work, blocks, fingerprint, axes, target.confidence)
    else:
        targets, done = open_store(work, blocks, axes, target.confidence)
    yield job.planned()
    # One read of the flags (each is its own small file in the store), checked against the
    # chunks the store holds: a flag whose chunk file was deleted is cleared, not trusted.
    flags = np.asarray(done[...]).astype(bool)
    if not fate.creates:
        flags = recheck_flags(work, targets.colour, done, flags, targets.position)
    finished, stopped = yield from _write_chunks(
        blocks, targets, done, flags, stop, job.config.parallel
    )
    if stopped:
        yield Finished(finished, path, stopped=True)
        return
    classes, sure = targets.classes is not None, targets.confidence is not None
    if not (flags.all() and _pyramid_written(work, target.pyramid, classes, sure)):  # not a rerun
        levels = write_pyramid(work, axes, store_name(path), downsample=target.pyramid)
        if classes:
            palette = class_palette(job.model.config)
            write_class_pyramid(work, axes, levels, palette)
        if targets.confidence is not None:
            write_confidence_pyramid(work, axes, levels)
    if fate.beside:
        replace_tree(work, path)
    yield Finished(finished, path)


def _with_classes(config: ColorizeConfig, model: Colorizer, target: ZarrTarget) -> ColorizeConfig:
    """``config`` computing class maps when asked, or (None) whenever the model has classes."""
    wanted = target.classes
    if wanted is None:
        wanted = bool(model.config.classes) or target.confidence
    if target.confidence and target.classes is False:
        raise ValueError("the confidence is that of the class map: leave classes on")
    return dataclasses.replace(config, classes=wanted)


def _pyramid_written(
    path: Path, pyramid: bool, classes: bool = False, confidence: bool = False
) -> bool:
    """Whether the store's metadata (and, when asked for, its pyramid) was written already.

    The metadata is written last, after the pyramid's levels, so its presence means both are
    complete; the class map's likewise.
    """
    import zarr

    group = zarr.open_group(str(path), mode="r")
    meta = multiscale_of(group)
    if not metadata_fits(group, meta) or (classes and not class_map_complete(path)):
        return False  # absent, emptied or edited: written again
    if confidence and open_confidence(path) is None:
        return False
    levels = len(meta["datasets"])
    small = max(group["0"].shape[-2:]) <= PYRAMID_MIN
    return not pyramid or levels > 1 or small


def _write_chunks(
    blocks: BlockMaker,
    targets: Targets,
    done: Any,
    flags: np.ndarray,
    stop: StopSignal | None,
    parallel: int | None,
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
            dask.delayed(targets.write, pure=False)(
                blocks(i), _chunk_slices(blocks, i, targets.position)
            )
            for i in batch
        ]
        dask.compute(*tasks)
        for index in batch:
            done[index] = 1
            finished += 1
            yield Progress(finished, total, skipped, time.perf_counter() - t0)
    return finished, False


def colorize_to_zarr(
    data: Any,
    store: ZarrTarget | str | os.PathLike[str],
    colorizer: Colorizer | str | os.PathLike[str],
    config: ColorizeConfig | None = None,
    **options: Any,
) -> Path:
    """Run :func:`colorize_to_zarr_iter` to the end and return the store's path.

    ``options`` are settings of ``config`` to change (``tile=256``...), fields of
    :class:`ZarrTarget` (``if_exists``, ``axes``, ``pyramid``, ``classes``, ``confidence``),
    ``stop``, and
    ``progress=True``
    for a tqdm bar (chunks, with rate and ETA).
    """
    progress = options.pop("progress", False)
    stop = options.pop("stop", None)
    names = ("if_exists", "axes", "pyramid", "classes", "confidence")
    fields = {k: options.pop(k) for k in names if k in options}
    if isinstance(store, ZarrTarget):
        target = dataclasses.replace(store, **fields)
    else:
        target = ZarrTarget(Path(store), **fields)
    config = ColorizeConfig.create(config, **options)
    events = colorize_to_zarr_iter(data, target, colorizer, config, stop)
    for _event in drive_chunks(events) if progress else events:
        pass
    return target.path


def _workers() -> int:
    try:
        from distributed import get_client

        return sum(get_client().nthreads().values())
    except (ImportError, ValueError):
        return os.cpu_count() or 2
