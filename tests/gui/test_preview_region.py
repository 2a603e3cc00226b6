"""Which pixels a zoomed-in preview reads and shows."""

from types import SimpleNamespace

import numpy as np

from napari_colorgan._widgets._colorize import crop_with_margin
from napari_colorgan._widgets._common import visible_region


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
    ys, xs, keep = crop_with_margin((slice(10, 60), slice(900, 990)), (1000, 1000), 64)
    assert (ys, xs) == (slice(0, 124), slice(836, 1000))
    plane = np.arange(1000 * 1000).reshape(1000, 1000)
    np.testing.assert_array_equal(plane[ys, xs][keep], plane[10:60, 900:990])
