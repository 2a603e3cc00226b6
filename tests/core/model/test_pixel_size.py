"""The training pixel size in the model file, and the pyramid level that matches it."""

import numpy as np
import zarr

from napari_colorgan.core.io.axes import Axis
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.pixel_size import matching_level, pixel_size_record
from napari_colorgan.core.train.loop import train
from tests.core.train.test_loop import tiny


def test_the_level_nearest_the_training_pixels_is_chosen_across_units():
    sizes = [2.0, 4.0, 8.0, 16.0]  # nanometres per pixel, level 0 first
    assert matching_level(sizes, "nanometer", {"x": 8.0, "unit": "nanometer"}) == 2
    assert matching_level(sizes, "nanometer", {"x": 0.0105, "unit": "micrometer"}) == 2
    assert matching_level(sizes, "nanometer", {"x": 1.0, "unit": "nanometer"}) == 0
    assert (
        matching_level(sizes, "nanometer", {"x": 9.0, "unit": "arcsecond"}) == 0
    )  # not comparable
    assert matching_level(sizes, None, None) == 0


def test_napari_default_sizes_are_no_measurement():
    assert pixel_size_record([Axis("y", "space"), Axis("x", "space")]) is None
    axes = [Axis("y", "space", 4.0, "nanometer"), Axis("x", "space", 4.0, "nanometer")]
    assert pixel_size_record(axes) == {"y": 4.0, "x": 4.0, "unit": "nanometer"}


def test_training_on_an_ome_zarr_records_its_pixel_size_in_the_model_file(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (2, 80, 72)).astype(np.uint8)
    group = zarr.open_group(str(tmp_path / "em.ome.zarr"), mode="w")
    group.create_array("0", data=gray)
    axes = [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"]
    scale = [{"type": "scale", "scale": [40.0, 4.0, 4.0]}]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [
        {"axes": axes, "datasets": [{"path": "0", "coordinateTransformations": scale}]}
    ]}  # fmt: skip
    rgb = rng.integers(0, 256, (2, 80, 72, 3)).astype(np.uint8)
    model = train(tmp_path / "em.ome.zarr", target=rgb, config=tiny(steps=2), device="cpu")
    saved = Colorizer.load(model.save(tmp_path / "m.safetensors"))
    assert saved.training["pixel_size"] == {"y": 4.0, "x": 4.0, "unit": "nanometer"}
    plain = train(gray, target=rgb, config=tiny(steps=2), device="cpu")
    assert "pixel_size" not in plain.training  # an array says nothing: nothing recorded
