"""Colour values: differentiable sRGB <-> CIE Lab in torch, and float colour to uint8.

Lab is D65, 2° observer, matching ``skimage.color``. Channels are on axis ``dim`` (default -3,
i.e. (..., 3, h, w)). RGB is in [0, 1]; L in [0, 100], a and b roughly in [-110, 110].
"""

from __future__ import annotations

import numpy as np
import torch

# sRGB primaries to CIE XYZ (the matrix scikit-image uses), and the D65 reference white.
_XYZ_FROM_RGB = torch.tensor(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=torch.float64,
)
_RGB_FROM_XYZ = torch.linalg.inv(_XYZ_FROM_RGB)
_WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)
_EPS = 1e-8  # keeps pow() differentiable at 0
# Where CIE Lab's companding f and sRGB's gamma leave their linear parts.
_F_KNEE = 0.2068966  # f⁻¹: cube above, linear below
_F_OFFSET, _F_SLOPE = 16 / 116, 7.787
_GAMMA_KNEE = 0.0031308  # sRGB: power above, x 12.92 below


def _mix(x: torch.Tensor, matrix: torch.Tensor, dim: int) -> torch.Tensor:
    """Apply a 3x3 colour matrix along ``dim``."""
    # Positive axes: torch's ONNX export writes negative ones into Transpose, which is invalid.
    dim, last = dim % x.ndim, x.ndim - 1
    x = x.movedim(dim, last)
    y = x @ matrix.to(dtype=x.dtype, device=x.device).T
    return y.movedim(last, dim)


def _shape_white(x: torch.Tensor, dim: int) -> torch.Tensor:
    shape = [1] * x.ndim
    shape[dim] = 3
    return _WHITE_D65.to(dtype=x.dtype, device=x.device).view(shape)


def _check(x: torch.Tensor, dim: int) -> None:
    if x.shape[dim] != 3:
        raise ValueError(f"expected 3 colour channels on axis {dim}, got shape {tuple(x.shape)}")


def rgb_to_lab(rgb: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Convert sRGB in [0, 1] to CIE Lab.

    Parameters
    ----------
    rgb
        Tensor with 3 channels on ``dim``.
    dim
        The channel axis.

    Returns
    -------
    torch.Tensor
        L, a, b on ``dim``; L in [0, 100].
    """
    _check(rgb, dim)
    linear = torch.where(
        rgb > 0.04045, ((rgb.clamp_min(0) + 0.055) / 1.055).clamp_min(_EPS) ** 2.4, rgb / 12.92
    )
    xyz = _mix(linear, _XYZ_FROM_RGB, dim) / _shape_white(rgb, dim)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(_EPS) ** (1 / 3), _F_SLOPE * xyz + _F_OFFSET)
    fx, fy, fz = f.unbind(dim)
    lab = [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)]
    return torch.stack(lab, dim)


def lab_to_rgb(lab: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Convert CIE Lab to sRGB, clipped to [0, 1] like ``skimage.color.lab2rgb``.

    Parameters
    ----------
    lab
        Tensor with L, a, b on ``dim``.
    dim
        The channel axis.

    Returns
    -------
    torch.Tensor
        RGB on ``dim`` in [0, 1].
    """
    _check(lab, dim)
    L, a, b = lab.unbind(dim)
    fy = (L + 16) / 116
    # Negative z is out of gamut; scikit-image clips it to 0 the same way.
    f = torch.stack([a / 500 + fy, fy, (fy - b / 200).clamp_min(0)], dim)
    xyz = torch.where(f > _F_KNEE, f**3, (f - _F_OFFSET) / _F_SLOPE) * _shape_white(lab, dim)
    linear = _mix(xyz, _RGB_FROM_XYZ, dim)
    rgb = torch.where(
        linear > _GAMMA_KNEE, 1.055 * linear.clamp_min(_EPS) ** (1 / 2.4) - 0.055, 12.92 * linear
    )
    return rgb.clamp(0, 1)


#: Rows converted at a time by :func:`lab_to_rgb8`: ~20 float planes of this many rows stay in
#: the CPU's cache, which made the conversion of a 2048² plane 4x faster than whole planes.
_ROWS = 128


def lab_to_rgb8(
    lightness: torch.Tensor, a: torch.Tensor, b: torch.Tensor, ab_scale: float = 1.0
) -> torch.Tensor:
    """Lab planes to uint8 sRGB: :func:`lab_to_rgb` then :func:`to_uint8`, for inference.

    The same formulas (equal up to float rounding: at most 1 level apart), computed plane by
    plane, in place and a strip of rows at a time instead of on (..., 3, h, w) tensors, with
    no gradient and no float RGB result.

    Parameters
    ----------
    lightness, a, b
        L in [0, 100] and a, b, each (n, h, w), any float dtype.
    ab_scale
        Factor on ``a`` and ``b``, applied in float32 (a bf16 network output times 110 in
        bf16 would lose a level).

    Returns
    -------
    torch.Tensor
        uint8 (n, h, w, 3).
    """
    n, h, w = lightness.shape
    out = torch.empty((n, h, w, 3), dtype=torch.uint8, device=lightness.device)
    white = _WHITE_D65.tolist()
    mix = _RGB_FROM_XYZ.tolist()
    # Strips help a CPU's cache; on a GPU they would only add kernel launches.
    step = _ROWS if lightness.device.type == "cpu" else h
    with torch.no_grad():
        for top in range(0, h, step):
            rows = slice(top, top + step)
            fy = lightness[:, rows].float().add(16).div_(116)
            x = _f_inverse(a[:, rows].float().mul(ab_scale / 500).add_(fy)).mul_(white[0])
            z = fy - b[:, rows].float().mul(ab_scale / 200)
            z = _f_inverse(z.clamp_min_(0)).mul_(white[2])
            y = _f_inverse(fy).mul_(white[1])
            for channel, (cx, cy, cz) in enumerate(mix):
                linear = (x * cx).add_(y, alpha=cy).add_(z, alpha=cz)
                low = linear * 12.92
                high = linear.clamp_min_(_EPS).pow_(1 / 2.4).mul_(1.055).sub_(0.055)
                srgb = torch.where(low > _GAMMA_KNEE * 12.92, high, low)
                out[:, rows, :, channel] = _scaled_uint8(srgb)
    return out


def _f_inverse(f: torch.Tensor) -> torch.Tensor:
    """CIE Lab's inverse companding f⁻¹, reusing ``f``'s storage (it is changed)."""
    cube = f * f * f
    return torch.where(f > _F_KNEE, cube, f.sub_(_F_OFFSET).div_(_F_SLOPE))


def _scaled_uint8(rgb: torch.Tensor) -> torch.Tensor:
    """Float colour in [0, 1] (clipped; changed in place) scaled to 0-255 plus 0.5.

    Assigned or cast to uint8 it truncates, so the +0.5 rounds to nearest as :func:`to_uint8`.
    """
    return rgb.clamp_(0, 1).mul_(255).add_(0.5)


def tensor_to_uint8(rgb: torch.Tensor) -> torch.Tensor:
    """:func:`to_uint8` for a float tensor (``rgb`` is changed in place)."""
    return _scaled_uint8(rgb).to(torch.uint8)


def to_uint8(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Float colour in [0, 1] to uint8, rounded to nearest (values outside are clipped).

    Parameters
    ----------
    rgb
        Float array of any shape.
    out
        Optional uint8 array of the same shape to write into (no temporary copy of the result).

    Returns
    -------
    np.ndarray
        ``out`` if given, else a new uint8 array.
    """
    scaled = np.clip(rgb, 0, 1) * 255
    scaled += 0.5  # float to uint8 truncates: +0.5 rounds
    if out is None:
        return scaled.astype(np.uint8)
    out[...] = scaled
    return out
