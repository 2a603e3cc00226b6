from types import SimpleNamespace

import numpy as np
import pytest
import torch

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import ModelConfig
from napari_colorgan.core.train import calibrate
from napari_colorgan.core.train.calibrate import fit_chroma_gain
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.loop import train


def _model(**overrides) -> Colorizer:
    config = ModelConfig(num_downs=3, ngf=8, ndf=8, tile=32, **overrides)
    model = Colorizer.from_config(config, seed=0)
    model.generator.eval()
    return model


def _tiles_saturated_by(model: Colorizer, factor: float) -> list[tuple]:
    """Tiles whose targets are the model's own prediction, ``factor`` times as saturated."""
    rng = np.random.default_rng(0)
    x = rng.random((6, 1, 32, 32)).astype(np.float32)
    model.set_chroma_gain(factor)
    with torch.no_grad():
        target = model.forward_rgb(torch.from_numpy(x)).numpy()  # (6, 3, 32, 32)
    model.set_chroma_gain(1.0)
    return [(x[i], target[i], None, None) for i in range(len(x))]


@pytest.mark.parametrize("space", ["lab", "rgb"])
def test_the_gain_makes_predictions_as_colourful_as_their_targets(space):
    model = _model(color_space=space)
    gain = fit_chroma_gain(model, _tiles_saturated_by(model, 2.0))
    assert gain == pytest.approx(2.0, rel=0.05)
    assert model.config.chroma_gain == gain


def test_colourfulness_is_not_bought_with_more_than_a_tenth_of_a_db(monkeypatch):
    # Predictions grey + g·c; targets grey + 1.5·c + noise the model cannot know. Matching the
    # targets' colourfulness asks for g = 3; the squared error is least at 1.5 and stays within
    # 0.1 dB of it up to 1.5 + 0.35 here: the factor stops at the last grid step inside, 1.833.
    rng = np.random.default_rng(0)
    c = rng.normal(0, 0.1, (4, 8, 8, 3))
    noise = rng.normal(0, 1.0, c.shape)
    noise *= np.sqrt(0.35**2 * np.mean(c**2) / (np.mean(noise**2) * (10**0.01 - 1)))
    target = 0.5 + 1.5 * c + noise
    fake = SimpleNamespace(gain=1.0)
    fake.set_chroma_gain = lambda g: setattr(fake, "gain", g)
    monkeypatch.setattr(calibrate, "_rgb", lambda model, outputs: 0.5 + model.gain * c)
    known = np.ones(c.shape[:-1], bool)
    assert calibrate._within_psnr(fake, [], target, known, 3.0) == pytest.approx(1 + 5 / 6)
    exact = 0.5 + 1.5 * c  # no noise: exactly the least error
    assert calibrate._within_psnr(fake, [], exact, known, 3.0) == pytest.approx(1.5)


def test_a_class_model_keeps_its_exact_tints():
    model = _model(classes=((1, 255, 0, 0), (2, 0, 0, 255)))
    rng = np.random.default_rng(0)
    tiles = [(rng.random((1, 32, 32), np.float32), rng.random((3, 32, 32)), None, None)]
    assert fit_chroma_gain(model, tiles) == 1.0 and model.config.chroma_gain == 1.0


def test_chroma_gain_is_checked():
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="chroma_gain"):
            ModelConfig(chroma_gain=bad)
    with pytest.raises(ValueError, match="class model"):
        ModelConfig(classes=((1, 255, 0, 0),), chroma_gain=2.0)


@pytest.mark.parametrize("calibrate", [True, False])
def test_training_a_colour_model_calibrates_it_and_the_file_keeps_the_gain(calibrate, tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.random((3, 64, 64)).astype(np.float32)
    rgb = rng.integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    config = TrainConfig(
        tile=32, batch_size=2, steps=3, perceptual_weights="none", calibrate=calibrate
    )
    model = train(gray, target=rgb, config=config, device="cpu")
    assert (model.config.chroma_gain != 1.0) is calibrate
    path = model.save(tmp_path / "m.safetensors")
    assert Colorizer.load(path).config.chroma_gain == model.config.chroma_gain
