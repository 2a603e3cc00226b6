"""Input normalisation: raw grayscale values of any dtype and range to the network's [0, 1].

The statistics are measured once (on training data) and stored in the model file as an
:class:`~napari_colorgan.core.model.config.InputNormalization`; inference applies them
unchanged to every tile, so neighbouring tiles and planes are scaled identically (per-tile
statistics would make each tile's colours shift: the classic checkerboard).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import InputNormalization, NormalizeMethod

#: Percentiles clipped by the ``"percentile"`` method.
PERCENTILES = (0.5, 99.8)
#: Most values read to measure statistics on a large stack (sampled evenly).
MAX_SAMPLES = 2_000_000
#: ``"auto"`` picks asinh for float data whose median would sit this low under a linear stretch.
DARK_MEDIAN = 0.1


def sample_windows(shape: tuple[int, ...], max_samples: int, window: int) -> list[tuple]:
    """Indices of up to ``max_samples / window**2`` random windows of an array of ``shape``.

    Seeded, so statistics measured on them are reproducible; each window touches few chunks.
    """
    rng = np.random.default_rng(0)
    lead, (h, w) = shape[:-2], shape[-2:]
    wy, wx = min(window, h), min(window, w)
    windows = []
    for _ in range(max(1, max_samples // (wy * wx))):
        plane = tuple(int(rng.integers(n)) for n in lead)
        y, x = int(rng.integers(h - wy + 1)), int(rng.integers(w - wx + 1))
        windows.append((*plane, slice(y, y + wy), slice(x, x + wx)))
    return windows


def _sample(data: Any, max_samples: int = MAX_SAMPLES, window: int = 256) -> np.ndarray:
    """Finite float64 values of ``data``: all of it if small, else random windows of it.

    A large stack is sampled as up to ``max_samples / window**2`` windows of ``window`` x
    ``window`` pixels at random planes and positions (seeded, so the statistics are
    reproducible). Each window touches few chunks of a zarr or dask array, so reading is bounded
    however large the stack is.
    """
    size = int(np.prod(data.shape))
    if size == 0:
        raise ValueError("cannot measure normalisation statistics of an empty array")
    if size <= max_samples:
        sample = np.asarray(data)
    else:
        sample = np.stack(
            [np.asarray(data[w]) for w in sample_windows(data.shape, max_samples, window)]
        )
    sample = sample.astype(np.float64, copy=False).ravel()
    return sample[np.isfinite(sample)]


def choose_method(sample: np.ndarray, dtype: np.dtype) -> NormalizeMethod:
    """What ``"auto"`` means for data of ``dtype`` whose finite values are ``sample``.

    Float data with a heavy bright tail (astronomy: sky near zero, stars 10⁴ times brighter)
    would show as near-black under a linear stretch, so it gets ``"asinh"``: when the linear
    percentile stretch would put the median below :data:`DARK_MEDIAN`. Everything else (integer
    microscopy, float data with a balanced histogram) gets ``"percentile"``.
    """
    if not np.issubdtype(dtype, np.floating) or sample.size == 0:
        return "percentile"
    low, median, high = np.percentile(sample, (PERCENTILES[0], 50, PERCENTILES[1]))
    if high <= low:
        return "percentile"
    return "asinh" if (median - low) / (high - low) < DARK_MEDIAN else "percentile"


def fit_normalization(
    data: Any, method: NormalizeMethod | str = "auto", softening: float | None = None
) -> InputNormalization:
    """Measure the statistics of ``method`` on ``data`` (numpy, dask or zarr; read sparsely).

    Parameters
    ----------
    data
        Grayscale array of any shape (..., y, x).
    method
        ``"auto"`` (see :func:`choose_method`), ``"percentile"``, ``"minmax"``, ``"asinh"``
        or ``"none"``.
    softening
        For ``"asinh"``: the knee in data units; default a robust noise scale of the sample.

    Returns
    -------
    InputNormalization
        With the method actually used (never ``"auto"``).
    """
    if method == "none":
        return InputNormalization("none")
    sample = _sample(data)
    if sample.size == 0:
        raise ValueError("the image holds no finite value (all NaN/Inf)")
    if method == "auto":
        method = choose_method(sample, np.dtype(data.dtype))
    if method == "minmax":
        low, high = float(sample.min()), float(sample.max())
    elif method in ("percentile", "asinh"):
        low, high = (float(v) for v in np.percentile(sample, PERCENTILES))
    else:
        raise ValueError(
            f"normalize must be 'auto', 'percentile', 'minmax', 'asinh' or 'none': {method!r}"
        )
    if method != "asinh":
        return InputNormalization(method, low, high if high > low else low + 1.0)
    if softening is None:
        # Median absolute deviation: the sky noise of an astronomical image.
        mad = float(np.median(np.abs(sample - np.median(sample))))
        softening = mad if mad > 0 else max(high - low, 1.0) / 100
    hi_stretched = float(np.arcsinh((high - low) / softening))
    return InputNormalization("asinh", low, hi_stretched if hi_stretched > 0 else 1.0, softening)


def apply_normalization(x: np.ndarray, norm: InputNormalization) -> np.ndarray:
    """Map raw values ``x`` to float32 in [0, 1] with stored statistics; NaN becomes 0."""
    x = np.asarray(x, dtype=np.float32)
    if norm.method == "asinh":
        x = np.arcsinh((x - norm.low) / norm.softening)
        low, high = 0.0, norm.high
    elif norm.method == "none":
        low, high = 0.0, 1.0
    else:
        low, high = norm.low, norm.high
    # One new array, then in place: windows of large planes are tens of megabytes each.
    out = np.subtract(x, low, dtype=np.float32)
    out /= high - low
    np.clip(out, 0.0, 1.0, out=out)
    return np.nan_to_num(out, copy=False, nan=0.0)
