"""Fit the input normalisation to a colour target's lightness, for a Lab model.

A Lab model keeps the input's lightness: its output L* is 100 × the normalised input. The
percentile stretch clips the brightest 0.2 % and rescales the rest, so when the target's own
lightness is the raw input up to scale (an RGB image's lightness, a stretch of the same
counts), every bright pixel came out too light: on the Hubble Deep Field even perfect colours
could not pass 37 dB (57 dB with the lightness right). Fitting the stretch to the target's
lightness instead of to the input's percentiles removes that error.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..model.config import InputNormalization
from ..model.normalize import apply_normalization, sample_windows
from .data import _lightness, _rgb01

#: Most pixel pairs read (random windows of a large stack).
MAX_PAIRS = 1_000_000


def paired_sample(
    image: Any, target: Any, max_pairs: int = MAX_PAIRS, window: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Raw input values (n,) and the target's lightness / 100 (n,) at the same pixels.

    All pixels when few, else random windows (seeded) at the same places in both, so a huge
    stack costs a bounded read. Pixels whose input is not finite are left out.
    """
    if int(np.prod(image.shape)) <= max_pairs:
        values, rgb = np.asarray(image), np.asarray(target)
    else:  # the same windows as the input statistics, read in both
        windows = sample_windows(tuple(image.shape), max_pairs, window)
        values = np.stack([np.asarray(image[w]) for w in windows])
        rgb = np.stack([np.asarray(target[w]) for w in windows])
    values = values.astype(np.float64).ravel()
    lightness = _lightness(_rgb01(np.ascontiguousarray(rgb)).reshape(-1, 3)).astype(np.float64)
    keep = np.isfinite(values)
    return values[keep], lightness[keep]


def fit_to_lightness(
    values: np.ndarray, lightness: np.ndarray, norm: InputNormalization
) -> InputNormalization:
    """``norm`` with its scale refitted so normalised ``values`` match ``lightness`` (0-1).

    Linear methods get the least-squares line ``lightness ≈ (value − low) / (high − low)``;
    asinh keeps its knee and offset and refits its scale. ``norm`` comes back unchanged when
    lightness does not grow with the input.
    """
    if norm.method in ("percentile", "minmax"):
        if values.size < 2 or np.ptp(values) == 0:
            return norm
        slope, offset = np.polyfit(values, lightness, 1)  # lightness ≈ slope·v + offset
        if not slope > 0:
            return norm
        low, high = float(-offset / slope), float((1 - offset) / slope)
        return dataclasses.replace(norm, low=low, high=high)
    if norm.method == "asinh":
        stretched = np.arcsinh((values - norm.low) / norm.softening)
        dot = float(np.dot(stretched, lightness))
        if not dot > 0:
            return norm
        return dataclasses.replace(norm, high=float(np.dot(stretched, stretched)) / dot)
    return norm


def lightness_error(values: np.ndarray, lightness: np.ndarray, norm: InputNormalization) -> float:
    """Mean |L*| difference (0-100) between the target and what a Lab model would show."""
    shown = apply_normalization(values, norm).astype(np.float64)
    return float(100 * np.mean(np.abs(shown - lightness)))
