import numpy as np
import pytest
import torch

from napari_colorgan.core.color import lab_to_rgb
from napari_colorgan.core.model.config import InputNormalization
from napari_colorgan.core.model.normalize import fit_normalization
from napari_colorgan.core.synthetic import hubble_deep_field
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.lightness import fit_to_lightness, lightness_error, paired_sample
from napari_colorgan.core.train.run import fit_input_normalization


def grey_rgb(lightness01: np.ndarray) -> np.ndarray:
    """uint8 RGB greys (..., 3) of the given CIE lightness / 100."""
    lab = torch.from_numpy(np.stack([100 * lightness01, 0 * lightness01, 0 * lightness01], -1))
    return np.round(255 * lab_to_rgb(lab.float(), dim=-1).numpy()).astype(np.uint8)


def test_an_rgb_images_own_lightness_is_fitted_not_clipped():
    # The Hubble Deep Field's lightness as input: the percentile stretch clipped its stars.
    gray, rgb = hubble_deep_field()
    gray, rgb = gray[:300, :300], rgb[:300, :300]
    plain = fit_normalization(gray)
    norm = fit_input_normalization(gray, rgb, None, TrainConfig())
    values, lightness = paired_sample(gray, rgb)
    assert norm.method == plain.method == "percentile"
    assert norm.low == pytest.approx(0, abs=1) and norm.high == pytest.approx(255, abs=2)
    assert (
        lightness_error(values, lightness, norm) < 0.3 < lightness_error(values, lightness, plain)
    )


def test_a_target_with_its_own_tone_curve_keeps_the_input_stretch():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    rgb = grey_rgb((gray / 255.0) ** 3)  # far from linear: an RGB model's job
    config = TrainConfig()
    assert fit_input_normalization(gray, rgb, None, config) == fit_normalization(gray)
    fixed = TrainConfig(normalize="minmax")  # the user's choice stands
    hubble, colour = hubble_deep_field()
    assert fit_input_normalization(hubble, colour, None, fixed) == fit_normalization(
        hubble, "minmax"
    )


def test_asinh_keeps_its_knee_and_refits_its_scale():
    rng = np.random.default_rng(1)
    counts = rng.exponential(0.05, 5000) + rng.normal(0, 0.01, 5000)
    norm = InputNormalization("asinh", -0.02, 6.0, 0.01)
    lightness = np.clip(np.arcsinh((counts - norm.low) / norm.softening) / 9.0, 0, 1)
    fitted = fit_to_lightness(counts, lightness, norm)
    assert (fitted.low, fitted.softening) == (norm.low, norm.softening)
    assert fitted.high == pytest.approx(9.0, rel=0.01)
    flat = fit_to_lightness(counts, np.zeros_like(counts), norm)
    assert flat == norm  # no lightness that grows with the input: nothing to fit


def test_a_large_stack_is_sampled_at_the_same_pixels_in_both():
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (3, 300, 300)).astype(np.uint8)
    rgb = grey_rgb(gray / 255.0)
    values, lightness = paired_sample(gray, rgb, max_pairs=20_000, window=64)
    assert 0 < values.size <= 20_000
    np.testing.assert_allclose(lightness, values / 255.0, atol=0.01)
