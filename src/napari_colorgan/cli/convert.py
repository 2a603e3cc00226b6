"""``napari-colorgan convert``: an RGB result (an old store, a TIFF...) to OME-Zarr 0.5."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from napari_colorgan.cli._common import CLIError, require


def add_parser(sub: Any) -> None:
    """Register the ``convert`` subcommand."""
    p = sub.add_parser(
        "convert",
        help="rewrite a colour result (a 0.1 store, an RGB TIFF...) as OME-Zarr 0.5",
    )
    p.add_argument("input", help="finished colour store (.zarr) or RGB image (TIFF, PNG, NPY)")
    p.add_argument("-o", "--output", required=True, help="OUTPUT.ome.zarr")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=run)


def _colours(path: str) -> Any:
    """The RGB (..., y, x, 3) of a colour store (any layout this package wrote) or image."""
    from napari_colorgan.core.infer.ome import open_multiscale
    from napari_colorgan.core.io.images import open_image

    if Path(path, "zarr.json").is_file():
        try:
            return open_multiscale(path)[0]
        except (KeyError, ValueError):
            pass  # a plain zarr array, or someone else's store: read it as an image
    return open_image(path)


def run(args: argparse.Namespace) -> int:
    """Convert ``args.input`` into ``args.output``."""
    from napari_colorgan.core.infer.ome import store_name, write_rgb

    require(input=args.input)
    out = Path(args.output)
    if not out.name.endswith(".zarr"):
        raise CLIError(f"output {out.name}: use a .ome.zarr path")
    if out.exists() and not args.overwrite:
        raise CLIError(f"{out} exists: pass --overwrite to replace it")
    rgb = _colours(args.input)
    if rgb.ndim < 3 or rgb.shape[-1] != 3 or str(rgb.dtype) != "uint8":
        raise CLIError(
            f"{args.input}: expected 8-bit RGB (..., y, x, 3), got {rgb.dtype} {tuple(rgb.shape)}"
        )
    write_rgb(rgb, out, name=store_name(out))
    print(f"wrote {out}: OME-Zarr 0.5, colours as channel axis c")
    return 0
