"""Training data: a grayscale stack with colour ground truth or painted labels, sampled lazily.

Tiles are read window by window from numpy, dask or zarr arrays (or files), so a stack far
larger than memory trains with bounded memory. Only annotated planes are used; where their
labelled pixels are is kept per plane (``anchors``) for the sampler to centre patches on, and
is kept up to date when planes are repainted during a live run (:meth:`AnnotatedStack.rescan`).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import numpy as np
import torch

from ..annotations import Palette, check_palette, tint
from ..io.fingerprint import content_sample
from ..io.images import open_image
from ..metrics import check_float_rgb
from ..model.config import InputNormalization
from ..model.normalize import apply_normalization
from .anchors import PlaneScan, scan_plane

#: Class index of pixels that carry no label (``torch.nn.functional.cross_entropy`` skips it).
IGNORE = -100


def _rgb01(window: np.ndarray) -> np.ndarray:
    """RGB of any dtype to float32 [0, 1]: integers by their full range, floats as they are.

    Float windows off the [0, 1] scale are refused (:func:`check_float_rgb`) rather than
    clipped: clipping a 0–255 target trained a model to paint everything white.
    """
    if np.issubdtype(window.dtype, np.integer):
        return window.astype(np.float32) / np.iinfo(window.dtype).max
    check_float_rgb(window, "a patch of the colour target")
    return np.clip(window.astype(np.float32), 0, 1)


def _check_rgb_source(rgb: Any, source: Any, what: str) -> None:
    """Refuse a colour source that is not RGB, or float RGB off the [0, 1] scale (sampled)."""
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        raise ValueError(f"{what} must be RGB (..., y, x, 3), got shape {rgb.shape}")
    if np.issubdtype(rgb.dtype, np.floating):
        named = f"{what} {source}" if isinstance(source, str | os.PathLike) else what
        check_float_rgb(content_sample(rgb), named)
    elif not np.issubdtype(rgb.dtype, np.integer):
        raise ValueError(f"{what} has dtype {rgb.dtype}: use integers or floats in 0–1")


def _lightness(rgb01: np.ndarray) -> np.ndarray:
    """Lab lightness / 100 of RGB (..., 3) in [0, 1]: the grayscale an RGB target implies."""
    from ..color import rgb_to_lab

    return rgb_to_lab(torch.from_numpy(rgb01), dim=-1)[..., 0].numpy() / 100


class AnnotatedStack:
    """A grayscale stack and its colour annotation, ready to sample training patches from.

    Parameters
    ----------
    image
        Grayscale (..., y, x) as an array or path; or an RGB stack (..., y, x, 3) alone, whose
        lightness is then the input.
    target
        RGB ground truth (..., y, x, 3) of the same planes.
    labels
        Integer labels (..., y, x); 0 = not annotated. Needs ``palette``.
    palette
        ``{label: (r, g, b)}`` 0–255.
    slices
        Planes of the first axis to use (a ``slice`` or index list); default all.
    normalization
        Input normalisation (as stored in the model file).
    context
        Neighbouring planes on each side given as extra input channels.
    """

    def __init__(
        self,
        image: Any,
        *,
        target: Any = None,
        labels: Any = None,
        palette: Palette | None = None,
        slices: slice | list[int] | None = None,
        normalization: InputNormalization,
        context: int = 0,
    ) -> None:
        sources = (image, target)  # the paths, to name them in messages
        image = open_image(image)
        target = None if target is None else open_image(target)
        labels = None if labels is None else open_image(labels)
        if target is not None and labels is not None:
            raise ValueError("give either a colour target or labels, not both")
        self.rgb_only = target is None and labels is None
        if self.rgb_only:
            if image.ndim >= 3 and image.shape[-1] == 4:
                raise ValueError(
                    f"image of shape {image.shape} has 4 channels (RGBA?): drop the alpha "
                    "channel to train from its colours, or give a grayscale image with a target"
                )
            if image.ndim < 3 or image.shape[-1] != 3:
                raise ValueError(
                    f"image of shape {image.shape} is grayscale: give a colour target (RGB) or "
                    "labels with a palette to learn from"
                )
            _check_rgb_source(image, sources[0], "the RGB image")
            target = image
        if image.ndim < 2:
            raise ValueError(f"expected an image (y, x) or a stack, got shape {image.shape}")
        kind = np.dtype(image.dtype)
        if not (np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating)):
            raise ValueError(f"cannot train on data of dtype {kind}: use integers or floats")
        if target is not None and not self.rgb_only:
            _check_rgb_source(target, sources[1], "the target")
        self.image, self.target, self.labels = image, target, labels
        self.gray_shape = tuple(target.shape[:-1]) if self.rgb_only else tuple(image.shape)
        ref = tuple(target.shape[:-1] if target is not None else labels.shape)
        if not self.rgb_only and self.gray_shape[-1] in (3, 4) and self.gray_shape[:-1] == ref:
            raise ValueError(f"the input must be grayscale, got an RGB(A) image {image.shape}")
        if ref != self.gray_shape:
            what = "target" if target is not None else "labels"
            raise ValueError(f"{what} shape {ref} does not match the image's {self.gray_shape}")
        if labels is not None:
            if palette is None:
                raise ValueError("labels need a palette mapping label ids to colours")
            if not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        self.palette = check_palette(palette) if palette is not None else None
        #: Label ids in class order (class index i is label ``class_ids[i]``).
        self.class_ids: list[int] = sorted(self.palette) if labels is not None else []
        self.class_counts = np.zeros(len(self.class_ids), np.int64)
        # Label id -> class index, IGNORE for 0 and ids without a colour (made once).
        self._class_lut = np.full(max(self.class_ids, default=0) + 1, IGNORE, np.int64)
        self._class_lut[self.class_ids] = np.arange(len(self.class_ids))
        self.normalization = normalization
        self.context = context
        self.planes = self._select_planes(slices)
        self._plane_set = set(self.planes)
        self.anchors: dict[tuple[int, ...], np.ndarray] = {}
        self._plane_counts: dict[tuple[int, ...], np.ndarray] = {}
        self.annotated = self._find_annotated()

    # ---- geometry --------------------------------------------------------------------------

    @property
    def height(self) -> int:
        """Plane height in pixels."""
        return self.gray_shape[-2]

    @property
    def width(self) -> int:
        """Plane width in pixels."""
        return self.gray_shape[-1]

    @property
    def labelled_share(self) -> float:
        """Labelled share of the annotated planes' pixels (1: colour targets, dense labels)."""
        if self.labels is None:
            return 1.0
        pixels = len(self._plane_counts) * self.height * self.width
        return float(self.class_counts.sum()) / max(pixels, 1)

    def _select_planes(self, slices: slice | list[int] | None) -> list[tuple[int, ...]]:
        lead = self.gray_shape[:-2]
        if not lead:
            if slices is not None:
                raise ValueError("slices were given but the image is a single 2D plane")
            return [()]
        first = range(lead[0])
        chosen = list(first[slices]) if isinstance(slices, slice) else list(slices or first)
        bad = [i for i in chosen if not 0 <= i < lead[0]]
        if bad or not chosen:
            raise ValueError(
                f"slice selection {slices!r} is empty or outside 0..{lead[0] - 1} of the stack"
            )
        rest = list(itertools.product(*(range(n) for n in lead[1:])))  # reused for each i
        return [(i, *r) for i in chosen for r in rest] if len(lead) > 1 else [(i,) for i in chosen]

    def _find_annotated(self) -> list[tuple[int, ...]]:
        """Planes with an annotated pixel (all, for colour targets), read plane by plane.

        For labels, also remembers up to ``MAX_ANCHORS`` pixels of each class per plane, as
        (y, x, class) rows, so patches can be centred class by class, and counts each class.
        """
        if self.labels is None:
            return list(self.planes)
        found = []
        for plane in self.planes:
            scan = self._scan(plane, np.asarray(self.labels[plane]))
            if scan.unknown:
                raise ValueError(
                    f"labels {list(scan.unknown[:10])} (plane {plane}) have no colour in the "
                    f"palette {sorted(self.class_ids)}: add them to the palette or erase them"
                )
            if self._keep(plane, scan):
                found.append(plane)
        if not found:
            raise ValueError(
                "no annotated pixel in the selected slices: paint labels (non-zero) on at least "
                "one slice, or choose slices that have some"
            )
        return found

    def _scan(self, plane: tuple[int, ...], labels: np.ndarray) -> PlaneScan:
        # One generator per plane: a rescan of one plane draws the same anchors as a fresh run.
        rng = np.random.default_rng([0, *plane])
        return scan_plane(labels, self.class_map, len(self.class_ids), rng, IGNORE)

    def _keep(self, plane: tuple[int, ...], scan: PlaneScan) -> bool:
        """Record a plane's scan (replacing an earlier one); whether it is annotated."""
        old = self._plane_counts.pop(plane, None)
        if old is not None:
            self.class_counts -= old
        self.anchors.pop(plane, None)
        if scan.annotated:
            self.anchors[plane] = scan.anchors
            self._plane_counts[plane] = scan.counts
            self.class_counts += scan.counts
        return scan.annotated

    def rescan(self, plane: tuple[int, ...], labels: np.ndarray) -> tuple[int, ...]:
        """Take in a repainted plane (y, x) of labels; returns label ids it has no class for.

        Anchors, class counts and :attr:`annotated` follow the new strokes. Ids without a
        palette colour are ignored (the model's classes are fixed when training starts).
        """
        if plane not in self._plane_set:
            return ()  # outside the chosen slices
        scan = self._scan(plane, np.asarray(labels))
        annotated = self._keep(plane, scan)
        if annotated and plane not in self.annotated:
            self.annotated = sorted([*self.annotated, plane])
        elif not annotated and plane in self.annotated:
            self.annotated = [p for p in self.annotated if p != plane]
        return scan.unknown

    def lightness_gap(self, tile: int, rng: np.random.Generator, count: int = 8) -> float:
        """Mean |L*(target) − 100·input| over ``count`` random tiles of annotated planes.

        Near 0 when the colour target keeps the input's lightness (a Lab model reproduces it
        exactly); large when the target has its own tone curve.
        """
        gaps = []
        for _ in range(count):
            plane = self.annotated[int(rng.integers(len(self.annotated)))]
            y = int(rng.integers(max(1, self.height - tile + 1)))
            x = int(rng.integers(max(1, self.width - tile + 1)))
            gray, rgb, _mask, _classes = self.read_tile(plane, y, x, tile)
            lightness = 100 * _lightness(np.ascontiguousarray(np.moveaxis(rgb, 0, -1)))
            gaps.append(float(np.mean(np.abs(lightness - 100 * gray[self.context]))))
        return float(np.mean(gaps))

    def class_map(self, labels: np.ndarray) -> np.ndarray:
        """Label ids to class indices (int64), :data:`IGNORE` for 0 and ids without a colour."""
        top = len(self._class_lut) - 1
        return np.where(labels > top, IGNORE, self._class_lut[np.clip(labels, 0, top)])

    # ---- reading ---------------------------------------------------------------------------

    def _window(self, arr: Any, plane: tuple[int, ...], y: int, x: int, t: int) -> np.ndarray:
        """Read ``arr[plane][y:y+t, x:x+t]``, reflect-padding where the window leaves the plane."""
        y0, x0 = max(y, 0), max(x, 0)
        y1, x1 = min(y + t, self.height), min(x + t, self.width)
        win = np.asarray(arr[(*plane, slice(y0, y1), slice(x0, x1))])
        pad = ((y0 - y, y + t - y1), (x0 - x, x + t - x1))
        if any(p for pair in pad for p in pair):
            extra = ((0, 0),) * (win.ndim - 2)
            mode = "reflect" if min(win.shape[:2]) > max(max(pad)) else "symmetric"
            win = np.pad(win, pad + extra, mode=mode if min(win.shape[:2]) > 1 else "edge")
        return win

    def _gray(self, plane: tuple[int, ...], y: int, x: int, t: int) -> np.ndarray:
        if self.rgb_only:
            return _lightness(_rgb01(self._window(self.target, plane, y, x, t)))
        return apply_normalization(self._window(self.image, plane, y, x, t), self.normalization)

    def read_tile(
        self, plane: tuple[int, ...], y: int, x: int, t: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Input (c, t, t), RGB target (3, t, t), mask (1, t, t) and classes (1, t, t) at a window.

        The mask is None for dense colour targets; the classes are None unless training from
        labels.
        """
        z = plane[0] if plane else 0
        depth = self.gray_shape[0] if plane else 1
        channels = []
        for dz in range(-self.context, self.context + 1):
            # Neighbours past the stack's ends repeat the edge plane.
            zz = min(max(z + dz, 0), depth - 1)
            channels.append(self._gray((zz, *plane[1:]) if plane else (), y, x, t))
        gray = np.stack(channels)  # (c, t, t)
        centre = gray[self.context]
        if self.labels is None:
            rgb = _rgb01(self._window(self.target, plane, y, x, t))
            return gray, np.moveaxis(rgb, -1, 0), None, None
        assert self.palette is not None
        labels = self._window(self.labels, plane, y, x, t)
        classes = self.class_map(labels)
        # Ids without a class can only be strokes painted after the start (a live run): they
        # are left unlabelled rather than stopping the run.
        labels = np.where(classes == IGNORE, 0, labels)
        rgb, known = tint(centre, labels, self.palette)
        return gray, np.moveaxis(rgb, -1, 0), known[None].astype(np.float32), classes[None]
