"""Every bad input the widgets can meet ends as a notification that says what to do."""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

import torch  # noqa: E402
from napari.utils.notifications import notification_manager  # noqa: E402

from napari_colorgan._widgets import ColorizeWidget, EvaluateWidget, TrainWidget  # noqa: E402
from napari_colorgan._widgets import _colorize as colorize_widget  # noqa: E402
from napari_colorgan.core.model.colorizer import Colorizer  # noqa: E402
from napari_colorgan.core.model.config import preset  # noqa: E402
from napari_colorgan.core.train import loop as training  # noqa: E402

from .conftest import errors_since, tiny_training  # noqa: E402


@pytest.fixture
def model_path(tmp_path):
    return Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")


def wait_for_error(qtbot, start, text):
    qtbot.waitUntil(lambda: any(text in m for m in errors_since(start)), timeout=60_000)


def test_a_colour_image_given_as_grayscale_is_named(viewer, model_path):
    start = len(notification_manager.records)
    # Not flagged rgb (e.g. a TIFF read as a plain array): the shape still gives it away.
    viewer.add_image(np.zeros((64, 64, 3), np.uint8), rgb=False, name="colour")
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["colour"]
    col._model_file.value = model_path
    col._colorize.changed.emit(True)
    assert any("looks like RGB" in m for m in errors_since(start))
    assert "colour colorized" not in viewer.layers


def test_an_incompatible_model_file_is_named(viewer, tmp_path, qtbot):
    from safetensors.torch import save_file

    start = len(notification_manager.records)
    other = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(other))  # a safetensors file of another tool
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["em"]
    col._model_file.value = other
    col._preview.changed.emit(True)  # the model loads in a worker: its error comes from there
    wait_for_error(qtbot, start, "not a napari-colorgan model")


def test_a_lazy_layer_whose_model_fails_to_load_is_removed(viewer, tmp_path, qtbot):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nope")
    start = len(notification_manager.records)
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["em"]
    col._model_file.value = bad
    col._use_session.value = False
    col._colorize.changed.emit(True)
    wait_for_error(qtbot, start, "not a readable")
    qtbot.waitUntil(lambda: "em colorized" not in viewer.layers, timeout=10_000)


def test_labels_of_another_shape_are_named(viewer, qtbot):
    start = len(notification_manager.records)
    viewer.add_labels(np.ones((8, 100, 100), np.uint8), name="small labels")
    train = TrainWidget(viewer)
    tiny_training(train, viewer)
    train._target.value = viewer.layers["small labels"]
    train._start.changed.emit(True)
    wait_for_error(qtbot, start, "does not match")
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)  # ready to try again


def test_prediction_and_truth_of_other_shapes_are_named(viewer):
    start = len(notification_manager.records)
    viewer.add_image(np.zeros((8, 100, 100, 3), np.uint8), rgb=True, name="small rgb")
    ev = EvaluateWidget(viewer)
    ev._pred.value = viewer.layers["small rgb"]
    ev._truth.value = viewer.layers["em truth"]
    ev._run.changed.emit(True)
    assert any("differ in shape" in m for m in errors_since(start))


def out_of_memory(*_args, **_kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_cuda_out_of_memory_in_colorize_says_what_to_lower(viewer, qtbot, model_path, monkeypatch):
    start = len(notification_manager.records)
    monkeypatch.setattr("napari_colorgan.core.infer.graph.colorize", out_of_memory)
    col = ColorizeWidget(viewer)
    col._image.value = viewer.layers["em"]
    col._model_file.value = model_path
    col._preview.changed.emit(True)
    wait_for_error(qtbot, start, "lower the batch size")
    qtbot.wait(200)
    # One notification that says what to do; not also napari's raw one with a traceback.
    assert not any("Tried to allocate" in m for m in errors_since(start))
    assert colorize_widget is not None  # the widget module survived: the viewer goes on


def test_cuda_out_of_memory_in_training_says_what_to_lower(viewer, qtbot, monkeypatch):
    start = len(notification_manager.records)

    def train_iter(*args, **kwargs):
        yield from ()
        out_of_memory()

    monkeypatch.setattr(training, "train_iter", train_iter)
    train = TrainWidget(viewer)
    tiny_training(train, viewer)
    train._start.changed.emit(True)
    wait_for_error(qtbot, start, "lower the batch size")
    qtbot.waitUntil(lambda: train._start.enabled, timeout=60_000)


@pytest.mark.parametrize("widget", ["train", "evaluate"])
def test_a_typo_in_the_slices_box_is_one_notification_not_a_traceback(viewer, widget):
    # Regression: slice parsing raised the CLI's error type, which the widgets did not catch,
    # and its message spoke of "--slices".
    start = len(notification_manager.records)
    if widget == "train":
        w = TrainWidget(viewer)
        tiny_training(w, viewer)
        button = w._start
    else:
        w = EvaluateWidget(viewer)
        w._pred.value = w._truth.value = viewer.layers["em truth"]
        button = w._run
    w._slices.value = "5:x"
    button.changed.emit(True)  # must not raise
    errors = errors_since(start)
    assert len(errors) == 1 and "slices '5:x'" in errors[0] and "--" not in errors[0]


def test_export_onto_another_store_asks_for_the_checkbox_the_widget_has(
    viewer, qtbot, model_path, tmp_path
):
    col = ColorizeWidget(viewer)
    viewer.window.add_dock_widget(col)
    col._image.value, col._model_file.value = viewer.layers["em"], model_path
    other = tmp_path / "other.ome.zarr"
    other.mkdir()
    (other / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", "attributes": {}}')
    col._export_path.value = other
    start = len(notification_manager.records)
    col._export.changed.emit(True)
    wait_for_error(qtbot, start, 'tick "replace an existing export"')
    assert not any("--overwrite" in m for m in errors_since(start))
    qtbot.waitUntil(lambda: col._export.enabled, timeout=30_000)
    col._replace.value = True
    col._export.changed.emit(True)
    qtbot.waitUntil(lambda: "exported" in col._status.value, timeout=120_000)


def test_save_model_never_replaces_a_file_unless_asked(viewer, qtbot, tmp_path):
    train = TrainWidget(viewer)
    train.model = Colorizer.from_config(preset("small", tile=64))
    existing = tmp_path / "kept.safetensors"
    existing.write_text("the user's")
    train._save_path.value = existing
    start = len(notification_manager.records)
    train._save.changed.emit(True)
    assert any('exists: tick "replace an existing file"' in m for m in errors_since(start))
    assert existing.read_text() == "the user's"
    train._replace.value = True
    assert train.save() == existing and existing.stat().st_size > 100


def test_session_checkpoints_live_in_the_user_cache_and_only_the_newest_stay(viewer):
    import os

    from napari_colorgan._widgets._session_checkpoint import KEEP, prune, sessions_dir

    train = TrainWidget(viewer)
    assert train._checkpoint.parent.parent == sessions_dir() and not train._checkpoint.exists()
    for i in range(KEEP + 2):
        old = sessions_dir() / f"old-{i}"
        old.mkdir(parents=True)
        os.utime(old, (i, i))
    prune(keeping=train._checkpoint)
    assert sorted(p.name for p in sessions_dir().iterdir()) == [f"old-{KEEP}", f"old-{KEEP + 1}"]
