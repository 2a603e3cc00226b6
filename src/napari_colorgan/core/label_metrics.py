"""Scoring a colorization against painted labels: the question a painter asks.

"How many pixels got the right class colour?" Each labelled pixel's target is built exactly as
training builds it — the label colour's chroma on the pixel's own lightness (``tint``) — and
each predicted colour is decoded to the palette entry whose tint of that lightness is nearest
in CIE Lab. For a Lab model the prediction's lightness *is* the input's, so decoding is exact:
a right class is a right colour. Unlabelled pixels (0) are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .annotations import check_palette, tint
from .color import rgb_to_lab
from .events import Event, Finished, Progress, StopSignal, stop_requested
from .metrics import DEFAULT_THRESHOLD, _as_float_rgb, evaluate


@dataclass(frozen=True)
class LabelScores:
    """Scores of a colorization against labels.

    Attributes
    ----------
    metrics
        The colour metrics of :func:`~napari_colorgan.core.metrics.evaluate` on the labelled
        pixels, plus ``class_accuracy`` (share of labelled pixels decoded to their label) and
        ``macro_f1`` (mean F1 over the labels present).
    per_class
        ``{label: {"accuracy": recall, "f1": F1, "pixels": count}}`` for each label present.
    confusion
        Pixel counts (K, K): row = true label, column = decoded label, in ``labels`` order.
    labels
        The palette's label ids, in the confusion table's order.
    """

    metrics: dict[str, float]
    per_class: dict[int, dict[str, float]]
    confusion: np.ndarray = field(repr=False)
    labels: tuple[int, ...]

    def rows(self) -> list[tuple[str, float]]:
        """Flat ``(name, value)`` rows for tables and CSV: the metrics, then each label's."""
        out = list(self.metrics.items())
        for label, scores in self.per_class.items():
            out += [
                (f"label {label} accuracy", scores["accuracy"]),
                (f"label {label} F1", scores["f1"]),
            ]
        return out


def _lab(rgb: np.ndarray) -> np.ndarray:
    """Float RGB (..., 3) in [0, 1] to CIE Lab (..., 3)."""
    return rgb_to_lab(torch.from_numpy(np.ascontiguousarray(rgb, np.float32)), dim=-1).numpy()


#: Lightness grid (L* 0–100) on which each label's tint is tabulated once.
_GRID = np.linspace(0.0, 100.0, 1001, dtype=np.float32)


def _tint_of(lightness: np.ndarray, label: int, palette: Mapping[int, Any]) -> np.ndarray:
    """RGB (..., 3) of ``label``'s colour on ``lightness`` (L* 0–100), everywhere."""
    labels = np.full(lightness.shape, label, np.int64)
    rgb, _ = tint(np.clip(lightness / 100, 0, 1), labels, palette)
    return rgb


def _source_tables(palette: Mapping[int, Any]) -> list[np.ndarray]:
    """Per label (sorted), the monotone map grey L* -> tinted L* on :data:`_GRID`.

    A tint out of the RGB gamut is clipped, which changes its lightness; inverting this map
    recovers the grey it was tinted from, so a prediction equal to the training target is
    scored as equal.
    """
    return [
        np.maximum.accumulate(_lab(_tint_of(_GRID, label, palette))[..., 0])  # (1001,)
        for label in sorted(palette)
    ]


def _candidates(
    lightness: np.ndarray, palette: Mapping[int, Any], tables: list[np.ndarray]
) -> np.ndarray:
    """Each label's tint (K, ..., 3) that a pixel of lightness ``lightness`` would have had."""
    out = []
    for label, tinted in zip(sorted(palette), tables, strict=True):
        source = np.interp(lightness, tinted, _GRID)
        out.append(_tint_of(source.astype(np.float32), label, palette))
    return np.stack(out)


def decode_classes(rgb: np.ndarray, palette: Mapping[int, Any]) -> np.ndarray:
    """The label whose tint, at each pixel's lightness, is nearest its colour (CIE Lab).

    Parameters
    ----------
    rgb
        float RGB (..., y, x, 3) in [0, 1].
    palette
        ``{label: (r, g, b)}`` (0–255).

    Returns
    -------
    numpy.ndarray
        Label ids (..., y, x).
    """
    palette = check_palette(palette)
    lab = _lab(rgb)
    candidates = _candidates(lab[..., 0], palette, _source_tables(palette))
    return _decode(lab, candidates, palette)


def _decode(lab: np.ndarray, candidates: np.ndarray, palette: Mapping[int, Any]) -> np.ndarray:
    """Nearest candidate's label for colours ``lab`` (..., 3); ``candidates`` (K, ..., 3) RGB."""
    dist = ((_lab(candidates) - lab[None]) ** 2).sum(-1)  # (K, ...)
    return np.asarray(sorted(palette))[dist.argmin(0)]


def class_table(
    confusion: np.ndarray, labels: tuple[int, ...]
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Accuracy and macro-F1, and each present label's accuracy (recall), F1 and pixel count."""
    total = confusion.sum()
    per_class: dict[int, dict[str, float]] = {}
    for i, label in enumerate(labels):
        truth = confusion[i].sum()
        if truth == 0:
            continue  # not painted in the scored planes
        tp, predicted = confusion[i, i], confusion[:, i].sum()
        per_class[label] = {
            "accuracy": float(tp / truth),
            "f1": float(2 * tp / (truth + predicted)),
            "pixels": float(truth),
        }
    summary = {
        "class_accuracy": float(np.trace(confusion) / total) if total else float("nan"),
        "macro_f1": float(np.mean([c["f1"] for c in per_class.values()]))
        if per_class
        else float("nan"),
    }
    return summary, per_class


#: Rows decoded at once: the candidate tints take K x rows x width x 3 floats.
ROWS = 256


def _decode_rows(
    rgb: np.ndarray,
    labels: np.ndarray,
    palette: Mapping[int, Any],
    index: np.ndarray,
    tables: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Decoded labels (y, x) and each pixel's target tint (y, x, 3), a block of rows at a time."""
    decoded = np.zeros(labels.shape, np.int64)
    target = np.zeros(rgb.shape, np.float32)
    for y in range(0, rgb.shape[0], ROWS):
        lab = _lab(rgb[y : y + ROWS])  # (rows, x, 3)
        candidates = _candidates(lab[..., 0], palette, tables)  # (K, rows, x, 3)
        decoded[y : y + ROWS] = _decode(lab, candidates, palette)
        # Each pixel's target: its own label's tint, as training built it (0: unused).
        own = index[labels[y : y + ROWS]][None, ..., None]  # (1, rows, x, 1)
        target[y : y + ROWS] = np.take_along_axis(candidates, own, axis=0)[0]
    return decoded, target


def _check_labels(labels: np.ndarray, palette: Mapping[int, Any]) -> None:
    """Every painted label must have a palette colour (else its target is undefined)."""
    if labels.min(initial=0) < 0:
        raise ValueError("labels must be >= 0 (0 = not annotated)")
    missing = sorted(set(np.unique(labels).tolist()) - {0} - set(palette))
    if missing:
        raise ValueError(f"labels {missing[:10]} have no colour in the palette")


def _check(pred: Any, labels: Any) -> None:
    if pred.ndim < 3 or pred.shape[-1] != 3:
        raise ValueError(f"prediction must be RGB (..., y, x, 3), got shape {pred.shape}")
    if tuple(labels.shape) != tuple(pred.shape[:-1]):
        raise ValueError(
            f"labels {tuple(labels.shape)} do not match the prediction's planes "
            f"{tuple(pred.shape[:-1])}: give labels of the colorized image at full resolution"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")


def evaluate_labels_iter(
    pred: Any,
    labels: Any,
    palette: Mapping[int, Any],
    threshold: float = DEFAULT_THRESHOLD,
    stop: StopSignal | None = None,
) -> Iterator[Event]:
    """Score ``pred`` against ``labels`` plane by plane, yielding :class:`Progress`.

    Parameters
    ----------
    pred
        RGB (..., y, x, 3): uint8, or float in [0, 1]; numpy, dask or zarr (read one plane at a
        time).
    labels
        Integer labels (..., y, x); 0 = not annotated.
    palette
        ``{label: (r, g, b)}`` (0–255), the colours training tinted with.
    threshold
        For the colour ``accuracy`` (see :func:`~napari_colorgan.core.metrics.evaluate`).
    stop
        Set it to end early; nothing is scored then (no :class:`Finished`).

    Yields
    ------
    Event
        :class:`Progress` per plane, then :class:`Finished` whose ``result`` is a
        :class:`LabelScores`.
    """
    _check(pred, labels)
    palette = check_palette(palette)
    ids = tuple(sorted(palette))
    index = np.zeros(max(ids) + 1, np.int64)
    index[list(ids)] = np.arange(len(ids))
    planes = list(np.ndindex(*pred.shape[:-3])) or [()]
    confusion = np.zeros((len(ids), len(ids)), np.int64)
    tables = _source_tables(palette)  # once per evaluation
    preds, targets, masks = [], [], []
    t0 = time.perf_counter()
    for n, plane in enumerate(planes, 1):
        if stop_requested(stop):
            return
        rgb = _as_unit_rgb(np.asarray(pred[plane]))  # (y, x, 3)
        known_labels = np.asarray(labels[plane]).astype(np.int64)  # (y, x)
        _check_labels(known_labels, palette)
        decoded, target = _decode_rows(rgb, known_labels, palette, index, tables)
        known = known_labels > 0
        pairs = index[known_labels[known]] * len(ids) + index[decoded[known]]
        confusion += np.bincount(pairs, minlength=len(ids) ** 2).reshape(confusion.shape)
        preds.append(rgb), targets.append(target), masks.append(known)
        yield Progress(n, len(planes), 0, time.perf_counter() - t0)
    if not confusion.sum():
        raise ValueError(
            "no labelled pixel in the scored planes: paint labels or pick other slices"
        )
    colour = evaluate(np.stack(preds), np.stack(targets), np.stack(masks), threshold)
    summary, per_class = class_table(confusion, ids)
    yield Finished(len(planes), LabelScores({**colour, **summary}, per_class, confusion, ids))


def evaluate_labels(
    pred: Any, labels: Any, palette: Mapping[int, Any], **kwargs: Any
) -> LabelScores:
    """:func:`evaluate_labels_iter` drained: the :class:`LabelScores`."""
    result = None
    for event in evaluate_labels_iter(pred, labels, palette, **kwargs):
        if isinstance(event, Finished):
            result = event.result
    if not isinstance(result, LabelScores):  # pragma: no cover - the iterator always finishes
        raise RuntimeError("evaluation ended without a result")
    return result


def _as_unit_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8/uint16 or float RGB in [0, 1] (refused otherwise) to float32 in [0, 1]."""
    return np.clip(_as_float_rgb(rgb, "the prediction"), 0, 1).astype(np.float32)
