"""Tiles of any level, computed on demand, equal to colorize(), cached within a bound."""

import threading

import numpy as np
import pytest

from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.tiles import (
    TileCache,
    TileKey,
    TileQueue,
    TileSource,
    compute_queued,
)
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

CPU = ColorizeConfig(device="cpu", precision="fp32", tile=128)


def model(context=0):
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False, context=context)
    m = Colorizer.from_config(cfg, seed=3, normalization=InputNormalization("minmax", 0, 255))
    m.generator.eval()
    return m


class Reads:
    """An array that records the regions read from it."""

    def __init__(self, data):
        self.data, self.shape, self.dtype, self.ndim = data, data.shape, data.dtype, data.ndim
        self.regions = []

    def __getitem__(self, key):
        self.regions.append(key)
        return self.data[key]


def stitch(source, shape, plane=()):
    rows, cols = source.counts(0)
    out = np.zeros((shape[-2], shape[-1], 3), np.uint8)
    for r in range(rows):
        for c in range(cols):
            y0, y1, x0, x1 = source.region(TileKey(0, plane, r, c))
            out[y0:y1, x0:x1] = source.compute(TileKey(0, plane, r, c))
    return out


def test_level0_tiles_equal_colorize(rng):
    stack = rng.integers(0, 256, (2, 300, 350)).astype(np.uint8)
    m = model()
    source = TileSource([stack], m, ColorizeConfig(device="cpu", precision="fp32"), 96)
    assert source.counts(0) == (4, 4) and source.plan(0).tiling.mode == "exact"
    whole = colorize(stack, m, CPU).compute()
    for z in range(2):
        assert np.abs(stitch(source, stack.shape, (z,)).astype(int) - whole[z]).max() <= 1


def test_context_tiles_read_their_neighbours(rng):
    stack = rng.integers(0, 256, (3, 160, 160)).astype(np.uint8)
    m = model(context=1)
    source = TileSource([stack], m, CPU, 64)
    whole = colorize(stack, m, CPU).compute()
    assert np.abs(stitch(source, stack.shape, (0,)).astype(int) - whole[0]).max() <= 1


def test_a_tile_reads_only_itself_and_its_halo(rng):
    data = Reads(rng.integers(0, 256, (1, 2048, 2048)).astype(np.uint8))
    source = TileSource([data], model(), ColorizeConfig(device="cpu"), 256)
    assert source.region(TileKey(0, (0,), 3, 4)) == (768, 1024, 1024, 1280)
    source.compute(TileKey(0, (0,), 3, 4))
    ((_, ys, xs),) = data.regions
    halo = 32  # num_downs 4: receptive field 62 px
    assert ys.start >= 3 * 256 - 2 * halo and ys.stop <= 4 * 256 + 2 * halo
    assert xs.start >= 4 * 256 - 2 * halo and xs.stop <= 5 * 256 + 2 * halo


def test_any_level_has_its_own_plan(rng):
    full = rng.integers(0, 256, (1, 400, 400)).astype(np.uint8)
    half = full[:, ::2, ::2]
    source = TileSource([full, half], model(), CPU, 128)
    assert source.plan(1).height == 200 and source.plan(0).height == 400
    assert source.compute(TileKey(1, (0,), 1, 1)).shape == (88, 88, 3)  # 200 px: 112 + 88


def test_tiles_cover_a_view_and_split_a_level_evenly(rng):
    source = TileSource([np.zeros((250, 310), np.uint8)], model(), CPU, 100)
    assert source.counts(0) == (3, 3)  # even splits on the 16 px grid: 96 and 112 px
    assert source.region(TileKey(0, (), 2, 2)) == (192, 250, 224, 310)
    assert source.covering(0, (-20, 120), (150, 160)) == [(0, 1), (1, 1)]


def test_the_cache_stays_within_its_limit_least_recently_used_first():
    tile = np.zeros((10, 10, 3), np.uint8)  # 300 bytes
    cache = TileCache(limit=1000)
    for i in range(3):
        cache.put(TileKey(0, (), 0, i), tile)
    cache.get(TileKey(0, (), 0, 0))  # used: kept
    cache.put(TileKey(0, (), 0, 3), tile)
    assert cache.nbytes <= 1000 and len(cache) == 3 and cache.evicted == 1
    assert TileKey(0, (), 0, 1) not in cache and TileKey(0, (), 0, 0) in cache


def test_the_newest_view_comes_first_centre_first_and_stale_tiles_are_dropped():
    grid = TileSource([np.zeros((2, 500, 500), np.uint8)], model(), CPU, 100)
    queue = TileQueue()
    first = [TileKey(0, (0,), r, c) for r in range(3) for c in range(3)]
    queue.want(first, (150, 150), grid)
    assert queue.pop()[0] == TileKey(0, (0,), 1, 1)  # the centre tile
    panned = [TileKey(0, (0,), r, c) for r in range(2, 5) for c in range(2, 5)]
    ahead = [TileKey(0, (1,), 3, 3)]
    queue.want(panned, (350, 350), grid, prefetch=ahead, skip={TileKey(0, (0,), 2, 2)})
    order = queue.pending()
    assert order[0] == TileKey(0, (0,), 3, 3) and order[-1] == ahead[0]
    assert TileKey(0, (0,), 2, 2) not in order  # cached already
    assert queue.dropped == 7  # the first view's pending tiles that left it ((2, 2) is cached)


def test_added_tiles_wait_behind_the_view_and_drop_nothing():
    source = TileSource([np.zeros((2, 500, 500), np.uint8)], model(), CPU, 100)
    queue = TileQueue()
    view = [TileKey(0, (0,), 1, 1), TileKey(0, (0,), 1, 2)]
    queue.want(view, (150, 150), source)
    queue.add([TileKey(1, (0,), 0, 0), view[0]], skip=())
    assert queue.pending() == [*view, TileKey(1, (0,), 0, 0)] and queue.dropped == 0


def test_closing_the_queue_wakes_a_waiting_worker():
    queue, got = TileQueue(), []
    worker = threading.Thread(target=lambda: got.append(queue.pop()))
    worker.start()
    queue.close()
    worker.join(timeout=5)
    assert not worker.is_alive() and got == [[]]


def test_a_worker_computes_only_what_the_view_asks_for_and_ends_when_closed(rng):
    stack = rng.integers(0, 256, (2, 512, 512)).astype(np.uint8)
    source, cache, queue = TileSource([stack], model(), CPU, 128), TileCache(), TileQueue()
    computed, done = [], threading.Event()

    def work():
        for keys in compute_queued(source, cache, queue, most=2):
            computed.extend(keys)
            if len(computed) >= 4:
                done.set()

    worker = threading.Thread(target=work)
    worker.start()
    view = [TileKey(0, (1,), r, c) for r, c in source.covering(0, (130, 380), (130, 380))]
    queue.want(view, (255, 255), source)
    assert done.wait(60)
    queue.close()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert sorted(computed) == sorted(view) and len(cache) == 4  # 2 x 2 tiles, nothing else
    whole = colorize(stack, source.model, CPU).compute()
    y0, y1, x0, x1 = source.region(view[0])
    assert np.abs(cache.get(view[0]).astype(int) - whole[1, y0:y1, x0:x1]).max() <= 1


def test_a_closed_cache_keeps_nothing_more():
    cache = TileCache(1 << 20)
    cache.put(TileKey(0, (), 0, 0), np.zeros((4, 4, 3), np.uint8))
    cache.close()
    cache.put(TileKey(0, (), 0, 1), np.zeros((4, 4, 3), np.uint8))  # a tile in flight
    assert len(cache) == 0 and cache.nbytes == 0


def test_a_single_scale_input_gets_strided_levels_down_to_the_smallest(tmp_path):
    import dask.array as da
    import zarr

    from napari_colorgan.core.infer.tiles import lazy_pyramid

    full = np.arange(3 * 3000 * 2100, dtype=np.uint32).reshape(3, 3000, 2100) % 251
    levels = lazy_pyramid(full)
    assert [lv.shape for lv in levels] == [(3, 3000, 2100), (3, 1500, 1050), (3, 750, 525)]
    np.testing.assert_array_equal(levels[2][1, 10:20], full[1, 40:80:4, ::4])
    assert levels[1].base is full or levels[1].base is full.base  # numpy: views, no copy
    stored = zarr.create_array(
        tmp_path / "a.zarr", shape=full.shape, chunks=(1, 512, 512), dtype="u4"
    )
    stored[...] = full
    lazy = lazy_pyramid(stored)
    assert all(isinstance(lv, da.Array) for lv in lazy) and len(lazy) == 3
    assert lazy_pyramid(full[:, :1000, :1000])[0].shape == (3, 1000, 1000)  # small: one level


def test_tiles_dropped_from_memory_spill_to_disk_and_come_back(tmp_path):
    from napari_colorgan.core.infer.tile_spill import SpillStore

    spill = SpillStore(tmp_path)
    cache = TileCache(2 * 48, spill)  # two 4x4x3 tiles in memory
    tiles = {TileKey(0, (1,), 0, c): np.full((4, 4, 3), c, np.uint8) for c in range(5)}
    for key, tile in tiles.items():
        cache.put(key, tile)
    assert len(cache) == 2 and len(spill) == 3 and cache.evicted == 3
    assert all(key in cache for key in tiles)  # in memory or on disk: never computed again
    np.testing.assert_array_equal(cache.get(TileKey(0, (1,), 0, 0)), tiles[TileKey(0, (1,), 0, 0)])
    assert cache.nbytes <= cache.limit
    folder = spill.path
    assert (folder / "tiles.zarr" / "level0" / "plane1" / "r0c0" / "zarr.json").exists()
    cache.close()
    assert not folder.exists() and TileKey(0, (1,), 0, 1) not in cache


def test_a_spill_folder_that_does_not_exist_is_named(tmp_path):
    from napari_colorgan.core.infer.tile_spill import SpillStore

    with pytest.raises(ValueError, match="spill folder .* does not exist"):
        SpillStore(tmp_path / "nope")
