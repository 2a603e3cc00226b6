"""Streaming into zarr holds only the chunks in flight: memory does not grow with the stack."""

import tracemalloc

import numpy as np
import zarr

from napari_colorgan.core.infer.zarr_store import colorize_to_zarr

SIDE = 512
KW = {"device": "cpu", "precision": "fp32", "tile": 64, "overlap": 16, "block_size": SIDE}


def traced_peak(model, planes: int, path) -> int:
    """Peak bytes numpy and Python allocate while a zarr stack of ``planes`` planes streams.

    A zarr input, as huge stacks are: a numpy input is copied whole by dask's ``from_array``.
    """
    data = np.random.default_rng(planes).integers(0, 256, (planes, SIDE, SIDE)).astype(np.uint8)
    stack = zarr.create_array(str(path) + ".in", data=data, chunks=(1, SIDE, SIDE))
    tracemalloc.start()
    try:
        colorize_to_zarr(stack, path, model, pyramid=False, parallel=2, **KW)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_stack(tiny_colorizer, tmp_path):
    traced_peak(tiny_colorizer, 2, tmp_path / "warm-up.zarr")  # first-use imports and caches
    few = traced_peak(tiny_colorizer, 4, tmp_path / "few.zarr")
    many = traced_peak(tiny_colorizer, 16, tmp_path / "many.zarr")
    twelve_planes_of_colour = 12 * SIDE * SIDE * 3
    # Keeping the finished chunks would add all 12 planes' colours (9.4 MB).
    assert many - few < 0.1 * twelve_planes_of_colour, (few, many)
