import threading

import numpy as np

from napari_colorgan.core.events import RegionPreview
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.loop import train_iter
from napari_colorgan.core.train.preview import MAX_SIDE, colorize_crop


class Source:
    """A region source as the napari widget makes one: the latest crop, read elsewhere."""

    def __init__(self, crop):
        self.crop, self.threads = crop, []

    def latest(self):
        self.threads.append(threading.current_thread())
        return self.crop, ("plane", 3, (10, 20))


def test_each_validation_also_colorizes_the_latest_region():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (3, 64, 64)).astype(np.uint8)
    rgb = rng.integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    source = Source(gray[0, 5:45, 7:37])  # 40 x 30: not on the network's grid
    config = TrainConfig(tile=32, batch_size=2, steps=4, val_every=2, perceptual_weights="none")
    events = list(train_iter(gray, target=rgb, config=config, device="cpu", preview_region=source))
    previews = [e for e in events if isinstance(e, RegionPreview)]
    assert [p.step for p in previews] == [2, 4]
    assert previews[0].prediction.shape == (40, 30, 3) and previews[0].prediction.dtype == np.uint8
    assert previews[0].where == ("plane", 3, (10, 20))


def test_crops_are_capped_and_context_models_get_none():
    model = Colorizer.from_config(
        ModelConfig(num_downs=3, ngf=8, tile=32), normalization=InputNormalization("minmax", 0, 9)
    )
    big = np.zeros((MAX_SIDE + 40, 50), np.uint8)
    assert colorize_crop(model, big).shape == (MAX_SIDE, 50, 3)
    assert model.generator.training  # left as it was found (train mode, mid-run)
    context = Colorizer.from_config(ModelConfig(num_downs=3, ngf=8, tile=32, context=1))
    assert colorize_crop(context, big) is None
