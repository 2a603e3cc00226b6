"""Exporting a colour layer's tiles: a region or everything, the pixels it shows, resumable."""

import threading

import numpy as np
import pytest
import zarr

from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.ome import rgb_layer
from napari_colorgan.core.infer.tile_export import export_tiles_iter
from napari_colorgan.core.infer.tiles import TileCache, TileKey, TileSource
from napari_colorgan.core.infer.zarr_store import ZarrTarget
from napari_colorgan.core.io.axes import Axis
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

CPU = ColorizeConfig(device="cpu", precision="fp32")
AXES = (Axis("z", "space", 2.0, "nanometer"), Axis("y", "space", 4.0, "nanometer"),
        Axis("x", "space", 4.0, "nanometer"))  # fmt: skip


@pytest.fixture(scope="module")
def source():
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=5, normalization=InputNormalization("minmax", 0, 255))
    m.generator.eval()
    gray = np.random.default_rng(1).integers(0, 256, (2, 1100, 1300)).astype(np.uint8)
    return TileSource([gray], m, CPU)


def run(events):
    return list(events)


def test_a_region_holds_the_pixels_the_view_showed_and_lies_where_it_was_cut(source, tmp_path):
    cache = TileCache()
    seen = TileKey(0, (1,), 1, 1)
    cache.put(seen, source.compute(seen))  # a tile the view computed
    region = (300, 900, 450, 1100)
    target = ZarrTarget(tmp_path / "region.ome.zarr", axes=AXES)
    run(export_tiles_iter(source, target, region, cache))
    data, kwargs = rgb_layer(target.path)
    level0 = np.asarray(data[0] if kwargs["multiscale"] else data)
    assert level0.shape == (2, 600, 650, 3)
    for plane in (0, 1):
        np.testing.assert_array_equal(level0[plane], source.assemble(0, (plane,), region, cache))
    y0, y1, x0, x1 = source.region(seen)
    a, b, c, d = max(y0, 300), min(y1, 900), max(x0, 450), min(x1, 1100)
    shown = cache.get(seen)[a - y0 : b - y0, c - x0 : d - x0]  # the seen tile, inside
    np.testing.assert_array_equal(level0[1, a - 300 : b - 300, c - 450 : d - 450], shown)
    assert kwargs["translate"] == [0.0, 300 * 4.0, 450 * 4.0] and kwargs["scale"][1] == 4.0
    whole = colorize(source.levels[0], source.model, CPU).compute()
    assert np.abs(level0.astype(int) - whole[:, 300:900, 450:1100]).max() <= 1


def test_everything_exported_equals_colorize_and_a_stopped_export_resumes(source, tmp_path):
    target = ZarrTarget(tmp_path / "all.ome.zarr", axes=AXES)
    stop, seen = threading.Event(), []
    for event in export_tiles_iter(source, target, None, None, stop):
        seen.append(event)
        if type(event).__name__ == "Progress" and event.done == 3:
            stop.set()
    assert seen[-1].stopped
    events = run(export_tiles_iter(source, target))
    assert events[1].skipped == 3 and events[-1].result == target.path
    data, kwargs = rgb_layer(target.path)
    level0 = np.asarray(data[0])
    assert "translate" not in kwargs and len(data) > 1  # whole: no shift, a pyramid
    whole = colorize(source.levels[0], source.model, CPU).compute()
    assert np.abs(level0.astype(int) - whole).max() <= 1
    assert run(export_tiles_iter(source, target))[1].skipped == events[1].total  # finished


def test_a_region_outside_the_plane_is_named(source, tmp_path):
    with pytest.raises(ValueError, match="leaves the 1100x1300 px plane"):
        run(export_tiles_iter(source, ZarrTarget(tmp_path / "x.zarr"), (0, 2000, 0, 10)))
    assert not (tmp_path / "x.zarr").exists()


def test_another_region_at_the_same_path_is_not_resumed_into(source, tmp_path):
    target = ZarrTarget(tmp_path / "r.ome.zarr", axes=AXES, if_exists="fail")
    run(export_tiles_iter(source, target, (0, 64, 0, 64)))
    with pytest.raises(ValueError, match="holds another result .other region"):
        run(export_tiles_iter(source, target, (64, 128, 0, 64)))
    assert zarr.open_group(str(target.path), mode="r")["0"].shape[-2:] == (64, 64)


def test_finer_than_the_models_pixels_the_export_is_the_exact_levels_colour(source, tmp_path):
    from napari_colorgan.core.infer.tiles import lazy_pyramid

    levels = lazy_pyramid(source.levels[0][:1, :600, :700], smallest=256)
    pyramid = TileSource(levels, source.model, CPU)
    pyramid.exact = 1  # the model was trained at level 1's pixel size
    view = TileCache()
    region = (100, 500, 120, 600)
    shown = pyramid.assemble(0, (0,), region, view)  # what a view shows at level 0
    h, w = levels[0].shape[-2:]
    he, we = levels[1].shape[-2:]
    iy, ix = np.arange(100, 500) * he // h, np.arange(120, 600) * we // w
    coarse = pyramid.assemble(1, (0,), (0, he, 0, we), view)
    np.testing.assert_array_equal(shown, coarse[iy][:, ix])  # level 1 upsampled, nearest
    target = ZarrTarget(tmp_path / "exact.ome.zarr", axes=AXES)
    run(export_tiles_iter(pyramid, target, region))  # no cache: computed anew, the same
    data, kwargs = rgb_layer(target.path)
    exported = np.asarray(data[0] if kwargs["multiscale"] else data)
    np.testing.assert_array_equal(exported[0], shown)
