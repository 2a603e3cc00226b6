"""``napari-colorgan evaluate``: compare a colorization with ground truth."""

from __future__ import annotations

import argparse
import json
from typing import Any

from napari_colorgan.cli._common import CLIError, require


def add_parser(sub: Any) -> None:
    """Register the ``evaluate`` subcommand."""
    p = sub.add_parser("evaluate", help="compare a colorization with ground truth")
    p.add_argument("pred", help="predicted RGB image or stack")
    p.add_argument("target", help="ground-truth RGB image or stack")
    p.add_argument("--mask", help="pixels to score (non-zero = scored)")
    p.add_argument("--slices", help="planes of the first axis, e.g. 20:30")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the metrics as a table or JSON."""
    import numpy as np

    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.io.selection import parse_slices, select_planes
    from napari_colorgan.core.metrics import evaluate, format_table

    for path, what in ((args.pred, "prediction"), (args.target, "target"), (args.mask, "mask")):
        require(path, what)
    pred, target = open_image(args.pred), open_image(args.target)
    mask = open_image(args.mask) if args.mask else None
    if pred.shape != target.shape:
        raise CLIError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    if mask is not None and tuple(mask.shape) != tuple(pred.shape[:-1]):
        raise CLIError(f"mask {mask.shape} does not match the images' planes {pred.shape[:-1]}")
    sel = parse_slices(args.slices)
    pred, target = select_planes(pred, sel, 3), select_planes(target, sel, 3)
    mask = None if mask is None else select_planes(mask, sel)
    results = evaluate(
        np.asarray(pred), np.asarray(target), None if mask is None else np.asarray(mask) > 0
    )
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0
