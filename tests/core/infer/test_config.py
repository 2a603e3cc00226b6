"""``ColorizeConfig``: one home of the colorize settings, checked when made."""

import json

import pytest

from napari_colorgan.core.infer.config import ColorizeConfig


def test_round_trips_through_json():
    config = ColorizeConfig(tile=512, overlap=64, batch_size=2, slices="0:20", parallel=3)
    again = ColorizeConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def test_defaults_and_choices_are_read_from_it():
    assert ColorizeConfig.default("precision") == "auto"
    assert ColorizeConfig.choices("precision") == ("auto", "fp32", "bf16", "fp16")
    assert "cuda:0" in ColorizeConfig.choices("device")


def test_a_slice_becomes_the_text_a_person_types():
    assert ColorizeConfig.create(slices=slice(2, 5)).slices == "2:5"
    assert ColorizeConfig.create(slices=slice(None, 5)).selection == slice(None, 5)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tile": 0}, "tile must lie between 1 and"),
        ({"overlap": -1}, "overlap must be >= 0"),
        ({"batch_size": "many"}, "batch_size must be a whole number"),
        ({"precision": "fp8"}, "precision must be one of"),
        ({"slices": "a:b"}, "expected a:b"),
        ({"block_size": 0}, "block_size must lie between"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        ColorizeConfig(**settings)


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match="unknown settings \\['tiles'\\]"):
        ColorizeConfig.from_dict({"tiles": 3})


def test_unknown_keywords_are_named_and_the_old_store_flags_are_explained():
    with pytest.raises(ValueError, match="unknown colorize settings \\['tiel'\\]"):
        ColorizeConfig.create(tiel=3)
    with pytest.raises(ValueError, match="if_exists='overwrite'"):
        ColorizeConfig.create(overwrite=True)
