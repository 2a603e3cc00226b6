"""The whole napari loop at a real size: strokes, train, preview, layer, export, evaluate.

512² planes, so the OME-Zarr export opens as a pyramid of at least two levels: Evaluate must
read its full resolution. A tiny model on a seconds budget keeps it inside the suite's time.
"""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari.utils.colormaps import DirectLabelColormap  # noqa: E402

from napari_colorgan._widgets import ColorizeWidget, EvaluateWidget, TrainWidget  # noqa: E402
from napari_colorgan.core.synthetic import synthetic_em  # noqa: E402

from .conftest import errors_since  # noqa: E402


def _evaluate(ev, qtbot, pred, truth, slices):
    ev._pred.value, ev._truth.value, ev._slices.value = pred, truth, slices
    ev.results = {}
    ev.evaluate()
    qtbot.waitUntil(lambda: bool(ev.results) and ev._run.enabled, timeout=120_000)
    return dict(ev.results)


def test_strokes_to_evaluated_export_at_512(make_napari_viewer, qtbot, tmp_path):
    from napari.utils.notifications import notification_manager

    start = len(notification_manager.records)
    viewer = make_napari_viewer()
    em = synthetic_em((4, 512, 512), seed=1)
    strokes = np.where(np.random.default_rng(0).random(em.labels.shape) < 0.03, em.labels, 0)
    strokes[2:] = 0  # painted on planes 0-1; planes 2-3 held out
    held = em.labels.copy()
    held[:2] = 0
    colours = {k: (*(np.array(c) / 255), 1.0) for k, c in em.palette.items()}
    cmap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), **colours})
    viewer.add_image(em.gray, name="em")
    viewer.add_labels(strokes.astype(np.uint8), name="strokes", colormap=cmap)
    viewer.add_labels(held.astype(np.uint8), name="held-out labels", colormap=cmap)

    train = TrainWidget(viewer)
    train._image.value, train._target.value = viewer.layers["em"], viewer.layers["strokes"]
    train._minutes.value, train._tile.value, train._batch.value = 0.05, 64, 2
    train._device.value, train._preview_every.value = "cpu", 0.5
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train.model is not None and train._start.enabled, timeout=120_000)
    assert "training preview" in viewer.layers
    view = viewer.layers["training preview (view)"]  # the current model on the region in view
    assert view.data.shape == (512, 512, 3) and view.rgb

    col = ColorizeWidget(viewer)
    col._image.value, col._device.value = viewer.layers["em"], "cpu"
    assert col._use_session.value
    lazy = col.colorize()
    col._export_path.value = tmp_path / "out.ome.zarr"
    col.export()
    qtbot.waitUntil(lambda: "em export" in viewer.layers, timeout=120_000)
    export = viewer.layers["em export"]
    assert export.multiscale and len(export.data) >= 2  # a pyramid: level 0 must be read

    ev = EvaluateWidget(viewer)
    held_layer = viewer.layers["held-out labels"]
    on_export = _evaluate(ev, qtbot, export, held_layer, "2:4")
    on_lazy = _evaluate(ev, qtbot, lazy, held_layer, "2:4")
    assert on_export == on_lazy  # the same colorization, read two ways
    assert 0 <= on_export["class_accuracy"] <= 1 and "label 1 accuracy" in on_export
    ev._csv.value = tmp_path / "scores.csv"
    assert "class_accuracy" in ev.export_csv().read_text()
    assert errors_since(start) == []
