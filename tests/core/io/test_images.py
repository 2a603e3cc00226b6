"""Every input kind opens lazily with its shape and dtype."""

import numpy as np
import pytest
import tifffile
import zarr
from skimage.io import imsave

from napari_colorgan.core.io.images import open_image
from napari_colorgan.core.model.config import InputNormalization
from napari_colorgan.core.train.data import AnnotatedStack


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_dtypes_and_ranges_normalise_to_0_1(dtype, rng):
    data = (rng.random((2, 40, 40)) * 3000 - (1000 if dtype == np.int16 else 0)).astype(dtype)
    from napari_colorgan.core.model.normalize import apply_normalization, fit_normalization

    for method in ("percentile", "minmax", "asinh"):
        out = apply_normalization(data, fit_normalization(data, method))
        assert out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1


def test_tiff_is_memory_mapped(tmp_path, rng):
    tifffile.imwrite(
        tmp_path / "a.tif",
        rng.integers(0, 255, (3, 20, 30)).astype(np.uint8),
        photometric="minisblack",
    )
    arr = open_image(tmp_path / "a.tif")
    assert isinstance(arr, np.memmap) and arr.shape == (3, 20, 30)


def test_compressed_ome_tiff_reads_through_zarr(tmp_path, rng):
    data = rng.integers(0, 255, (3, 64, 64)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "a.ome.tif", data, compression="zlib", tile=(32, 32), ome=True)
    arr = open_image(tmp_path / "a.ome.tif")
    np.testing.assert_array_equal(np.asarray(arr[1]), data[1])


def test_ome_zarr_opens_its_full_resolution(tmp_path, rng):
    group = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w")
    full = group.create_array("0", shape=(2, 64, 64), dtype="u1")
    full[:] = rng.integers(0, 255, (2, 64, 64))
    group.create_array("1", shape=(2, 32, 32), dtype="u1")
    group.attrs["ome"] = {"multiscales": [{"datasets": [{"path": "0"}, {"path": "1"}]}]}
    assert open_image(tmp_path / "img.ome.zarr").shape == (2, 64, 64)


def test_png_jpeg_npy_and_multiscale_lists(tmp_path, rng):
    img = rng.integers(0, 255, (32, 48)).astype(np.uint8)
    imsave(tmp_path / "a.png", img)
    imsave(tmp_path / "a.jpg", img)
    np.save(tmp_path / "a.npy", img)
    assert open_image(tmp_path / "a.png").shape == (32, 48)
    assert open_image(tmp_path / "a.jpg").shape == (32, 48)
    assert isinstance(open_image(tmp_path / "a.npy"), np.memmap)
    assert open_image([img, img[::2, ::2]]) is img


def test_fits_with_the_astro_extra(tmp_path, rng):
    fits = pytest.importorskip("astropy.io.fits")
    data = rng.random((40, 50)).astype(np.float32) * 1e4
    fits.PrimaryHDU(data).writeto(tmp_path / "deep.fits")
    arr = open_image(tmp_path / "deep.fits")
    np.testing.assert_allclose(arr, data)
    rgb = np.clip(rng.random((40, 50, 3)), 0, 1)
    stack = AnnotatedStack(
        tmp_path / "deep.fits", target=rgb, normalization=InputNormalization("asinh", 0, 5, 10)
    )
    assert stack.read_tile((), 0, 0, 32)[0].shape == (1, 32, 32)


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "a.xyz").write_text("x")
    with pytest.raises(ValueError, match="unknown image format '.xyz'"):
        open_image(tmp_path / "a.xyz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        open_image(tmp_path / "nope.tif")


def test_a_zarr_group_of_several_arrays_is_refused_listing_them(tmp_path):
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("raw", shape=(2, 16, 16), dtype="u1")
    group.create_array("labels", shape=(2, 16, 16), dtype="u1")
    with pytest.raises(ValueError, match=r"holding 2 arrays \(labels, raw\).*g.zarr/labels"):
        open_image(tmp_path / "g.zarr")
    assert open_image(tmp_path / "g.zarr" / "raw").shape == (2, 16, 16)


def test_a_zarr_group_of_one_array_opens_it(tmp_path):
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("raw", shape=(2, 16, 16), dtype="u1")
    assert open_image(tmp_path / "g.zarr").shape == (2, 16, 16)


def test_a_truncated_tiff_is_refused_at_open_naming_the_file(tmp_path):
    whole, cut = tmp_path / "whole.tif", tmp_path / "cut.tif"
    tifffile.imwrite(whole, np.zeros((3, 64, 64), np.uint16), photometric="minisblack")
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ValueError, match="cut.tif: the TIFF is truncated"):
        open_image(cut)
    assert open_image(whole).shape == (3, 64, 64)


def test_a_text_file_named_png_is_refused_naming_the_file(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    with pytest.raises(ValueError, match="fake.png: not a readable PNG image"):
        open_image(fake)


def test_fits_with_bzero_bscale_and_blank_reads_the_physical_values(tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    from napari_colorgan.core.io.images import open_image

    unsigned = np.arange(3 * 40 * 50, dtype=np.uint16).reshape(3, 40, 50) * 21
    fits.PrimaryHDU(unsigned).writeto(tmp_path / "u16.fits")  # astropy stores BZERO = 32768
    read = open_image(tmp_path / "u16.fits")
    assert read.dtype == np.uint16 and (np.asarray(read) == unsigned).all()
    stored = np.arange(40 * 50, dtype=np.int16).reshape(40, 50) - 1000
    hdu = fits.PrimaryHDU(stored)
    hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = 0.5, 10.0, -1000
    hdu.writeto(tmp_path / "blank.fits")
    values = np.asarray(open_image(tmp_path / "blank.fits"))
    assert values.dtype == np.float32 and np.isnan(values[0, 0])
    np.testing.assert_allclose(values[0, 1:5], stored[0, 1:5] * 0.5 + 10.0)
    plain = np.random.default_rng(0).random((30, 20)).astype(np.float32)
    fits.PrimaryHDU(plain).writeto(tmp_path / "plain.fits")
    np.testing.assert_array_equal(np.asarray(open_image(tmp_path / "plain.fits")), plain)
