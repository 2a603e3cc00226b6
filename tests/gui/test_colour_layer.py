"""add_colour_layer in a real viewer: one call, stale views dropped, bounded cache, clean exit."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from napari_colorgan import add_colour_layer
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import ModelConfig
from tests.gui.test_tiled import CPU, tiny


def level0_keys(tiled):
    return {k for k in list(tiled.cache._tiles) if k.level == 0}


def test_a_single_scale_array_gets_a_pyramid_and_exact_colour_at_level_0(
    make_napari_viewer, qtbot, rng
):
    viewer = make_napari_viewer()
    gray = rng.integers(0, 256, (2, 2048, 2048)).astype(np.uint8)
    m = tiny()
    viewer.add_image(gray, name="section")  # single-scale
    viewer.camera.center, viewer.camera.zoom = (0, 300, 1700), 4  # zoomed in: level 0
    layer = add_colour_layer(viewer, gray, m, CPU, name="colour")  # one call, from a script
    assert layer.multiscale and [d.shape[-2] for d in layer.data] == [2048, 1024]
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: bool(level0_keys(tiled)) and not tiled.queue.pending(), timeout=60_000)
    assert layer.data_level == 0 and "exact" in layer.help
    whole = colorize(gray[:1], m, CPU).compute()[0]
    for key in level0_keys(tiled):
        y0, y1, x0, x1 = tiled.source.region(key)
        assert np.abs(tiled.cache.get(key).astype(int) - whole[y0:y1, x0:x1]).max() <= 1
    viewer.camera.zoom = 0.2  # the whole section: a preview at the coarsest level
    viewer.window._qt_viewer.canvas.on_draw(None)  # a hidden canvas: draw as napari would
    qtbot.waitUntil(lambda: layer.data_level == 1 and "preview" in layer.help, timeout=10_000)


def test_a_view_left_before_its_tiles_ran_is_dropped(make_napari_viewer, qtbot, rng):
    viewer = make_napari_viewer()
    levels = [rng.integers(0, 256, (1, 2048, 2048)).astype(np.uint8)]
    levels.append(levels[0][:, ::2, ::2].copy())
    gray = viewer.add_image(levels, multiscale=True, name="section")
    entered, release, m = threading.Event(), threading.Event(), tiny()

    def slow_load():
        entered.set()
        release.wait(60)  # the model "loads" while the user moves on
        return m

    viewer.camera.center, viewer.camera.zoom = (0, 200, 200), 4
    layer = add_colour_layer(viewer, gray, slow_load, CPU)
    tiled = layer.metadata["colorgan_tiles"]
    from napari_colorgan.core.infer.tiles import TileSource

    # The tile layout is known, but the worker still waits for its model.
    assert entered.wait(30)
    tiled.source = TileSource(levels, m, CPU)
    draw = viewer.window._qt_viewer.canvas.on_draw  # a hidden canvas: draw as napari would
    draw(None)
    layer.refresh()
    first = set(tiled.asked)
    assert first and all(k.level == 0 for k in first)
    viewer.camera.center = (0, 1800, 1800)  # the user pans away at once
    draw(None)
    second = set(tiled.asked)
    assert second and not first & second
    release.set()
    qtbot.waitUntil(
        lambda: level0_keys(tiled) >= second and not tiled.queue.pending(), timeout=60_000
    )
    assert not level0_keys(tiled) & first  # the stale view was never computed
    assert tiled.queue.dropped >= len(first)
    viewer.layers.remove(layer)


def test_the_cache_stays_within_the_limit_the_user_set(make_napari_viewer, qtbot, rng, tmp_path):
    viewer = make_napari_viewer()
    gray = rng.integers(0, 256, (4, 1024, 1024)).astype(np.uint8)
    # 2 MB: about 2.5 planes in memory, the rest spilled to disk
    layer = add_colour_layer(viewer, gray, tiny(), CPU, cache_mb=2, spill_to=tmp_path)
    tiled = layer.metadata["colorgan_tiles"]
    assert tiled.cache.limit == 2 << 20
    qtbot.waitUntil(lambda: tiled.source is not None, timeout=60_000)
    for z in range(4):
        viewer.dims.set_current_step(0, z)
        qtbot.waitUntil(
            lambda z=z: any(k.plane == (z,) for k in level0_keys(tiled)), timeout=60_000
        )
        assert tiled.cache.nbytes <= tiled.cache.limit
    assert tiled.cache.evicted > 0 and len(tiled.cache.spill) == tiled.cache.evicted
    viewer.layers.remove(layer)
    assert not tiled.cache.spill.path.exists()  # the scratch folder goes with the layer


def test_a_tile_not_yet_computed_shows_the_coarser_colour_upsampled(rng):
    from napari_colorgan._widgets._tiled import TiledColour
    from napari_colorgan.core.infer.tiles import TileKey, TileSource

    full = rng.integers(0, 256, (1, 2048, 2048)).astype(np.uint8)  # level 1: 2 x 2 tiles
    tiled = TiledColour([full, full[:, ::2, ::2].copy()], tiny, CPU)
    tiled.source = TileSource(tiled.gray, tiny(), CPU)
    key = TileKey(1, (0,), 0, 0)
    tiled.cache.put(key, tiled.source.compute(key))
    coarse = tiled.cache.get(key)
    shown = tiled.read(0, (0,), range(0, 200), range(100, 300), ask=False)
    np.testing.assert_array_equal(shown, coarse.repeat(2, 0).repeat(2, 1)[0:200, 100:300])
    assert tiled.source.counts(1) == (2, 2)
    grey = tiled.read(0, (0,), range(1900, 2000), range(1900, 2000), ask=False)
    assert (grey[..., 0] == grey[..., 1]).all()  # no colour anywhere above: grey


CLOSE_SCRIPT = """
import threading, time
import numpy as np
import napari
from qtpy.QtCore import QThreadPool
from qtpy.QtWidgets import QApplication
from napari_colorgan import add_colour_layer
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import ModelConfig

viewer = napari.Viewer(show=False)
CLASSES = CLASSES_HERE
config = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False, classes=CLASSES)
model = Colorizer.from_config(config)
gray = np.random.default_rng(0).integers(0, 256, (3, 2048, 2048)).astype(np.uint8)
parts = {"classes": bool(CLASSES), "confidence": bool(CLASSES)}
layer = add_colour_layer(viewer, gray, model, ColorizeConfig(device="cpu"), **parts)
tiled = layer.metadata["colorgan_tiles"]
app = QApplication.instance()
t0 = time.time()
while len(tiled.cache) < 2 and time.time() - t0 < 60:
    app.processEvents()
    time.sleep(0.02)
viewer.close()
t0 = time.time()
while QThreadPool.globalInstance().activeThreadCount() and time.time() - t0 < 30:
    app.processEvents()
    time.sleep(0.02)
busy = QThreadPool.globalInstance().activeThreadCount()
alive = [t.name for t in threading.enumerate()
         if t is not threading.main_thread() and not isinstance(t, threading._DummyThread)]
print("BUSY", busy, "ALIVE", alive, "CLOSED", tiled.queue.closed, "TILES", len(tiled.cache))
"""


@pytest.mark.parametrize("classes", ["()", "((1, 255, 0, 0), (2, 0, 0, 255))"])
def test_a_script_that_closes_its_viewer_exits_with_no_worker_left(tmp_path, classes):
    # With a class model its class map and confidence layers share the colour's worker.
    script = tmp_path / "close.py"
    script.write_text(textwrap.dedent(CLOSE_SCRIPT).replace("CLASSES_HERE", classes))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,  # a worker left blocked would keep the process alive: the run would hang
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "BUSY 0 ALIVE [] CLOSED True TILES 0" in done.stdout, done.stdout + done.stderr[-2000:]


def test_an_exported_view_or_rectangle_holds_the_pixels_the_layer_showed(
    make_napari_viewer, qtbot, rng, tmp_path
):
    from napari_colorgan._widgets import ColorizeWidget
    from napari_colorgan._widgets._export_region import VIEW
    from napari_colorgan.core.infer.ome import rgb_layer

    viewer = make_napari_viewer()
    full = rng.integers(0, 256, (2, 2048, 2048)).astype(np.uint8)
    gray = viewer.add_image([full, full[:, ::2, ::2].copy()], multiscale=True, name="section")
    gray.scale = (1, 5, 5)
    viewer.dims.set_current_step(0, 1)
    viewer.camera.center, viewer.camera.zoom = (1, 5 * 700, 5 * 1300), 4 / 5
    col = ColorizeWidget(viewer)
    col._image.value, col._model_file.value = gray, tiny().save(tmp_path / "m.safetensors")
    col._use_session.value, col._device.value = False, "cpu"
    layer = col.colorize()
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: bool(level0_keys(tiled)) and not tiled.queue.pending(), timeout=60_000)
    for choice, name in ((VIEW, "view"), ("rect", "rectangle")):
        if choice == "rect":  # a rectangle drawn in world coordinates
            corners = [
                [1, 5 * y, 5 * x] for y, x in ((600, 1200), (600, 1500), (900, 1500), (900, 1200))
            ]
            shapes = viewer.add_shapes([corners], shape_type="rectangle", name="box")
            viewer.layers.selection.active = gray
            col._region.reset_choices()
            choice = shapes
        col._region.value = choice
        col._export_path.value = tmp_path / f"{name}.ome.zarr"
        col.export()
        qtbot.waitUntil(lambda: "section export" in viewer.layers, timeout=120_000)
        exported = viewer.layers["section export"]
        data, _ = rgb_layer(tmp_path / f"{name}.ome.zarr")
        level0 = np.asarray(data[0] if isinstance(data, list) else data)
        y0, x0 = (np.asarray(exported.translate[-2:]) / 5).round().astype(int)
        y1, x1 = y0 + level0.shape[1], x0 + level0.shape[2]
        shown = np.asarray(layer.data[0][1, y0:y1, x0:x1])  # what the colour layer shows
        np.testing.assert_array_equal(level0[1], shown[..., :3])
        assert (shown[..., 3] == 255).all()  # all of it colour, opaque
        if name == "rectangle":
            assert (y0, y1, x0, x1) == (600, 900, 1200, 1500)
        else:  # the view: about 1000 px across, around the camera's centre
            assert y0 < 700 < y1 and x0 < 1300 < x1 and level0.shape[1:3] < (2048, 2048)
        viewer.layers.remove(exported)
    viewer.layers.remove(layer)


def test_the_level_matching_the_models_training_pixels_is_called_exact(
    make_napari_viewer, qtbot, rng
):
    from napari_colorgan._widgets._colour_layer import add_colour_layer
    from napari_colorgan._widgets._level_view import describe
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import InputNormalization, ModelConfig

    viewer = make_napari_viewer()
    full = rng.integers(0, 256, (512, 512)).astype(np.uint8)
    levels = [full, full[::2, ::2].copy(), full[::4, ::4].copy()]
    grey = viewer.add_image(levels, multiscale=True, scale=(2, 2), units=("nm", "nm"))
    model = Colorizer.from_config(
        ModelConfig(num_downs=4, ngf=8, tile=64), seed=1,
        normalization=InputNormalization("minmax", 0.0, 255.0),
        training={"pixel_size": {"y": 8.0, "x": 8.0, "unit": "nanometer"}},
    )  # fmt: skip
    layer = add_colour_layer(viewer, grey, model)
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: tiled.source is not None, timeout=30_000)
    assert tiled.pixel == (2.0, "nanometer") and tiled.exact == 2
    assert describe(tiled, 2) == "colour: the exact colorization (level 2, the model's pixel size)"
    assert "finer than the pixels the model was trained on" in describe(tiled, 0)
    layer.refresh()
    qtbot.waitUntil(lambda: tiled.source.exact == 2, timeout=10_000)
    shown = tiled.source.assemble(0, (), (0, 64, 0, 64), tiled.cache)  # level 0, as shown
    coarse = tiled.source.assemble(2, (), (0, 16, 0, 16), tiled.cache)
    np.testing.assert_array_equal(shown, coarse.repeat(4, 0).repeat(4, 1))
    viewer.layers.remove(layer)


IMPORT_SCRIPT = """
import sys, threading
import numpy as np
import napari
import napari_colorgan as ncg

on_main = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        main = threading.current_thread() is threading.main_thread()
        if main and name in ("dask.array", "torch"):
            on_main.append(name)
        return None

viewer = napari.Viewer(show=False)
grey = viewer.add_image(np.zeros((2, 256, 256), np.uint8), name="g")
already = [m for m in ("dask.array", "torch") if m in sys.modules]
sys.meta_path.insert(0, Watch())
classes = len(sys.argv) > 2
layer = ncg.add_colour_layer(viewer, grey, sys.argv[1], classes=classes, confidence=classes)
print("ALREADY", already, "ON_MAIN", sorted(set(on_main)))
viewer.layers.remove(layer)
viewer.close()
"""


@pytest.mark.parametrize("classes", [False, True])
def test_the_click_imports_neither_torch_nor_dask_array_on_naparis_thread(tmp_path, classes):
    # A console user's first ncg.add_colour_layer imported torch on napari's thread (through
    # the widgets package, and with class layers through reading the model's classes): a 6 s
    # freeze. Both load in the worker, with the model.
    model = tiny()
    if classes:
        config = ModelConfig(num_downs=4, ngf=8, tile=64, classes=((1, 255, 0, 0), (2, 0, 0, 255)))
        model = Colorizer.from_config(config, seed=1, normalization=model.normalization)
    path = model.save(tmp_path / "m.safetensors")
    script = tmp_path / "imports.py"
    script.write_text(IMPORT_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(path), *(["classes"] if classes else [])],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ALREADY [] ON_MAIN []" in done.stdout, done.stdout + done.stderr[-2000:]


def test_over_its_input_the_layer_is_rgba_and_see_through(make_napari_viewer, qtbot, rng):
    viewer = make_napari_viewer()
    levels = [rng.integers(0, 256, (1, 1024, 1024)).astype(np.uint8)]
    levels.append(levels[0][:, ::2, ::2].copy())
    gray = viewer.add_image(levels, multiscale=True, name="section")
    viewer.camera.center, viewer.camera.zoom = (0, 200, 200), 4
    layer = add_colour_layer(viewer, gray, tiny(), CPU)
    assert [d.shape for d in layer.data] == [(1, 1024, 1024, 4), (1, 512, 512, 4)]
    assert np.asarray(layer.data[1][0, :64, :64])[..., 3].max() == 0  # nothing computed there
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: bool(level0_keys(tiled)) and not tiled.queue.pending(), timeout=60_000)
    key = sorted(level0_keys(tiled))[0]
    y0, y1, x0, x1 = tiled.source.region(key)
    shown = np.asarray(layer.data[0][0, y0:y1, x0:x1])
    assert (shown[..., 3] == 255).all()
    np.testing.assert_array_equal(shown[..., :3], tiled.cache.get(key))
    assert add_colour_layer(viewer, levels, tiny(), CPU).data[0].shape[-1] == 3  # not a layer
    assert add_colour_layer(viewer, gray, tiny(), CPU, see_through=False).data[0].shape[-1] == 3
