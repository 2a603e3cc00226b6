"""A class model's class map and confidence in a real viewer, from the colour layer's tiles."""

import numpy as np
import pytest

from napari_colorgan import add_colour_layer, classify
from tests.gui.test_colour_layer import level0_keys
from tests.gui.test_tiled import CPU, tiny

pytestmark = pytest.mark.gui

CLASSES = ((4, 255, 0, 0), (9, 0, 0, 255))


def class_model():
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import InputNormalization, ModelConfig
    from napari_colorgan.core.model.networks import init_weights

    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False, classes=CLASSES)
    m = Colorizer.from_config(cfg, normalization=InputNormalization("minmax", 0, 255))
    init_weights(m.generator, gain=0.3, seed=5)  # strong weights: both classes show
    return m.to("cpu")


def test_class_map_and_confidence_layers_show_what_classify_gives(make_napari_viewer, qtbot, rng):
    viewer = make_napari_viewer()
    gray = rng.integers(0, 256, (2, 2048, 2048)).astype(np.uint8)
    m = class_model()
    m.generator.eval()
    viewer.add_image(gray, name="section")
    viewer.camera.center, viewer.camera.zoom = (0, 300, 1700), 4  # zoomed in: level 0
    layer = add_colour_layer(viewer, gray, m, CPU, name="c", classes=True, confidence=True)
    classes, confidence = layer.metadata["colorgan_parts"]
    assert [lay.name for lay in viewer.layers] == ["section", "c", "c classes", "c confidence"]
    assert classes._type_string == "labels" and classes.multiscale
    assert classes.data[0].shape == (2, 2048, 2048) and classes.data[0].dtype == np.uint8
    assert confidence.data[0].dtype == np.float32
    # Opaque over the colour and class map, and a third texture for napari to upload at each
    # move: shown when asked for, as the OME-Zarr reader opens it.
    assert classes.visible and not confidence.visible
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: bool(level0_keys(tiled)) and not tiled.queue.pending(), timeout=60_000)
    computed = level0_keys(tiled)  # one cache: the three layers ask for the same tiles
    maps = classify(gray[:1], m, CPU)
    truth_ids, truth_sure = maps.labels.compute()[0], maps.confidence.compute()[0]
    for key in level0_keys(tiled):
        y0, y1, x0, x1 = tiled.source.region(key)
        shown = np.asarray(classes.data[0][0, y0:y1, x0:x1])
        np.testing.assert_array_equal(shown, truth_ids[y0:y1, x0:x1])
        sure = np.asarray(confidence.data[0][0, y0:y1, x0:x1])
        np.testing.assert_allclose(sure, truth_sure[y0:y1, x0:x1], atol=1 / 255)
    assert set(np.unique(truth_ids)) == {4, 9}
    assert level0_keys(tiled) == computed
    np.testing.assert_allclose(classes.colormap.map(np.array([9]))[0], [0, 0, 1, 1])
    far = np.asarray(classes.data[0][1, :64, :64])  # another plane, nothing computed: no class
    assert (far == 0).all()
    viewer.layers.remove(layer)  # the class layers go with the colour layer's tiles
    assert [lay.name for lay in viewer.layers] == ["section"] and tiled.queue.closed


def test_a_colour_model_is_refused_before_any_layer_is_added(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    path = tiny().save(tmp_path / "colour.safetensors")
    with pytest.raises(ValueError, match="not on labels"):
        add_colour_layer(viewer, np.zeros((256, 256), np.uint8), path, CPU, classes=True)
    assert len(viewer.layers) == 0


def test_the_colorize_widget_adds_the_class_layers_of_a_class_model_file(
    make_napari_viewer, qtbot, rng, tmp_path
):
    from napari_colorgan._widgets import ColorizeWidget

    viewer = make_napari_viewer()
    gray = viewer.add_image(rng.integers(0, 256, (600, 700)).astype(np.uint8), name="em")
    col = ColorizeWidget(viewer)
    col._image.value, col._use_session.value, col._device.value = gray, False, "cpu"
    col._classes.value = col._confidence.value = True
    col._model_file.value = tiny().save(tmp_path / "colour.safetensors")
    with pytest.raises(ValueError, match="not on labels"):
        col.colorize()
    assert [lay.name for lay in viewer.layers] == ["em"]
    col._model_file.value = class_model().save(tmp_path / "classes.safetensors")
    layer = col.colorize()
    assert [lay.name for lay in viewer.layers] == [
        "em", "em colorized", "em colorized classes", "em colorized confidence"
    ]  # fmt: skip
    classes = layer.metadata["colorgan_parts"][0]
    tiled = layer.metadata["colorgan_tiles"]
    qtbot.waitUntil(lambda: bool(level0_keys(tiled)) and not tiled.queue.pending(), timeout=60_000)
    assert not classes.multiscale and set(np.unique(np.asarray(classes.data))) <= {0, 4, 9}
    np.testing.assert_allclose(classes.colormap.map(np.array([4]))[0], [1, 0, 0, 1])


def test_evaluate_scores_the_class_map_layer_against_painted_labels(
    make_napari_viewer, qtbot, rng
):
    from napari_colorgan._widgets import EvaluateWidget

    viewer = make_napari_viewer()
    gray = rng.integers(0, 256, (300, 400)).astype(np.uint8)
    m = class_model()
    m.generator.eval()
    layer = add_colour_layer(viewer, gray, m, CPU, name="c", classes=True)
    truth = classify(gray, m, CPU).labels.compute()
    painted = np.zeros_like(truth)
    painted[100:150] = truth[100:150]  # a painted band, right everywhere
    painted[10:20, :50] = np.where(truth[10:20, :50] == 4, 9, 4)  # wrong everywhere
    viewer.add_labels(painted, name="painted")
    ev = EvaluateWidget(viewer)
    ev._pred.value, ev._truth.value = layer.metadata["colorgan_parts"][0], viewer.layers["painted"]
    ev.evaluate()
    qtbot.waitUntil(lambda: bool(ev.results) and ev._run.enabled, timeout=60_000)
    band, wrong = 50 * 400, 10 * 50
    assert ev.results["class_accuracy"] == pytest.approx(band / (band + wrong))
    assert "label 4 IoU" in ev.results and not ev._confusion.native.isHidden()


def test_export_of_a_class_layer_writes_the_class_map_it_shows(
    make_napari_viewer, qtbot, rng, tmp_path
):
    from napari_colorgan._widgets import ColorizeWidget
    from napari_colorgan.core.infer.ome_labels import open_class_map

    viewer = make_napari_viewer()
    gray = viewer.add_image(rng.integers(0, 256, (2, 300, 400)).astype(np.uint8), name="em")
    col = ColorizeWidget(viewer)
    col._image.value, col._use_session.value, col._device.value = gray, False, "cpu"
    col._classes.value, col._precision.value = True, "fp32"  # as CPU below
    col._model_file.value = class_model().save(tmp_path / "classes.safetensors")
    layer = col.colorize()
    classes = layer.metadata["colorgan_parts"][0]
    col._export_path.value = tmp_path / "out.ome.zarr"
    col.export()
    qtbot.waitUntil(lambda: "em export" in viewer.layers, timeout=120_000)
    levels, palette = open_class_map(tmp_path / "out.ome.zarr")
    assert palette == {4: (255, 0, 0), 9: (0, 0, 255)}
    exported = np.asarray(levels[0])
    np.testing.assert_array_equal(exported[0], np.asarray(classes.data[0]))  # the plane in view
    truth = classify(gray.data, layer.metadata["colorgan_tiles"].source.model, CPU).labels
    np.testing.assert_array_equal(exported, truth.compute())  # and the plane nobody looked at
