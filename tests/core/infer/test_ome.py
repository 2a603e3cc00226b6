"""The colour store is valid OME-Zarr 0.5, carries the input's axes and scale, and reads back."""

import json

import numpy as np
import pytest
import zarr

from napari_colorgan.core.infer.ome import open_multiscale, store_scale, write_rgb
from napari_colorgan.core.infer.zarr_store import colorize_to_zarr
from napari_colorgan.core.io.axes import Axis, image_axes
from napari_colorgan.core.io.images import open_image
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

ome_v05 = pytest.importorskip("ome_zarr_models.v05")
KW = {"device": "cpu", "precision": "fp32", "tile": 64, "overlap": 16, "block_size": 64}


@pytest.fixture
def m():
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False)
    return Colorizer.from_config(cfg, seed=2, normalization=InputNormalization("minmax", 0, 255))


def validate(path) -> dict:
    """Validate with ome-zarr-models (raises on an invalid store); the multiscales entry."""
    ome_v05.Image.from_zarr(zarr.open_group(str(path), mode="r"))
    return dict(zarr.open_group(str(path), mode="r").attrs)["ome"]["multiscales"][0]


def write_ome_input(path, data, axes, scale):
    """A grayscale OME-Zarr 0.5 image, as another tool would write it."""
    group = zarr.open_group(str(path), mode="w")
    group.create_array("0", data=data, chunks=data.shape)
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": axes,
                "datasets": [
                    {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("shape", "names"),
    [((70, 90), ["c", "y", "x"]), ((3, 70, 90), ["c", "z", "y", "x"])],
)
def test_2d_and_3d_results_validate_with_c_before_space(m, rng, tmp_path, shape, names):
    gray = rng.integers(0, 256, shape).astype(np.uint8)
    out = colorize_to_zarr(gray, tmp_path / "out.ome.zarr", m, **KW)
    meta = validate(out)
    assert [a["name"] for a in meta["axes"]] == names
    assert zarr.open_array(str(out / "0"), mode="r").shape == (3, *shape)
    omero = dict(zarr.open_group(str(out), mode="r").attrs)["ome"]["omero"]
    assert [c["color"] for c in omero["channels"]] == ["FF0000", "00FF00", "0000FF"]
    # Bookkeeping sits in its own sub-group, not among the image's levels.
    assert {n for n, _ in zarr.open_group(str(out), mode="r").groups()} == {"napari_colorgan"}
    from napari_colorgan.core.infer.graph import colorize

    np.testing.assert_array_equal(open_multiscale(out)[0], colorize(gray, m, **KW).compute())


def test_a_time_series_keeps_its_axes_units_and_scale(m, rng, tmp_path):
    gray = rng.integers(0, 256, (2, 600, 80)).astype(np.uint8)
    axes = [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    write_ome_input(tmp_path / "in.ome.zarr", gray, axes, [30.0, 0.5, 0.25])
    out = colorize_to_zarr(tmp_path / "in.ome.zarr", tmp_path / "out.ome.zarr", m, **KW)
    meta = validate(out)
    assert [a["name"] for a in meta["axes"]] == ["t", "c", "y", "x"]
    assert meta["axes"][0]["unit"] == "second" and meta["axes"][2]["unit"] == "micrometer"
    scales = [d["coordinateTransformations"][0]["scale"] for d in meta["datasets"]]
    assert scales[0] == [30.0, 1.0, 0.5, 0.25]
    assert scales[1] == [30.0, 1.0, 1.0, 0.5] and len(scales) >= 2  # the pyramid halves y, x
    assert store_scale(out) == ([30.0, 0.5, 0.25], ["second", "micrometer", "micrometer"])


def test_tiff_resolution_tags_become_the_scale(rng, tmp_path):
    tifffile = pytest.importorskip("tifffile")
    gray = rng.integers(0, 256, (2, 32, 40)).astype(np.uint8)
    imagej = tmp_path / "ij.tif"
    tifffile.imwrite(
        imagej, gray, imagej=True, resolution=(1 / 0.2, 1 / 0.2),
        metadata={"spacing": 1.5, "unit": "um", "axes": "ZYX"},
    )  # fmt: skip
    assert image_axes(imagej, 3) == [
        Axis("z", "space", 1.5, "micrometer"),
        Axis("y", "space", pytest.approx(0.2), "micrometer"),
        Axis("x", "space", pytest.approx(0.2), "micrometer"),
    ]
    ome = tmp_path / "ome.ome.tif"
    tifffile.imwrite(
        ome, gray, ome=True,
        metadata={"axes": "ZYX", "PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3,
                  "PhysicalSizeZ": 2.0, "PhysicalSizeZUnit": "nm"},
    )  # fmt: skip
    assert [(a.scale, a.unit) for a in image_axes(ome, 3)] == [
        (2.0, "nanometer"),
        (0.3, "micrometer"),
        (0.3, "micrometer"),
    ]
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, gray, photometric="minisblack")
    assert [a.scale for a in image_axes(plain, 3)] == [1.0, 1.0, 1.0]


def test_ome_zarr_inputs_drop_a_single_channel_and_move_rgb_last(rng, tmp_path):
    axes = [{"name": n, "type": t} for n, t in (("c", "channel"), ("y", "space"), ("x", "space"))]
    write_ome_input(tmp_path / "grey.ome.zarr", rng.random((1, 8, 9)), axes, [1, 1, 1])
    assert open_image(tmp_path / "grey.ome.zarr").shape == (8, 9)
    write_ome_input(tmp_path / "rgb.ome.zarr", rng.random((3, 8, 9)), axes, [1, 1, 1])
    assert open_image(tmp_path / "rgb.ome.zarr").shape == (8, 9, 3)
    write_ome_input(tmp_path / "two.ome.zarr", rng.random((2, 8, 9)), axes, [1, 1, 1])
    with pytest.raises(ValueError, match="has 2 channels"):
        open_image(tmp_path / "two.ome.zarr")


def test_write_rgb_round_trips_with_axes(rng, tmp_path):
    rgb = rng.integers(0, 256, (2, 300, 40, 3)).astype(np.uint8)
    axes = [Axis("z", "space", 4.0, "nanometer"), Axis("y", "space", 2.0, "nanometer"),
            Axis("x", "space", 2.0, "nanometer")]  # fmt: skip
    out = write_rgb(rgb, tmp_path / "saved.ome.zarr", axes)
    meta = validate(out)
    assert meta["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 4.0, 2.0, 2.0]
    levels = open_multiscale(out)
    np.testing.assert_array_equal(levels[0], rgb)
    assert levels[1].shape == (2, 150, 20, 3)
    with pytest.raises(ValueError, match="RGB"):
        write_rgb(rgb[..., 0], tmp_path / "grey.ome.zarr")


def test_a_store_of_0_1_is_refused_with_how_to_convert(m, rng, tmp_path):
    gray = rng.integers(0, 256, (2, 64, 64)).astype(np.uint8)
    out = colorize_to_zarr(gray, tmp_path / "old.zarr", m, **KW)
    group = zarr.open_group(str(out), mode="r+")
    old = dict(group.attrs)["napari_colorgan"]
    del old["layout"]  # what 0.1.0 wrote: no layout entry
    group.attrs["napari_colorgan"] = old
    with pytest.raises(ValueError, match="napari-colorgan 0.1 .*overwrite.*convert"):
        colorize_to_zarr(gray, out, m, **KW)
    colorize_to_zarr(gray, out, m, if_exists="overwrite", **KW)
    validate(out)


def test_an_unfinished_store_does_not_open_as_a_result(m, rng, tmp_path):
    import threading

    stop = threading.Event()
    stop.set()
    gray = rng.integers(0, 256, (2, 64, 64)).astype(np.uint8)
    colorize_to_zarr(gray, tmp_path / "part.zarr", m, stop=stop, **KW)
    with pytest.raises(ValueError, match="did not finish"):
        open_multiscale(tmp_path / "part.zarr")
    assert json.loads((tmp_path / "part.zarr" / "zarr.json").read_text())["node_type"] == "group"


def test_a_fits_wcs_pixel_scale_is_carried_in_arcseconds(rng, tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg",
                          "CUNIT2": "deg", "CD1_1": -1.1e-4, "CD1_2": 0.0, "CD2_1": 0.0,
                          "CD2_2": 1.1e-4})  # fmt: skip
    path = tmp_path / "sky.fits"
    fits.PrimaryHDU(rng.random((20, 30)).astype(np.float32), header=header).writeto(path)
    axes = image_axes(path, 2)
    assert [a.unit for a in axes] == ["arcsecond", "arcsecond"]
    assert [a.scale for a in axes] == [pytest.approx(0.396), pytest.approx(0.396)]
    plain = tmp_path / "plain.fits"
    fits.PrimaryHDU(rng.random((20, 30)).astype(np.float32)).writeto(plain)
    assert [a.scale for a in image_axes(plain, 2)] == [1.0, 1.0]


def test_a_resume_with_other_axes_is_refused(m, rng, tmp_path):
    gray = rng.integers(0, 256, (2, 64, 64)).astype(np.uint8)
    series = [Axis("t", "time"), Axis("y", "space"), Axis("x", "space")]
    out = colorize_to_zarr(gray, tmp_path / "t.ome.zarr", m, axes=series, **KW)
    # Default axes (z) would put the channel first: (c, z, y, x) against the store's (t, c, y, x).
    with pytest.raises(ValueError, match="other axis names.*overwrite"):
        colorize_to_zarr(gray, out, m, **KW)


def test_axes_ome_zarr_cannot_hold_are_refused(m, rng, tmp_path):
    from napari_colorgan.core.infer.ome import check_axes

    with pytest.raises(ValueError, match="at most time, z, y, x"):
        colorize_to_zarr(rng.integers(0, 256, (2, 2, 2, 32, 32)).astype(np.uint8),
                         tmp_path / "5d.zarr", m, **KW)  # fmt: skip
    late = [Axis("z", "space"), Axis("t", "time"), Axis("y", "space"), Axis("x", "space")]
    with pytest.raises(ValueError, match="time first"):
        check_axes(late, 4)
    assert not (tmp_path / "5d.zarr").exists()
