import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import ModelConfig
from napari_colorgan.core.model.file import FORMAT_NAME, read_metadata


def test_save_load_round_trip_keeps_weights_and_settings(tiny_colorizer, tmp_path):
    tiny_colorizer.training = {"steps": 5, "gamma": 0.9}
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    loaded = Colorizer.load(path)
    assert loaded.config == tiny_colorizer.config
    assert loaded.normalization == tiny_colorizer.normalization
    assert loaded.training == {"steps": 5, "gamma": 0.9}
    assert loaded.provenance.package_version
    for key, value in tiny_colorizer.generator.state_dict().items():
        assert torch.equal(loaded.generator.state_dict()[key], value)
    assert not loaded.generator.training  # ready for inference


def test_loaded_model_computes_the_same_colours(tiny_colorizer, tmp_path, rng):
    plane = rng.integers(0, 256, (40, 50)).astype(np.uint8)
    loaded = Colorizer.load(tiny_colorizer.save(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(
        tiny_colorizer.colorize_plane(plane), loaded.colorize_plane(plane)
    )


def test_metadata_is_plain_json_in_the_safetensors_header(tiny_colorizer, tmp_path):
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    meta = read_metadata(path)
    assert meta["format"] == FORMAT_NAME
    assert meta["model"]["num_downs"] == 4
    assert meta["normalization"]["method"] == "minmax"
    with open(path, "rb") as fh:
        header_len = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(header_len))
    assert header["__metadata__"]["format"] == FORMAT_NAME


def test_save_is_atomic_and_leaves_no_temp_files(tiny_colorizer, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    tiny_colorizer.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        tiny_colorizer.save(path)
    assert path.read_bytes() == before  # the earlier file survives
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_colorize_plane_gives_uint8_rgb_of_the_input_size(tiny_colorizer, rng):
    out = tiny_colorizer.colorize_plane(rng.random((37, 21)) * 255)
    assert out.shape == (37, 21, 3) and out.dtype == np.uint8


def test_lab_model_keeps_the_input_lightness(tiny_colorizer):
    torch.nn.init.zeros_(tiny_colorizer.generator.up[0][1].weight)
    torch.nn.init.zeros_(tiny_colorizer.generator.up[0][1].bias)  # predicts a = b = 0
    plane = np.tile(np.linspace(0, 255, 32), (16, 1))
    out = tiny_colorizer.colorize_plane(plane)
    assert np.abs(out[..., 0].astype(int) - out[..., 2]).max() <= 1  # gray: R = G = B
    assert out[0, 0, 0] == 0 and out[0, -1, 0] == 255


# ---- every way a model file can be bad ------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        Colorizer.load(tmp_path / "nope.safetensors")


def test_truncated_file(tiny_colorizer, tmp_path):
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        Colorizer.load(path)


def test_garbage_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        Colorizer.load(path)


def test_empty_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable"):
        Colorizer.load(path)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a napari-colorgan model"):
        Colorizer.load(path)


def test_pickle_checkpoint_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="load_pix2pix_generator"):
        Colorizer.load(path)


def rewrite_metadata(tiny_colorizer, path, **changes):
    meta = {"format": FORMAT_NAME, "format_version": "1"}
    meta.update({k: json.dumps(v) for k, v in tiny_colorizer.metadata().items()})
    meta.update(changes)
    save_file(dict(tiny_colorizer.generator.state_dict()), str(path), metadata=meta)


def test_newer_format_asks_for_an_upgrade(tiny_colorizer, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(tiny_colorizer, path, format_version="99")
    with pytest.raises(ValueError, match="newer napari-colorgan.*upgrade"):
        Colorizer.load(path)


def test_bad_json_metadata(tiny_colorizer, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(tiny_colorizer, path, model="{not json")
    with pytest.raises(ValueError, match="'model' is not valid JSON"):
        Colorizer.load(path)


def test_unknown_architecture_setting(tiny_colorizer, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(tiny_colorizer, path, model=json.dumps({"num_downs": 4, "wings": 2}))
    with pytest.raises(ValueError, match="incompatible model settings.*wings"):
        Colorizer.load(path)


def test_weights_that_do_not_fit_the_recorded_architecture(tiny_colorizer, tmp_path):
    path = tmp_path / "m.safetensors"
    bigger = ModelConfig(num_downs=4, ngf=16, tile=64).to_dict()
    rewrite_metadata(tiny_colorizer, path, model=json.dumps(bigger))
    with pytest.raises(ValueError, match="do not match the architecture"):
        Colorizer.load(path)


@pytest.mark.parametrize(
    ("normalization", "message"),
    [
        ({"method": "minmax", "low": 7.0, "high": 7.0, "softening": 1.0}, "low 7.0 must be below"),
        ({"method": "zscore", "low": 0.0, "high": 1.0, "softening": 1.0}, "unknown normal"),
    ],
)
def test_a_saturating_normalization_in_the_file_is_refused_naming_it(
    tiny_colorizer, tmp_path, normalization, message
):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(tiny_colorizer, path, normalization=json.dumps(normalization))
    with pytest.raises(ValueError, match=f"m.safetensors: .*{message}"):
        Colorizer.load(path)


def test_nan_weights_are_refused_at_load_naming_the_file(tiny_colorizer, tmp_path):
    with torch.no_grad():
        next(tiny_colorizer.generator.parameters()).view(-1)[3] = float("nan")
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="m.safetensors: the weights hold NaN/Inf"):
        Colorizer.load(path)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"chroma_gain": 1.7},
        {"color_space": "rgb"},
        {"classes": ((1, 200, 30, 30), (2, 20, 200, 60)), "context": 1},
    ],
)
def test_raw_to_rgb8_is_raw_to_rgb_then_uint8_within_a_level(settings):
    from napari_colorgan.core.color import to_uint8

    cfg = ModelConfig(num_downs=3, ngf=4, tile=32, **settings)
    m = Colorizer.from_config(cfg, seed=0)
    m.generator.eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1 + 2 * cfg.context, 40, 24, generator=gen)
    raw = (torch.rand(2, cfg.out_channels, 40, 24, generator=gen) * 2 - 1).bfloat16()
    got = m.raw_to_rgb8(raw, x).numpy()
    want = to_uint8(m.raw_to_rgb(raw.float(), x).permute(0, 2, 3, 1).numpy())
    assert got.shape == (2, 40, 24, 3) and np.abs(got.astype(int) - want).max() <= 1
