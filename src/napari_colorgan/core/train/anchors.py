"""Where the labelled pixels of a plane are: the positions sparse-label patches are centred on.

A plane of painted labels is scanned once (and again whenever it is repainted during a live
run) into a small table of anchor pixels per class and a count of each class's pixels. Only
labelled pixels are mapped, so a 2048² plane with a few strokes costs one ``nonzero`` pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Labelled pixel positions remembered per class and plane (a random subset beyond this).
MAX_ANCHORS = 4096


@dataclass(frozen=True)
class PlaneScan:
    """One plane's labelled pixels.

    ``anchors`` (n, 3) int rows ``(y, x, class)``, at most :data:`MAX_ANCHORS` per class;
    ``counts`` (K,) int64 pixels of each class; ``unknown`` the painted label ids that have no
    class (no palette colour), sorted.
    """

    anchors: np.ndarray
    counts: np.ndarray
    unknown: tuple[int, ...]

    @property
    def annotated(self) -> bool:
        """Whether the plane has a pixel of some class."""
        return bool(self.anchors.size)


def scan_plane(
    labels: np.ndarray,
    class_map: Callable[[np.ndarray], np.ndarray],
    n_classes: int,
    rng: np.random.Generator,
    ignore: int,
) -> PlaneScan:
    """Scan integer labels (y, x) whose ``class_map`` gives class indices or ``ignore``."""
    ys, xs = np.nonzero(labels)  # only labelled pixels are mapped: planes may be huge
    values = labels[ys, xs]
    classes = class_map(values)
    unknown = tuple(int(v) for v in np.unique(values[classes == ignore]))
    counts = np.zeros(n_classes, np.int64)
    rows = [np.zeros((0, 3), np.int64)]
    for k in range(n_classes):
        of_k = np.flatnonzero(classes == k)
        counts[k] = of_k.size
        keep = of_k[rng.permutation(of_k.size)[:MAX_ANCHORS]]
        rows.append(np.stack([ys[keep], xs[keep], np.full(keep.size, k)], 1).astype(np.int64))
    return PlaneScan(np.concatenate(rows), counts, unknown)
