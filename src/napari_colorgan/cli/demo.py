"""``napari-colorgan demo``: train on bundled sample data, colorize held-out data.

Runs on a CPU in a few minutes from a fresh install: a synthetic EM-like annotated stack
(trained on its first slices, colorized on the rest) and the Hubble Deep Field (trained on its
left part, colorized on the right). Writes zarr stores, side-by-side PNGs and prints metrics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``demo`` subcommand."""
    p = sub.add_parser("demo", help="train and colorize on bundled sample data (CPU, minutes)")
    p.add_argument("--out", default="colorgan-demo", help="output folder (default colorgan-demo)")
    p.add_argument("--minutes", type=float, default=3.0, help="training budget for both models")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda:0, mps")
    p.add_argument("--gui", action="store_true", help="open the results in napari afterwards")
    p.set_defaults(func=run)


def _first(a: Any) -> Any:
    """The first plane of a stack (y, x[, 3]) or the image itself."""
    return a[0] if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] != 3) else a


def _side_by_side(gray: Any, pred: Any, truth: Any) -> Any:
    import numpy as np

    g = np.stack([gray] * 3, -1) if gray.ndim == 2 else gray
    return np.concatenate([g, pred, truth], axis=1)


def run(args: argparse.Namespace) -> int:
    """Train, colorize, write and report."""
    import numpy as np
    from skimage.io import imsave

    from napari_colorgan.core.color import to_uint8
    from napari_colorgan.core.events import Finished
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr, open_multiscale
    from napari_colorgan.core.metrics import evaluate, format_table
    from napari_colorgan.core.progress import drive_training
    from napari_colorgan.core.synthetic import em_split, hubble_split
    from napari_colorgan.core.train.config import TrainConfig
    from napari_colorgan.core.train.loop import train_iter

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = {"em": em_split((8, 256, 256), n_train=6), "hubble": hubble_split()}
    minutes = args.minutes / len(splits)
    for name, split in splits.items():
        print(f"== {name}: training for {minutes:.1f} min", file=sys.stderr)
        config = TrainConfig(
            preset="small",
            tile=64,
            batch_size=8,
            minutes=minutes,
            steps=10**6,
            perceptual_weights="none",
            val_every=200,
            checkpoint_every=0,
        )
        model = None
        for event in drive_training(train_iter(**split.train, config=config, device=args.device)):
            if isinstance(event, Finished):
                model = event.result
        assert model is not None
        model_path = model.save(out / f"{name}.safetensors")
        store = out / f"{name}.ome.zarr"
        colorize_to_zarr(split.test_input, store, model, if_exists="overwrite", device=args.device)
        pred = np.asarray(open_multiscale(store)[0])
        figure = out / f"{name}.png"
        gray = to_uint8(split.test_lightness)
        imsave(
            figure,
            _side_by_side(_first(gray), _first(pred), _first(split.test_truth)),
            check_contrast=False,
        )
        print(
            f"{name}: model {model_path}, colorized {store}, figure {figure} "
            "(input | prediction | truth)"
        )
        print(format_table(evaluate(pred, split.test_truth)))
    if args.gui:
        from napari_colorgan._demo_gui import show

        show(out)
    return 0
