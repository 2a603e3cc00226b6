"""The pixel size a model was trained at, and the pyramid level that matches it.

A model learns structures at the scale of its training pixels. Its file records that size
(``training["pixel_size"]``: y and x sizes and their unit) when the training data said it (an
OME-Zarr scale, OME-TIFF or ImageJ sizes, a napari layer's scale and units). A colour layer
then knows which level of a pyramid shows the exact colorization: the one whose pixels are
closest to the training pixels (level 0 when either size is unknown or the units differ in
kind).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: Lengths in metres, by OME-Zarr unit name.
_METRES = {
    "angstrom": 1e-10, "picometer": 1e-12, "nanometer": 1e-9, "micrometer": 1e-6,
    "millimeter": 1e-3, "centimeter": 1e-2, "meter": 1.0,
}  # fmt: skip


def pixel_size_record(axes: Sequence[Any]) -> dict[str, Any] | None:
    """``{"y": size, "x": size, "unit": unit}`` of the last two axes, or None if unknown.

    Sizes of 1 without a unit are napari's and numpy's default, not a measurement.
    """
    if len(axes) < 2:
        return None
    y, x = axes[-2], axes[-1]
    if y.unit is None and x.unit is None and y.scale == 1.0 and x.scale == 1.0:
        return None
    return {"y": float(y.scale), "x": float(x.scale), "unit": x.unit or y.unit}


def _comparable(size: float, unit: str | None, to: str | None) -> float | None:
    """``size`` in unit ``unit`` expressed in ``to``, or None when they cannot be compared."""
    if unit == to:
        return size
    if unit in _METRES and to in _METRES:
        return size * _METRES[unit] / _METRES[to]
    return None


def matching_level(
    level_sizes: Sequence[float], unit: str | None, trained: dict[str, Any] | None
) -> int:
    """The level whose x pixel size is nearest (by ratio) to the training pixel size.

    Parameters
    ----------
    level_sizes
        The x pixel size of each level, full resolution first, in ``unit``.
    unit
        Their unit (None: pixels).
    trained
        The model's ``pixel_size`` record, or None.
    """
    if not trained or not level_sizes:
        return 0
    size = _comparable(float(trained["x"]), trained.get("unit"), unit)
    if size is None or size <= 0 or any(s <= 0 for s in level_sizes):
        return 0
    ratios = [abs(math.log(s / size)) for s in level_sizes]
    return int(min(range(len(ratios)), key=ratios.__getitem__))


def describe(record: dict[str, Any] | None) -> str:
    """A pixel-size record as a person reads it: ``4 nanometer``."""
    if not record:
        return "unknown"
    return f"{record['x']:g} {record.get('unit') or 'px'}"


def exact_level(widths: Sequence[int], pixel: tuple[float, str | None], model: Any) -> int:
    """The pyramid level (by its widths, full resolution first) matching ``model``'s training.

    ``pixel`` is level 0's x pixel size and unit; the model's record is in its ``training``.
    """
    trained = (getattr(model, "training", None) or {}).get("pixel_size")
    sizes = [pixel[0] * widths[0] / w for w in widths]
    return matching_level(sizes, pixel[1], trained)
