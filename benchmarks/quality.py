"""Quality benchmark: train on part of the data, evaluate on held-out data, against baselines.

    python benchmarks/quality.py [--steps 600] [--tile 64] [--out docs/benchmarks]

Data: (a) the synthetic EM-like stack (labels of slices 0-7 train, slices 8-11 are held out);
(b) the Hubble Deep Field (left 600 columns train from colour alone, the rest is held out).
Baselines: no chroma (grayscale), and the mean chroma of the training set. Ablation on the same
step budget: L1 only; cGAN + L1 (pix2pix); cGAN + L1 + VGG at two γ. Writes a Markdown table,
JSON, and side-by-side figures (input | prediction | ground truth) of the best run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from skimage.io import imsave

from napari_colorgan import TrainConfig, train
from napari_colorgan.core.color import lab_to_rgb, rgb_to_lab
from napari_colorgan.core.metrics import evaluate
from napari_colorgan.core.synthetic import Split, em_split, hubble_split

RUNS = [
    ("L1 only", {"adversarial": False, "perceptual_weights": "none", "gamma": 1.0}),
    ("cGAN + L1 (pix2pix)", {"perceptual_weights": "none", "gamma": 1.0}),
    ("cGAN + L1 + VGG, γ=0.9", {"perceptual_weights": "random", "gamma": 0.9}),
    ("cGAN + L1 + VGG, γ=0.5", {"perceptual_weights": "random", "gamma": 0.5}),
]


def with_chroma(lightness01: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """uint8 RGB from lightness in [0, 1] and one chroma (a, b) everywhere: the baselines."""
    lab = np.zeros((*lightness01.shape, 3))
    lab[..., 0] = lightness01 * 100
    lab[..., 1:] = ab
    return (lab_to_rgb(torch.from_numpy(lab), dim=-1).numpy() * 255 + 0.5).astype(np.uint8)


def mean_chroma(rgb: np.ndarray) -> np.ndarray:
    lab = rgb_to_lab(torch.from_numpy(rgb.astype(np.float64) / 255), dim=-1).numpy()
    return lab[..., 1:].reshape(-1, 2).mean(0)


def colorize_planes(model, planes: np.ndarray) -> np.ndarray:
    """Whole-plane inference on every plane of (z, y, x), or on one (y, x) plane."""
    if planes.ndim == 2:
        return model.colorize_plane(planes)
    return np.stack([model.colorize_plane(p) for p in planes])


def first_plane(a: np.ndarray) -> np.ndarray:
    return a[0] if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] != 3) else a


def bench(name: str, split: Split, args: argparse.Namespace) -> tuple[list, np.ndarray]:
    rows = []
    truth = split.test_truth
    for label, ab in (
        ("baseline: grayscale", np.zeros(2)),
        ("baseline: mean training chroma", mean_chroma(split.train_truth)),
    ):
        rows.append((name, label, evaluate(with_chroma(split.test_lightness, ab), truth), 0.0))
    best = None
    runs = [(label, overrides, args.steps) for label, overrides in RUNS]
    if args.long_steps:  # what a longer budget buys the plain pix2pix objective
        runs.append((f"cGAN + L1, {args.long_steps} steps", RUNS[1][1], args.long_steps))
    for label, overrides, steps in runs:
        config = TrainConfig(
            preset="small",
            tile=args.tile,
            batch_size=args.batch_size,
            steps=steps,
            val_every=10**9,
            checkpoint_every=0,
            **overrides,
        )
        t0 = time.perf_counter()
        model = train(**split.train, config=config, device="cpu")
        seconds = time.perf_counter() - t0
        pred = colorize_planes(model, split.test_input)
        scores = evaluate(pred, truth)
        rows.append((name, label, scores, seconds))
        print(
            f"{name} | {label}: PSNR {scores['psnr']:.2f} dB, accuracy {scores['accuracy']:.3f}, {seconds:.0f} s",
            flush=True,
        )
        if best is None or scores["psnr"] > best[0]:
            best = (scores["psnr"], pred)
    gray = (first_plane(split.test_lightness) * 255 + 0.5).astype(np.uint8)
    figure = np.concatenate(
        [np.stack([gray] * 3, -1), first_plane(best[1]), first_plane(truth)], 1
    )
    return rows, figure


def write(args: argparse.Namespace, rows: list, figures: list[np.ndarray]) -> None:
    lines = [
        "| data | method | MAE | RMSE | PSNR (dB) | SSIM | accuracy | colourfulness (truth) | train s |",
        "|" + " --- |" * 9,
    ]
    for name, label, s, secs in rows:
        lines.append(
            f"| {name} | {label} | {s['mae']:.4f} | {s['rmse']:.4f} | {s['psnr']:.2f} | {s['ssim']:.3f} "
            f"| {s['accuracy']:.3f} | {s['colorfulness']:.1f} ({s['colorfulness_target']:.1f}) | {secs:.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(table + "\n")
    records = [{"data": n, "method": m, **s, "seconds": t} for n, m, s, t in rows]
    (args.out / "quality.json").write_text(
        json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": records}, indent=1)
    )
    for i, fig in enumerate(figures):
        imsave(args.out / f"quality_{i}.png", fig, check_contrast=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--tile", type=int, default=64)
    parser.add_argument(
        "--long-steps", type=int, default=2400, help="a longer pix2pix run (0: none)"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = parser.parse_args()
    rows, figures = [], []
    for name, split in (
        ("synthetic EM, held-out slices 8-11", em_split()),
        ("Hubble Deep Field, held-out right 40%", hubble_split()),
    ):
        r, f = bench(name, split, args)
        rows += r
        figures.append(f)
    write(args, rows, figures)


if __name__ == "__main__":
    main()
