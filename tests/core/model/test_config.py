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
