"""``napari-colorgan train``: train a colorizer on an annotated stack.

Defaults and choices come from :class:`~napari_colorgan.core.train.config.TrainConfig`: an option
left out keeps the config's default.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from napari_colorgan.cli._common import CLIError, require, require_palette_with_labels
from napari_colorgan.core.train.config import STROKES_BALANCE, TrainConfig

#: Command-line options that map one-to-one onto TrainConfig fields.
CONFIG_OPTIONS = (
    "preset",
    "tile",
    "batch_size",
    "steps",
    "minutes",
    "gamma",
    "lambda_l1",
    "fit_loss",
    "sampling",
    "gan_mode",
    "perceptual_weights",
    "color_space",
    "normalize",
    "context",
    "objective",
    "class_balance",
    "adversarial",
    "precision",
    "calibrate",
    "seed",
    "checkpoint_every",
)


def _default(name: str) -> str:
    return f"(default {TrainConfig.default(name)})"


def _balance(text: str) -> float | str:
    """``--class-balance``: "auto" or a number (TrainConfig checks its range)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"--class-balance must be 'auto' or a number, got {text!r}") from None


def add_parser(sub: Any) -> None:
    """Register the ``train`` subcommand."""
    p = sub.add_parser("train", help="train a colorizer on an annotated stack")
    p.add_argument("input", help="grayscale stack (TIFF, zarr, NPY, PNG, FITS) or RGB alone")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--target", help="RGB ground truth matching INPUT")
    source.add_argument("--labels", help="integer labels matching INPUT (0 = not annotated)")
    p.add_argument("--palette", help="JSON mapping label ids to [r, g, b] (0-255)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.add_argument("--slices", help="planes of the first axis, e.g. 0:20")
    p.add_argument("--preset", choices=TrainConfig.choices("preset"), help=_default("preset"))
    p.add_argument("--tile", type=int, help="patch side in pixels (default: the preset's)")
    p.add_argument("--batch-size", type=int, help=_default("batch_size"))
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help=_default("steps"))
    budget.add_argument("--minutes", type=float, help="wall-clock budget instead of steps")
    p.add_argument("--gamma", type=float, help=f"share of the pix2pix terms {_default('gamma')}")
    p.add_argument(
        "--lambda-l1", type=float, help=f"weight λ of the fitting term {_default('lambda_l1')}"
    )
    p.add_argument(
        "--fit-loss",
        choices=TrainConfig.choices("fit_loss"),
        help=f"colour-fitting term (l1: pix2pix's) {_default('fit_loss')}",
    )
    p.add_argument(
        "--sampling",
        choices=TrainConfig.choices("sampling"),
        help=f"colour-target patches anywhere or half on colourful pixels {_default('sampling')}",
    )
    p.add_argument("--gan-mode", choices=TrainConfig.choices("gan_mode"))
    p.add_argument(
        "--perceptual-weights",
        help=f"VGG19 weight file, 'imagenet', 'random' or 'none' {_default('perceptual_weights')}",
    )
    p.add_argument("--color-space", choices=TrainConfig.choices("color_space"))
    p.add_argument("--normalize", choices=TrainConfig.choices("normalize"))
    p.add_argument("--context", type=int, help="neighbouring slices as extra input channels")
    p.add_argument(
        "--objective",
        choices=TrainConfig.choices("objective"),
        help="classes (labels: a classifier painted with the palette) or color (pix2pix L1) "
        f"{_default('objective')}",
    )
    p.add_argument(
        "--class-balance",
        metavar="B",
        help="class weights ∝ pixel share^-B for labels: 0 plain cross entropy, 1 every class "
        f"equal; auto: 0 for dense labels, {STROKES_BALANCE:g} for strokes "
        + _default("class_balance"),
    )
    p.add_argument("--precision", choices=TrainConfig.choices("precision"))
    p.add_argument(
        "--adversarial",
        action="store_const",
        const=True,
        help="train with the PatchGAN critic: the full pix2pix objective (slower on a CPU)",
    )
    p.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_const",
        const=False,
        help="keep a colour model's raw saturation (default: fit it to the annotations')",
    )
    p.add_argument("--resume", help="checkpoint to continue from")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing model file and checkpoint"
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda:0, mps")
    p.add_argument("--seed", type=int, help=_default("seed"))
    p.add_argument(
        "--checkpoint-every",
        type=int,
        help="steps between checkpoints; 0: only at the end and on Ctrl-C "
        + _default("checkpoint_every"),
    )
    p.set_defaults(func=run)


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The options the user gave, on top of TrainConfig's defaults (the checkpoint's on resume).

    A resume then differs from its checkpoint only where the user asked, and the run refuses
    or applies exactly those settings.
    """
    given = {name: getattr(args, name) for name in CONFIG_OPTIONS}
    given = {k: v for k, v in given.items() if v is not None}
    if "class_balance" in given:  # checked here, not by argparse: one line, as other errors
        given["class_balance"] = _balance(given["class_balance"])
    if getattr(args, "resume", None):
        from napari_colorgan.core.train.resume import checkpoint_config

        return TrainConfig.from_dict({**checkpoint_config(args.resume), **given})
    return TrainConfig(**given)


def _check_outputs(model: Path, checkpoint: Path, args: argparse.Namespace) -> None:
    """Refuse to replace an earlier run's files by surprise, or to train for nothing.

    As ``colorize`` does, an existing output needs ``--overwrite``, except when ``--resume``
    continues the run whose checkpoint sits beside it. Both files are checked for writability
    now, not after training.
    """
    from napari_colorgan.core.io.atomic import check_writable

    continuing = args.resume is not None and Path(args.resume).resolve() == checkpoint.resolve()
    if not (args.overwrite or continuing):
        for path in (model, checkpoint):
            if path.exists():
                also = f", or --resume {checkpoint} to continue" if checkpoint.exists() else ""
                raise CLIError(f"{path} exists: pass --overwrite to replace it{also}")
    check_writable(model)  # the checkpoint's is checked by train_iter, before any data work


def _is_main_process() -> bool:
    """False in the non-zero ranks of a ``torchrun`` data-parallel run (they write nothing)."""
    return os.environ.get("RANK", "0") == "0"


def run(args: argparse.Namespace) -> int:
    """Train, save the model beside its checkpoint, print the last validation metrics."""
    from napari_colorgan.core.train.loop import save_path_for_checkpoint

    require(
        input=args.input,
        target=args.target,
        labels=args.labels,
        palette=args.palette,
        checkpoint=args.resume,
    )
    require_palette_with_labels(args.labels, args.palette)
    checkpoint = save_path_for_checkpoint(args.output)
    _check_outputs(Path(args.output), checkpoint, args)
    with _stop_on_signals() as stop:
        return _train(args, checkpoint, stop)


def _train(args: argparse.Namespace, checkpoint: Path, stop: threading.Event) -> int:
    """Train, save the model, print the metrics; 130 when stopped (checkpoint only)."""
    from napari_colorgan.core.annotations import read_palette
    from napari_colorgan.core.events import Finished, Validated
    from napari_colorgan.core.io.selection import parse_slices
    from napari_colorgan.core.metrics import format_table
    from napari_colorgan.core.progress import drive_training
    from napari_colorgan.core.train.loop import train_iter

    events = train_iter(
        args.input,
        target=args.target,
        labels=args.labels,
        palette=read_palette(args.palette) if args.palette else None,
        slices=parse_slices(args.slices),
        config=train_config(args),
        device=args.device,
        resume=args.resume,
        checkpoint=checkpoint,
        stop=stop,
    )
    final: dict[str, float] = {}
    for event in drive_training(events):
        if isinstance(event, Validated):
            final = event.metrics
        if isinstance(event, Finished) and event.stopped:
            # The model file is left as it was (a stop is no finished run); the checkpoint
            # holds the work.
            print(
                f"napari-colorgan train: stopped at step {event.step}; checkpoint {checkpoint}: "
                f"continue with --resume {checkpoint}",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        if isinstance(event, Finished) and _is_main_process():
            path = event.result.save(args.output)
            print(f"saved {path} after {event.step} steps (checkpoint: {checkpoint})")
    if final:
        print("validation:\n" + format_table(final))
    return 0


#: Exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C or SIGTERM; a second one interrupts at once.

    Training then ends after the current step with a checkpoint, whatever ``checkpoint_every``
    is: a KeyboardInterrupt mid-step used to leave no checkpoint before step 500.
    """
    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this step (again to quit now)", file=sys.stderr)

    signals = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        yield stop  # only the main thread may handle signals (e.g. run from a GUI's worker)
        return
    previous = [signal.signal(s, ask_to_stop) for s in signals]
    try:
        yield stop
    finally:
        for s, handler in zip(signals, previous, strict=True):
            signal.signal(s, handler)
