"""A colour store's completeness read from what it holds, not only from its flags.

The ``done`` flags say which chunks a run finished. A chunk file deleted by hand (or lost with a
disk) leaves its flag set, and zarr reads the hole as black; emptied or edited ``multiscales``
metadata leaves a store napari cannot open. Both are checked cheaply, from the store's listing
and attributes (no chunk is read): flagged chunks whose file is missing or empty are computed
again, and metadata that does not describe the levels is written again.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .ome import FINGERPRINT_KEY, LAYOUT, level0_scale, multiscale_of

#: The sub-group of a colour store holding its resume flags (``done``), beside its levels.
STORE_BOOKKEEPING = "napari_colorgan"


def stored_keys(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` as a key relative to it (``c/0/1/2``) with its size."""
    keys: dict[str, int] = {}
    for root, _dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in files:
            key = (rel / name).as_posix()
            keys[key] = (Path(root) / name).stat().st_size
    return keys


def chunk_index(index: tuple[int, ...], position: int) -> tuple[int, ...]:
    """A ``done`` flag's index as the store-order chunk index (the colour axis is one chunk)."""
    return (*index[:position], 0, *index[position:])


def missing_chunks(
    folder: Path, level0: Any, flags: np.ndarray, position: int
) -> list[tuple[int, ...]]:
    """Flagged ``done`` indices whose level-0 chunk file is absent or empty."""
    stored = stored_keys(folder / "0")
    missing = []
    for index in zip(*np.nonzero(flags), strict=True):
        flag = tuple(int(i) for i in index)
        key = level0.metadata.encode_chunk_key(chunk_index(flag, position))
        if stored.get(key, 0) == 0:
            missing.append(flag)
    return missing


def recheck_flags(
    folder: Path, level0: Any, done: Any, flags: np.ndarray, position: int
) -> np.ndarray:
    """``flags`` with the chunks that are flagged but not stored cleared (in ``done`` too).

    The run then computes them again, and says so in one warning.
    """
    missing = missing_chunks(folder, level0, flags, position)
    if not missing:
        return flags
    flags = flags.copy()
    for index in missing:
        flags[index] = False
        done[index] = 0
    warnings.warn(
        f"{folder.name}: {len(missing)} chunk(s) marked done are missing from the store "
        f"(deleted or lost, e.g. plane {missing[0][:-2] or (0,)}): computing them again",
        UserWarning,
        stacklevel=3,
    )
    return flags


def metadata_fits(group: Any, meta: dict[str, Any] | None) -> bool:
    """Whether ``meta`` (a multiscales entry) describes the store's levels: a readable entry."""
    if not isinstance(meta, dict):
        return False
    axes, datasets = meta.get("axes"), meta.get("datasets")
    if not isinstance(axes, list) or not isinstance(datasets, list) or not datasets:
        return False
    for dataset in datasets:
        try:
            level = group[dataset["path"]]
            scale = dataset["coordinateTransformations"][0]["scale"]
        except (KeyError, TypeError, IndexError):
            return False
        if len(level.shape) != len(axes) or len(scale) != len(axes):
            return False
    return True


def foreign_ome_version(group: Any) -> str | None:
    """The NGFF version of an OME-Zarr image napari-colorgan did not write, or None."""
    attrs = dict(group.attrs)
    if "ome" in attrs and isinstance(attrs["ome"], dict) and attrs["ome"].get("multiscales"):
        return str(attrs["ome"].get("version", "0.5"))
    if attrs.get("multiscales"):
        entry = attrs["multiscales"][0]
        return str(entry.get("version", "0.4") if isinstance(entry, dict) else "0.4")
    return None


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
    flags_path = f"{STORE_BOOKKEEPING}/done" if layout == LAYOUT else "done"
    try:
        flags = np.asarray(group[flags_path][...]).astype(bool)
    except KeyError:
        flags = None
    meta = multiscale_of(group)
    if not metadata_fits(group, meta):
        meta = None
    elif flags is not None and layout == LAYOUT:
        flags = flags.copy()
        position = [a.get("type") for a in meta["axes"]].index("channel")
        for index in missing_chunks(Path(path), group["0"], flags, position):
            flags[index] = False
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
