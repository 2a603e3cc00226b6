"""napari opens our OME-Zarr stores as one RGB layer, and saves colour layers as them."""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

import zarr  # noqa: E402

from napari_colorgan._ome_io import (  # noqa: E402
    WriterRefused,
    get_reader,
    is_colour_store,
    layer_axes,
    write_ome_zarr,
)
from napari_colorgan.core.infer.ome import open_multiscale  # noqa: E402
from napari_colorgan.core.infer.zarr_store import colorize_to_zarr  # noqa: E402
from napari_colorgan.core.io.axes import Axis  # noqa: E402
from napari_colorgan.core.model.colorizer import Colorizer  # noqa: E402
from napari_colorgan.core.model.config import InputNormalization, ModelConfig  # noqa: E402

KW = {"device": "cpu", "precision": "fp32", "tile": 64, "overlap": 16}


@pytest.fixture
def store(tmp_path):
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=2, normalization=InputNormalization("minmax", 0, 255))
    gray = np.random.default_rng(0).integers(0, 256, (2, 600, 520)).astype(np.uint8)
    axes = [Axis("z", "space", 3.0, "nanometer"), Axis("y", "space", 1.5, "nanometer"),
            Axis("x", "space", 1.5, "nanometer")]  # fmt: skip
    return colorize_to_zarr(gray, tmp_path / "em.ome.zarr", m, axes=axes, **KW)


def test_the_reader_claims_our_stores_only(store, tmp_path):
    assert is_colour_store(store) and get_reader(str(store)) is not None
    other = tmp_path / "other.zarr"
    zarr.open_group(str(other), mode="w").create_array("0", shape=(4, 4), dtype="u1")
    assert get_reader(str(other)) is None
    assert get_reader(str(tmp_path / "missing.zarr")) is None


def test_napari_opens_a_store_as_one_rgb_layer_with_pyramid_and_scale(make_napari_viewer, store):
    viewer = make_napari_viewer()
    layers = viewer.open(str(store), plugin="napari-colorgan")
    assert len(layers) == 1
    layer = layers[0]
    assert layer.rgb and layer.multiscale and len(layer.data) >= 2
    assert layer.data[0].shape == (2, 600, 520, 3)
    assert list(layer.scale) == [3.0, 1.5, 1.5]
    assert [str(u) for u in layer.units] == ["nanometer"] * 3
    assert list(layer.axis_labels) == ["z", "y", "x"]


def test_save_layers_writes_a_colour_layer_that_reads_back(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    rgb = np.random.default_rng(1).integers(0, 256, (3, 40, 50, 3)).astype(np.uint8)
    viewer.add_image(rgb, rgb=True, name="colour", scale=(2.0, 0.5, 0.5))
    out = tmp_path / "saved.ome.zarr"
    written = viewer.layers.save(str(out), selected=True, plugin="napari-colorgan")
    assert [str(p) for p in written] == [str(out)]
    np.testing.assert_array_equal(open_multiscale(out)[0], rgb)
    reopened = viewer.open(str(out), plugin="napari-colorgan")[0]
    assert list(reopened.scale) == [2.0, 0.5, 0.5]
    with pytest.raises(WriterRefused, match="colour \\(RGB\\)"):  # a grey layer is not ours
        write_ome_zarr(str(tmp_path / "grey.ome.zarr"), rgb[..., 0], {"rgb": False})
    assert not (tmp_path / "grey.ome.zarr").exists()


def test_layer_axes_fall_back_to_default_names():
    meta = {"scale": (1.0, 2.0, 2.0), "units": None, "axis_labels": ("axis -3", "axis -2", "x")}
    assert [a.name for a in layer_axes(meta, 3)] == ["z", "y", "x"]
    meta = {"scale": (5.0, 1.0, 1.0), "units": ("second", "um", "um"), "axis_labels": "tyx"}
    axes = layer_axes(meta, 3)
    assert axes[0] == Axis("t", "time", 5.0, "second") and axes[1].unit == "micrometer"


def test_export_from_the_widget_keeps_the_layers_scale_and_units(
    make_napari_viewer, qtbot, tmp_path
):
    from napari_colorgan._widgets import ColorizeWidget
    from napari_colorgan.core.infer.ome import store_scale
    from napari_colorgan.core.model.config import preset

    viewer = make_napari_viewer()
    gray = np.random.default_rng(2).integers(0, 256, (2, 64, 64)).astype(np.uint8)
    viewer.add_image(gray, name="em", scale=(40.0, 4.0, 4.0), units=("nm", "nm", "nm"))
    model = Colorizer.from_config(preset("small", tile=64))
    col = ColorizeWidget(viewer)
    col._image.value, col._device.value = viewer.layers["em"], "cpu"
    col._model_file.value = model.save(tmp_path / "m.safetensors")
    col._use_session.value = False
    col._export_path.value = tmp_path / "em.ome.zarr"
    col.export()
    qtbot.waitUntil(lambda: "em export" in viewer.layers, timeout=120_000)
    assert store_scale(tmp_path / "em.ome.zarr") == ([40.0, 4.0, 4.0], ["nanometer"] * 3)
    assert "File ▸ Open" in col._status.value and "em.ome.zarr" in col._status.value
    assert "GiB" in col._status.tooltip  # why these windows: the memory share they fit


def test_napari_ome_zarr_shows_a_store_as_red_green_blue(make_napari_viewer, store):
    pytest.importorskip("napari_ome_zarr")
    viewer = make_napari_viewer()
    layers = viewer.open(str(store), plugin="napari-ome-zarr")
    assert [layer.colormap.name for layer in layers] == ["red", "green", "blue"]
    for layer, channel in zip(layers, range(3), strict=True):
        assert layer.multiscale and list(layer.scale) == [3.0, 1.5, 1.5]
        assert list(layer.contrast_limits) == [0, 255]
        np.testing.assert_array_equal(
            np.asarray(layer.data[0][0, :8, :8]),
            np.asarray(open_multiscale(store)[0][0, :8, :8, channel]),
        )


def test_layer_axes_with_time_not_first_fall_back():
    meta = {"scale": (1.0, 1.0, 1.0, 1.0), "units": None, "axis_labels": ("z", "t", "y", "x")}
    assert [a.name for a in layer_axes(meta, 4)] == ["t", "z", "y", "x"]


def test_save_layers_writes_what_napari_shows_and_never_replaces_someone_elses_folder(
    make_napari_viewer, tmp_path
):
    viewer = make_napari_viewer()
    rgb = np.random.default_rng(2).integers(0, 256, (2, 30, 40, 3)).astype(np.uint8)
    layer = viewer.add_image(rgb.astype(np.float32), rgb=True, name="float")  # floats on 0-255
    out = tmp_path / "float.ome.zarr"
    viewer.layers.save(str(out), selected=True, plugin="napari-colorgan")
    np.testing.assert_array_equal(open_multiscale(out)[0], rgb)  # was all white
    viewer.layers.save(str(out), selected=True, plugin="napari-colorgan")  # ours: replaced
    theirs = tmp_path / "theirs.ome.zarr"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    meta = {"rgb": True, "name": "float", "contrast_limits": layer.contrast_limits}
    with pytest.raises(WriterRefused, match="exists and is a folder that is not .* nothing was"):
        viewer.layers.save(str(theirs), selected=True, plugin="napari-colorgan")  # the message
    with pytest.raises(WriterRefused, match="exists and is a folder that is not .* nothing was"):
        write_ome_zarr(str(theirs), rgb, meta)
    assert (theirs / "notes.txt").read_text() == "mine" and len(list(theirs.iterdir())) == 1


def test_save_layers_of_a_grey_layer_says_why_nothing_was_written(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((16, 16), np.uint8), name="grey")
    with pytest.raises(WriterRefused, match="'grey' is not one: nothing was written"):
        viewer.layers.save(str(tmp_path / "g.ome.zarr"), selected=True, plugin="napari-colorgan")
    assert not (tmp_path / "g.ome.zarr").exists()


@pytest.fixture
def class_store(tmp_path):
    classes = ((3, 255, 0, 0), (7, 0, 200, 0))
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False, classes=classes)
    m = Colorizer.from_config(cfg, seed=2, normalization=InputNormalization("minmax", 0, 255))
    gray = np.random.default_rng(0).integers(0, 256, (2, 600, 520)).astype(np.uint8)
    axes = [Axis("z", "space", 3.0, "nanometer"), Axis("y", "space", 1.5, "nanometer"),
            Axis("x", "space", 1.5, "nanometer")]  # fmt: skip
    return colorize_to_zarr(gray, tmp_path / "em.ome.zarr", m, axes=axes, confidence=True, **KW)


def test_a_class_models_store_opens_with_its_class_map_as_labels(make_napari_viewer, class_store):
    viewer = make_napari_viewer()
    colour, classes, confidence = viewer.open(str(class_store), plugin="napari-colorgan")
    assert confidence.name == "em confidence" and confidence.multiscale
    assert 0 <= float(np.asarray(confidence.data[-1]).min()) <= 1
    assert colour.rgb and classes.multiscale and len(classes.data) == len(colour.data)
    assert classes.name == "em classes" and list(classes.scale) == [3.0, 1.5, 1.5]
    ids = np.unique(np.asarray(classes.data[-1]))
    assert set(ids) <= {3, 7}
    np.testing.assert_allclose(classes.colormap.map(np.array([3]))[0], [1, 0, 0, 1])


def test_napari_ome_zarr_shows_the_class_map_as_labels(make_napari_viewer, class_store):
    pytest.importorskip("napari_ome_zarr")
    viewer = make_napari_viewer()
    layers = viewer.open(str(class_store), plugin="napari-ome-zarr")
    labels = [layer for layer in layers if layer._type_string == "labels"]
    assert len(labels) == 1 and labels[0].multiscale
