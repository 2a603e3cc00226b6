"""Turn annotations into colour targets: label colours tint the grayscale.

A Labels layer (or label stack) plus a palette ``{label: (r, g, b)}`` becomes an RGB target with
the label colour's chroma and the grayscale's own lightness — the look of hand-colourised EM
figures — and a mask of the annotated pixels. Label 0 means "not annotated".
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .color import lab_to_rgb, rgb_to_lab

Palette = Mapping[int, tuple[int, int, int]]


def read_palette(path: str | os.PathLike[str]) -> dict[int, tuple[int, int, int]]:
    """Read a palette JSON file mapping label ids to ``[r, g, b]`` (0–255).

    Raises
    ------
    ValueError
        Malformed JSON, non-integer ids or colours that are not three values in 0–255.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object mapping label ids to [r, g, b]")
    try:
        return check_palette({_label_id(k, path): v for k, v in raw.items()})
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _label_id(key: Any, where: Any) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: label id {key!r} is not an integer") from None


def check_palette(palette: Mapping[Any, Any]) -> dict[int, tuple[int, int, int]]:
    """Validate a palette and return it as ``{int: (r, g, b)}`` with 0–255 integers."""
    out: dict[int, tuple[int, int, int]] = {}
    for key, colour in palette.items():
        try:
            values = np.asarray(colour, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(
                f"label {key}: colour {colour!r} is not [r, g, b] in 0-255 (a name such as "
                "'red' is not understood: give its numbers, e.g. [255, 0, 0])"
            ) from None
        if values.size == 4:
            values = values[:3]  # RGBA, as a viewer colormap gives it: alpha is not a colour
        if values.size != 3 or np.any(values < 0) or np.any(values > 255):
            raise ValueError(f"label {key}: colour {colour!r} is not [r, g, b] in 0-255")
        out[_label_id(key, "palette")] = tuple(round(float(v)) for v in values)  # type: ignore[misc]
    return out


def palette_lut(palette: Palette, max_label: int) -> tuple[np.ndarray, np.ndarray]:
    """Tables indexed by label: Lab chroma ``ab`` (n, 2) and ``known`` (n,), "has a colour".

    Read-only and made once per palette and size: training tints every patch with them, and
    making them (a colour conversion per label) took about a tenth of a class model's step.
    """
    items = tuple(sorted((int(k), tuple(int(c) for c in v)) for k, v in palette.items()))
    return _palette_lut(items, int(max_label))


@functools.lru_cache(maxsize=32)
def _palette_lut(
    items: tuple[tuple[int, tuple[int, int, int]], ...], max_label: int
) -> tuple[np.ndarray, np.ndarray]:
    ab = np.zeros((max_label + 1, 2), np.float32)
    known = np.zeros(max_label + 1, bool)
    for label, colour in items:
        if 0 < label <= max_label:
            rgb = torch.tensor(colour, dtype=torch.float64).view(1, 3, 1, 1) / 255
            ab[label] = rgb_to_lab(rgb)[0, 1:, 0, 0].numpy()
            known[label] = True
    ab.flags.writeable = known.flags.writeable = False  # shared by every caller
    return ab, known


def tint(
    gray01: np.ndarray, labels: np.ndarray, palette: Palette
) -> tuple[np.ndarray, np.ndarray]:
    """Colour target and mask from a normalised grayscale plane and its labels.

    Parameters
    ----------
    gray01
        Grayscale in [0, 1], shape (..., y, x); its lightness is kept (L = 100·gray).
    labels
        Integer labels of the same shape; 0 = not annotated.
    palette
        ``{label: (r, g, b)}``; every non-zero label present must have a colour.

    Returns
    -------
    rgb, mask
        float32 RGB (..., y, x, 3) in [0, 1] and the boolean annotated mask (..., y, x).
        Unannotated pixels are gray.
    """
    labels = np.asarray(labels)
    if labels.shape != gray01.shape:
        raise ValueError(f"labels {labels.shape} and image {gray01.shape} differ in shape")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.min(initial=0) < 0:
        raise ValueError("labels must be >= 0 (0 = not annotated)")
    top = int(labels.max(initial=0))
    ab_lut, known = palette_lut(palette, top)
    present = np.flatnonzero(
        np.bincount(labels.ravel().astype(np.intp, copy=False), minlength=top + 1)
    )
    uncoloured = [int(v) for v in present if v > 0 and not known[v]]
    if uncoloured:
        raise ValueError(f"labels {uncoloured[:10]} have no colour in the palette")
    mask = labels > 0
    lab = np.empty((*labels.shape, 3), np.float32)
    lab[..., 0] = 100 * np.asarray(gray01, np.float32)
    lab[..., 1:] = ab_lut[labels]
    rgb = lab_to_rgb(torch.from_numpy(lab), dim=-1).numpy()
    return rgb.astype(np.float32), mask


def labels_palette_from_colormap(colors: Mapping[int, Any]) -> dict[int, tuple[int, int, int]]:
    """Palette from a napari Labels layer's ``{label: RGBA float}`` colour mapping (0 dropped)."""
    # napari stores RGBA floats in [0, 1].
    scaled = {k: np.asarray(v, float)[:3] * 255 for k, v in colors.items() if k and int(k) > 0}
    return check_palette(scaled)
