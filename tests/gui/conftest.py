"""A viewer holding the EM sample, and helpers shared by the widget tests."""

import pytest

pytest.importorskip("qtpy")

from napari.utils.notifications import notification_manager

from napari_colorgan._widgets._common import SESSION


@pytest.fixture
def viewer(make_napari_viewer):
    v = make_napari_viewer()
    v.open_sample("napari-colorgan", "em")  # File > Open Sample, through the manifest
    SESSION["model"] = SESSION["snapshot"] = None
    return v


def errors_since(start):
    return [str(n.message) for n in notification_manager.records[start:]]


def tiny_training(w, viewer, steps=4):
    w._image.value = viewer.layers["em"]
    w._target.value = viewer.layers["em labels"]
    w._steps.value, w._tile.value, w._batch.value = steps, 64, 2
    w._vgg.value, w._device.value, w._preview_every.value = "none", "cpu", 2
