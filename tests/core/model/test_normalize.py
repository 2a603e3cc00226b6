import dask.array as da
import numpy as np
import pytest
import zarr

from napari_colorgan.core.model.config import InputNormalization
from napari_colorgan.core.model.normalize import apply_normalization, fit_normalization


def test_minmax_maps_the_data_range_to_0_1():
    data = np.array([[100, 200], [300, 500]], dtype=np.uint16)
    norm = fit_normalization(data, "minmax")
    assert (norm.low, norm.high) == (100, 500)
    np.testing.assert_allclose(apply_normalization(data, norm), [[0, 0.25], [0.5, 1]])


def test_percentile_clips_outliers(rng):
    data = rng.normal(1000, 10, (64, 64)).astype(np.float32)
    data[0, 0] = 1e6  # a hot pixel must not squash the rest
    norm = fit_normalization(data, "percentile")
    assert norm.high < 1100
    out = apply_normalization(data, norm)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    assert 0.3 < np.median(out) < 0.7


def test_asinh_stretches_faint_signal():
    data = np.concatenate([np.zeros(900), np.linspace(0, 1000, 100)]).reshape(10, 100)
    norm = fit_normalization(data, "asinh", softening=1.0)
    out = apply_normalization(data, norm)
    linear = apply_normalization(data, fit_normalization(data, "minmax"))
    faint = data == data[data > 0].min()
    assert out[faint].mean() > 10 * linear[faint].mean()


def test_nan_becomes_zero_and_all_nan_is_an_error():
    data = np.array([[np.nan, 1.0], [2.0, 3.0]])
    out = apply_normalization(data, fit_normalization(data, "minmax"))
    assert out[0, 0] == 0
    with pytest.raises(ValueError, match="no finite value"):
        fit_normalization(np.full((4, 4), np.nan), "minmax")
    with pytest.raises(ValueError, match="empty"):
        fit_normalization(np.zeros((0, 4)), "minmax")


def test_constant_image_does_not_divide_by_zero():
    out = apply_normalization(
        np.full((4, 4), 7.0), fit_normalization(np.full((4, 4), 7.0), "minmax")
    )
    assert np.isfinite(out).all()


def test_statistics_read_sparsely_from_lazy_arrays(tmp_path, rng):
    data = rng.integers(0, 4000, (6, 256, 256)).astype(np.uint16)
    z = zarr.create_array(tmp_path / "a.zarr", shape=data.shape, chunks=(1, 64, 64), dtype="u2")
    z[:] = data
    full = fit_normalization(data, "minmax")
    for lazy in (z, da.from_array(data, chunks=(1, 128, 128))):
        norm = fit_normalization(lazy, "percentile")
        assert 0 <= norm.low < norm.high <= full.high


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="'zscore'"):
        fit_normalization(np.zeros((2, 2)), "zscore")


def test_none_passes_0_1_data_through():
    data = np.array([[0.0, 0.5], [1.0, 2.0]])
    np.testing.assert_allclose(apply_normalization(data, InputNormalization()), [[0, 0.5], [1, 1]])


def test_huge_stack_is_sampled_in_bounded_windows(tmp_path):
    import tracemalloc

    # 3.4 GB nominal; only one chunk written, the rest reads as the fill value.
    z = zarr.create_array(
        tmp_path / "huge.zarr",
        shape=(50, 8192, 8192),
        chunks=(1, 512, 512),
        dtype="u1",
        fill_value=10,
    )
    z[0, :512, :512] = 200
    tracemalloc.start()
    norm = fit_normalization(z, "minmax")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert norm.low == 10
    assert peak < 100e6


def test_auto_picks_asinh_for_heavy_tailed_float_and_percentile_otherwise():
    rng = np.random.default_rng(0)
    sky = rng.normal(0.0, 1.0, (128, 128)).astype(np.float32)
    sky[60:68, 60:68] = 5e4  # a bright star: 10^4 above the noise
    sky[10:12, 100:102] = 2e3
    assert fit_normalization(sky, "auto").method == "asinh"
    em = rng.integers(0, 256, (128, 128)).astype(np.uint8)
    assert fit_normalization(em, "auto").method == "percentile"
    balanced = rng.normal(100.0, 10.0, (128, 128)).astype(np.float32)
    assert fit_normalization(balanced, "auto").method == "percentile"
    # The stretched sky keeps the faint pixels off black: the median is mid-grey, not ~0.
    assert np.median(apply_normalization(sky, fit_normalization(sky, "auto"))) > 0.1
