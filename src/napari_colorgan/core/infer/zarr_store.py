"""Stream a colorization into a zarr v3 store (OME-Zarr multiscales), resumable after a crash.

Each output chunk is computed, written, and only then marked done in a small ``done`` array (one
flag per chunk, each its own zarr chunk so flags never share a file). A rerun skips the flagged
chunks, so a crash or ``kill -9`` loses at most the chunks in flight, and a finished store is
left untouched. Memory stays bounded: only the chunks in flight are held.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from ..events import Event, Finished, Progress, StopSignal, stop_requested
from ..io.fingerprint import input_fingerprint
from ..model.colorizer import Colorizer
from ..progress import drive_chunks
from .graph import build_graph
from .job import ColorizeJob, ColorizeOptions, prepare

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The store's attribute holding what was computed, to refuse mixing runs.
FINGERPRINT_KEY = "napari_colorgan"
#: Downsample until both sides are at most this many pixels.
PYRAMID_MIN = 256


def _fingerprint(lazy: da.Array, job: ColorizeJob) -> dict[str, Any]:
    """What the store holds the result of: input content and selection, model and tiling."""
    selection = None if job.slices is None else [job.slices.start, job.slices.stop]
    return {
        "shape": list(lazy.shape),
        "chunks": [int(c[0]) for c in lazy.chunks],
        "model": job.payload.token,
        "tile": job.plan.tile,
        "overlap": job.plan.overlap,
        "input": input_fingerprint(job.source),
        "slices": selection,
    }


#: How a fingerprint's entries are named to a person, in the order they are reported.
_DIFFERENCES = {
    "input": "input content",
    "slices": "--slices selection",
    "shape": "shape",
    "model": "model",
    "tile": "tiling",
    "overlap": "tiling",
    "chunks": "chunking",
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


def _remove(path: Path) -> None:
    """Delete a store (a folder) or whatever file stands in its place."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _open_store(
    path: Path, lazy: da.Array, fingerprint: dict[str, Any], resume: bool, overwrite: bool
) -> tuple[Any, Any]:
    """Create the store (or reopen a compatible one); return the level-0 and done arrays."""
    import zarr

    grid = tuple(len(c) for c in lazy.chunks[:-1])
    if path.exists() and not overwrite:
        if not path.is_dir():
            raise ValueError(
                f"{path} is a file, not a zarr store: choose another output or pass "
                "overwrite=True (--overwrite) to replace it"
            )
        found = _read_fingerprint(path)
        if found != fingerprint:
            raise ValueError(
                f"{path} already exists and holds another result "
                f"({_differences(found, fingerprint)}): choose another output or pass "
                "overwrite=True (--overwrite)"
            )
        if not resume:
            raise ValueError(f"{path} exists: pass resume=True to finish it or overwrite=True")
        group = zarr.open_group(str(path), mode="r+")
        return group["0"], group["done"]
    if path.exists():
        _remove(path)
    group = zarr.open_group(str(path), mode="w")
    level0 = group.create_array(
        "0", shape=lazy.shape, chunks=fingerprint["chunks"], dtype="u1", fill_value=0
    )
    done = group.create_array(
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
        _remove(old)
    os.replace(path, old)
    os.replace(new, path)
    _remove(old)


def _finish_interrupted_swap(path: Path) -> None:
    """Complete a :func:`_swap_in` that a crash cut between its two renames.

    Then ``path`` is missing while ``.NAME.old`` (the previous result) and ``.NAME.new`` (the
    finished new one: it is only swapped in once finished) both exist.
    """
    old, new = path.with_name(f".{path.name}.old"), _replacement(path)
    if not path.exists() and old.exists() and new.exists():
        os.replace(new, path)
        _remove(old)


def _chunk_slices(lazy: da.Array, index: tuple[int, ...]) -> tuple[slice, ...]:
    starts = [sum(c[:i]) for c, i in zip(lazy.chunks[:-1], index, strict=True)]
    spans = zip(starts, lazy.chunks[:-1], index, strict=True)
    return (*(slice(s, s + c[i]) for s, c, i in spans), slice(None))


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
        Also write 2x-downsampled levels and OME-Zarr multiscales metadata (for napari).
    stop
        Set it to stop cleanly between chunks; rerun with ``resume=True`` to finish.
    parallel
        Chunks computed at once (default: the dask scheduler's worker count, at least 2).

    Yields
    ------
    Event
        :class:`Progress` after each written chunk, then :class:`Finished` with the path.
    """
    path = Path(store)
    _finish_interrupted_swap(path)
    job = prepare(data, colorizer, **options)
    lazy = build_graph(job)
    fingerprint = _fingerprint(lazy, job)
    # Overwriting builds the new store beside the old one, which stays until the new one is
    # finished: a run that fails or is stopped loses nothing. A rerun finishes that beside store.
    work = _replacement(path) if overwrite and path.exists() else path
    fresh = overwrite and (work == path or _read_fingerprint(work) != fingerprint)
    level0, done = _open_store(work, lazy, fingerprint, resume or work != path, fresh)
    finished, stopped = yield from _write_chunks(lazy, level0, done, stop, parallel)
    if stopped:
        yield Finished(finished, path, stopped=True)
        return
    if pyramid:
        write_pyramid(work, lazy.shape)
    if work != path:
        _swap_in(work, path)
    yield Finished(finished, path)


def _write_chunks(
    lazy: da.Array, level0: Any, done: Any, stop: StopSignal | None, parallel: int | None
) -> Generator[Event, None, tuple[int, bool]]:
    """Compute and write the chunks not flagged done; returns (chunks done, stopped)."""
    flags = np.asarray(done[...]).astype(bool)
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
                lazy.blocks[(*i, 0)], level0, _chunk_slices(lazy, i)
            )
            for i in batch
        ]
        dask.compute(*tasks)
        for index in batch:
            done[index] = 1
            finished += 1
            yield Progress(finished, total, skipped, time.perf_counter() - t0)
    return finished, False


def _write_chunk(block: np.ndarray, target: Any, where: tuple[slice, ...]) -> None:
    """Write one computed chunk into the level-0 array (chunk-aligned: no lock needed)."""
    target[where] = block


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


def write_pyramid(path: Path, shape: tuple[int, ...]) -> int:
    """Write 2x-downsampled levels ``1, 2, ...`` and OME-Zarr multiscales; return how many."""
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    lead = len(shape) - 3
    level = da.from_zarr(group["0"])
    paths = ["0"]
    while max(level.shape[-3:-1]) > PYRAMID_MIN and min(level.shape[-3:-1]) >= 2:
        axes = {lead: 2, lead + 1: 2}
        even = level[
            (
                ...,
                slice(0, level.shape[-3] // 2 * 2),
                slice(0, level.shape[-2] // 2 * 2),
                slice(None),
            )
        ]
        level = da.coarsen(np.mean, even.astype(np.float32), axes).round().astype(np.uint8)
        name = str(len(paths))
        level.to_zarr(str(path / name), overwrite=True)
        level = da.from_zarr(str(path / name))
        paths.append(name)
    axes_meta = [{"name": f"dim_{i}", "type": "space"} for i in range(lead)]
    axes_meta += [
        {"name": "y", "type": "space"},
        {"name": "x", "type": "space"},
        {"name": "c", "type": "channel"},
    ]
    datasets = [
        {
            "path": p,
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0] * lead + [2.0**i, 2.0**i, 1.0]}
            ],
        }
        for i, p in enumerate(paths)
    ]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [{"axes": axes_meta, "datasets": datasets}],
    }
    return len(paths)


def open_multiscale(path: str | os.PathLike[str]) -> list[Any]:
    """The levels of a store written here, full resolution first (napari's multiscale data)."""
    import zarr

    group = zarr.open_group(str(path), mode="r")
    meta = dict(group.attrs).get("ome", {}).get("multiscales")
    names = [d["path"] for d in meta[0]["datasets"]] if meta else ["0"]
    return [group[n] for n in names]
