"""Strokes painted in napari while training runs reach the run (the ilastik loop)."""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari.utils.notifications import notification_manager  # noqa: E402

from napari_colorgan._widgets import TrainWidget  # noqa: E402
from napari_colorgan._widgets._live_labels import painted_planes  # noqa: E402


def test_painted_planes_from_both_kinds_of_history_atom():
    shape = (4, 3, 32, 32)
    fancy = ((np.array([1, 1, 2]), np.array([0, 0, 2]), np.array([5, 6, 7]), np.array([1, 1, 1])),)
    boxed = ((slice(3, 4), slice(0, 2), slice(0, 8), slice(4, 9)),)
    atoms = [(fancy[0], None, 1), (boxed[0], None, None, 1)]
    assert painted_planes(atoms, shape) == {(1, 0), (2, 2), (3, 0), (3, 1)}
    assert painted_planes(atoms, (32, 32)) == {()}


def test_strokes_painted_while_training_are_learnt(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (3, 96, 96)).astype(np.uint8)
    labels = np.zeros(image.shape, np.uint8)
    labels[:2, 10:14, 10:60] = 1
    labels[:2, 50:54, 10:60] = 2
    viewer.add_image(image, name="em")
    layer = viewer.add_labels(labels, name="strokes")
    train = TrainWidget(viewer)
    train._image.value, train._target.value = viewer.layers["em"], layer
    train._steps.value, train._tile.value, train._batch.value = 100_000, 32, 2
    train._vgg.value, train._device.value = "none", "cpu"
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: len(train.history) >= 2, timeout=60_000)
    start = len(notification_manager.records)
    viewer.dims.set_current_step(0, 2)
    layer.selected_label = 1
    layer.paint((2, 30, 30), 1)  # what a brush stroke on plane 2 does
    qtbot.waitUntil(lambda: "strokes taken in" in train._strokes.value, timeout=60_000)
    assert "training on 2 plane(s)" in train._strokes.value
    layer.paint((2, 70, 70), 9)  # a label id the run has no class for
    qtbot.waitUntil(
        lambda: any("label 9" in str(n.message) for n in notification_manager.records[start:]),
        timeout=60_000,
    )
    train.stop()
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)
    assert train.model is not None and train._live is None  # no longer following the layer
    layer.paint((2, 80, 80), 1)  # after the run: nothing listens any more


def test_training_gets_the_layers_own_labels_array(monkeypatch):
    # Regression: a zarr-backed Labels layer was copied into memory for training, so tiles
    # never saw strokes painted while it ran.
    import zarr
    from napari.utils.colormaps import label_colormap

    import napari_colorgan.core.train.loop as loop
    from napari_colorgan._widgets._train_worker import label_ids, training_events

    labels = zarr.create_array(store={}, shape=(3, 16, 16), chunks=(1, 16, 16), dtype="u1")
    labels[1, 2:4, 2:4] = 2
    labels[2, 5:6, 5:6] = 7
    seen = {}
    monkeypatch.setattr(loop, "train_iter", lambda **kw: iter([seen.update(kw)]))
    list(training_events(labels=labels, colormap=(label_colormap(), "strokes")))
    assert seen["labels"] is labels and sorted(seen["palette"]) == [2, 7]
    assert label_ids(labels).tolist() == [0, 2, 7]
