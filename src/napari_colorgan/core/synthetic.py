"""Sample data: a synthetic EM-like annotated stack and the Hubble Deep Field.

The EM-like stack has cells (3-D Voronoi regions) bounded by dark membranes, mitochondria with
striped cristae, granular nuclei and small dark vesicles, on a finely textured cytoplasm, with
blur and shot-like noise. Each structure has a label and a colour, so the colour ground truth is
the grayscale tinted by class: a model must recognise structures by texture and intensity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .annotations import tint
from .color import to_uint8

#: Label ids of the synthetic stack.
CYTOPLASM, MEMBRANE, MITOCHONDRION, NUCLEUS, VESICLE = 1, 2, 3, 4, 5
LABEL_NAMES = {
    CYTOPLASM: "cytoplasm",
    MEMBRANE: "membrane",
    MITOCHONDRION: "mitochondrion",
    NUCLEUS: "nucleus",
    VESICLE: "vesicle",
}
#: Their colours, as in hand-colourised EM figures.
EM_PALETTE: dict[int, tuple[int, int, int]] = {
    CYTOPLASM: (214, 196, 170),
    MEMBRANE: (222, 84, 64),
    MITOCHONDRION: (70, 190, 90),
    NUCLEUS: (80, 120, 225),
    VESICLE: (235, 200, 50),
}


@dataclass(frozen=True)
class EMSample:
    """A synthetic EM stack: ``gray``, ``labels`` uint8 (z, y, x); ``rgb`` uint8 (z, y, x, 3)."""

    gray: np.ndarray
    labels: np.ndarray
    rgb: np.ndarray
    palette: dict[int, tuple[int, int, int]]


def _ellipsoids(
    shape: tuple[int, int, int], n: int, radii: tuple[float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Union mask of ``n`` random ellipsoids and each voxel's long-axis coordinate (stripes)."""
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    mask = np.zeros(shape, bool)
    along = np.zeros(shape, np.float32)
    for _ in range(n):
        c = [rng.uniform(0, s) for s in shape]
        a, b = rng.uniform(*radii) * 1.8, rng.uniform(*radii) * 0.8
        theta = rng.uniform(0, np.pi)
        u = (y - c[1]) * np.cos(theta) + (x - c[2]) * np.sin(theta)
        v = -(y - c[1]) * np.sin(theta) + (x - c[2]) * np.cos(theta)
        inside = (u / a) ** 2 + (v / b) ** 2 + ((z - c[0]) / max(b, 2.0)) ** 2 <= 1
        mask |= inside
        along = np.where(inside, u, along)
    return mask, along


def synthetic_em(shape: tuple[int, int, int] = (8, 256, 256), seed: int = 0) -> EMSample:
    """Generate an EM-like stack with labels and its tinted colour ground truth.

    Parameters
    ----------
    shape
        (z, y, x) of the stack.
    seed
        Seed of every random choice: equal seeds give equal stacks.

    Returns
    -------
    EMSample
    """
    rng = np.random.default_rng(seed)
    depth, h, w = shape
    # Cells: nearest of random seeds in 3-D (z stretched: sections are thicker than pixels).
    n_cells = max(3, h * w // 9000)
    seeds = np.stack(
        [
            rng.uniform(0, depth, n_cells) * 4,
            rng.uniform(0, h, n_cells),
            rng.uniform(0, w, n_cells),
        ],
        1,
    )
    zz, yy, xx = np.meshgrid(np.arange(depth) * 4.0, np.arange(h), np.arange(w), indexing="ij")
    from scipy.spatial import cKDTree

    _, cell = cKDTree(seeds).query(np.stack([zz.ravel(), yy.ravel(), xx.ravel()], 1))
    cell = cell.reshape(shape)
    boundary = np.zeros(shape, bool)
    for axis in (1, 2):
        boundary |= np.diff(cell, axis=axis, prepend=np.take(cell, [0], axis=axis)) != 0
    membrane = ndimage.binary_dilation(boundary, np.ones((1, 3, 3), bool))

    labels = np.full(shape, CYTOPLASM, np.uint8)
    gray = 175 + 12 * ndimage.gaussian_filter(rng.normal(size=shape), (0.5, 1.2, 1.2))
    nuclei, _ = _ellipsoids(shape, max(1, n_cells // 2), (h / 14, h / 9), rng)
    nuclei &= ~membrane
    grains = ndimage.gaussian_filter(rng.normal(size=shape), (0.5, 0.8, 0.8))
    gray = np.where(nuclei, 140 + 40 * grains, gray)
    labels[nuclei] = NUCLEUS
    mito, along = _ellipsoids(shape, max(2, n_cells * 2), (h / 40, h / 26), rng)
    mito &= ~membrane & ~nuclei
    cristae = 0.5 + 0.5 * np.cos(along * 1.3)
    gray = np.where(mito, 85 + 45 * cristae, gray)
    labels[mito] = MITOCHONDRION
    ves, _ = _ellipsoids(shape, max(4, n_cells * 6), (h / 150, h / 110), rng)
    ves &= ~membrane & ~nuclei & ~mito
    gray = np.where(ves, 60.0, gray)
    labels[ves] = VESICLE
    gray = np.where(membrane, 45.0, gray)
    labels[membrane] = MEMBRANE

    gray = ndimage.gaussian_filter(gray, (0, 0.8, 0.8)) + rng.normal(0, 6, shape)
    gray8 = np.clip(gray, 0, 255).astype(np.uint8)
    rgb, _ = tint(gray8.astype(np.float32) / 255, labels, EM_PALETTE)
    rgb8 = to_uint8(rgb)
    return EMSample(gray8, labels, rgb8, dict(EM_PALETTE))


def hubble_deep_field() -> tuple[np.ndarray, np.ndarray]:
    """The Hubble Deep Field shipped with scikit-image: ``(gray (y, x), rgb (y, x, 3))``, uint8.

    The grayscale is the colour image's lightness, so a Lab model learns only the colours.
    """
    from skimage import color, data

    rgb = data.hubble_deep_field()
    gray = to_uint8(color.rgb2lab(rgb)[..., 0] / 100)
    return gray, rgb


@dataclass(frozen=True)
class Split:
    """A train/test split of sample data for demos and benchmarks.

    ``train`` holds the keyword arguments of :func:`~napari_colorgan.train` (image and
    labels/palette or target); ``test_input`` is what :func:`~napari_colorgan.colorize` gets;
    ``test_lightness`` (in [0, 1]) and ``test_truth`` (uint8 RGB) are the held-out ground truth,
    whose lightness is the one a Lab model keeps; ``train_truth`` is the training colour.
    """

    train: dict[str, Any]
    test_input: np.ndarray
    test_lightness: np.ndarray
    test_truth: np.ndarray
    train_truth: np.ndarray


def em_split(
    shape: tuple[int, int, int] = (12, 256, 256), n_train: int = 8, seed: int = 0
) -> Split:
    """Synthetic EM: train on the first ``n_train`` slices' labels, test on the others.

    The truth tints the *normalised* grayscale (percentile statistics of the training slices),
    as the training targets do.
    """
    from .model.normalize import apply_normalization, fit_normalization

    em = synthetic_em(shape, seed=seed)
    norm = fit_normalization(em.gray[:n_train], "percentile")
    lightness = apply_normalization(em.gray, norm)
    truth = to_uint8(tint(lightness, em.labels, em.palette)[0])
    return Split(
        train={"image": em.gray[:n_train], "labels": em.labels[:n_train], "palette": em.palette},
        test_input=em.gray[n_train:],
        test_lightness=lightness[n_train:],
        test_truth=truth[n_train:],
        train_truth=truth[:n_train],
    )


def hubble_split(cut: int = 600) -> Split:
    """Hubble Deep Field: train on columns ``[0, cut)`` from colour alone, test on the rest."""
    import torch

    from .color import rgb_to_lab

    _, rgb = hubble_deep_field()
    lightness = rgb_to_lab(torch.from_numpy(rgb / 255.0), dim=-1)[..., 0].numpy() / 100
    return Split(
        train={"image": rgb[:, :cut]},
        test_input=lightness[:, cut:].astype(np.float32),
        test_lightness=lightness[:, cut:],
        test_truth=rgb[:, cut:],
        train_truth=rgb[:, :cut],
    )
