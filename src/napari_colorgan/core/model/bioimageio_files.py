"""The files of a bioimage.io package besides the weights: test input, cover and README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Side of the test input, at least the network's grid (a multiple of it).
TEST_SIDE = 128


def _side(colorizer: Any) -> int:
    grid = 2**colorizer.config.num_downs
    return max(grid, TEST_SIDE // grid * grid)


def sample_input(colorizer: Any, sample: np.ndarray | None) -> np.ndarray:
    """Raw test input (1, c, y, x) float32: the centre of ``sample``, or a smooth pattern.

    The pattern spans the normalisation's range, so the test exercises every grey level the
    model was trained on. Context channels repeat the plane (a single plane has no neighbours).
    """
    side = _side(colorizer)
    if sample is not None:
        plane = np.asarray(sample, np.float32)
        if plane.ndim != 2 or min(plane.shape) < side:
            raise ValueError(
                f"the sample must be a grayscale plane of at least {side} x {side}, got "
                f"shape {plane.shape}"
            )
        y0, x0 = (plane.shape[0] - side) // 2, (plane.shape[1] - side) // 2
        plane = plane[y0 : y0 + side, x0 : x0 + side]
    else:
        plane = _pattern(side, colorizer.normalization)
    channels = 2 * colorizer.config.context + 1
    return np.broadcast_to(plane, (1, channels, side, side)).astype(np.float32)


def _pattern(side: int, norm: Any) -> np.ndarray:
    """Smooth waves in [0, 1] mapped back to raw values through the normalisation."""
    y, x = np.mgrid[0:side, 0:side] / side
    u = 0.5 + 0.25 * np.sin(7 * x + 3 * y) + 0.2 * np.cos(11 * y - 5 * x * y)
    u = np.clip(u, 0.02, 0.98)
    if norm.method == "asinh":
        return norm.low + norm.softening * np.sinh(u * norm.high)
    if norm.method == "none":
        return u
    return norm.low + u * (norm.high - norm.low)


def cover_png(path: Path, gray01: np.ndarray, rgb: np.ndarray) -> None:
    """A 2:1 cover image: the normalised input beside its colorization (RGB (3, y, x))."""
    import imageio.v3 as iio

    left = np.repeat((np.clip(gray01, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=-1)
    right = (np.clip(np.moveaxis(rgb, 0, -1), 0, 1) * 255).astype(np.uint8)
    iio.imwrite(path, np.concatenate([left, right], axis=1))


def readme_text(colorizer: Any, name: str, description: str | None) -> str:
    """The package's documentation: what it does, its input, output and how it was checked."""
    config, norm = colorizer.config, colorizer.normalization
    classes = ", ".join(f"label {c[0]} = RGB {tuple(c[1:])}" for c in config.classes)
    lines = [
        f"# {name}",
        "",
        description or "Colorizes a grayscale image (napari-colorgan).",
        "",
        "## Input and output",
        "",
        f"- Input: raw grayscale, {2 * config.context + 1} channel(s) (the plane"
        + (f" and {config.context} neighbour(s) on each side" if config.context else "")
        + f"), y and x multiples of {2**config.num_downs}.",
        f"- Normalisation: `{norm.method}` (low {norm.low:g}, high {norm.high:g}"
        + (f", softening {norm.softening:g}, inside the network" if norm.method == "asinh" else "")
        + "), then clipped to [0, 1].",
        f"- Output: RGB in [0, 1], colour space `{config.color_space}`"
        + (", keeping the input's lightness" if config.color_space == "lab" else "")
        + (f"; a classifier painted with: {classes}" if classes else "")
        + ".",
        "",
        "## Training",
        "",
        "pix2pix-style U-Net generator (napari-colorgan); settings: "
        f"`{colorizer.training or {}}`.",
        "",
        "## Validation",
        "",
        "The ONNX weights reproduce the model's own forward pass on the test input within 1e-4. "
        "Measure colour quality on your own held-out annotated data (PSNR, SSIM, class accuracy "
        "with `napari-colorgan evaluate`).",
        "",
    ]
    return "\n".join(lines)
