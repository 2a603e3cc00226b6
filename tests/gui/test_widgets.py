"""The three widgets driven end to end in a real viewer (Xvfb in CI), on tiny data."""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari.utils.notifications import notification_manager  # noqa: E402

from napari_colorgan._sample_data import hubble_sample  # noqa: E402
from napari_colorgan._widgets import ColorizeWidget, EvaluateWidget, TrainWidget  # noqa: E402
from napari_colorgan._widgets._level_view import colorized  # noqa: E402
from napari_colorgan._widgets._recent import remember  # noqa: E402
from napari_colorgan._widgets._view_region import view_camera  # noqa: E402

from .conftest import errors_since, tiny_training  # noqa: E402


def test_train_stop_resume_save_colorize_export_evaluate(viewer, qtbot, tmp_path):
    train = TrainWidget(viewer)
    viewer.window.add_dock_widget(train)
    tiny_training(train, viewer, steps=200)
    train.start()
    qtbot.waitUntil(lambda: len(train.history) >= 2, timeout=60_000)
    train.stop()
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)
    stopped_at = train.history[-1]["step"]
    assert stopped_at < 200 and train.model is not None
    assert "training preview" in viewer.layers
    assert len(train.plot.series("L1")) == len(train.history)  # the live loss plot

    train._steps.value = stopped_at + 2
    train.start(resume=True)
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)
    assert train.history[-1]["step"] == stopped_at + 2
    train._save_path.value = tmp_path / "m.safetensors"
    assert train.save().exists()

    col = ColorizeWidget(viewer)
    viewer.window.add_dock_widget(col)
    assert col._use_session.value  # the model trained in this session is offered directly
    assert [c for c in col._recent.choices if c is not None] == [tmp_path / "m.safetensors"]
    col._image.value = viewer.layers["em"]
    col._device.value = "cpu"
    layer = col.colorize()
    assert layer.rgb and layer.data.shape == (8, 256, 256, 4)  # RGBA over the "em" layer
    for z in (1, 5):  # browse: planes fill in with colour (see-through until then)
        viewer.dims.set_current_step(0, z)
        qtbot.waitUntil(lambda z=z: np.ptp(np.asarray(layer.data[z])[..., :3], -1).max() > 0)

    col.preview()
    qtbot.waitUntil(lambda: "em preview" in viewer.layers, timeout=60_000)

    col._export_path.value = tmp_path / "out.ome.zarr"
    col.export()
    qtbot.waitUntil(lambda: "em export" in viewer.layers, timeout=120_000)
    assert viewer.layers["em export"].data.shape == (8, 256, 256, 3)

    ev = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(ev)
    ev._pred.value = viewer.layers["em colorized"]
    ev._truth.value = viewer.layers["em truth"]
    ev._slices.value = "2:8"
    ev.evaluate()
    qtbot.waitUntil(lambda: bool(ev.results), timeout=60_000)
    results = ev.results
    assert set(results) >= {"mae", "rmse", "psnr", "ssim", "accuracy", "colorfulness"}
    table = ev._table.to_dict("list")
    shown = dict(zip(table["metric"], table["value"], strict=True))
    assert shown["psnr"].endswith(" dB") and shown["accuracy"].endswith(" %")
    ev._csv.value = tmp_path / "metrics.csv"
    assert "psnr" in ev.export_csv().read_text()


def test_cancel_mid_export_leaves_the_viewer_responsive(viewer, qtbot, tmp_path):
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    model = Colorizer.from_config(preset("small", tile=64))
    path = model.save(tmp_path / "m.safetensors")
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["em"]
    col._model_file.value = path
    col._device.value = "cpu"
    col._tile.value, col._overlap.value = 128, 64  # many small chunks
    col._export_path.value = tmp_path / "out.zarr"
    col.export()
    qtbot.waitUntil(lambda: "tiles" in col._status.value, timeout=60_000)
    col.cancel()
    qtbot.waitUntil(lambda: col._export.enabled, timeout=60_000)
    viewer.dims.set_current_step(0, 3)  # the viewer still answers
    assert "em export" not in viewer.layers
    col.export()  # resumes
    qtbot.waitUntil(lambda: "em export" in viewer.layers, timeout=120_000)


def test_bad_input_becomes_a_notification(viewer, qtbot, tmp_path):
    start = len(notification_manager.records)
    col = ColorizeWidget(viewer)
    viewer.add_image(np.zeros((32, 32, 3), np.uint8), rgb=True, name="colour")
    col._image.value = viewer.layers["em"]
    col._colorize.changed.emit(True)  # no model chosen yet
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"corrupt")
    col._model_file.value = bad
    col._colorize.changed.emit(True)
    train = TrainWidget(viewer)
    tiny_training(train, viewer)
    viewer.layers["em labels"].data = np.zeros_like(viewer.layers["em labels"].data)
    train._start.changed.emit(True)
    # The labels are read in the worker (Start never stalls): its error arrives a moment later.
    qtbot.waitUntil(lambda: "no annotated" in " | ".join(errors_since(start)), timeout=60_000)
    messages = " | ".join(errors_since(start))
    assert "choose a model file" in messages
    assert "not a readable" in messages


def test_sample_data_and_rgb_layers_are_not_offered_as_input(viewer):
    for data, kwargs, kind in hubble_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    col = ColorizeWidget(viewer)
    names = [layer.name for layer in col._image.choices]
    assert "hubble" in names and "hubble colour" not in names and "em truth" not in names


def test_preview_computes_only_the_visible_region_when_zoomed(viewer, qtbot, tmp_path):
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    path = Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")
    remember(path)  # used in an earlier session
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["em"]
    col._recent.value = path.resolve()
    assert col._model_file.value == path.resolve()
    col._device.value = "cpu"
    camera = view_camera(viewer)
    camera.center = (0, 200, 60)
    camera.zoom = 12
    viewer.window._qt_viewer.canvas.on_draw(None)  # corner pixels follow the camera
    col.preview()
    qtbot.waitUntil(lambda: "em preview" in viewer.layers, timeout=60_000)
    preview = viewer.layers["em preview"]
    h, w = preview.data.shape[:2]
    assert h * w < 0.5 * 256 * 256  # only what is shown, not the 256² plane
    y0, x0 = preview.translate[-2:]
    assert y0 <= 200 <= y0 + h and x0 <= 60 <= x0 + w  # around the camera's centre


def test_advanced_settings_fold_away_and_a_time_budget_replaces_steps(viewer, qtbot):
    train = TrainWidget(viewer)
    col = ColorizeWidget(viewer)
    assert train._gamma._explicitly_hidden and col._tile._explicitly_hidden
    toggle = next(w for w in train if getattr(w, "text", "") == "advanced settings")
    toggle.value = True
    assert not train._gamma._explicitly_hidden
    tiny_training(train, viewer, steps=100_000)
    train._minutes.value = 0.02  # about a second
    assert train._config().minutes == 0.02
    train.start()
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)
    assert 0 < train.history[-1]["step"] < 100_000


def test_dask_and_multiscale_layers_colorize_at_full_resolution(viewer, qtbot, tmp_path):
    import dask.array as da

    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    path = Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")
    em = viewer.layers["em"].data
    viewer.add_image(da.from_array(em, chunks=(1, 128, 128)), name="lazy em")
    viewer.add_image([em, em[:, ::2, ::2]], multiscale=True, name="pyramid em")
    col = ColorizeWidget(viewer)
    col._model_file.value, col._device.value = path, "cpu"
    col._image.value = viewer.layers["lazy em"]
    layer = col.colorize()
    assert layer.data.shape == (*em.shape, 4)
    assert np.asarray(layer.data[3])[..., 3].max() == 0  # see-through at once: "lazy em" shows
    tiles = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: tiles.source is not None, timeout=60_000)
    np.asarray(layer.data[3])  # a view of plane 3 asks for its tiles
    qtbot.waitUntil(lambda: any(k.plane == (3,) for k in list(tiles.cache._tiles)), timeout=60_000)
    # A pyramid gets a pyramid: colour computed where napari looks, at the level it shows.
    col._image.value = viewer.layers["pyramid em"]
    layer = col.colorize()
    assert layer.multiscale and [d.shape for d in layer.data] == [(*em.shape, 4), (8, 128, 128, 4)]
    tiles = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: len(tiles.cache) > 0, timeout=60_000)


def test_preset_pix2pix_trains_with_its_own_tile(viewer, qtbot):
    # Regression: the widget always sent tile=128, which pix2pix (2**8 grid) refuses.
    start = len(notification_manager.records)
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=1)
    train._tile.value, train._batch.value = 0, 1  # 0: the preset's own tile
    train._preset.value = "pix2pix"
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train._start.enabled, timeout=120_000)
    assert errors_since(start) == []
    assert train.model.config.num_downs == 8 and train.model.config.tile == 256


def test_train_widget_defaults_are_the_training_config_defaults(viewer):
    from napari_colorgan import TrainConfig

    w = TrainWidget(viewer)
    # The one difference: the widget previews on a clock (every 5 s), not every N steps.
    assert w._config() == TrainConfig(steps=w._steps.value, val_every=0, val_seconds=5.0)
    assert tuple(w._preset.choices) == TrainConfig.choices("preset")


def test_colorize_widget_defaults_are_the_colorize_config_defaults_flips_one_pick_away(viewer):
    from napari_colorgan.core.infer.config import ColorizeConfig

    w = ColorizeWidget(viewer)
    assert w._config() == ColorizeConfig()
    w._flips.value = 8
    assert w._config().flips == 8


def test_the_critic_is_one_tick_away_in_the_train_widget(viewer):
    w = TrainWidget(viewer)
    assert w._config().adversarial is False  # the default, as in TrainConfig
    w._critic.value = True
    assert w._config().adversarial is True


def test_class_balance_is_a_choice_in_the_train_widget(viewer):
    w = TrainWidget(viewer)
    assert w._config().class_balance == "auto"  # dense labels 0, strokes 0.5
    w._balance.value = 0.0
    assert w._config().class_balance == 0.0


def test_start_only_reads_widgets_the_worker_imports_finds_the_palette_and_trains(
    viewer, qtbot, monkeypatch
):
    import threading

    from napari_colorgan._widgets import _common
    from napari_colorgan.core.train import loop

    threads = {}
    real_palette, real_train_iter = _common.palette_from_colormap, loop.train_iter

    def palette(*args):
        threads["palette"] = threading.current_thread()
        return real_palette(*args)

    def train_iter(*args, **kwargs):
        threads["train"] = threading.current_thread()
        yield from real_train_iter(*args, **kwargs)

    monkeypatch.setattr("napari_colorgan._widgets._train_worker.palette_from_colormap", palette)
    monkeypatch.setattr(loop, "train_iter", train_iter)
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=2)
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train.model is not None, timeout=60_000)
    assert set(threads) == {"palette", "train"}
    assert threading.main_thread() not in threads.values()


def test_browsing_a_colour_layer_never_runs_the_model_on_the_gui_thread(
    viewer, qtbot, tmp_path, monkeypatch
):
    import threading

    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    threads = []

    def recorded(real):
        def recording(self, raw, x):
            threads.append(threading.current_thread())
            return real(self, raw, x)

        return recording

    # Float colour for blended windows, uint8 straight from the network otherwise.
    for name in ("raw_to_rgb", "raw_to_rgb8"):
        monkeypatch.setattr(Colorizer, name, recorded(getattr(Colorizer, name)))
    path = Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")
    col = ColorizeWidget(viewer)
    col._image.value, col._model_file.value = viewer.layers["em"], path
    col._use_session.value, col._device.value = False, "cpu"
    layer = col.colorize()
    tiles = layer.metadata["colorgan_tiles"]

    def plane_done(z):
        source = tiles.source
        return source is not None and all(
            (0, (z,), r, c) in tiles.cache
            for r in range(source.counts(0)[0])
            for c in range(source.counts(0)[1])
        )

    for z in (0, 4, 7):
        viewer.dims.set_current_step(0, z)
        shown = np.asarray(layer.data[z])  # what napari draws: grey or colour, never waits
        assert shown.shape == (256, 256, 4)
        qtbot.waitUntil(lambda z=z: plane_done(z), timeout=60_000)
    assert threads and threading.main_thread() not in threads
    final = np.asarray(layer.data[4])
    np.testing.assert_array_equal(final[..., :3], np.asarray(colorized(tiles)[4]))  # as shown


def test_training_progress_shows_in_the_activity_dock(viewer, qtbot, monkeypatch):
    import napari.utils

    bars = []
    real = napari.utils.progress

    def recording(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(napari.utils, "progress", recording)
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=3)
    train._start.changed.emit(True)
    qtbot.waitUntil(lambda: train.model is not None and train._start.enabled, timeout=60_000)
    assert len(bars) == 1 and bars[0].total == 3 and bars[0].n == 3
    assert train._activity.bar is None  # closed with the run


@pytest.mark.parametrize("action", ["preview", "colorize", "export"])
def test_a_click_only_reads_widgets_the_model_loads_in_a_worker(
    viewer, qtbot, tmp_path, monkeypatch, action
):
    import threading

    from napari_colorgan._widgets import _common
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    path = Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")
    loads = []
    real = _common.model_from

    def recording(*args):
        loads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(_common, "model_from", recording)
    monkeypatch.setattr("napari_colorgan._widgets._colorize.model_from", recording)
    col = ColorizeWidget(viewer)
    col._image.value, col._model_file.value = viewer.layers["em"], path
    col._use_session.value, col._device.value = False, "cpu"
    col._export_path.value = tmp_path / "out.ome.zarr"
    added = getattr(col, action)()
    qtbot.waitUntil(lambda: bool(loads), timeout=60_000)
    assert threading.main_thread() not in loads
    # Let the work end before the viewer closes.
    if action == "colorize":
        tiles = added.metadata["colorgan_tiles"]
        qtbot.waitUntil(lambda: bool(len(tiles.cache)), timeout=60_000)
        viewer.layers.remove(added)
    else:
        shown = {"preview": "em preview", "export": "em export"}[action]
        qtbot.waitUntil(lambda: shown in viewer.layers, timeout=120_000)


def test_training_records_the_layers_pixel_size_in_the_model(viewer, qtbot):
    viewer.layers["em"].scale = (1, 4, 4)
    viewer.layers["em"].units = ("pixel", "nm", "nm")
    train = TrainWidget(viewer)
    tiny_training(train, viewer, steps=2)
    train.start()
    qtbot.waitUntil(lambda: train.model is not None and train._start.enabled, timeout=60_000)
    assert train.model.training["pixel_size"] == {"y": 4.0, "x": 4.0, "unit": "nanometer"}
