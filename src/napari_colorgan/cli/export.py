"""``napari-colorgan export``: a model file as a bioimage.io model package."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from napari_colorgan.cli._common import CLIError, require


def add_parser(sub: Any) -> None:
    """Register the ``export`` subcommand."""
    p = sub.add_parser("export", help="write a model as a bioimage.io package (ONNX weights)")
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("--format", default="bioimageio", choices=("bioimageio",))
    p.add_argument("-o", "--output", required=True, help="NAME.zip")
    p.add_argument("--name", help="model name (default: the file's)")
    p.add_argument("--author", action="append", default=[], help="author name (repeatable)")
    p.add_argument("--license", default="CC-BY-4.0", help="SPDX licence id of the weights")
    p.add_argument("--description", help="one line: what the model colorizes")
    p.add_argument("--sample", help="grayscale image whose centre becomes the test input")
    p.add_argument("--overwrite", action="store_true", help="replace an existing package")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export ``args.model`` to ``args.output``."""
    import numpy as np

    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.model.bioimageio import export_bioimageio

    require(model_file=args.model, sample=args.sample)
    out = Path(args.output)
    if out.suffix != ".zip":
        raise CLIError(f"output {out.name}: a bioimage.io package is a .zip")
    if out.exists() and not args.overwrite:
        raise CLIError(f"{out} exists: pass --overwrite to replace it")
    sample = None
    if args.sample:
        data = open_image(args.sample)
        sample = np.asarray(data[(0,) * (data.ndim - 2)])  # the first plane
    path = export_bioimageio(
        args.model, out, name=args.name or Path(args.model).name.removesuffix(".safetensors"),
        authors=tuple(args.author), license_id=args.license, sample=sample,
        description=args.description,
    )  # fmt: skip
    print(f"wrote {path}: bioimage.io model package (format 0.5, ONNX weights), validated")
    return 0
