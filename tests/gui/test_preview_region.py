"""Which pixels a zoomed-in preview reads and shows."""

from types import SimpleNamespace

import numpy as np

from napari_colorgan._widgets._colorize import crop_with_margin
from napari_colorgan._widgets._common import visible_region
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.tiling import TilePlan


def layer(corners, multiscale=False, level=0, factors=((1, 1),)):
    return SimpleNamespace(
        corner_pixels=np.array(corners),
        multiscale=multiscale,
        data_level=level,
        downsample_factors=np.array(factors),
    )


def test_a_small_visible_part_is_previewed_alone():
    region = visible_region(layer([[100, 300], [199, 449]]), (1000, 1000))
    assert region == (slice(100, 200), slice(300, 450))


def test_most_of_the_plane_or_a_never_drawn_canvas_means_the_whole_plane():
    assert visible_region(layer([[0, 0], [899, 899]]), (1000, 1000)) is None
    assert visible_region(layer([[0, 0], [0, 0]]), (1000, 1000)) is None


def test_multiscale_corners_are_scaled_to_full_resolution():
    zoomed = layer([[10, 20], [59, 79]], multiscale=True, level=1, factors=((1, 1), (4, 4)))
    assert visible_region(zoomed, (1000, 1000)) == (slice(40, 240), slice(80, 320))


def test_the_margin_stays_inside_the_plane_and_the_region_is_cut_back_out():
    plan = TilePlan("exact", 128, 64, 32)  # margin max(64, 64), grid 32
    ys, xs, keep = crop_with_margin((slice(10, 60), slice(900, 990)), (1000, 1000), plan)
    assert (ys, xs) == (slice(0, 124), slice(832, 1000))  # starts on the grid
    plane = np.arange(1000 * 1000).reshape(1000, 1000)
    np.testing.assert_array_equal(plane[ys, xs][keep], plane[10:60, 900:990])


def test_an_exact_preview_of_a_region_equals_the_lazy_layer_there(tiny_colorizer, rng):
    plane = rng.integers(0, 256, (300, 300)).astype(np.uint8)
    plan = TilePlan.for_model(tiny_colorizer.config, None, None)
    assert plan.mode == "exact"
    region = (slice(101, 180), slice(37, 150))  # anywhere, not on the grid
    ys, xs, keep = crop_with_margin(region, plane.shape, plan)
    preview = colorize(plane[ys, xs], tiny_colorizer, device="cpu")[keep].compute()
    whole = colorize(plane, tiny_colorizer, device="cpu")[region].compute()
    assert np.abs(preview.astype(int) - whole).max() <= 1  # uint8 rounding of equal floats
