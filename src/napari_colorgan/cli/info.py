"""``napari-colorgan info``: what a model file holds."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``info`` subcommand."""
    p = sub.add_parser("info", help="print what a model file holds")
    p.add_argument("model", help="a napari-colorgan model file (.safetensors)")
    p.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the model's architecture and its stored settings."""
    from napari_colorgan.core.model.file import read_metadata

    meta = read_metadata(args.model)
    if args.json:
        print(json.dumps(meta, indent=2, sort_keys=True))
        return 0
    from napari_colorgan.core.model.colorizer import Colorizer

    model = Colorizer.load(args.model)
    print(f"{args.model}: napari-colorgan model (format {meta['format_version']})")
    print(f"  architecture  {model.describe()}")
    for section in ("model", "normalization", "training", "provenance"):
        if meta[section]:
            print(f"  {section:<13} {json.dumps(meta[section], sort_keys=True)}")
    return 0
