"""Colorization quality metrics on RGB images of any leading shape ``(..., y, x, 3)``.

uint8 and uint16 are scaled to [0, 1]; floats must already lie in [0, 1] (a float image on the
0–255 scale, or with NaN, is refused with a message, not rescaled by a guess). All metrics are
computed in float64 on that scale, except colourfulness, reported on the conventional 0–255
scale. A boolean ``mask`` of shape ``(..., y, x)`` restricts every metric to its pixels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .events import Event, Finished, Progress, StopSignal, stop_requested

__all__ = [
    "DEFAULT_THRESHOLD",
    "METRIC_NAMES",
    "accuracy",
    "colorfulness",
    "evaluate",
    "evaluate_iter",
    "format_table",
    "mae",
    "psnr",
    "rmse",
    "ssim",
]

#: Largest Euclidean RGB distance ([0, 1] scale) counted as "right" by :func:`accuracy`:
#: about 25/255, a difference an observer barely notices next to the original.
DEFAULT_THRESHOLD = 0.1
#: Keys of :func:`evaluate`, in order.
METRIC_NAMES = ("mae", "rmse", "psnr", "ssim", "accuracy", "colorfulness", "colorfulness_target")


def _as_float_rgb(image: Any, name: str = "image") -> np.ndarray:
    """RGB (..., y, x, 3) as float64 in [0, 1], validated."""
    arr = np.asarray(image)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.ndim < 3 or arr.shape[-1] != 3:
        raise ValueError(f"{name} must be RGB with shape (..., y, x, 3), got {arr.shape}")
    if arr.dtype in (np.uint8, np.uint16):
        return arr.astype(np.float64) / np.iinfo(arr.dtype).max
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{name} has dtype {arr.dtype}; expected uint8, uint16 or float in [0, 1]"
        )
    check_float_rgb(arr, name)
    return arr.astype(np.float64, copy=False)


#: How far float RGB may stray outside [0, 1] (rounding of colour conversions) and be accepted.
RGB_TOLERANCE = 0.01


def check_float_rgb(values: np.ndarray, name: str) -> None:
    """Refuse float RGB that is not on the [0, 1] scale, or holds NaN/Inf.

    A float image saved on the 0–255 scale used to be clipped to white for training and
    scored at −43 dB by :func:`evaluate`, without a word; it is refused here instead of being
    rescaled by a guess, since 0–1 data with a few bright outliers would be guessed wrong.

    Parameters
    ----------
    values
        Float RGB values (any shape), or a sample of them.
    name
        What they are, for the message (e.g. ``"the target"``).

    Raises
    ------
    ValueError
        NaN/Inf values, or values outside [0, 1] by more than :data:`RGB_TOLERANCE`.
    """
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(f"{name} holds NaN/Inf values: fill or mask them first")
    low, high = float(np.min(values)), float(np.max(values))
    if low < -RGB_TOLERANCE or high > 1 + RGB_TOLERANCE:
        hint = "divide it by 255 (or save it as uint8)" if high <= 255 else "rescale it"
        raise ValueError(
            f"{name} is float RGB with values from {low:g} to {high:g}, but float RGB must lie "
            f"in 0–1: {hint}"
        )


def _prepare(
    pred: Any, target: Any, mask: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    p, t = _as_float_rgb(pred, "prediction"), _as_float_rgb(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    return p, t, _check_mask(mask, p.shape)


def _check_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(mask).astype(bool)
    if m.shape != shape[:-1]:
        raise ValueError(f"mask {m.shape} must match the image's planes {shape[:-1]}")
    if not m.any():
        raise ValueError("the mask selects no pixel")
    return m


def _pixels(a: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """(n, 3) pixels of ``a``, the masked ones only when a mask is given."""
    return a[mask] if mask is not None else a.reshape(-1, 3)


def _mse(p: np.ndarray, t: np.ndarray, mask: np.ndarray | None) -> float:
    return float(np.mean((_pixels(p, mask) - _pixels(t, mask)) ** 2))


def mae(pred: Any, target: Any, mask: Any = None) -> float:
    """Mean absolute error over pixels and channels ([0, 1] scale)."""
    p, t, m = _prepare(pred, target, mask)
    return float(np.mean(np.abs(_pixels(p, m) - _pixels(t, m))))


def rmse(pred: Any, target: Any, mask: Any = None) -> float:
    """Root-mean-square error over pixels and channels ([0, 1] scale)."""
    p, t, m = _prepare(pred, target, mask)
    return math.sqrt(_mse(p, t, m))


def _psnr_from_mse(mse: float) -> float:
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def psnr(pred: Any, target: Any, mask: Any = None) -> float:
    """Peak signal-to-noise ratio in dB for data range 1 (``inf`` for identical images)."""
    p, t, m = _prepare(pred, target, mask)
    return _psnr_from_mse(_mse(p, t, m))


def _ssim(p: np.ndarray, t: np.ndarray, mask: np.ndarray | None) -> float:
    from skimage.metrics import structural_similarity

    h, w = p.shape[-3:-1]
    if min(h, w) < 3:
        raise ValueError(f"SSIM needs planes of at least 3 x 3 pixels, got {h} x {w}")
    win = min(7, min(h, w) if min(h, w) % 2 else min(h, w) - 1)
    planes_p, planes_t = p.reshape(-1, h, w, 3), t.reshape(-1, h, w, 3)
    planes_m = None if mask is None else mask.reshape(-1, h, w)
    scores = []
    for i in range(planes_p.shape[0]):
        if planes_m is not None and not planes_m[i].any():
            continue  # nothing to score on this plane
        score, full = structural_similarity(
            planes_p[i], planes_t[i], channel_axis=-1, data_range=1.0, win_size=win, full=True
        )
        scores.append(score if planes_m is None else float(full.mean(-1)[planes_m[i]].mean()))
    return float(np.mean(scores))


def ssim(pred: Any, target: Any, mask: Any = None) -> float:
    """Structural similarity (scikit-image), per plane then averaged; masked: over the mask."""
    return _ssim(*_prepare(pred, target, mask))


def _accuracy(p: np.ndarray, t: np.ndarray, mask: np.ndarray | None, threshold: float) -> float:
    if not threshold >= 0:  # also rejects NaN
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    dist = np.linalg.norm(_pixels(p, mask) - _pixels(t, mask), axis=-1)
    return float(np.mean(dist <= threshold))


def accuracy(
    pred: Any, target: Any, mask: Any = None, threshold: float = DEFAULT_THRESHOLD
) -> float:
    """Share of pixels whose Euclidean RGB error ([0, 1] scale) is at most ``threshold``."""
    p, t, m = _prepare(pred, target, mask)
    return _accuracy(p, t, m, threshold)


def _colorfulness(a: np.ndarray, mask: np.ndarray | None) -> float:
    px = _pixels(a, mask) * 255.0
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = math.hypot(float(rg.std()), float(yb.std()))
    centre = math.hypot(float(rg.mean()), float(yb.mean()))
    return spread + 0.3 * centre


def colorfulness(image: Any, mask: Any = None) -> float:
    """Hasler & Süsstrunk (2003) colourfulness on the 0–255 scale (0 for gray images)."""
    a = _as_float_rgb(image)
    return _colorfulness(a, _check_mask(mask, a.shape))


def evaluate(
    pred: Any, target: Any, mask: Any = None, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, float]:
    """All metrics at once (inputs converted once).

    Parameters
    ----------
    pred, target
        RGB images or stacks ``(..., y, x, 3)``; numpy, dask or anything ``np.asarray`` reads.
    mask
        Optional boolean ``(..., y, x)``: score only these pixels (e.g. the annotated ones).
    threshold
        For ``accuracy``: the largest Euclidean RGB error counted as right ([0, 1] scale).

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``psnr`` (dB), ``ssim``, ``accuracy``, ``colorfulness`` (of the
        prediction) and ``colorfulness_target``.
    """
    p, t, m = _prepare(pred, target, mask)
    mse = _mse(p, t, m)
    return {
        "mae": float(np.mean(np.abs(_pixels(p, m) - _pixels(t, m)))),
        "rmse": math.sqrt(mse),
        "psnr": _psnr_from_mse(mse),
        "ssim": _ssim(p, t, m),
        "accuracy": _accuracy(p, t, m, threshold),
        "colorfulness": _colorfulness(p, m),
        "colorfulness_target": _colorfulness(t, m),
    }


def evaluate_iter(
    pred: Any,
    target: Any,
    mask: Any = None,
    threshold: float = DEFAULT_THRESHOLD,
    stop: StopSignal | None = None,
) -> Iterator[Event]:
    """:func:`evaluate`, reading lazy inputs one plane at a time with progress (for GUIs).

    Yields
    ------
    Event
        :class:`~napari_colorgan.core.events.Progress` per plane read, then
        :class:`~napari_colorgan.core.events.Finished` whose ``result`` is the metrics dict.
        Nothing more once ``stop`` is set.
    """
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    planes = list(np.ndindex(*pred.shape[:-3])) or [()]
    p, t, m = [], [], []
    t0 = time.perf_counter()
    for n, plane in enumerate(planes, 1):
        if stop_requested(stop):
            return
        p.append(np.asarray(pred[plane])), t.append(np.asarray(target[plane]))
        m.append(None if mask is None else np.asarray(mask[plane]))
        yield Progress(n, len(planes), 0, time.perf_counter() - t0)
    masks = None if mask is None else np.stack(m)
    yield Finished(len(planes), evaluate(np.stack(p), np.stack(t), masks, threshold))


_LABELS = {
    "mae": "MAE",
    "rmse": "RMSE",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "accuracy": "accuracy",
    "colorfulness": "colorfulness",
    "colorfulness_target": "colorfulness (truth)",
}


def format_table(results: dict[str, float]) -> str:
    """Two aligned columns, one metric a line, for terminals and logs."""
    width = max(len(_LABELS.get(k, k)) for k in results)
    return "\n".join(f"  {_LABELS.get(k, k):<{width}}  {v:.4f}" for k, v in results.items())
