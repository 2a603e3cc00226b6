"""Plane selections such as ``"0:20"``, parsed and checked once for CLI, widgets and scripts."""

from __future__ import annotations

from typing import Any


def parse_slices(text: str | None) -> slice | None:
    """Turn ``"a:b"`` (either side optional) or ``"i"`` into a slice of the first axis.

    Parameters
    ----------
    text
        The selection as a person types it; None or blank selects everything.

    Returns
    -------
    slice or None
        None when nothing was typed.

    Raises
    ------
    ValueError
        The text is not of the form ``a:b`` or ``i``, or the range is empty.
    """
    if text is None or not text.strip():
        return None
    try:
        if ":" not in text:
            i = int(text)
            return slice(i, i + 1 if i != -1 else None)  # -1: the last plane, as in Python
        start, stop = (int(v) if v.strip() else None for v in text.split(":", 1))
    except ValueError:
        raise ValueError(f"slices {text!r}: expected a:b (e.g. 0:20) or one index") from None
    if start is not None and stop is not None and stop <= start:
        raise ValueError(f"slices {text!r} is an empty range")
    return slice(start, stop)


def select_planes(data: Any, selection: slice | None, plane_ndim: int = 2) -> Any:
    """``data[selection]`` along the first axis, refusing single planes and empty results.

    Parameters
    ----------
    data
        Array-like whose last ``plane_ndim`` axes form one plane (2 for grayscale, 3 for RGB).
    selection
        From :func:`parse_slices`; None returns ``data`` unchanged.
    plane_ndim
        Axes of one plane.

    Raises
    ------
    ValueError
        ``data`` is a single plane, or the selection picks no plane.
    """
    if selection is None:
        return data
    if data.ndim <= plane_ndim:
        raise ValueError(f"a slice range needs a stack; shape {tuple(data.shape)} is one plane")
    picked = data[selection]
    if picked.shape[0] == 0:
        raise ValueError(
            f"slices {selection.start}:{selection.stop} select no plane of {tuple(data.shape)}"
        )
    return picked
