"""Evaluate widget: a colour layer against colour ground truth or a Labels layer, with CSV export.

Layers are read at full resolution (level 0 of a pyramid, never a lower level); the choices and
checks happen on the main thread, the reading and scoring in a worker with a progress bar in
napari's activity dock, so a colour layer is computed off the GUI thread.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Label, LineEdit, PushButton, Table
from qtpy.QtWidgets import QStyledItemDelegate

from napari_colorgan._widgets._common import (
    guarded,
    keep_choices_fresh,
    layer_choices,
    level0,
    palette_from_colormap,
    stream_in_worker,
)
from napari_colorgan._widgets._level_view import colorized
from napari_colorgan._widgets._warm import warm_up
from napari_colorgan.core.io.selection import parse_slices, select_planes

if TYPE_CHECKING:
    import napari


def pretty(metric: str, value: float) -> str:
    """A metric's value as a person reads it: dB for PSNR, percent for accuracies."""
    if metric == "psnr":
        return f"{value:.2f} dB"
    if "accuracy" in metric:
        return f"{100 * value:.1f} %"
    if metric.startswith("colorfulness"):
        return f"{value:.1f}"
    return f"{value:.4f}"


def _plain_text_table(table: Table, height: int) -> None:
    native = table.native
    native.verticalHeader().setVisible(False)
    native.horizontalHeader().setStretchLastSection(True)
    native.setMinimumHeight(height)
    # Plain text: magicgui's number delegate would show "0.0204" as 2.040e-02.
    native.setItemDelegate(QStyledItemDelegate(native))


def full_resolution(layer: Any) -> Any:
    """A layer's data at level 0 (a multiscale layer's ``data`` is the list of levels).

    For a colour layer of the Colorize widget, whose display shows grey until its tiles are
    computed, the colorization itself (or, for its class map layer, the class map): the same
    tiles, computed in the evaluation's worker.
    """
    tiles = layer.metadata.get("colorgan_tiles")
    if tiles is None:
        return level0(layer)
    return colorized(tiles, "classes" if is_labels(layer) else "colour")


def is_labels(layer: Any) -> bool:
    """Whether ``layer`` is a napari Labels layer."""
    return type(layer).__name__ == "Labels"


def _class_events(pred: Any, labels: Any) -> Iterator[Any]:
    """Worker side of a class map evaluation: the class scores."""
    from napari_colorgan.core.class_metrics import class_map_scores
    from napari_colorgan.core.events import Finished

    yield Finished(0, class_map_scores(pred, labels))


def _label_events(pred: Any, labels: Any, colormap: Any, name: str) -> Iterator[Any]:
    """Worker side of a labels evaluation: the palette of the labels present, then scores."""
    from napari_colorgan.core.label_metrics import evaluate_labels_iter

    palette = palette_from_colormap(colormap, np.asarray(labels), name)
    yield from evaluate_labels_iter(pred, labels, palette)


class EvaluateWidget(Container):
    """Compare a prediction layer with colour ground truth or painted labels."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        # Torch loads while the user picks layers, not after the first click (_warm.py).
        warm_up("torch")
        self._viewer = viewer
        self._pred = ComboBox(label="prediction (colour or class map)", choices=self._pred_choices)
        self._truth = ComboBox(label="ground truth (RGB or labels)", choices=self._truth_choices)
        self._mask = ComboBox(label="mask (optional)", choices=self._mask_choices, nullable=True)
        self._slices = LineEdit(label="slices (e.g. 2:8)", value="")
        self._run = PushButton(text="Evaluate")
        self._status = Label(value="")
        self._table = Table(value={"metric": [], "value": []})
        _plain_text_table(self._table, 260)  # the seven colour metrics without scrolling
        self._confusion = Table(value={"data": [], "index": [], "columns": []})
        _plain_text_table(self._confusion, 140)
        self._confusion.visible = False
        self._csv = FileEdit(label="CSV", mode="w", filter="*.csv")
        self._save = PushButton(text="Export CSV")
        self.extend(
            [
                self._pred,
                self._truth,
                self._mask,
                self._slices,
                self._run,
                self._status,
                self._table,
                self._confusion,
                self._csv,
                self._save,
            ]
        )
        self._run.changed.connect(guarded(self.evaluate))
        self._save.changed.connect(guarded(self.export_csv))
        self.results: dict[str, float] = {}
        self._worker: Any = None
        keep_choices_fresh(viewer, self)

    def _pred_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        rgb = layer_choices(self._viewer, ("image",), rgb=True)()
        return [*rgb, *layer_choices(self._viewer, ("labels",))()]

    def _truth_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        rgb = layer_choices(self._viewer, ("image",), rgb=True)()
        return [*rgb, *layer_choices(self._viewer, ("labels",))()]

    def _mask_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        return [*layer_choices(self._viewer, ("labels",))(), ("none", None)]

    def evaluate(self) -> Any:
        """Check the choices here, then read and score in a worker; returns the worker."""
        pred, truth = self._pred.value, self._truth.value
        if pred is None or truth is None:
            raise ValueError("choose a prediction and a ground truth (colour or Labels layer)")
        sel = parse_slices(self._slices.value)
        if is_labels(pred):
            return self._start(self._class_map_events(pred, truth, sel))
        p = select_planes(full_resolution(pred), sel, 3)
        if is_labels(truth):
            if self._mask.value is not None:
                raise ValueError("against labels the painted pixels are scored: clear the mask")
            labels = select_planes(full_resolution(truth), sel)
            if tuple(labels.shape) != tuple(p.shape[:-1]):
                raise ValueError(
                    f"prediction {tuple(p.shape)} and labels {tuple(labels.shape)} differ in shape"
                )
            events = _label_events(p, labels, truth.colormap, truth.name)
        else:
            from napari_colorgan.core.metrics import evaluate_iter

            t = select_planes(full_resolution(truth), sel, 3)
            if tuple(p.shape) != tuple(t.shape):
                raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
            mask = self._mask.value
            m = None if mask is None else select_planes(full_resolution(mask), sel) > 0
            events = evaluate_iter(p, t, m)
        return self._start(events)

    def _class_map_events(self, pred: Any, truth: Any, sel: Any) -> Iterator[Any]:
        """A class map against painted labels: checked here, scored in the worker."""
        if not is_labels(truth):
            raise ValueError("a class map is scored against a Labels layer: choose one as truth")
        if self._mask.value is not None:
            raise ValueError("against labels the painted pixels are scored: clear the mask")
        p = select_planes(full_resolution(pred), sel)
        labels = select_planes(full_resolution(truth), sel)
        if tuple(labels.shape) != tuple(p.shape):
            raise ValueError(
                f"class map {tuple(p.shape)} and labels {tuple(labels.shape)} differ in shape"
            )
        return _class_events(p, labels)

    def _start(self, events: Iterator[Any]) -> Any:
        from napari.utils import progress

        from napari_colorgan.core.events import Finished, Progress

        bar = progress(total=0, desc="evaluating")

        def on_event(event: Any) -> None:
            if isinstance(event, Progress):
                bar.total, bar.n = event.total, event.done
                bar.refresh()
                self._status.value = f"read {event.done}/{event.total} planes"
            elif isinstance(event, Finished):
                self._show(event.result)

        def done() -> None:
            bar.close()
            self._run.enabled = True

        self._run.enabled = False
        self._status.value = "evaluating…"
        self._worker = stream_in_worker(events, on_event)
        self._worker.finished.connect(done)
        self._worker.start()
        return self._worker

    def _show(self, result: Any) -> None:
        """Fill the tables from a metrics dict or a ``LabelScores``."""
        rows = list(result.items()) if isinstance(result, dict) else result.rows()
        self.results = dict(rows)
        self._table.value = {"metric": [k for k, _ in rows], "value": [pretty(*r) for r in rows]}
        self._table.native.resizeColumnToContents(0)
        confusion = getattr(result, "confusion", None)
        self._confusion.visible = confusion is not None
        if confusion is not None:
            names = [f"label {label}" for label in result.labels]
            self._confusion.value = {
                "data": confusion.tolist(),
                "index": [f"painted {n}" for n in names],
                "columns": [f"→ {n}" for n in names],
            }
            self._confusion.native.verticalHeader().setVisible(True)
        self._status.value = f"{len(rows)} scores"

    def export_csv(self) -> Path:
        """Write the last results as CSV."""
        if not self.results:
            raise ValueError("evaluate first, then export")
        path = Path(str(self._csv.value))
        if path.suffix != ".csv":
            raise ValueError("choose a CSV file name ending in .csv")
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["metric", "value"])
            writer.writerows(self.results.items())
        return path
