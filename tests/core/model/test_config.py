import json

import pytest

from napari_colorgan.core.model.config import InputNormalization, ModelConfig, Provenance, preset


def test_model_config_round_trips_through_json():
    config = preset("small", color_space="rgb", context=1)
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert (config.in_channels, config.out_channels) == (3, 3)


def test_other_dataclasses_round_trip():
    norm = InputNormalization("asinh", 1.0, 5.0, 0.5)
    assert InputNormalization.from_dict(json.loads(json.dumps(norm.to_dict()))) == norm
    prov = Provenance(package_version="1", extra={"a": 1})
    assert Provenance.from_dict(prov.to_dict()) == prov


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        preset("small").ngf = 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"color_space": "hsv"}, "color_space"),
        ({"norm": "layer"}, "norm"),
        ({"num_downs": 1}, "num_downs"),
        ({"context": -1}, "context"),
        ({"num_downs": 5, "tile": 100}, "multiple of 2\\*\\*num_downs = 32"),
    ],
)
def test_invalid_model_configs_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


def test_unknown_keys_and_presets_are_named():
    with pytest.raises(ValueError, match="unknown settings \\['colour'\\]"):
        ModelConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        preset("huge")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "zscore"}, "unknown normalisation 'zscore'"),
        ({"method": "minmax", "low": 5.0, "high": 5.0}, "low 5.0 must be below high 5.0"),
        ({"method": "percentile", "low": 9.0, "high": 1.0}, "low 9.0 must be below high"),
        ({"method": "minmax", "low": float("nan")}, "finite"),
        ({"method": "asinh", "high": 0.0}, "asinh.*high"),
        ({"method": "asinh", "softening": 0.0}, "softening"),
        ({"method": "asinh", "softening": float("inf")}, "finite"),
    ],
)
def test_an_input_normalization_that_would_saturate_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InputNormalization(**kwargs)


def test_none_ignores_low_and_high_and_asinh_compares_high_with_zero():
    InputNormalization("none", 3.0, 3.0)
    InputNormalization("asinh", 100.0, 5.0, 2.0)  # low is a data value, high a stretched one


@pytest.mark.parametrize("tile", [0, 16, -32])
def test_a_tile_below_one_grid_step_is_refused(tile):
    with pytest.raises(ValueError, match="tile"):
        ModelConfig(num_downs=5, tile=tile)
