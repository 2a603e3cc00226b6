"""Scoring a class map against painted labels: per-class IoU and F1, and the confusion table.

A class map (one label id per pixel) is what a segmentation user counts and measures with; its
quality is read class by class, as ilastik and the ISBI challenges report it. Only painted
pixels (non-zero in the truth) count. Planes are read one at a time, so a stack larger than
memory is scored with bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Truth value of pixels nobody painted (not scored).
UNLABELLED = 0


@dataclass(frozen=True)
class ClassScores:
    """The scores of a class map against labels.

    Attributes
    ----------
    ids
        The label ids scored, in table order (every id in the truth or the prediction).
    confusion
        Pixel counts (len(ids), len(ids)): rows the truth, columns the prediction.
    """

    ids: tuple[int, ...]
    confusion: np.ndarray = field(repr=False)

    @property
    def pixels(self) -> int:
        """Painted pixels scored."""
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        """Share of painted pixels given their painted class."""
        return float(np.trace(self.confusion) / max(self.pixels, 1))

    def iou(self) -> dict[int, float]:
        """Intersection over union of each class present in the truth."""
        hit = np.diag(self.confusion).astype(float)
        union = self.confusion.sum(0) + self.confusion.sum(1) - hit
        return {i: float(hit[k] / union[k]) for k, i in enumerate(self.ids) if self._painted(k)}

    def f1(self) -> dict[int, float]:
        """F1 (Dice) of each class present in the truth."""
        hit = np.diag(self.confusion).astype(float)
        both = self.confusion.sum(0) + self.confusion.sum(1)
        return {i: float(2 * hit[k] / both[k]) for k, i in enumerate(self.ids) if self._painted(k)}

    def macro_f1(self) -> float:
        """The mean of :meth:`f1` over the painted classes."""
        values = list(self.f1().values())
        return float(np.mean(values)) if values else 0.0

    @property
    def labels(self) -> tuple[int, ...]:
        """The label ids in the confusion table's order (as ``LabelScores.labels``)."""
        return self.ids

    def rows(self) -> list[tuple[str, float]]:
        """Flat ``(name, value)`` rows for tables and CSV: accuracy, macro-F1, each label's."""
        out = [("class_accuracy", self.accuracy), ("macro_f1", self.macro_f1())]
        iou = self.iou()
        for label, f1 in self.f1().items():
            out += [(f"label {label} IoU", iou[label]), (f"label {label} F1", f1)]
        return out

    def _painted(self, k: int) -> bool:
        return bool(self.confusion[k].sum() > 0)

    def table(self) -> str:
        """The per-class scores and the confusion table as plain text."""
        iou, f1 = self.iou(), self.f1()
        lines = [f"{'class':>8} {'IoU':>7} {'F1':>7} {'pixels':>10}"]
        for k, i in enumerate(self.ids):
            if i in f1:
                count = int(self.confusion[k].sum())
                lines.append(f"{i:>8} {iou[i]:7.3f} {f1[i]:7.3f} {count:>10}")
        lines.append(f"accuracy {self.accuracy:.3f}, macro F1 {self.macro_f1():.3f}")
        lines.append("confusion (rows: painted, columns: predicted)")
        lines.append(" " * 8 + "".join(f"{i:>10}" for i in self.ids))
        for k, i in enumerate(self.ids):
            lines.append(f"{i:>8}" + "".join(f"{int(n):>10}" for n in self.confusion[k]))
        return "\n".join(lines)


def class_map_scores(predicted: Any, truth: Any) -> ClassScores:
    """Score ``predicted`` class ids against painted ``truth`` labels of the same shape.

    Raises
    ------
    ValueError
        The shapes differ, a map is not integer, or nothing is painted.
    """
    if tuple(predicted.shape) != tuple(truth.shape):
        raise ValueError(
            f"the class map has shape {tuple(predicted.shape)} but the labels "
            f"{tuple(truth.shape)}: give both for the same planes"
        )
    for name, data in (("class map", predicted), ("labels", truth)):
        if not np.issubdtype(np.dtype(data.dtype), np.integer):
            raise ValueError(f"the {name} must hold integer label ids, not {data.dtype}")
    pairs = list(_painted_pairs(predicted, truth))
    ids = sorted({int(i) for p, t in pairs for i in np.union1d(np.unique(p), np.unique(t))})
    if not pairs or not ids:
        raise ValueError("the labels hold no painted pixel (all 0): nothing to score")
    n = len(ids)
    confusion = np.zeros((n, n), np.int64)
    for p, t in pairs:
        cells = _positions(t, ids) * n + _positions(p, ids)  # (painted pixels,) flat cells
        confusion += np.bincount(cells, minlength=n * n).reshape(n, n)
    return ClassScores(tuple(ids), confusion)


def _painted_pairs(predicted: Any, truth: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(predicted, truth) ids of each plane's painted pixels, one plane in memory at a time."""
    lead = tuple(truth.shape[:-2])
    for where in np.ndindex(*lead) if lead else [()]:
        t = np.asarray(truth[where]).ravel()
        keep = t != UNLABELLED
        if keep.any():
            yield np.asarray(predicted[where]).ravel()[keep], t[keep]


def _positions(values: np.ndarray, ids: list[int]) -> np.ndarray:
    """Each value's position in the sorted ``ids``."""
    return np.searchsorted(np.asarray(ids), values)
