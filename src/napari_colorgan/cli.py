"""The ``napari-colorgan`` command line: a thin layer over the Python API.

Every failure caused by the user's input ends with one line on stderr naming the problem and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from napari_colorgan import __version__

EXIT_USAGE = 2


class CLIError(Exception):
    """A problem with the user's input, reported as one line."""


def parse_slices(text: str | None) -> slice | None:
    """``"a:b"`` (either side optional) or ``"i"`` to a slice of the first axis."""
    if text is None:
        return None
    try:
        if ":" not in text:
            i = int(text)
            return slice(i, i + 1)
        start, stop = (int(v) if v.strip() else None for v in text.split(":", 1))
    except ValueError:
        raise CLIError(f"--slices {text!r}: expected a:b, e.g. 0:20") from None
    if start is not None and stop is not None and stop <= start:
        raise CLIError(f"--slices {text!r} is an empty slice range")
    return slice(start, stop)


def _require(path: str | None, what: str) -> None:
    if path is not None and not Path(path).exists():
        raise CLIError(f"{what} not found: {path}")


def _cmd_info(args: argparse.Namespace) -> int:
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


def _train_config(args: argparse.Namespace):  # -> TrainConfig, imported lazily
    from napari_colorgan.core.train.config import TrainConfig

    values = {
        "preset": args.preset,
        "tile": args.tile,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "minutes": args.minutes,
        "gamma": args.gamma,
        "lambda_l1": args.lambda_l1,
        "gan_mode": args.gan_mode,
        "perceptual_weights": args.perceptual_weights,
        "color_space": args.color_space,
        "normalize": args.normalize,
        "context": args.context,
        "seed": args.seed,
    }
    return TrainConfig(**{k: v for k, v in values.items() if v is not None})


def _is_main_process() -> bool:
    """False in the non-zero ranks of a ``torchrun`` data-parallel run (they write nothing)."""
    import os

    return os.environ.get("RANK", "0") == "0"


def _cmd_train(args: argparse.Namespace) -> int:
    from napari_colorgan.core.annotations import read_palette
    from napari_colorgan.core.events import Finished, Validated
    from napari_colorgan.core.train.loop import save_path_for_checkpoint, train_iter

    for path, what in (
        (args.input, "input"),
        (args.target, "target"),
        (args.labels, "labels"),
        (args.palette, "palette"),
        (args.resume, "checkpoint"),
    ):
        _require(path, what)
    if args.labels and not args.palette:
        raise CLIError("--labels needs --palette PALETTE.json (label id -> [r, g, b])")
    palette = read_palette(args.palette) if args.palette else None
    config = _train_config(args)
    checkpoint = save_path_for_checkpoint(args.output)
    events = train_iter(
        args.input,
        target=args.target,
        labels=args.labels,
        palette=palette,
        slices=parse_slices(args.slices),
        config=config,
        device=args.device,
        resume=args.resume,
        checkpoint=checkpoint,
    )
    from napari_colorgan.core.progress import drive_training

    final: dict[str, float] = {}
    for event in drive_training(events):
        if isinstance(event, Validated):
            final = event.metrics
        if isinstance(event, Finished) and _is_main_process():
            path = event.result.save(args.output)
            print(f"saved {path} after {event.step} steps (checkpoint: {checkpoint})")
    if final:
        from napari_colorgan.core.metrics import format_table

        print("validation:\n" + format_table(final))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.metrics import evaluate, format_table

    for path, what in ((args.pred, "prediction"), (args.target, "target"), (args.mask, "mask")):
        _require(path, what)
    pred, target = open_image(args.pred), open_image(args.target)
    mask = open_image(args.mask) if args.mask else None
    if pred.shape != target.shape:
        raise CLIError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    if mask is not None and tuple(mask.shape) != tuple(pred.shape[:-1]):
        raise CLIError(f"mask {mask.shape} does not match the images' planes {pred.shape[:-1]}")
    sel = parse_slices(args.slices)
    if sel is not None:
        if pred.ndim < 4:
            raise CLIError("--slices needs stacks (z, y, x, 3); these are single images")
        pred, target = pred[sel], target[sel]
        mask = None if mask is None else mask[sel]
        if pred.shape[0] == 0:
            raise CLIError(f"--slices {args.slices} selects no plane")
    results = evaluate(
        np.asarray(pred), np.asarray(target), None if mask is None else np.asarray(mask) > 0
    )
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a colorizer on an annotated stack")
    p.add_argument("input", help="grayscale stack (TIFF, zarr, NPY, PNG, FITS) or RGB alone")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--target", help="RGB ground truth matching INPUT")
    source.add_argument("--labels", help="integer labels matching INPUT (0 = not annotated)")
    p.add_argument("--palette", help="JSON mapping label ids to [r, g, b] (0-255)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.add_argument("--slices", help="planes of the first axis, e.g. 0:20")
    p.add_argument("--preset", choices=("small", "medium", "pix2pix"))
    p.add_argument("--tile", type=int, help="patch side in pixels")
    p.add_argument("--batch-size", type=int)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int)
    budget.add_argument("--minutes", type=float, help="wall-clock budget")
    p.add_argument("--gamma", type=float, help="share of the pix2pix terms (default 0.9)")
    p.add_argument("--lambda-l1", type=float, help="L1 weight (default 100)")
    p.add_argument("--gan-mode", choices=("vanilla", "lsgan"))
    p.add_argument("--perceptual-weights", help="VGG19 weight file, 'random' or 'none'")
    p.add_argument("--color-space", choices=("lab", "rgb"))
    p.add_argument("--normalize", choices=("percentile", "minmax", "asinh"))
    p.add_argument("--context", type=int, help="neighbouring slices as extra input channels")
    p.add_argument("--resume", help="checkpoint to continue from")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda:0, mps")
    p.add_argument("--seed", type=int)
    p.set_defaults(func=_cmd_train)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="compare a colorization with ground truth")
    p.add_argument("pred", help="predicted RGB image or stack")
    p.add_argument("target", help="ground-truth RGB image or stack")
    p.add_argument("--mask", help="pixels to score (non-zero = scored)")
    p.add_argument("--slices", help="planes of the first axis, e.g. 20:30")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_evaluate)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="napari-colorgan",
        description="Colorize grayscale microscopy and astronomy images with conditional GANs.",
    )
    parser.add_argument("--version", action="version", version=f"napari-colorgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser("info", help="print what a model file holds")
    info.add_argument("model", help="a napari-colorgan model file (.safetensors)")
    info.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    info.set_defaults(func=_cmd_info)
    _add_train(sub)
    _add_evaluate(sub)
    from napari_colorgan import _cli_colorize, _cli_demo

    _cli_colorize.add_parser(sub, "planes of the first axis, e.g. 0:20")
    _cli_demo.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return func(args)
    except (CLIError, ValueError, FileNotFoundError, ImportError, OSError, MemoryError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"napari-colorgan {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"napari-colorgan {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
