"""Fixtures of the store tests: a small untrained model and a 3-plane stack."""

import numpy as np
import pytest

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig


@pytest.fixture
def m():
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    return Colorizer.from_config(cfg, seed=2, normalization=InputNormalization("minmax", 0, 255))


@pytest.fixture
def stack(rng):
    return rng.integers(0, 256, (3, 150, 140)).astype(np.uint8)
