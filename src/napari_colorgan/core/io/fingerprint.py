"""What an input holds, cheaply: a hash of a strided sample of its planes, with shape and dtype.

A resumable output store records this so that a rerun on *another* input of the same shape is
refused instead of "resumed" (which kept the old result). Reading is bounded: at most
:data:`MAX_PLANES` planes, each read at about :data:`SIDE` x :data:`SIDE` evenly spaced pixels.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

#: Planes sampled (evenly spaced over the stack, first and last included).
MAX_PLANES = 16
#: Samples per plane side.
SIDE = 64


def content_sample(data: Any) -> np.ndarray:
    """A strided sample of ``data`` (..., y, x): up to ``MAX_PLANES`` planes of ``SIDE``² pixels.

    Parameters
    ----------
    data
        Array-like (numpy, dask, zarr, memmap) with at least two axes.

    Returns
    -------
    np.ndarray
        The sampled values, shape (planes, <= SIDE, <= SIDE), in ``data``'s dtype.
    """
    lead, (height, width) = tuple(data.shape[:-2]), tuple(data.shape[-2:])
    count = int(np.prod(lead)) if lead else 1
    flat = np.unique(np.linspace(0, count - 1, min(count, MAX_PLANES)).round().astype(int))
    rows = slice(None, None, max(1, height // SIDE))
    cols = slice(None, None, max(1, width // SIDE))
    planes = [
        np.asarray(data[(*(int(i) for i in np.unravel_index(k, lead)), rows, cols)]) for k in flat
    ]
    return np.stack(planes)


def input_fingerprint(data: Any) -> dict[str, Any]:
    """Shape, dtype and a content hash of ``data``'s sample; refuses an input with no number.

    Returns
    -------
    dict
        Plain JSON: ``shape``, ``dtype`` and ``sample_sha256``.

    Raises
    ------
    ValueError
        Every sampled value is NaN or infinite: the result would be black.
    """
    sample = content_sample(data)
    if np.issubdtype(sample.dtype, np.floating) and not np.isfinite(sample).any():
        raise ValueError(
            f"the input {tuple(data.shape)} holds no finite value where sampled (all NaN/Inf): "
            "check the file, or fill the missing values first"
        )
    digest = hashlib.sha256(np.ascontiguousarray(sample).tobytes()).hexdigest()
    return {
        "shape": [int(n) for n in data.shape],
        "dtype": str(np.dtype(data.dtype)),
        "sample_sha256": digest[:32],
    }
