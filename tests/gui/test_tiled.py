"""The view-driven colour layer's arrays: lazy under napari's chained indexing, never computing."""

import threading

import numpy as np
import pytest

from napari_colorgan._widgets._level_view import colorized
from napari_colorgan._widgets._tiled import TiledColour
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

CPU = ColorizeConfig(device="cpu", precision="fp32")


def tiny():
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=3, normalization=InputNormalization("minmax", 0, 255))
    m.generator.eval()
    return m


def pyramid(rng, planes=2, side=1024):
    full = rng.integers(0, 256, (planes, side, side)).astype(np.uint8)
    return [full, full[:, ::2, ::2].copy(), full[:, ::4, ::4].copy()]


def start(tiled):
    """Run the worker in a thread; returns the batches it yields and the thread."""
    done = []
    worker = threading.Thread(target=lambda: done.extend(tiled.work()))
    worker.start()
    return done, worker


def test_reads_stay_lazy_and_only_a_plane_in_view_queues_tiles(rng):
    m = tiny()
    tiled = TiledColour(pyramid(rng), lambda: m, CPU)
    _, worker = start(tiled)
    try:
        while tiled.source is None:
            worker.join(0.05)
        level0 = tiled.levels[0]
        assert level0.shape == (2, 1024, 1024, 3) and level0.dtype == np.uint8
        # napari: the displayed region first, every other axis whole; then the plane.
        region = level0[(slice(None), slice(600, 700), slice(100, 300), slice(None))]
        assert region.shape == (2, 100, 200, 3) and tiled.asked == []
        shown = np.asarray(region[(1, slice(None), slice(None))])
        assert shown.shape == (100, 200, 3)
        assert (shown[..., 0] == shown[..., 1]).all()  # grey until computed
        pending = tiled.asked
        assert pending and {(k.level, k.plane) for k in pending} == {(0, (1,))}
        # A whole coarse level (napari's thumbnail) only looks: it queues nothing new.
        np.asarray(tiled.levels[2])
        assert tiled.asked == pending
        while any(k not in tiled.cache for k in pending):
            worker.join(0.05)
        whole = colorize(tiled.gray[0], m, CPU).compute()
        again = np.asarray(level0[1, 600:700, 100:300])
        assert np.abs(again.astype(int) - whole[1, 600:700, 100:300]).max() <= 1
    finally:
        tiled.close()
        worker.join(10)
    assert not worker.is_alive()


def test_while_the_model_loads_each_region_reads_its_grey_once(rng, monkeypatch):
    # napari slices a new layer five times while adding it: five grey reads were 0.1 s of
    # the click.
    tiled = TiledColour(pyramid(rng, planes=1, side=1024), tiny, CPU)
    reads = []
    grey = tiled._grey
    monkeypatch.setattr(tiled, "_grey", lambda *a: reads.append(a) or grey(*a))
    first = tiled.read(2, (0,), range(0, 256), range(0, 256), ask=True)
    for _ in range(4):
        again = tiled.read(2, (0,), range(0, 256), range(0, 256), ask=True)
        np.testing.assert_array_equal(again, first)
    assert len(reads) == 1 and tiled.source is None
    again[:] = 0  # napari keeps what it gets: the kept one is not shared
    np.testing.assert_array_equal(tiled.read(2, (0,), range(0, 256), range(0, 256), True), first)
    tiled.read(0, (0,), range(0, 64), range(0, 64), ask=True)
    assert len(reads) == 2


def test_over_its_own_input_layer_the_colour_is_rgba_and_reads_no_grey(rng, monkeypatch):
    # The input layer shows through where nothing is computed yet: no grey read on napari's
    # thread (on a plane change it was most of what our reads cost).
    from napari_colorgan.core.infer.tiles import TileKey, TileSource

    tiled = TiledColour(pyramid(rng, planes=1, side=1024), tiny, CPU, see_through=True)
    monkeypatch.setattr(tiled, "_grey", lambda *a: pytest.fail("the grey was read"))
    assert tiled.levels[0].shape == (1, 1024, 1024, 4)
    loading = np.asarray(tiled.levels[0][0, :64, :64])
    assert loading.shape == (64, 64, 4) and not loading.any()  # transparent while it loads
    tiled.source = TileSource(tiled.gray, tiny(), CPU)
    key = TileKey(0, (0,), 0, 0)
    tiled.cache.put(key, tiled.source.compute(key))
    _, y1, _, x1 = tiled.source.region(key)  # the first tile: from (0, 0)
    view = np.asarray(tiled.levels[0][0, : y1 + 8, : x1 + 8])
    np.testing.assert_array_equal(view[:y1, :x1, :3], tiled.cache.get(key))
    assert (view[:y1, :x1, 3] == 255).all() and not view[y1:, :, 3].any()
    assert np.asarray(colorized(tiled)[0, :8, :8]).shape == (8, 8, 3)  # exports stay RGB


def test_a_see_through_view_leaves_coarser_colour_to_the_worker(rng):
    # Upsampling coarser colour into a new large view on napari's thread blocked it 50-90 ms:
    # the view is transparent at once, and the worker paints the coarser colour on it.
    from napari_colorgan.core.infer.tiles import TileKey, TileSource

    tiled = TiledColour(pyramid(rng, planes=1, side=1024), tiny, CPU, see_through=True)
    tiled.source = TileSource(tiled.gray, tiny(), CPU)
    coarse = TileKey(2, (0,), 0, 0)  # level 2 (256²): one tile covers the plane
    tiled.cache.put(coarse, tiled.source.compute(coarse))

    def view():  # napari's read of the view, as at each refresh
        return np.asarray(tiled.levels[0][0, :800, :800])

    assert not view()[..., 3].any()  # transparent, nothing upsampled
    fine = TileKey(0, (0,), 0, 0)
    tiled.cache.put(fine, tiled.source.compute(fine))
    tiled.prepare([fine])  # the worker, after computing a tile of the plane
    shown = view()
    assert (shown[..., 3] == 255).all()  # coarser colour everywhere, and the tile
    _, y1, _, x1 = tiled.source.region(fine)
    assert y1 < 800 and x1 < 800
    np.testing.assert_array_equal(shown[:y1, :x1, :3], tiled.cache.get(fine))
    upsampled = tiled.cache.get(coarse).repeat(4, 0).repeat(4, 1)
    np.testing.assert_array_equal(shown[y1:, x1:, :3], upsampled[y1:800, x1:800])


def test_the_worker_upsamples_coarser_colour_outside_the_lock_napari_reads_with(rng):
    # napari's read of a view waited up to 68 ms for the worker composing a 2048² region
    # (zoomed out): the new composition is made unlocked, then swapped in.
    from napari_colorgan._widgets import _shown
    from napari_colorgan.core.infer.tiles import TileKey, TileSource

    tiled = TiledColour(pyramid(rng, planes=1, side=1024), tiny, CPU, see_through=True)
    tiled.source = TileSource(tiled.gray, tiny(), CPU)
    np.asarray(tiled.levels[0][0, :800, :800])  # the view napari shows
    locked = []
    paint = _shown.Shown.paint_upsampled

    def watched(self, *args):
        locked.append(tiled._reading.locked())
        paint(self, *args)

    _shown.Shown.paint_upsampled = watched
    try:
        for key in (TileKey(2, (0,), 0, 0), TileKey(0, (0,), 0, 0)):
            tiled.cache.put(key, tiled.source.compute(key))
            tiled.prepare([key])
    finally:
        _shown.Shown.paint_upsampled = paint
    assert locked == [False]  # the coarse tile, once
    shown = np.asarray(tiled.levels[0][0, :800, :800])
    assert (shown[..., 3] == 255).all()
    _, y1, _, x1 = tiled.source.region(TileKey(0, (0,), 0, 0))
    np.testing.assert_array_equal(shown[:y1, :x1, :3], tiled.cache.get(TileKey(0, (0,), 0, 0)))


def test_napari_style_indexing_of_a_level(rng):
    tiled = TiledColour(pyramid(rng, planes=3, side=256), tiny, CPU)
    level1 = tiled.levels[1]
    assert level1[2].shape == (128, 128, 3) and level1[-1, :, 5:9].shape == (128, 4, 3)
    assert level1[0, 3, 4].shape == (3,) and level1[1, ..., 0].shape == (128, 128)
    assert np.asarray(level1).shape == (3, 128, 128, 3)
    assert level1[:, ::2][1].shape == (64, 128, 3)


def test_in_a_real_viewer_only_the_tiles_in_view_are_computed(make_napari_viewer, qtbot, rng):
    import time

    from napari_colorgan import add_colour_layer

    viewer = make_napari_viewer()
    levels = pyramid(rng, planes=2, side=2048)
    gray = viewer.add_image(levels, multiscale=True, name="section")
    m = tiny()
    viewer.camera.center = (0, 1500, 500)
    viewer.camera.zoom = 4  # about 1/10 of the section across: level 0, a few tiles
    t0 = time.perf_counter()
    layer = add_colour_layer(viewer, gray, lambda: m, CPU)
    click = time.perf_counter() - t0
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: len(tiled.cache) > 0 and not tiled.queue.pending(), timeout=60_000)
    qtbot.wait(300)
    computed = set(tiled.cache._tiles)
    assert layer.data_level == 0 and {k.level for k in computed} == {0, 2}  # + the overview
    (_, y0, x0), (_, y1, x1) = np.asarray(layer.corner_pixels)
    in_view = {(0, (0,), r, c) for r, c in tiled.source.covering(0, (y0, y1 + 1), (x0, x1 + 1))}
    assert {k for k in computed if k.level == 0} == in_view  # nothing else at full resolution
    assert len(in_view) < 16  # of the 4 x 4 tiles of the section
    whole = colorize(levels[0], m, CPU).compute()
    for key in in_view:  # level 0: the exact colorization
        key = type(next(iter(computed)))(*key)
        y0, y1, x0, x1 = tiled.source.region(key)
        tile = tiled.cache.get(key)
        assert np.abs(tile.astype(int) - whole[key.plane][y0:y1, x0:x1]).max() <= 1
    print(f"click returned in {click:.3f} s")  # a figure, not an assertion
    viewer.layers.remove(layer)
    assert tiled.queue.closed and len(tiled.cache) == 0


def test_grey_before_colour_is_read_from_a_coarser_level_and_empty_reads_work(rng):
    full = rng.integers(0, 256, (1, 1024, 1024)).astype(np.uint8)
    levels = [full, full[:, ::2, ::2].copy(), full[:, ::4, ::4].copy()]
    tiled = TiledColour(levels, tiny, CPU)
    grey = tiled.read(0, (0,), range(100, 140), range(8, 40), ask=False)
    coarse = tiled.read(2, (0,), range(25, 35), range(2, 10), ask=False)
    np.testing.assert_array_equal(grey, coarse.repeat(4, 0).repeat(4, 1))  # 2 levels up
    assert tiled.read(0, (0,), range(5, 5), range(0, 9), ask=False).shape == (0, 9, 3)
