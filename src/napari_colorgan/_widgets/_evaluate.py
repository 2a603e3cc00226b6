"""Evaluate widget: metrics of a colour layer against ground truth, with CSV export."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, LineEdit, PushButton, Table
from qtpy.QtWidgets import QStyledItemDelegate

from napari_colorgan._widgets._common import guarded, keep_choices_fresh, layer_choices
from napari_colorgan.core.io.selection import parse_slices, select_planes

if TYPE_CHECKING:
    import napari


def pretty(metric: str, value: float) -> str:
    """A metric's value as a person reads it: dB for PSNR, percent for accuracy."""
    if metric == "psnr":
        return f"{value:.2f} dB"
    if metric == "accuracy":
        return f"{100 * value:.1f} %"
    if metric.startswith("colorfulness"):
        return f"{value:.1f}"
    return f"{value:.4f}"


class EvaluateWidget(Container):
    """Compare a prediction layer with a ground-truth layer, optionally masked."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self._viewer = viewer
        rgb_layers = layer_choices(viewer, ("image",), rgb=True)
        self._pred = ComboBox(label="prediction", choices=rgb_layers)
        self._truth = ComboBox(label="ground truth", choices=rgb_layers)
        self._mask = ComboBox(label="mask (optional)", choices=self._mask_choices, nullable=True)
        self._slices = LineEdit(label="slices (e.g. 2:8)", value="")
        self._run = PushButton(text="Evaluate")
        self._table = Table(value={"metric": [], "value": []})
        table = self._table.native
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumHeight(260)  # all seven metrics without scrolling
        # Plain text: magicgui's number delegate would show "0.0204" as 2.040e-02.
        table.setItemDelegateForColumn(1, QStyledItemDelegate(table))
        self._csv = FileEdit(label="CSV", mode="w", filter="*.csv")
        self._save = PushButton(text="Export CSV")
        self.extend(
            [
                self._pred,
                self._truth,
                self._mask,
                self._slices,
                self._run,
                self._table,
                self._csv,
                self._save,
            ]
        )
        self._run.changed.connect(guarded(self.evaluate))
        self._save.changed.connect(guarded(self.export_csv))
        self.results: dict[str, float] = {}
        keep_choices_fresh(viewer, self)

    def _mask_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        return [*layer_choices(self._viewer, ("labels",))(), ("none", None)]

    def evaluate(self) -> dict[str, float]:
        """Compute the metrics (on the main thread: they are fast next to training)."""
        from napari_colorgan.core.metrics import evaluate

        pred, truth = self._pred.value, self._truth.value
        if pred is None or truth is None:
            raise ValueError("choose a prediction and a ground-truth colour layer")
        p, t = np.asarray(pred.data), np.asarray(truth.data)
        mask = None if self._mask.value is None else np.asarray(self._mask.value.data) > 0
        sel = parse_slices(self._slices.value)
        p, t = select_planes(p, sel, 3), select_planes(t, sel, 3)
        mask = None if mask is None else select_planes(mask, sel)
        self.results = evaluate(p, t, mask)
        self._table.value = {
            "metric": list(self.results),
            "value": [pretty(k, v) for k, v in self.results.items()],
        }
        self._table.native.resizeColumnToContents(0)
        return self.results

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
