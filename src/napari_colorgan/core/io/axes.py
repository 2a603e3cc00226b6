"""What an image's axes are: names, kinds, units and pixel sizes, read from the file when it says.

OME-Zarr multiscales metadata, OME-TIFF's OME-XML, ImageJ TIFF metadata, TIFF resolution tags
and a FITS header's celestial WCS (pixel scale in arcseconds) carry them; plain arrays get
defaults (``z`` for one leading axis, ``t, z`` for two). The colorized store carries them on
(OME-Zarr ``axes`` and ``scale``), so a result opens in napari or Fiji at the input's physical
size.
"""

from __future__ import annotations

import math
import os
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .layout import ome_axes, order, series_letters, tiff_axes

#: OME-XML / ImageJ unit spellings to the UDUNITS-2 names OME-Zarr requires.
_UNITS = {
    "µm": "micrometer", "um": "micrometer", "micron": "micrometer", "microns": "micrometer",
    "micrometer": "micrometer", "nm": "nanometer", "nanometer": "nanometer",
    "mm": "millimeter", "millimeter": "millimeter", "cm": "centimeter", "m": "meter",
    "å": "angstrom", "angstrom": "angstrom", "pm": "picometer", "s": "second",
    "ms": "millisecond", "min": "minute", "h": "hour", "sec": "second",
    "arcsec": "arcsecond", "arcsecond": "arcsecond",
}  # fmt: skip
#: The units OME-Zarr allows for space and time axes (UDUNITS-2 names).
OME_UNITS = frozenset(
    f"{prefix}{base}"
    for base in ("meter", "second")
    for prefix in (
        "", "yocto", "zepto", "atto", "femto", "pico", "nano", "micro", "milli", "centi",
        "deci", "deca", "hecto", "kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta",
    )
) | {"angstrom", "foot", "inch", "mile", "parsec", "yard", "day", "hour", "minute"}  # fmt: skip
#: TIFF ResolutionUnit (2 = inch, 3 = centimetre) in micrometres.
_RESOLUTION_UNIT_UM = {2: 25_400.0, 3: 10_000.0}


@dataclass(frozen=True)
class Axis:
    """One axis: ``name`` (t, c, z, y, x...), ``type`` (time, channel, space), size of a pixel."""

    name: str
    type: str
    scale: float = 1.0
    unit: str | None = None

    def to_ome(self) -> dict[str, str]:
        """The OME-Zarr ``axes`` entry."""
        entry = {"name": self.name, "type": self.type}
        return entry if self.unit is None else {**entry, "unit": self.unit}


def default_axes(ndim: int) -> list[Axis]:
    """Axes of a grayscale (..., y, x) with nothing known: ``z``, or ``t, z``, before y, x."""
    lead = {0: [], 1: ["z"], 2: ["t", "z"]}.get(ndim - 2)
    if lead is None:
        lead = [f"dim_{i}" for i in range(ndim - 2)]
    kinds = {"t": "time", "z": "space"}
    return [Axis(n, kinds.get(n, "space")) for n in lead] + [
        Axis("y", "space"),
        Axis("x", "space"),
    ]


def ome_unit(unit: Any) -> str | None:
    """A unit as OME-Zarr spells it, or None when unknown or absent."""
    if not unit:
        return None
    text = str(unit).strip()
    if text.lower() in OME_UNITS:
        return text.lower()
    return _UNITS.get(text.lower(), _UNITS.get(text))


def image_axes(source: Any, ndim: int) -> list[Axis]:
    """The axes of ``source`` (a path or an array) seen as a grayscale of ``ndim`` dimensions.

    Never fails: metadata that cannot be read or does not match ``ndim`` gives the defaults.
    """
    axes = None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            if path.is_dir():
                axes = _zarr_axes(path)
            elif path.suffix.lower() in (".tif", ".tiff", ".btf"):
                axes = _tiff_axes(path, ndim)
            elif path.name.lower().endswith((".fits", ".fit", ".fts", ".fits.gz")):
                axes = _fits_axes(path, ndim)
        except Exception:  # metadata is a courtesy: a bad tag must not stop a run
            axes = None
    if axes is not None:
        axes = [_sized(a, source) for a in axes if a.type != "channel"]  # grey channel dropped
    return axes if axes is not None and len(axes) == ndim else default_axes(ndim)


def _sized(axis: Axis, source: Any) -> Axis:
    """``axis``, its pixel size replaced by 1 (and said) when the file's is no size at all.

    0, negative, NaN or infinite sizes would be copied into the output, whose metadata napari
    and JSON readers then refuse.
    """
    if math.isfinite(axis.scale) and axis.scale > 0:
        return axis
    warnings.warn(
        f"{source}: the pixel size of axis {axis.name} is {axis.scale}, which is no size: "
        "1 (pixel) is used instead",
        UserWarning,
        stacklevel=3,
    )
    return Axis(axis.name, axis.type, 1.0, None)


def _zarr_axes(path: Path) -> list[Axis] | None:
    import zarr

    attrs = dict(zarr.open_group(str(path), mode="r").attrs)
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if not multiscales:
        return None
    meta = multiscales[0]
    entries = ome_axes(meta, path)
    scale = [1.0] * len(entries)
    for transform in meta["datasets"][0].get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            scale = [float(s) for s in transform["scale"]]
    axes = [
        Axis(a["name"], a.get("type", "space"), s, ome_unit(a.get("unit")))
        for a, s in zip(entries, scale, strict=True)
    ]
    return [axes[i] for i in order(entries)]  # as images.open_image arranges the array


def _tiff_axes(path: Path, ndim: int) -> list[Axis] | None:
    import tifffile

    with tifffile.TiffFile(str(path)) as tif:
        if tif.ome_metadata:
            sizes = _ome_xml_sizes(tif.ome_metadata)
        else:
            sizes = _imagej_sizes(tif)
        letters, _ = series_letters(tif)
        shape = tif.series[0].shape if tif.series else ()
    entries, _ = tiff_axes(letters, shape)
    named = [entries[i] for i in order(entries)]
    if len(named) == ndim and {"t", "z"} & {a["name"] for a in named[:-2]}:
        # The file names its planes (ImageJ's or OME's T and Z): those names, not a guess.
        axes = [Axis(a["name"], a["type"]) for a in named]
    else:
        axes = default_axes(ndim)
    if sizes is None:
        return axes if axes != default_axes(ndim) else None
    return [Axis(a.name, a.type, *sizes.get(a.name, (1.0, None))) for a in axes]


def _ome_xml_sizes(xml: str) -> dict[str, tuple[float, str | None]] | None:
    """PhysicalSizeX/Y/Z of the first image's Pixels in OME-XML (µm when no unit is given)."""
    root = ET.fromstring(xml)
    pixels = next((e for e in root.iter() if e.tag.endswith("Pixels")), None)
    if pixels is None:
        return None
    sizes = {}
    for name in ("x", "y", "z"):
        value = pixels.get(f"PhysicalSize{name.upper()}")
        if value is not None:
            unit = pixels.get(f"PhysicalSize{name.upper()}Unit", "µm")
            sizes[name] = (float(value), ome_unit(unit))
    return sizes or None


def _imagej_sizes(tif: Any) -> dict[str, tuple[float, str | None]] | None:
    """Pixel size from the resolution tags (ImageJ's unit, else ResolutionUnit), z spacing."""
    page = tif.pages[0]
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return None
    imagej = tif.imagej_metadata or {}
    per_unit = [tags[k].value[0] / tags[k].value[1] for k in ("XResolution", "YResolution")]
    if imagej.get("unit"):
        unit, factor = ome_unit(imagej["unit"]), 1.0
    else:
        code = int(getattr(tags.get("ResolutionUnit"), "value", 1))
        unit, factor = ("micrometer", _RESOLUTION_UNIT_UM[code]) if code in (2, 3) else (None, 1)
    if unit is None and not imagej:
        return None
    sizes = {"x": (factor / per_unit[0], unit), "y": (factor / per_unit[1], unit)}
    if imagej.get("spacing"):
        sizes["z"] = (float(imagej["spacing"]), unit)
    return sizes


def _fits_axes(path: Path, ndim: int) -> list[Axis] | None:
    """Pixel scale (arcseconds) of the first image HDU's celestial WCS (CDELT or CD matrix)."""
    from astropy.io import fits

    with fits.open(str(path), memmap=True, do_not_scale_image_data=True) as hdus:
        header = next((h.header for h in hdus if h.data is not None and h.data.ndim >= 2), None)
    if header is None:
        return None
    sizes = []
    for i in (1, 2):  # FITS axis 1 is x, axis 2 is y
        cd = [header.get(f"CD{i}_{j}") for j in (1, 2)]
        if any(v is not None for v in cd):
            degrees = float(np.hypot(*(v or 0.0 for v in cd)))
        elif header.get(f"CDELT{i}") is not None:
            degrees = abs(float(header[f"CDELT{i}"]))
        else:
            return None
        unit = str(header.get(f"CUNIT{i}", "deg")).strip().lower()
        if unit not in ("deg", "degree", "") or degrees <= 0:
            return None
        sizes.append(degrees * 3600)
    axes = default_axes(ndim)
    x, y = sizes
    return [*axes[:-2], Axis("y", "space", y, "arcsecond"), Axis("x", "space", x, "arcsecond")]
