"""``napari-colorgan evaluate``: compare a colorization with colour ground truth or labels."""

from __future__ import annotations

import argparse
import json
from typing import Any

from napari_colorgan.cli._common import CLIError, require, require_palette_with_labels


def add_parser(sub: Any) -> None:
    """Register the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate", help="compare a colorization with colour ground truth or painted labels"
    )
    p.add_argument("pred", help="predicted RGB image or stack (an OME-Zarr: its full resolution)")
    p.add_argument("target", nargs="?", help="ground-truth RGB image or stack")
    p.add_argument("--labels", help="score against painted labels instead (0 = not annotated)")
    p.add_argument("--palette", help="JSON mapping label ids to [r, g, b], with --labels")
    p.add_argument(
        "--classes",
        action="store_true",
        help="PRED is a class map (label ids; a colour store: its labels/classes), scored "
        "against --labels class by class: IoU, F1, accuracy, confusion (no palette needed)",
    )
    p.add_argument("--mask", help="pixels to score (non-zero = scored), with TARGET")
    p.add_argument("--slices", help="planes of the first axis, e.g. 20:30")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _check_sources(args: argparse.Namespace) -> None:
    if (args.target is None) == (args.labels is None):
        raise CLIError("give either TARGET (colour ground truth) or --labels with --palette")
    if args.classes and args.labels is None:
        raise CLIError("--classes scores a class map against --labels: give --labels")
    if not args.classes:
        require_palette_with_labels(args.labels, args.palette)
    if args.labels is not None and args.mask is not None:
        raise CLIError("--mask goes with TARGET: with --labels, the painted pixels are scored")
    require(
        prediction=args.pred,
        target=args.target,
        labels=args.labels,
        palette=args.palette,
        mask=args.mask,
    )
    _check_finished(args.pred)


def _check_finished(path: str) -> None:
    """Refuse a colour store of ours that is not finished: its missing chunks read as black."""
    from pathlib import Path

    from napari_colorgan.core.infer.store_check import store_summary
    from napari_colorgan.core.infer.zarr_store import read_fingerprint

    if not isinstance(read_fingerprint(Path(path)), dict):
        return  # not a store of ours: nothing says what was computed
    summary = store_summary(path)
    done, total = summary["chunks_done"], summary["chunks"]
    if total is not None and done < total:
        raise CLIError(
            f"{path} is not finished: {done} of {total} chunks computed, the others would be "
            "scored as black; finish it first (rerun the same colorize command)"
        )


def run(args: argparse.Namespace) -> int:
    """Print the metrics as a table or JSON."""
    _check_sources(args)
    if args.classes:
        return _class_map(args)
    if args.labels is not None:
        return _against_labels(args)
    import numpy as np

    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.io.selection import parse_slices, select_planes
    from napari_colorgan.core.metrics import evaluate, format_table

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


def _against_labels(args: argparse.Namespace) -> int:
    """Score against labels: colour metrics, class accuracy, per-label rows, confusion."""
    from napari_colorgan.core.annotations import read_palette
    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.io.selection import parse_slices, select_planes
    from napari_colorgan.core.label_metrics import evaluate_labels
    from napari_colorgan.core.metrics import format_table

    sel = parse_slices(args.slices)
    pred = select_planes(open_image(args.pred), sel, 3)
    labels = select_planes(open_image(args.labels), sel)
    scores = evaluate_labels(pred, labels, read_palette(args.palette))
    if args.json:
        doc = {
            "metrics": scores.metrics,
            "per_class": {str(k): v for k, v in scores.per_class.items()},
            "labels": list(scores.labels),
            "confusion": scores.confusion.tolist(),
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(format_table(dict(scores.rows())))
    print("confusion (rows: painted label, columns: decoded label)")
    print("      " + "".join(f"{label:>10}" for label in scores.labels))
    for label, row in zip(scores.labels, scores.confusion, strict=True):
        print(f"{label:>6}" + "".join(f"{n:>10}" for n in row))
    return 0


def _class_map(args: argparse.Namespace) -> int:
    """Score a class map against labels: per-class IoU and F1, accuracy, confusion."""
    from pathlib import Path

    from napari_colorgan.core.class_metrics import class_map_scores
    from napari_colorgan.core.infer.ome_labels import open_class_map
    from napari_colorgan.core.infer.zarr_store import read_fingerprint
    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.io.selection import parse_slices, select_planes

    if isinstance(read_fingerprint(Path(args.pred)), dict):  # a colour store of ours
        found = open_class_map(args.pred)
        if found is None:
            raise CLIError(
                f"{args.pred} holds no class map: colorize with a model trained on labels"
            )
        pred = found[0][0]
    else:
        pred = open_image(args.pred)
    sel = parse_slices(args.slices)
    scores = class_map_scores(
        select_planes(pred, sel), select_planes(open_image(args.labels), sel)
    )
    if args.json:
        doc = {
            "metrics": dict(scores.rows()),
            "labels": list(scores.labels),
            "confusion": scores.confusion.tolist(),
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(scores.table())
    return 0
