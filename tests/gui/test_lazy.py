"""The plane cache behind a lazy colour layer (no viewer needed)."""

import numpy as np

from napari_colorgan._widgets import _lazy
from napari_colorgan._widgets._lazy import BackgroundPlanes, grey_placeholder


def _planes(n=6):
    rgb = np.arange(n * 4 * 5 * 3, dtype=np.uint8).reshape(n, 4, 5, 3)
    gray = np.arange(n * 4 * 5, dtype=np.float32).reshape(n, 4, 5)
    return BackgroundPlanes(rgb, gray)


def test_a_missing_plane_shows_grey_and_is_queued_first_before_its_neighbours():
    planes = _planes()
    shown = planes.lookup((2,))
    assert shown.shape == (4, 5, 3) and (shown[..., 0] == shown[..., 1]).all()
    done = []
    work = planes.work()
    for _ in range(3):
        done.append(next(work))
    assert done[0] == (2,) and set(done) == {(1,), (2,), (3,)}
    np.testing.assert_array_equal(planes.lookup((2,)), planes.rgb[2])
    planes.close()
    assert list(work) == []


def test_the_cache_keeps_only_its_capacity(monkeypatch):
    monkeypatch.setattr(_lazy, "CACHE_BYTES", 0)  # the floor: two planes
    planes = _planes()
    work = planes.work()
    for z in (0, 5):
        planes.request((z,))
    while not planes.todo.empty():
        next(work)
    assert len(planes.cache) == 2


def test_the_layer_array_answers_napari_style_indexing():
    planes = _planes()
    view = planes.array()
    assert view.shape == planes.rgb.shape and view.dtype == np.uint8 and view.ndim == 4
    assert view[1].shape == (4, 5, 3) and view[1, :, 2:].shape == (4, 3, 3)
    assert view[np.int64(2), ...].shape == (4, 5, 3)
    assert view[1:4].shape == (3, 4, 5, 3) and np.asarray(view).shape == planes.rgb.shape


def test_grey_placeholder_stretches_and_survives_a_flat_plane():
    ramp = grey_placeholder(np.linspace(0, 1000, 400).reshape(20, 20))
    assert ramp.min() == 0 and ramp.max() == 255
    assert grey_placeholder(np.full((8, 8), 7.0)).max() == 0
