"""A region's composition: the fast nearest-neighbour upsampling equals numpy's gather."""

import numpy as np
import pytest

from napari_colorgan._widgets._shown import Blank, Shown, upsampled


@pytest.mark.parametrize("channels", [3, 5])
def test_upsampled_equals_the_gather_of_every_pixel(rng, channels):
    tile = rng.integers(0, 256, (64, 48, channels)).astype(np.uint8)
    rows = np.sort(rng.integers(5, 40, 90))  # part of the tile, rows repeated
    cols = np.sort(rng.integers(0, 48, 70))
    assert np.array_equal(upsampled(tile, rows, cols), tile[np.ix_(rows, cols)])
    assert upsampled(tile, rows[:0], cols).shape == (0, 70, channels)


@pytest.mark.parametrize("see_through", [False, True])
def test_painted_pixels_are_the_tiles_and_opaque(rng, see_through):
    shown = Shown(None, (40, 50, 3 + see_through), frozenset(), see_through)
    tile = rng.integers(0, 256, (20, 30, 3)).astype(np.uint8)
    shown.paint((5, 25, 10, 40), tile)
    np.testing.assert_array_equal(shown.out[5:25, 10:40, :3], tile)
    rows, cols = np.arange(10) // 2, np.arange(8) // 2
    shown.paint_upsampled((30, 40, 0, 8), tile, rows, cols)
    np.testing.assert_array_equal(shown.out[30:40, 0:8, :3], tile[np.ix_(rows, cols)])
    if see_through:  # opaque where painted, transparent elsewhere
        assert (shown.out[5:25, 10:40, 3] == 255).all() and (shown.out[30:40, :8, 3] == 255).all()
        assert shown.out[0, 0, 3] == 0 and shown.out[..., 3].sum() == 255 * (600 + 80)


def test_a_part_is_converted_once_until_the_next_paint(rng):
    shown = Shown(None, (8, 8, 5), frozenset())
    calls = []

    def classes(out):
        calls.append(1)
        return out[..., 3].copy()

    first = shown.as_part("classes", classes)
    assert shown.as_part("classes", classes) is first and len(calls) == 1  # a refresh: kept
    shown.paint((0, 4, 0, 4), rng.integers(0, 256, (4, 4, 5)).astype(np.uint8))
    again = Shown(None, (8, 8, 5), frozenset())
    again.convert_parts(shown)  # a composition replacing it converts what was read of it
    assert len(calls) == 2 and "classes" in again.parts
    assert shown.as_part("classes", classes) is not first and len(calls) == 3  # painted since
    # The worker painted and converts next: napari's read meanwhile takes what was converted.
    kept = shown.as_part("classes", classes)
    shown.paint((4, 8, 4, 8), rng.integers(0, 256, (4, 4, 5)).astype(np.uint8))
    shown.converting = True
    assert shown.as_part("classes", classes) is kept and len(calls) == 3
    shown.convert_parts()
    assert not shown.converting and len(calls) == 4
    np.testing.assert_array_equal(shown.as_part("classes", classes), shown.out[..., 3])


def test_unpainted_see_through_regions_share_one_read_only_blank(rng):
    # A new view's own 2048² RGBA buffer cost napari's thread up to 27 ms: until painted on,
    # views show one shared transparent buffer.
    blank = Blank()
    first = Shown(None, (40, 50, 4), frozenset(), True, blank)
    second = Shown(None, (30, 60, 4), frozenset(), True, blank)
    assert first.blank and np.shares_memory(first.out, second.out)
    assert not first.out.any() and first.out.flags.c_contiguous
    with pytest.raises(ValueError):
        first.out[0, 0, 0] = 1
    first.paint((0, 10, 0, 10), rng.integers(0, 256, (10, 10, 3)).astype(np.uint8))
    assert not first.blank and not np.shares_memory(first.out, second.out)
    assert (first.out[:10, :10, 3] == 255).all() and not second.out.any()
    blank.reserve(1 << 20)  # the worker maps zeros for views up to 1 MB: shared, not grown
    large, small = (
        Shown(None, s, frozenset(), True, blank).out for s in ((512, 512, 4), (8, 8, 4))
    )
    assert np.shares_memory(large, small) and not large.any()
    # A class model's: its class map (as label ids), confidence and colour are zeros too.
    classes = Shown(None, (8, 8, 6), frozenset(), True, blank)
    assert classes.blank and (classes.pixels()[..., 3] == 255).all()
    ids = classes.as_part("classes", lambda out: np.take(np.zeros(256, np.uint16), out[..., 3]))
    assert ids.shape == (8, 8) and ids.dtype == np.uint16 and not ids.any()
    assert np.shares_memory(ids, large)
    classes.paint((0, 2, 0, 2), rng.integers(0, 256, (2, 2, 5)).astype(np.uint8))
    assert not classes.blank and (classes.out[2:, :, 3] == 255).all()
    assert (classes.out[:2, :2, 5] == 255).all() and not classes.out[2:, :, 5].any()
