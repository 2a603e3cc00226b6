"""Where to paint next: the parts of a view a class model is least sure of.

Painting where the model already agrees teaches it little; painting where its confidence (the
top class probability) is lowest corrects what it gets wrong or hesitates on. The view is cut
into square cells, the cells into about as many blocks as suggestions, and each block's cell
of lowest mean confidence is suggested, so the suggestions spread over the view.
``benchmarks/paint_next.py`` measures what painting there gains over painting at random on
real EM.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Side of a suggested cell in pixels: about what one brush stroke or two covers when zoomed in.
CELL = 64


@dataclass(frozen=True)
class Suggestion:
    """A cell to paint: its centre (row, column) in the map's pixels and mean confidence."""

    y: float
    x: float
    confidence: float


def cell_confidence(confidence: np.ndarray, cell: int = CELL) -> np.ndarray:
    """Mean confidence of each whole ``cell`` x ``cell`` cell of a map (y, x): (rows, cols).

    Pixels past the last whole cell are left out (a map smaller than a cell is one cell).
    """
    conf = np.asarray(confidence, np.float32)
    cell = max(1, min(cell, *conf.shape))
    rows, cols = conf.shape[0] // cell, conf.shape[1] // cell
    cut = conf[: rows * cell, : cols * cell]
    return cut.reshape(rows, cell, cols, cell).mean(axis=(1, 3))


def least_confident(
    confidence: np.ndarray, count: int = 5, cell: int = CELL, skip: np.ndarray | None = None
) -> list[Suggestion]:
    """The ``count`` cells of lowest mean confidence, least confident first.

    Parameters
    ----------
    confidence
        The top class probability of each pixel (y, x), in [0, 1].
    count
        Most suggestions.
    cell
        Cell side in pixels.
    skip
        Pixels (y, x) not to suggest, e.g. already painted ones: a cell with any is left out.

    Returns
    -------
    list of Suggestion
        At most one per block of the view (the view cut into about ``count`` blocks).
    """
    means = cell_confidence(confidence, cell)
    side = max(1, min(cell, *np.shape(confidence)))
    if skip is not None:
        means = np.where(cell_confidence(np.asarray(skip) > 0, side) > 0, np.inf, means)
    picks = [(r, c) for r, c in _block_minima(means, count) if np.isfinite(means[r, c])]
    picks.sort(key=lambda rc: means[rc])
    return [Suggestion((r + 0.5) * side, (c + 0.5) * side, float(means[r, c])) for r, c in picks]


def _block_minima(means: np.ndarray, count: int) -> list[tuple[int, int]]:
    """The least confident cell of each of about ``count`` blocks tiling the view.

    Spread, not the ``count`` lowest overall: on real EM those cluster on one kind of
    structure, and painting them raised held-out accuracy less than painting cells spread at
    random (``benchmarks/paint_next.py``). Blocks without a finite cell give none; when there
    are more blocks than ``count``, the least confident minima are kept.
    """
    rows, cols = means.shape
    per = max(1, int(np.ceil(np.sqrt(count))))
    edges_r = np.linspace(0, rows, min(per, rows) + 1).astype(int)
    edges_c = np.linspace(0, cols, min(per, cols) + 1).astype(int)
    found = []
    for r0, r1 in itertools.pairwise(edges_r):
        for c0, c1 in itertools.pairwise(edges_c):
            block = means[r0:r1, c0:c1]
            r, c = np.unravel_index(np.argmin(block), block.shape)
            found.append((int(r0 + r), int(c0 + c)))
    found.sort(key=lambda rc: means[rc])
    return found[:count]
