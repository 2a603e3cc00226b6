"""Where a file's planes, rows, columns and channels are: axes read by their names.

This package reads a grayscale as (..., y, x) and colour as (..., y, x, 3). Files say otherwise:
OME-Zarr names its axes (version 0.4 and later as entries with a type, 0.3 as bare names) and
allows ``y, x, z``; tifffile names a TIFF series' axes with letters (ImageJ ``TZCYXS``, OME-TIFF
``TCZYX``, ``SYX`` for a planar RGB). :func:`arrange` turns a stored array into this package's
layout by those names, lazily: a channel axis of 1 is dropped, one of 3 becomes the colour
axis, any other count is refused; the other axes keep their order, with y and x moved last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: OME-Zarr 0.3 axis names (bare strings) to their types.
_KINDS = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
#: tifffile's axis letters to names; ``S`` (samples of a pixel) is a channel too.
_TIFF_NAMES = {"T": "t", "Z": "z", "C": "c", "S": "c", "Y": "y", "X": "x"}


def ome_axes(meta: dict[str, Any], where: Any) -> list[dict[str, Any]]:
    """A multiscales entry's axes as ``{"name", "type"}`` entries (0.3's bare names too).

    Raises
    ------
    ValueError
        An entry is neither a name nor a mapping with one.
    """
    axes = []
    for entry in meta.get("axes", []):
        if isinstance(entry, str):
            axes.append({"name": entry, "type": _KINDS.get(entry.lower(), "space")})
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            axes.append(entry)
        else:
            raise ValueError(
                f"{where}: the OME-Zarr axis entry {entry!r} is neither a name nor "
                '{"name": ..., "type": ...}: fix the multiscales metadata'
            )
    return axes


def series_letters(tif: Any) -> tuple[str, str | None]:
    """The axis letters of ``tif``'s first series as this package reads them, and a note.

    tifffile writes an array of shape (3 or 4, y, x) as a planar RGB(A) unless told otherwise
    (a default it has deprecated), keeping the array's shape in its description: such a file
    is read as the planes it was written from, and the note says so.
    """
    if not tif.series:
        return "", None
    letters, shape = tif.series[0].axes.upper(), tif.series[0].shape
    if tif.is_shaped and "S" in letters and not letters.endswith("S"):
        count = shape[letters.index("S")]
        note = (
            f"its tags say planar RGB, but tifffile wrote it from an array of shape "
            f"{tuple(shape)}: read as {count} grey planes (save colour as (y, x, 3) to be read "
            "as colour)"
        )
        return letters.replace("S", "Q"), note
    return letters, None


def tiff_axes(letters: str, shape: Sequence[int]) -> tuple[list[dict[str, Any]], str | None]:
    """Series axis letters (``"ZCYX"``) as entries, and how an unclear one is read.

    A lone channel axis (``CYX``, as tifffile writes any 3-d OME-TIFF or ImageJ file whose
    axes were not given) is read as planes, and the note says so; channels beside planes
    (``ZCYX``) stay channels. Samples (``S``) are colour by the file's tags: a planar RGB.
    """
    letters, note = letters.upper(), None
    planes = [c for c in letters if c not in "CSYX"]
    if "C" in letters and not planes and shape[letters.index("C")] > 1:
        count = shape[letters.index("C")]
        note = (
            f"its {count} channels (axes {letters}) are read as {count} grey planes; "
            "save it with axes ZYX (or TYX) to say so"
        )
        letters = letters.replace("C", "Q")
    elif "S" in letters and not letters.endswith("S"):
        note = (
            "its tags say RGB stored as separate colour planes (planar RGB): read as one "
            "colour image (y, x, 3); a stack of 3 grey planes must be saved with "
            "photometric='minisblack'"
        )
    axes = []
    for letter in letters:
        name = _TIFF_NAMES.get(letter, letter.lower())
        kind = {"t": "time", "c": "channel"}.get(name, "space")
        axes.append({"name": name, "type": kind})
    return axes, note


def order(axes: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of the non-channel axes in this package's order: others as stored, then y, x."""
    kept = [i for i, a in enumerate(axes) if a.get("type") != "channel"]
    names = [str(axes[i]["name"]).lower() for i in kept]
    if "y" not in names or "x" not in names:
        return kept  # unnamed: the last two are taken as y, x
    y, x = kept[names.index("y")], kept[names.index("x")]
    return [i for i in kept if i not in (y, x)] + [y, x]


def arrange(array: Any, axes: Sequence[dict[str, Any]], where: Any) -> Any:
    """``array`` (stored with ``axes``) as grey (..., y, x) or colour (..., y, x, 3), lazily.

    Returned unchanged when it already is; a memory map stays a memory map (numpy views),
    anything else becomes a dask array.

    Raises
    ------
    ValueError
        Several channel axes, or a channel count other than 1 or 3.
    """
    if len(axes) != array.ndim:
        return array  # metadata that does not fit the array: the caller's defaults apply
    channels = [i for i, a in enumerate(axes) if a.get("type") == "channel"]
    if len(channels) > 1:
        raise ValueError(f"{where} has {len(channels)} channel axes: give one grayscale image")
    keep = order(axes)
    take: list[Any] = [slice(None)] * array.ndim
    colour: list[int] = []
    if channels:
        at, count = channels[0], array.shape[channels[0]]
        if count == 1:
            take[at] = 0
        elif count == 3:
            colour = [at]
        else:
            raise ValueError(
                f"{where} has {count} channels: give one grayscale channel (or three, RGB); "
                "write the channel to use as its own image"
            )
    permutation = keep + colour
    if permutation == list(range(array.ndim)):
        return array
    lazy = array if isinstance(array, np.ndarray) else _dask(array)
    if channels and not colour:
        lazy = lazy[tuple(take)]
        permutation = [i - (i > channels[0]) for i in keep]
    return lazy.transpose(permutation)


def _dask(array: Any) -> Any:
    import dask.array as da

    return da.from_zarr(array) if hasattr(array, "store") else da.asarray(array)
