"""Where to paint next: the parts of a view a class model is least sure of.

Painting where the model already agrees teaches it little; painting where its confidence (the
top class probability) is lowest corrects what it gets wrong or hesitates on. The view is cut
into square cells and the cells of lowest mean confidence are suggested, never two side by
side, so the suggestions spread over the view. ``benchmarks/paint_next.py`` measures what
painting there gains over painting at random on real EM.
"""

from __future__ import annotations

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
        No two suggested cells touch (their neighbours, diagonals included, are passed over).
    """
    means = cell_confidence(confidence, cell)
    side = max(1, min(cell, *np.shape(confidence)))
    if skip is not None:
        means = np.where(cell_confidence(np.asarray(skip) > 0, side) > 0, np.inf, means)
    taken = np.zeros(means.shape, bool)
    out: list[Suggestion] = []
    for flat in np.argsort(means, axis=None, kind="stable"):
        if len(out) == count:
            break
        r, c = np.unravel_index(flat, means.shape)
        if not np.isfinite(means[r, c]) or taken[r, c]:
            continue
        taken[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] = True
        out.append(Suggestion((r + 0.5) * side, (c + 0.5) * side, float(means[r, c])))
    return out
