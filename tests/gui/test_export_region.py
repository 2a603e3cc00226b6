"""What Export takes: the colour layer's own tiles only when they are this model's."""

import numpy as np

from napari_colorgan._widgets._export_region import export_events
from napari_colorgan._widgets._tiled import TiledColour
from napari_colorgan.core.infer.ome import rgb_layer
from napari_colorgan.core.infer.tiles import TileKey, TileSource
from napari_colorgan.core.infer.zarr_store import ZarrTarget
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig
from tests.gui.test_tiled import CPU


def model(seed):
    cfg = ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=seed, normalization=InputNormalization("minmax", 0, 255))
    m.generator.eval()
    return m


def exported(levels, tmp_path, load, tiles):
    target = ZarrTarget(tmp_path / f"out{len(list(tmp_path.iterdir()))}.ome.zarr")
    list(export_events(levels, target, (0, 100, 0, 100), load, CPU, tiles))
    data, _ = rgb_layer(target.path)
    return np.asarray(data[0] if isinstance(data, list) else data)


def test_a_layer_of_another_model_is_not_exported_instead(tmp_path, rng):
    levels = [rng.integers(0, 256, (1, 256, 256)).astype(np.uint8)]
    a, b = model(1), model(2)
    tiled = TiledColour(levels, lambda: a, CPU)
    tiled.ready_source()
    key = TileKey(0, (0,), 0, 0)
    seen = np.full_like(tiled.source.compute(key), 7)  # stands for what the layer showed
    tiled.cache.put(key, seen)
    assert (exported(levels, tmp_path, lambda: a, tiled)[0] == 7).all()  # the layer's tiles
    theirs = TileSource(levels, b, CPU).assemble(0, (0,), (0, 100, 0, 100))
    np.testing.assert_array_equal(exported(levels, tmp_path, lambda: b, tiled)[0], theirs)
