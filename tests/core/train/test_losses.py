import pytest
import torch

from napari_colorgan.core.model.vgg import VGG19_ENV_VAR, hub_cache_path
from napari_colorgan.core.train.losses import (
    GANLoss,
    PerceptualLoss,
    generator_objective,
    masked_fit,
    masked_l1,
)

from ..model.test_vgg import torchvision_style_state


def test_vanilla_gan_loss_is_bce_with_logits():
    logits = torch.tensor([[[[0.0, 2.0]]]])
    loss = GANLoss("vanilla")
    expected_real = torch.nn.functional.softplus(-logits).mean()
    assert torch.isclose(loss(logits, True), expected_real)
    assert torch.isclose(loss(logits, False), torch.nn.functional.softplus(logits).mean())


def test_lsgan_loss_is_squared_error():
    logits = torch.tensor([[[[0.5, 2.0]]]])
    assert torch.isclose(GANLoss("lsgan")(logits, True), torch.tensor((0.25 + 1.0) / 2))
    assert torch.isclose(GANLoss("lsgan")(logits, False), torch.tensor((0.25 + 4.0) / 2))


def test_gan_labels_are_buffers_that_move_with_the_module():
    assert {name for name, _ in GANLoss().named_buffers()} == {"real_label", "fake_label"}


def test_gan_loss_weight_ignores_patches():
    logits = torch.tensor([[[[0.0, 50.0]]]])
    weight = torch.tensor([[[[0.0, 1.0]]]])
    assert GANLoss("lsgan")(logits, True, weight) == pytest.approx(49.0**2)
    with pytest.raises(ValueError, match="'wgan'"):
        GANLoss("wgan")


def test_masked_l1_counts_masked_pixels_only():
    out, tgt = torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)
    tgt[..., 0, 0] = 0
    mask = torch.zeros(1, 1, 2, 2)
    mask[..., 0, 0] = 1
    assert masked_l1(out, tgt, mask) == 0
    assert masked_l1(out, tgt) == pytest.approx(0.75)


def test_generator_objective_is_the_seed_formula():
    total = generator_objective(torch.tensor(2.0), torch.tensor(0.5), torch.tensor(3.0), 0.8, 10.0)
    assert float(total) == pytest.approx(0.8 * (2.0 + 10.0 * 0.5) + 0.2 * 3.0)
    with pytest.raises(ValueError, match="gamma"):
        generator_objective(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0), 1.5, 100.0)


def test_perceptual_loss_is_mean_squared_feature_difference():
    loss = PerceptualLoss(["relu2_2"], weights="random")
    a, b = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    feats_a, feats_b = loss.vgg(loss_input(a)), loss.vgg(loss_input(b))
    expected = ((feats_a["relu2_2"] - feats_b["relu2_2"]) ** 2).mean()
    assert torch.isclose(loss(a, b), expected)
    assert loss(a, a) == 0


def loss_input(rgb):
    from napari_colorgan.core.model.vgg import imagenet_normalize

    return imagenet_normalize(rgb)


def test_perceptual_loss_passes_gradients_to_the_output_only():
    loss = PerceptualLoss(["relu1_2"], weights="random")
    out = torch.rand(1, 3, 8, 8, requires_grad=True)
    loss(out, torch.rand(1, 3, 8, 8)).backward()
    assert out.grad is not None and out.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.parameters())


def test_none_disables_the_term():
    loss = PerceptualLoss(weights="none")
    assert not loss.enabled and loss.source == "none"
    assert loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)) == 0


def test_auto_without_weights_turns_the_term_off_and_says_where_to_put_them():
    # Random features are not the paper's perceptual loss and cost 6-9x per step: off instead.
    with pytest.warns(UserWarning, match=str(hub_cache_path().parent)) as caught:
        loss = PerceptualLoss(weights="auto")
    assert not loss.enabled and loss.source.startswith("none")
    assert loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)) == 0
    assert len(caught) == 1 and "\n" not in str(caught[0].message)  # one line


def test_random_features_stay_available_by_name():
    loss = PerceptualLoss(["relu1_1"], weights="random")
    assert loss.enabled and loss.source == "random"


def test_imagenet_without_weights_is_an_actionable_error():
    with pytest.raises(FileNotFoundError, match=VGG19_ENV_VAR):
        PerceptualLoss(weights="imagenet")


def test_imagenet_weights_load_from_env_var_and_path(tmp_path, monkeypatch):
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    state = torchvision_style_state(seed=2)
    torch.save(state, path)
    by_path = PerceptualLoss(weights=str(path))
    assert by_path.source == f"imagenet:{path}"
    assert torch.equal(by_path.vgg.features[0].weight, state["features.0.weight"])
    monkeypatch.setenv(VGG19_ENV_VAR, str(path))
    assert PerceptualLoss(weights="auto").source == f"imagenet:{path}"


def test_mask_restricts_the_perceptual_loss():
    loss = PerceptualLoss(["relu1_1"], weights="random")
    a = torch.rand(1, 3, 8, 8)
    b = a.clone()
    b[..., :, 4:] = torch.rand(1, 3, 8, 4)  # differ only on the right half
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :, :3] = 1  # relu1_1 is a 3x3 conv: the left 3 columns never see the right half
    assert loss(a, b, mask) == 0
    assert loss(a, b) > 0


def test_fit_losses_l2_is_squared_error_and_huber_is_l1_far_away():
    out, target = torch.zeros(1, 2, 2, 2), torch.tensor([0.0, 0.01, 0.5, 1.0]).view(1, 1, 2, 2)
    target = target.expand(1, 2, 2, 2)
    assert masked_fit(out, target, kind="l1") == pytest.approx(masked_l1(out, target).item())
    assert masked_fit(out, target, kind="l2").item() == pytest.approx((0.01**2 + 0.25 + 1) / 4)
    huber = masked_fit(out, target, kind="huber").item()
    # Quadratic below δ = 0.05 (0.01² / 2δ), L1 minus δ/2 beyond it: L1's gradient far away.
    assert huber == pytest.approx((0.01**2 / 0.1 + 0.475 + 0.975) / 4)
    mask = torch.tensor([1.0, 0, 0, 0]).view(1, 1, 2, 2)
    assert masked_fit(out, target, mask, "l2").item() == 0.0
    with pytest.raises(ValueError, match="unknown fit loss 'l3'"):
        masked_fit(out, target, kind="l3")
