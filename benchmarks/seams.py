"""Do the default windows show seams? Tiled pix2pix on real EM against whole-plane inference.

    python benchmarks/seams.py [--data ../shared/data] [--gains 0.02 0.1]

A 3000 x 3000 plane is a 3 x 3 mosaic of 1000 px crops of ssTEM sections 0-8 (see
``_real_data.py`` for the source). The pix2pix generator (random weights: ``--gains`` sets the
spread of the initial weights; 0.02 is pix2pix's own initialisation, 0.1 a colourful one) is
run over it with:

* ``whole`` — one 3072 px window: whole-plane inference, no seam possible (the reference);
* ``2x2``   — the default layout for a 2048 px ceiling: 2 x 2 windows of 1792 px;
* ``3x3``   — another grid: a 1280 px ceiling, 3 x 3 windows of 1280 px;
* ``256``   — 256 px windows overlapping by 64 px (MONAI's default window layout).

Printed per layout: PSNR against the reference and against ``2x2`` (two grid offsets), and the
seam ratio: the mean colour jump between neighbouring columns inside the window overlaps
divided by the same at those columns of the reference (1.0: no seam added). bf16, CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from _real_data import DEFAULT_ROOT, load_em

from napari_colorgan import Colorizer, preset
from napari_colorgan.core.infer.blocks import colorize_region
from napari_colorgan.core.infer.planner import Plan
from napari_colorgan.core.infer.tiling import TilePlan
from napari_colorgan.core.model.networks import init_weights

SIDE, CROP = 3000, 1000
LAYOUTS = {"whole": (3072, None), "2x2": (2048, None), "3x3": (1280, None), "256": (256, 64)}


def mosaic(root: Path) -> np.ndarray:
    raw = load_em(root, list(range(9)))[0]  # (9, 1024, 1024) uint8
    rows = [np.concatenate(list(raw[r * 3 : r * 3 + 3, :CROP, :CROP]), axis=1) for r in range(3)]
    return np.concatenate(rows, axis=0)  # (3000, 3000)


def run(model: Colorizer, plane: np.ndarray, tile: int, overlap: int | None) -> np.ndarray:
    plan = TilePlan.for_model(model.config, tile, overlap)
    job = Plan(plan, SIDE, SIDE, 1 if tile > 256 else 8, "cpu", "bf16")
    return colorize_region(model, plane[None], (0, 0), (0, SIDE, 0, SIDE), job)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2)))


def seam_ratio(rgb: np.ndarray, reference: np.ndarray, plan: TilePlan) -> float:
    """Mean column-to-column colour jump in the overlaps, over the reference's there."""
    cols = sorted({c for w in plan.layout(SIDE) for c in range(w.start, w.start + w.fade0)})
    cols = [c for c in cols if 0 < c < SIDE]
    if not cols:
        return 1.0

    def jump(x: np.ndarray) -> float:
        return float(np.abs(np.diff(x, axis=1))[:, np.array(cols) - 1].mean())

    return jump(rgb) / jump(reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--gains", type=float, nargs="+", default=[0.02, 0.1])
    args = parser.parse_args()
    plane = mosaic(args.data)
    for gain in args.gains:
        model = Colorizer.from_config(preset("pix2pix"), seed=0)
        init_weights(model.generator, gain=gain, seed=0)
        model.generator.eval()
        with torch.no_grad():
            out = {name: run(model, plane, *layout) for name, layout in LAYOUTS.items()}
        ref = out["whole"]
        print(f"gain {gain}: colour spread (std of RGB) {ref.std(axis=(0, 1)).round(3)}")
        for name, (tile, overlap) in LAYOUTS.items():
            if name == "whole":
                continue
            plan = TilePlan.for_model(model.config, tile, overlap)
            print(
                f"  {name:<5} vs whole {psnr(out[name], ref):5.1f} dB   vs 2x2 "
                f"{psnr(out[name], out['2x2']) if name != '2x2' else float('inf'):5.1f} dB   "
                f"seam ratio {seam_ratio(out[name], ref, plan):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
