"""Class maps and confidence of a model trained on labels, through the tiling engine."""

import dataclasses

import dask
import numpy as np
import pytest
import torch

from napari_colorgan.core.infer.blocks import colorize_region
from napari_colorgan.core.infer.class_maps import classify
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.planner import plan
from napari_colorgan.core.model.colorizer import Colorizer, network_input
from napari_colorgan.core.model.config import ModelConfig, label_ids
from tests.core.infer.test_graph import model

PALETTE = ((3, 255, 0, 0), (7, 0, 200, 0), (300, 0, 0, 255))  # ids as painted, one > 255


def class_model() -> Colorizer:
    return model(classes=PALETTE)


def whole_plane_probabilities(m: Colorizer, plane: np.ndarray) -> np.ndarray:
    """Class probabilities (K, y, x) of one forward over the whole (grid-sized) plane."""
    x = torch.from_numpy(plane.astype(np.float32) / 255)[None, None]
    with torch.no_grad():
        return m.class_probabilities(m.generator(network_input(x)))[0].numpy()


def job_plan(m: Colorizer, data: np.ndarray, tile: int):
    return plan(
        m.config, data.shape, ColorizeConfig(tile=tile, overlap=64, device="cpu", precision="fp32")
    )


@pytest.mark.parametrize("tile", [128, None])  # blended windows (128 px) and exact ones
def test_class_map_and_confidence_equal_whole_plane_inference(tile, rng):
    m = class_model()
    plane = rng.integers(0, 256, (2, 192, 256)).astype(np.uint8)
    maps = classify(
        plane, m, tile=tile, overlap=64 if tile else None, device="cpu", precision="fp32"
    )
    labels, confidence, colour = dask.compute(maps.labels, maps.confidence, maps.colour)
    assert labels.shape == confidence.shape == plane.shape and colour.shape == (*plane.shape, 3)
    assert labels.dtype == np.uint16 and confidence.dtype == np.float32
    probs = whole_plane_probabilities(m, plane[1])
    ids = np.array([c[0] for c in PALETTE])
    agree = (labels[1] == ids[probs.argmax(0)]).mean()
    assert len(np.unique(labels[1])) > 1  # the test sees more than one class
    if tile is None:  # exact tiling: the very pixels of one whole-plane pass
        assert agree > 0.999
        np.testing.assert_allclose(confidence[1], probs.max(0), atol=0.6 / 255)
    else:  # blended: the windows' probabilities averaged near the seams, then decided
        plan = dataclasses.replace(job_plan(m, plane, tile), channels=5)
        blended = colorize_region(m, plane[1][None], (0, 0), (0, 192, 0, 256), plan)[..., 3:]
        np.testing.assert_array_equal(labels[1], ids[blended.argmax(-1)])
        np.testing.assert_allclose(confidence[1], blended.max(-1), atol=0.6 / 255)
        assert agree > 0.5  # and they are the model's classes, not noise
    assert maps.palette == {3: (255, 0, 0), 7: (0, 200, 0), 300: (0, 0, 255)}


def test_the_colour_of_classify_is_the_colour_of_colorize(rng):
    m = class_model()
    plane = rng.integers(0, 256, (128, 160)).astype(np.uint8)
    colour = classify(plane, m, device="cpu").colour.compute()
    np.testing.assert_array_equal(colour, colorize(plane, m, device="cpu").compute())


def test_the_colour_follows_the_class_map(rng):
    m = class_model()
    plane = rng.integers(0, 256, (128, 160)).astype(np.uint8)
    maps = classify(plane, m, device="cpu", precision="fp32")
    labels, colour = dask.compute(maps.labels, maps.colour)
    # A class model paints its class's chroma on the pixel's own lightness: one colour for each
    # (class, grey) pair, whichever window the pixel came from.
    key = labels.astype(np.int64) * 256 + plane
    rgb = colour.astype(np.int64) @ np.array([1, 256, 65536])
    for k in np.unique(key):
        assert len(np.unique(rgb[key == k])) == 1


def test_a_colour_model_has_no_class_map():
    m = Colorizer.from_config(ModelConfig(num_downs=5, ngf=8, tile=64))
    with pytest.raises(ValueError, match="trained on colour targets, not on labels"):
        classify(np.zeros((64, 64), np.uint8), m)
    with pytest.raises(ValueError, match="classify gives class maps"):
        colorize(np.zeros((64, 64), np.uint8), m, classes=True)


def test_label_ids_fit_the_smallest_dtype():
    assert label_ids(ModelConfig(classes=((1, 0, 0, 0), (255, 1, 1, 1)))).dtype == np.uint8
    assert label_ids(ModelConfig(classes=PALETTE)).dtype == np.uint16


def test_a_class_model_store_holds_its_class_map_as_a_valid_ngff_image_label(rng, tmp_path):
    import zarr

    ome_v05 = pytest.importorskip("ome_zarr_models.v05")
    from napari_colorgan.core.infer.ome import open_multiscale
    from napari_colorgan.core.infer.ome_labels import open_class_map, open_confidence
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr

    m = class_model()
    stack = rng.integers(0, 256, (2, 600, 520)).astype(np.uint8)
    kw = {"device": "cpu", "precision": "fp32", "block_size": 256}
    out = colorize_to_zarr(stack, tmp_path / "c.ome.zarr", m, confidence=True, **kw)
    group = zarr.open_group(str(out), mode="r")
    ome_v05.Labels.from_zarr(group["labels"])
    label = ome_v05.ImageLabel.from_zarr(group["labels/classes"])
    colours = label.attributes.ome.image_label.colors
    assert {c.label_value: tuple(c.rgba) for c in colours}[300] == (0, 0, 255, 255)
    levels, palette = open_class_map(out)
    colour = open_multiscale(out)
    assert len(levels) == len(colour) > 1  # one class level per colour level
    assert [lv.shape for lv in levels] == [c.shape[:-1] for c in colour]
    assert palette[7] == (0, 200, 0)
    maps = classify(stack, m, **kw)
    np.testing.assert_array_equal(levels[0].compute(), maps.labels.compute())
    np.testing.assert_array_equal(levels[1].compute(), maps.labels.compute()[:, ::2, ::2])
    np.testing.assert_array_equal(colour[0].compute(), maps.colour.compute())
    sure = open_confidence(out)
    assert [c.shape for c in sure] == [lv.shape for lv in levels]
    np.testing.assert_array_equal(sure[0].compute(), maps.confidence.compute())
    ome_v05.Image.from_zarr(group["confidence"])


def test_a_class_map_store_resumes_and_can_be_left_out(rng, tmp_path):
    from napari_colorgan.core.events import Progress
    from napari_colorgan.core.infer.ome_labels import open_class_map
    from napari_colorgan.core.infer.zarr_store import ZarrTarget, colorize_to_zarr_iter

    m = class_model()
    stack = rng.integers(0, 256, (3, 128, 128)).astype(np.uint8)
    config = ColorizeConfig(device="cpu", precision="fp32")
    out = tmp_path / "c.ome.zarr"
    events = colorize_to_zarr_iter(stack, out, m, config)
    for event in events:  # stopped after the first plane's chunk: a crash
        if isinstance(event, Progress) and event.done == 1:
            events.close()
            break
    assert open_class_map(out) is None  # unfinished: not listed as a label image yet
    list(colorize_to_zarr_iter(stack, out, m, config))
    levels, _ = open_class_map(out)
    np.testing.assert_array_equal(levels[0].compute(), classify(stack, m, config).labels)
    plain = ZarrTarget(tmp_path / "plain.ome.zarr", classes=False)
    list(colorize_to_zarr_iter(stack, plain, m, config))
    assert open_class_map(plain.path) is None
    wrong = ZarrTarget(tmp_path / "w.ome.zarr", classes=False, confidence=True)
    with pytest.raises(ValueError, match="confidence is that of the class map"):
        list(colorize_to_zarr_iter(stack, wrong, m, config))


def test_classify_plane_gives_colour_and_confidence_of_one_pass(rng):
    m = class_model()
    plane = rng.integers(0, 256, (96, 128)).astype(np.uint8)
    rgb, confidence = m.classify_plane(plane)
    np.testing.assert_array_equal(rgb, m.colorize_plane(plane))
    maps = classify(plane, m, device="cpu", precision="fp32")
    np.testing.assert_allclose(confidence, maps.confidence.compute(), atol=0.6 / 255)
    with pytest.raises(ValueError, match="no classes"):
        model().classify_plane(plane)
