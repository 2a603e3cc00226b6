"""Open images and stacks lazily from files or arrays: TIFF, zarr / OME-Zarr, NPY, PNG/JPEG, FITS.

Everything returns an array-like (numpy memmap, zarr array or dask array) that is read only where
indexed, so stacks larger than memory are never loaded whole.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .layout import arrange, ome_axes, series_letters, tiff_axes

#: File suffixes each reader handles (lower case).
TIFF_SUFFIXES = (".tif", ".tiff", ".btf")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".fits.gz"):
        return ".fits.gz"
    if name.endswith(".ome.zarr"):
        return ".zarr"
    return path.suffix.lower()


def _open_zarr(path: Path) -> Any:
    import zarr

    damaged = damaged_zarr_json(path)
    if damaged is not None:
        raise ValueError(damaged)  # zarr's own error is a bare JSON message naming no file

    node = zarr.open(str(path), mode="r")
    if isinstance(node, zarr.Array):
        return node
    # A group: OME-Zarr keeps the full-resolution level first in its multiscales metadata.
    attrs = dict(node.attrs)
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if multiscales:
        return _grey_channel(path, _full_resolution(path, node, multiscales[0]), multiscales[0])
    arrays = sorted(name for name, _ in node.arrays())
    if not arrays:
        raise ValueError(f"{path}: the zarr group holds no array")
    if len(arrays) > 1:
        # Taking the first silently colorized or trained on whichever sorted first.
        shown = ", ".join(arrays[:8]) + (", ..." if len(arrays) > 8 else "")
        raise ValueError(
            f"{path} is a zarr group holding {len(arrays)} arrays ({shown}): give the one to "
            f"use as a path inside it, e.g. {path / arrays[0]}"
        )
    return node[arrays[0]]


def damaged_zarr_json(path: Path) -> str | None:
    """One line naming a ``zarr.json`` (the group's or a level's) that is not valid JSON."""
    import json

    for meta in [path / "zarr.json", *sorted(path.glob("*/zarr.json"))]:
        if not meta.is_file():
            continue
        try:
            json.loads(meta.read_bytes())
        except (ValueError, UnicodeDecodeError) as err:
            return (
                f"{meta} is damaged: not valid JSON ({err}); restore it from a copy, or "
                "compute the store again (--overwrite)"
            )
    return None


def _full_resolution(path: Path, group: Any, meta: Any) -> Any:
    """The first dataset an OME-Zarr multiscales entry names, refused by name when absent."""
    try:
        name = meta["datasets"][0]["path"]
    except (KeyError, IndexError, TypeError):
        raise ValueError(
            f"{path}: its OME-Zarr multiscales metadata names no dataset: fix or rewrite it"
        ) from None
    if name not in group:
        raise ValueError(
            f"{path}: its multiscales metadata names the dataset {name!r}, which the store does "
            "not hold (renamed or deleted?)"
        )
    return group[name]


def _grey_channel(path: Path, array: Any, meta: dict[str, Any]) -> Any:
    """An OME-Zarr image as this package reads arrays: grey (..., y, x) or RGB (..., y, x, 3).

    Its axes are read by name: NGFF puts the channel axis before space and allows ``y, x, z``.
    """
    return arrange(array, ome_axes(meta, path), path)


def _check_tiff_complete(path: Path) -> tuple[str, str | None]:
    """Refuse a TIFF whose pixel data runs past the end of the file (a copy cut short).

    Otherwise it opens fine and fails at the first plane read beyond the cut, deep in a
    training or colorize run, with tifffile's "corrupted strip cannot be reshaped". A run
    opens the same file several times: the page scan is done once per file version. Returns
    the axis letters of the first series (``"ZCYX"``) and a note on how they are read.
    """
    stat = path.stat()
    return _check_tiff_version(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _check_tiff_version(name: str, size: int, _mtime_ns: int) -> tuple[str, str | None]:
    """:func:`_check_tiff_complete` for one version (path, size, mtime) of a file."""
    import tifffile

    path = Path(name)

    try:
        with tifffile.TiffFile(str(path)) as tif:
            ends = [
                offset + count
                for page in tif.pages
                for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False)
            ]
            # A contiguous series (what tifffile memory-maps) also says how far it must reach,
            # even when the pages beyond the cut cannot be listed any more.
            ends += [
                series.dataoffset + series.nbytes
                for series in tif.series
                if getattr(series, "dataoffset", None) is not None
            ]
            letters, note = series_letters(tif)
    except Exception as err:  # tifffile raises many kinds for a damaged header
        raise ValueError(f"{path}: not a readable TIFF ({err})") from None
    if ends and max(ends) > size:
        raise ValueError(
            f"{path}: the TIFF is truncated ({size:,} bytes, its pixel data needs "
            f"{max(ends):,}): the file was cut short (an interrupted copy or write?); copy "
            "or export it again"
        )
    return letters, note


def _open_tiff(path: Path) -> Any:
    import tifffile

    letters, shaped_note = _check_tiff_complete(path)
    try:
        array = tifffile.memmap(str(path), mode="r")
    except ValueError:
        # Compressed or tiled TIFFs cannot be memory-mapped: read them through zarr, lazily.
        import zarr

        store = tifffile.imread(str(path), aszarr=True)
        node = zarr.open(store, mode="r")
        array = node if isinstance(node, zarr.Array) else node["0"]
    # Interleaved RGB (samples last) is already this package's colour layout.
    if letters.endswith("YXS"):
        return array
    # By name: ImageJ's channels, OME-TIFF's time, a planar RGB's samples.
    axes, note = tiff_axes(letters, array.shape)
    for said in (shaped_note, note):
        if said is not None:
            warnings.warn(f"{path.name}: {said}", UserWarning, stacklevel=3)
    return arrange(array, axes, path)


def _open_fits(path: Path) -> Any:
    try:
        from astropy.io import fits
    except ImportError:
        raise ImportError(
            f"reading {path.name} needs astropy: pip install 'napari-colorgan[astro]'"
        ) from None
    # The stored numbers, memory-mapped: astropy refuses to memory-map scaled data (BZERO,
    # BSCALE, BLANK: unsigned integers are stored that way), so the scaling is applied here,
    # lazily, block by block.
    with fits.open(str(path), memmap=True, do_not_scale_image_data=True) as hdus:
        for hdu in hdus:
            if hdu.data is not None and hdu.data.ndim >= 2:
                return _fits_values(np.asarray(hdu.data), hdu.header)
    raise ValueError(f"{path}: no image HDU in the FITS file")


def _fits_values(raw: np.ndarray, header: Any) -> Any:
    """The physical values of stored FITS numbers: ``BZERO + BSCALE * raw``, BLANK as NaN.

    The unsigned convention (BZERO = 2**(bits-1), BSCALE = 1) gives unsigned integers of the
    same width, exactly; any other scaling gives float32.
    """
    import dask.array as da

    zero, scale = float(header.get("BZERO", 0)), float(header.get("BSCALE", 1))
    blank = header.get("BLANK") if raw.dtype.kind == "i" else None
    if zero == 0 and scale == 1 and blank is None:
        return raw
    lazy = da.from_array(
        raw, chunks=(*(1,) * (raw.ndim - 2), *(min(n, 2048) for n in raw.shape[-2:]))
    )
    bits = raw.dtype.itemsize * 8
    if raw.dtype.kind == "i" and scale == 1 and blank is None and zero == 2 ** (bits - 1):
        unsigned = np.dtype(f"u{raw.dtype.itemsize}")
        flip = unsigned.type(1 << (bits - 1))
        return lazy.map_blocks(
            lambda b: b.astype(b.dtype.newbyteorder("=")).view(unsigned) ^ flip, dtype=unsigned
        )

    def physical(block: np.ndarray) -> np.ndarray:
        out = block.astype(np.float32) * np.float32(scale) + np.float32(zero)
        if blank is not None:
            out[block == blank] = np.nan
        return out

    return lazy.map_blocks(physical, dtype=np.float32)


def open_image(source: Any) -> Any:
    """Open ``source`` as an array-like without reading it all.

    Parameters
    ----------
    source
        A path (TIFF/OME-TIFF, zarr/OME-Zarr, NPY, PNG/JPEG, FITS) or an array (numpy, dask,
        zarr), or a napari multiscale list (the full-resolution level is used).

    Returns
    -------
    array-like
        With ``shape``, ``dtype``, ``ndim`` and numpy indexing.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The format is unknown, or a zarr group holds several arrays and no multiscales
        metadata says which one is the image.
    """
    if isinstance(source, list | tuple) and source and hasattr(source[0], "shape"):
        return source[0]  # napari multiscale data: level 0 is full resolution
    if not isinstance(source, str | os.PathLike):
        if not hasattr(source, "shape"):
            return np.asarray(source)
        return source
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    suffix = _suffix(path)
    zarr_marks = ("zarr.json", ".zarray", ".zgroup")  # zarr v3, then v2
    if suffix == ".zarr" or (path.is_dir() and any((path / m).exists() for m in zarr_marks)):
        return _open_zarr(path)
    if suffix in TIFF_SUFFIXES:
        return _open_tiff(path)
    if suffix == ".npy":
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{path}: not a readable NPY array ({err})") from None
    if suffix in IMAGE_SUFFIXES:
        from skimage.io import imread

        try:
            return imread(str(path))
        except Exception as err:  # imageio's plugins raise many kinds for a non-image
            raise ValueError(
                f"{path}: not a readable {suffix[1:].upper()} image; is it really one? ({err})"
            ) from None
    if suffix in FITS_SUFFIXES:
        return _open_fits(path)
    raise ValueError(
        f"{path.name}: unknown image format {suffix!r}; use TIFF, zarr/OME-Zarr, NPY, PNG/JPEG "
        "or FITS"
    )
