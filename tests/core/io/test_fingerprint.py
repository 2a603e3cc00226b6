"""The content fingerprint tells inputs of the same shape apart and refuses all-NaN ones."""

import dask.array as da
import numpy as np
import pytest
import zarr

from napari_colorgan.core.io.fingerprint import MAX_PLANES, SIDE, content_sample, input_fingerprint


def test_equal_content_gives_equal_fingerprints_whatever_the_container(rng, tmp_path):
    stack = rng.integers(0, 4096, (5, 300, 200)).astype(np.uint16)
    stored = zarr.create_array(str(tmp_path / "s.zarr"), shape=stack.shape, dtype=stack.dtype)
    stored[:] = stack
    expected = input_fingerprint(stack)
    assert input_fingerprint(da.from_array(stack, chunks=(1, 100, 100))) == expected
    assert input_fingerprint(stored) == expected


def test_another_input_of_the_same_shape_differs(rng):
    a = rng.random((4, 128, 128)).astype(np.float32)
    b = rng.random((4, 128, 128)).astype(np.float32)
    assert input_fingerprint(a)["shape"] == input_fingerprint(b)["shape"]
    assert input_fingerprint(a) != input_fingerprint(b)
    assert input_fingerprint(a) != input_fingerprint(a.astype(np.float64))


def test_the_sample_is_bounded_and_covers_first_and_last_plane():
    stack = np.arange(100 * 20 * 30, dtype=np.float32).reshape(100, 20, 30)
    sample = content_sample(stack)
    assert sample.shape[0] == MAX_PLANES
    assert sample[0, 0, 0] == stack[0, 0, 0] and sample[-1, 0, 0] == stack[-1, 0, 0]
    planes, rows, cols = content_sample(np.zeros((2, 3, 5000, 40))).shape
    assert planes == 6 and rows <= 2 * SIDE and cols == 40


def test_an_all_nan_input_is_refused():
    with pytest.raises(ValueError, match="no finite value"):
        input_fingerprint(np.full((3, 40, 40), np.nan, np.float32))
    input_fingerprint(np.where(np.eye(40) > 0, 1.0, np.nan))  # some numbers: accepted
