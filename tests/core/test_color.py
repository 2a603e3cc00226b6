import numpy as np
import pytest
import torch
from skimage import color

from napari_colorgan.core.color import lab_to_rgb, lab_to_rgb8, rgb_to_lab, to_uint8


def test_rgb_to_lab_matches_scikit_image(rng):
    rgb = rng.random((3, 40, 40))
    ours = rgb_to_lab(torch.from_numpy(rgb)).numpy()
    ref = color.rgb2lab(np.moveaxis(rgb, 0, -1))
    np.testing.assert_allclose(np.moveaxis(ours, 0, -1), ref, atol=1e-3)


def test_lab_to_rgb_matches_scikit_image_including_out_of_gamut(rng):
    lab = np.stack(
        [
            rng.uniform(0, 100, (30, 30)),
            rng.uniform(-110, 110, (30, 30)),
            rng.uniform(-110, 110, (30, 30)),
        ]
    )
    ours = lab_to_rgb(torch.from_numpy(lab)).numpy()
    with pytest.warns(UserWarning):  # scikit-image warns about the negative Z it clips
        ref = color.lab2rgb(np.moveaxis(lab, 0, -1))
    np.testing.assert_allclose(np.moveaxis(ours, 0, -1), ref, atol=1e-3)


def test_round_trip_in_float32_and_channel_last(rng):
    rgb = torch.from_numpy(rng.random((2, 16, 16, 3)).astype(np.float32))
    back = lab_to_rgb(rgb_to_lab(rgb, dim=-1), dim=-1)
    assert torch.allclose(back, rgb, atol=1e-4)


def test_gradients_are_finite_even_at_black():
    rgb = torch.zeros(1, 3, 4, 4, requires_grad=True)
    lab_to_rgb(rgb_to_lab(rgb)).sum().backward()
    assert torch.isfinite(rgb.grad).all()


def test_wrong_channel_count_is_named():
    with pytest.raises(ValueError, match="3 colour channels"):
        rgb_to_lab(torch.zeros(1, 2, 4, 4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_lab_to_rgb8_is_lab_to_rgb_then_uint8_within_a_level(rng, dtype):
    n, h, w = 2, 300, 70  # more rows than one strip, out-of-gamut a and b included
    lightness = torch.from_numpy(rng.uniform(0, 100, (n, h, w))).float()
    ab = torch.from_numpy(rng.uniform(-1.2, 1.2, (2, n, h, w))).to(dtype)
    got = lab_to_rgb8(lightness, ab[0], ab[1], ab_scale=110).numpy()
    lab = torch.stack([lightness, 110 * ab[0].float(), 110 * ab[1].float()], 1)
    want = to_uint8(lab_to_rgb(lab).permute(0, 2, 3, 1).numpy())
    assert got.dtype == np.uint8 and got.shape == (n, h, w, 3)
    assert np.abs(got.astype(int) - want).max() <= 1
    assert (got != want).mean() < 1e-3  # only values on a rounding edge differ
