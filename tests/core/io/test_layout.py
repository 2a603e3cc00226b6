"""Axes read by name: OME-Zarr order and 0.3 names, ImageJ channels, OME time, planar RGB."""

import warnings

import numpy as np
import pytest
import tifffile
import zarr

from napari_colorgan.core.io.axes import image_axes
from napari_colorgan.core.io.images import open_image


def _ome_zarr(path, data, axes, scale):
    group = zarr.open_group(str(path), mode="w")
    group.create_array("0", data=data)
    transforms = [{"type": "scale", "scale": scale}]
    dataset = {"path": "0", "coordinateTransformations": transforms}
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [dataset]}]
    return path


def test_an_ome_zarr_stored_y_x_z_is_read_as_planes_along_z(tmp_path, rng):
    zyx = rng.integers(0, 255, (4, 24, 32), np.uint8)
    axes = [{"name": n, "type": "space", "unit": "nanometer"} for n in "yxz"]
    path = _ome_zarr(tmp_path / "yxz.ome.zarr", zyx.transpose(1, 2, 0), axes, [2.0, 3.0, 40.0])
    got = open_image(path)
    assert got.shape == (4, 24, 32)
    np.testing.assert_array_equal(np.asarray(got[2]), zyx[2])
    assert [(a.name, a.scale) for a in image_axes(path, 3)] == [
        ("z", 40.0),
        ("y", 2.0),
        ("x", 3.0),
    ]


def test_ome_zarr_0_3_bare_axis_names_are_read(tmp_path, rng):
    data = rng.integers(0, 255, (2, 1, 16, 16), np.uint8)
    path = _ome_zarr(tmp_path / "v03.ome.zarr", data, ["t", "c", "y", "x"], [1.0] * 4)
    assert open_image(path).shape == (2, 16, 16)  # the one channel dropped
    assert [(a.name, a.type) for a in image_axes(path, 3)] == [
        ("t", "time"), ("y", "space"), ("x", "space"),
    ]  # fmt: skip


def test_an_unreadable_ome_zarr_axis_entry_is_named(tmp_path, rng):
    path = _ome_zarr(tmp_path / "bad.ome.zarr", np.zeros((8, 8), np.uint8), [1, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"axis entry 1 is neither a name"):
        open_image(path)


def test_an_imagej_hyperstack_with_two_channels_is_refused(tmp_path):
    path = tmp_path / "ij.tif"
    data = np.zeros((3, 2, 16, 16), np.uint8)
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(ValueError, match="ij.tif has 2 channels: give one grayscale channel"):
        open_image(path)


def test_imagej_time_and_z_keep_their_names(tmp_path, rng):
    path = tmp_path / "tz.tif"
    data = rng.integers(0, 255, (2, 3, 16, 16), np.uint8)
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "TZYX"})
    assert open_image(path).shape == (2, 3, 16, 16)
    assert [a.name for a in image_axes(path, 4)] == ["t", "z", "y", "x"]


def test_an_ome_tiff_time_axis_stays_time(tmp_path, rng):
    path = tmp_path / "t.ome.tif"
    tifffile.imwrite(path, rng.integers(0, 255, (5, 16, 16), np.uint8), metadata={"axes": "TYX"})
    assert [(a.name, a.type) for a in image_axes(path, 3)] == [
        ("t", "time"), ("y", "space"), ("x", "space"),
    ]  # fmt: skip


def test_a_planar_rgb_tiff_is_one_colour_image_and_says_so(tmp_path, rng):
    path = tmp_path / "planar.tif"
    rgb = rng.integers(0, 255, (3, 16, 24), np.uint8)
    tifffile.imwrite(path, rgb, photometric="rgb", planarconfig="separate", metadata=None)
    with pytest.warns(UserWarning, match="planar.tif: its tags say RGB stored as separate"):
        got = open_image(path)
    assert got.shape == (16, 24, 3)
    np.testing.assert_array_equal(np.asarray(got), rgb.transpose(1, 2, 0))


def test_a_lone_channel_axis_is_read_as_planes_and_says_so(tmp_path, rng):
    path = tmp_path / "cyx.ome.tif"
    data = rng.integers(0, 255, (5, 16, 16), np.uint16)
    tifffile.imwrite(path, data, ome=True)  # tifffile names the axes CYX
    with pytest.warns(
        UserWarning, match="its 5 channels \\(axes CYX\\) are read as 5 grey planes"
    ):
        got = open_image(path)
    np.testing.assert_array_equal(np.asarray(got), data)
    assert [a.name for a in image_axes(path, 3)] == ["z", "y", "x"]


def test_a_plain_grey_stack_opens_without_a_note(tmp_path, rng):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, rng.integers(0, 255, (4, 16, 16), np.uint8), photometric="minisblack")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_image(path).shape == (4, 16, 16)


def test_tifffiles_default_planar_rgb_of_an_array_stays_planes_and_says_so(tmp_path, rng):
    path = tmp_path / "default.tif"
    data = rng.integers(0, 255, (3, 16, 16), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tifffile.imwrite(path, data)  # tagged planar RGB by tifffile's deprecated default
    with pytest.warns(UserWarning, match=r"from an array of shape \(3, 16, 16\): read as 3 grey"):
        got = open_image(path)
    np.testing.assert_array_equal(np.asarray(got), data)
