import numpy as np
import pytest

from napari_colorgan.core.infer.tiling import TilePlan, pad_to_multiple
from napari_colorgan.core.model.config import PRESETS, ModelConfig


def covered(plan: TilePlan, length: int) -> np.ndarray:
    """How often each output pixel is kept by some window, and the summed blend weight."""
    weight = np.zeros(length)
    for w in plan.windows(length):
        weight[w.keep0 : w.keep1] += plan.weights(w)[w.keep0 - w.start : w.keep1 - w.start]
    return weight


def test_presets_choose_exact_or_blended_by_receptive_field():
    assert TilePlan.for_model(PRESETS["small"]) == TilePlan("exact", 512, 128, 32)
    assert TilePlan.for_model(PRESETS["medium"]).mode == "exact"
    assert TilePlan.for_model(PRESETS["pix2pix"]) == TilePlan("blended", 256, 64, 256)


@pytest.mark.parametrize("name", ["small", "pix2pix"])
def test_a_plane_that_fits_the_tile_is_one_window_of_the_padded_plane(name):
    plan = TilePlan.for_model(PRESETS[name], tile=4096)
    for length in (300, 2048, 3000):
        padded = -(-length // plan.grid) * plan.grid
        (window,) = plan.layout(length)
        assert (window.start, window.size, window.keep0, window.keep1) == (0, padded, 0, length)
    assert plan.computed(2048) == 2048  # each pixel once: 1.89x less work than 256 px windows


def test_windows_are_the_fewest_of_one_size_that_cover_the_axis_with_the_overlap():
    plan = TilePlan.for_model(PRESETS["pix2pix"], tile=2560)  # overlap 64, grid 256
    windows = plan.layout(4096)
    assert [(w.start, w.size) for w in windows] == [(0, 2304), (1792, 2304)]
    assert (windows[0].fade1, windows[1].fade0) == (512, 512)  # the ramp spans all it shares
    assert all(w.size <= plan.tile and w.size % 256 == 0 for w in windows)


def test_exact_blocks_get_their_own_windows_so_no_core_is_computed_twice():
    plan = TilePlan.for_model(PRESETS["small"], tile=4096, block=4096)  # halo 64
    edges = plan.block_edges(10000)
    assert len(edges) == 3 and all(a % 32 == 0 for a, _ in edges)
    for e0, e1 in edges:
        windows = plan.windows(10000, e0, e1)
        assert sum(w.keep1 - w.keep0 for w in windows) == e1 - e0  # cores tile the block
        assert len(windows) == 1  # one window: the block and its halos
    assert plan.computed(10000) / 10000 < 1.03


def test_blended_results_do_not_depend_on_the_block_size():
    a = TilePlan.for_model(PRESETS["pix2pix"], tile=1024, block=4096)
    b = TilePlan.for_model(PRESETS["pix2pix"], tile=1024, block=1024)
    assert a.layout(5000) == b.layout(5000)


def test_a_tile_below_the_training_tile_gets_a_quarter_of_itself_as_overlap():
    # The default overlap is a quarter of the training tile, but never the whole window.
    assert TilePlan.for_model(PRESETS["medium"], tile=64) == TilePlan("blended", 64, 16, 64)
    assert TilePlan.for_model(PRESETS["pix2pix"], tile=512).overlap == 64


def test_too_small_an_overlap_falls_back_to_blending():
    assert TilePlan.for_model(PRESETS["small"], tile=256, overlap=64).mode == "blended"
    assert TilePlan.for_model(PRESETS["small"], tile=256, overlap=128).mode == "exact"


@pytest.mark.parametrize("length", [1, 31, 64, 300, 1000, 4099])
@pytest.mark.parametrize("mode_overlap", [128, 64])
def test_every_pixel_is_kept_once_exact_or_weighted_to_one(length, mode_overlap):
    plan = TilePlan.for_model(ModelConfig(num_downs=5, tile=64), tile=256, overlap=mode_overlap)
    weight = covered(plan, length)
    # Blended ramps span each whole shared stretch, so they too sum to one.
    np.testing.assert_allclose(weight, 1.0, atol=1e-6)


def test_exact_windows_keep_pixels_a_halo_away_from_inner_window_edges():
    plan = TilePlan.for_model(PRESETS["small"], tile=256, overlap=128)
    for w in plan.windows(1000):
        assert w.start % 32 == 0
        if w.start > 0:
            assert w.keep0 - w.start >= 64
        if w.start + w.size < 1024:
            assert w.start + w.size - w.keep1 >= 64


def test_blend_ramps_of_neighbours_sum_to_one():
    plan = TilePlan("blended", 256, 64, 32)
    a, b = plan.windows(1000)[:2]
    overlap = slice(b.start, a.start + a.size)
    wa = plan.weights(a)[overlap.start - a.start : overlap.stop - a.start]
    wb = plan.weights(b)[: overlap.stop - b.start]
    np.testing.assert_allclose(wa + wb, 1.0, atol=1e-6)


def test_bad_overlap_is_named():
    with pytest.raises(ValueError, match="overlap 300 px"):
        TilePlan.for_model(PRESETS["small"], tile=256, overlap=300)


def test_pad_to_multiple_reflects_bottom_right():
    plane = np.arange(12.0).reshape(3, 4)
    padded = pad_to_multiple(plane, 4)
    assert padded.shape == (4, 4)
    np.testing.assert_array_equal(padded[3], plane[1])


@pytest.mark.parametrize("tile", [0, -5, 10**6, 2.5, True])
def test_a_tile_outside_1_to_the_maximum_is_refused_not_clamped(tile):
    with pytest.raises(ValueError, match="tile must"):
        TilePlan.for_model(PRESETS["small"], tile=tile)
