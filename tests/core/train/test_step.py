"""The full objective learns: the step of the paper overfits one small image pair."""

import pytest
import torch

from napari_colorgan.core.color import rgb_to_lab
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import ModelConfig
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.losses import PerceptualLoss
from napari_colorgan.core.train.step import Pix2PixStep, lr_factor


def colourful_pair(size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth colourful image and its lightness as the grayscale input."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    rgb = torch.stack(
        [
            0.5 + 0.4 * torch.sin(6 * xx),
            0.5 + 0.4 * torch.cos(5 * yy),
            0.5 + 0.3 * torch.sin(4 * (xx + yy)),
        ]
    )[None]  # (1, 3, size, size)
    gray = rgb_to_lab(rgb)[:, :1] / 100  # (1, 1, size, size) in [0, 1]
    return gray, rgb


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean()))


@pytest.mark.parametrize("color_space", ["lab", "rgb"])
def test_full_objective_overfits_one_pair_beyond_30_db(color_space):
    torch.manual_seed(0)
    gray, rgb = colourful_pair()
    model = Colorizer.from_config(
        ModelConfig(color_space=color_space, num_downs=5, ngf=16, ndf=16, tile=32)
    )
    config = TrainConfig(gamma=0.9, lr=1e-3, adversarial=True)  # the seed's whole objective
    step = Pix2PixStep(model, config, perceptual=PerceptualLoss(weights="random"))
    for _ in range(200):
        losses = step.step(gray, rgb)
    assert losses.g_vgg > 0 and losses.d_real > 0  # every term of the objective took part
    model.generator.eval()
    with torch.no_grad():
        assert psnr(model.forward_rgb(gray), rgb) > 30


def test_masked_pixels_get_no_gradient_from_any_term():
    torch.manual_seed(0)
    gray, rgb = colourful_pair(32)
    model = Colorizer.from_config(ModelConfig(num_downs=5, ngf=8, ndf=8, tile=32, dropout=False))
    step = Pix2PixStep(
        model,
        TrainConfig(adversarial=True),
        perceptual=PerceptualLoss(["relu1_1"], weights="random"),
    )
    mask = torch.ones(1, 1, 32, 32)
    mask[..., 16:] = 0  # right half unannotated
    # Whatever colour the target claims there must not matter.
    other = rgb.clone()
    other[..., 16:] = torch.rand(1, 3, 32, 16)
    torch.manual_seed(1)
    step.step(gray, rgb, mask)
    after_a = {k: v.clone() for k, v in model.generator.state_dict().items()}

    torch.manual_seed(0)
    model2 = Colorizer.from_config(ModelConfig(num_downs=5, ngf=8, ndf=8, tile=32, dropout=False))
    step2 = Pix2PixStep(
        model2,
        TrainConfig(adversarial=True),
        perceptual=PerceptualLoss(["relu1_1"], weights="random"),
    )
    torch.manual_seed(1)
    step2.step(gray, other, mask)
    for key, value in model2.generator.state_dict().items():
        torch.testing.assert_close(value, after_a[key])


def test_lr_schedule_is_constant_then_linear_to_zero():
    assert lr_factor(0.3, 0.5) == 1.0
    assert lr_factor(0.75, 0.5) == 0.5
    assert lr_factor(1.0, 0.5) == 0.0
    assert lr_factor(0.99, 0.0) == 1.0


def test_step_owns_the_learning_rate_schedule():
    model = Colorizer.from_config(ModelConfig(num_downs=3, ngf=4, ndf=4, n_layers=1, tile=16))
    step = Pix2PixStep(model, TrainConfig(lr=1e-3, decay_fraction=0.5, preset="small", tile=32))
    assert step.set_progress(0.75) == 5e-4
    assert {g["lr"] for opt in (step.opt_g, step.opt_d) for g in opt.param_groups} == {5e-4}
