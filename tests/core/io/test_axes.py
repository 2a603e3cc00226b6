"""Axes read from files: pixel sizes that are no size are replaced by 1 and said, never copied."""

import math

import numpy as np
import pytest
import tifffile
import zarr

from napari_colorgan.core.infer.ome import check_axes
from napari_colorgan.core.io.axes import Axis, image_axes


def ome_zarr(path, scale):
    group = zarr.open_group(str(path), mode="w")
    group.create_array("0", shape=(2, 8, 8), dtype="u1")
    axes = [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}
    return path


@pytest.mark.parametrize("bad", [0.0, -2.0, math.nan, math.inf])
def test_a_pixel_size_that_is_no_size_becomes_1_with_a_warning(tmp_path, bad):
    path = ome_zarr(tmp_path / "in.ome.zarr", [1.0, bad, 0.5])
    with pytest.warns(UserWarning, match="pixel size of axis y is .*1 \\(pixel\\) is used"):
        axes = image_axes(path, 3)
    assert [a.scale for a in axes] == [1.0, 1.0, 0.5] and axes[1].unit is None
    assert axes[2].unit == "micrometer"  # the good axes are kept as they were
    check_axes(axes, 3)  # what is written is valid


def test_a_negative_imagej_spacing_is_not_copied(tmp_path):
    data = np.zeros((3, 8, 8), np.uint8)
    tifffile.imwrite(
        tmp_path / "ij.tif", data, imagej=True, resolution=(2.0, 2.0),
        metadata={"spacing": -0.5, "unit": "um"},
    )  # fmt: skip
    with pytest.warns(UserWarning, match="axis z is -0.5"):
        axes = image_axes(tmp_path / "ij.tif", 3)
    assert axes[0].scale == 1.0 and axes[1].scale == 0.5


def test_axes_given_with_a_nan_size_are_refused_by_name():
    axes = [Axis("y", "space", math.nan), Axis("x", "space", 1.0)]
    with pytest.raises(ValueError, match="pixel sizes must be finite and > 0, got y: nan"):
        check_axes(axes, 2)
