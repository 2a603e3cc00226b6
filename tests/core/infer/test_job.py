"""``prepare``: settings and inputs are checked before any model is loaded or pixel computed."""

import numpy as np
import pytest

from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.job import prepare


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": -3}, "batch_size must lie between 1 and"),
        ({"batch_size": 0}, "batch_size must lie between 1 and"),
        ({"batch_size": 10**7}, "batch_size must lie between 1 and"),
        ({"batch_size": "many"}, "batch_size must be a whole number"),
        ({"tile": 0}, "tile must lie between 1 and"),
        ({"tile": -64}, "tile must lie between 1 and"),
        ({"device": "gpu"}, "unknown device 'gpu'"),
    ],
)
def test_bad_settings_are_refused_up_front(tiny_colorizer, options, message):
    with pytest.raises(ValueError, match=message):
        prepare(np.zeros((2, 64, 64), np.uint8), tiny_colorizer, ColorizeConfig(**options))


def test_a_bad_setting_is_named_before_the_model_file_is_read(tmp_path):
    missing = tmp_path / "never-read.safetensors"
    with pytest.raises(ValueError, match="batch_size"):
        prepare(np.zeros((64, 64)), missing, ColorizeConfig(batch_size=0))
