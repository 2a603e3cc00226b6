"""The region in view, read for live training previews (a real viewer)."""

import threading

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari_colorgan._widgets._view_region import SIDE, ViewRegion, centred  # noqa: E402


def test_centred_caps_the_side_around_the_middle():
    assert centred((slice(0, 100), slice(10, 20)), 40) == (slice(30, 70), slice(10, 20))


def test_the_crop_follows_the_current_plane_and_the_zoom(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    data = np.arange(3 * 1024 * 1024, dtype=np.uint32).reshape(3, 1024, 1024) % 65521
    layer = viewer.add_image(data.astype(np.float32), name="big")
    viewer.dims.set_current_step(0, 0)
    region = ViewRegion(viewer, layer)
    crop, (plane, offset) = region.latest()
    assert plane == (0,) and crop.shape == (SIDE, SIDE)  # whole plane shown: its centre
    assert offset == (256, 256)
    np.testing.assert_array_equal(crop, data[0, 256:768, 256:768])
    viewer.dims.set_current_step(0, 2)
    assert region.latest()[1][0] == (2,)
    # Zoomed in (napari's corner_pixels, stubbed: the test viewer is never drawn).
    monkeypatch.setattr(
        "napari_colorgan._widgets._view_region.visible_region",
        lambda _layer, _shape: (slice(40, 140), slice(60, 1000)),
    )
    region.update()
    crop, (plane, (y, x)) = region.latest()
    assert crop.shape == (100, SIDE) and (y, x) == (40, 60 + (940 - SIDE) // 2)
    np.testing.assert_array_equal(crop, data[2, y : y + 100, x : x + SIDE])
    results = []
    reader = threading.Thread(target=lambda: results.append(region.latest()))
    reader.start(), reader.join()
    assert results[0][0] is crop  # the training thread gets what the GUI thread read
    region.close()
