"""Where to paint next, in a real viewer: the running class model's least confident cells."""

import numpy as np
import pytest

from napari_colorgan._widgets import TrainWidget
from napari_colorgan._widgets._paint_next import OVERLAY, POINTS, SPOTS

from .conftest import tiny_training

pytestmark = pytest.mark.gui


def test_the_toggle_shows_uncertainty_and_squares_over_the_view(viewer, qtbot):
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=6)  # the EM sample's painted labels: a class model
    train.paint_next.toggle.value = True
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train.model is not None and train._start.enabled, timeout=120_000)
    overlay, squares = viewer.layers[OVERLAY], viewer.layers[POINTS]
    view = viewer.layers["training preview (view)"]
    assert overlay.data.shape == view.data.shape[:2]  # the region in view, as the preview
    np.testing.assert_allclose(overlay.translate, view.translate)
    assert 0 <= overlay.data.min() <= overlay.data.max() <= 1
    assert 1 <= len(squares.data) <= SPOTS
    spots = train.paint_next.spots
    assert spots == sorted(spots, key=lambda s: s.confidence)  # least sure first
    # A square sits where the overlay is brightest among the cells it was chosen from.
    first = spots[0]
    y0, x0 = int(first.y) - 32, int(first.x) - 32
    cell = overlay.data[max(y0, 0) : y0 + 64, max(x0, 0) : x0 + 64]
    assert cell.mean() == pytest.approx(1 - first.confidence, abs=1e-5)
    train.paint_next.toggle.value = False  # off: both layers go
    assert OVERLAY not in viewer.layers and POINTS not in viewer.layers


def test_nothing_is_shown_with_the_toggle_off(viewer, qtbot):
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=3)
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train.model is not None and train._start.enabled, timeout=120_000)
    assert "training preview (view)" in viewer.layers and OVERLAY not in viewer.layers
