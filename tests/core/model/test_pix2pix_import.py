"""A generator in the reference pix2pix layout loads into ours and computes the same function.

``ReferenceBlock`` below rebuilds the reference implementation's recursive U-Net structure
(written here from its published architecture) only to produce state dicts with its parameter
names; the test saves one as ``latest_net_G.pth`` like the reference does.
"""

import numpy as np
import pytest
import torch
from torch import nn

from napari_colorgan import load_pix2pix_generator
from napari_colorgan.core.model.networks import init_weights


class ReferenceBlock(nn.Module):
    """One level of the reference's recursive U-Net: down, the sub-block, up, then the skip."""

    def __init__(
        self,
        outer,
        inner,
        in_ch=None,
        sub=None,
        outermost=False,
        innermost=False,
        norm=nn.BatchNorm2d,
        dropout=False,
    ):
        super().__init__()
        self.outermost = outermost
        bias = norm is nn.InstanceNorm2d
        in_ch = outer if in_ch is None else in_ch
        down = nn.Conv2d(in_ch, inner, 4, 2, 1, bias=bias)
        if outermost:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1)
            layers = [down, sub, nn.ReLU(True), up, nn.Tanh()]
        elif innermost:
            up = nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, norm(outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                norm(inner),
                sub,
                nn.ReLU(True),
                up,
                norm(outer),
            ]
            layers += [nn.Dropout(0.5)] if dropout else []
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class ReferenceUnet(nn.Module):
    def __init__(self, in_ch, out_ch, num_downs, ngf, norm=nn.BatchNorm2d):
        super().__init__()
        block = ReferenceBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = ReferenceBlock(ngf * 8, ngf * 8, sub=block, norm=norm, dropout=True)
        for mult in (4, 2, 1):
            block = ReferenceBlock(ngf * mult, ngf * mult * 2, sub=block, norm=norm)
        self.model = ReferenceBlock(out_ch, ngf, in_ch, sub=block, outermost=True, norm=norm)

    def forward(self, x):
        return self.model(x)


def randomised(net: nn.Module) -> nn.Module:
    init_weights(net, gain=0.2, seed=5)
    for m in net.modules():  # non-trivial running statistics, so eval-mode norm matters
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


@pytest.mark.parametrize(
    ("num_downs", "out_ch", "norm", "space"),
    [
        (8, 2, nn.BatchNorm2d, "lab"),
        (7, 3, nn.BatchNorm2d, "rgb"),
        (6, 2, nn.InstanceNorm2d, "lab"),
    ],
)
def test_reference_checkpoint_computes_the_same_function(tmp_path, num_downs, out_ch, norm, space):
    reference = randomised(ReferenceUnet(1, out_ch, num_downs, ngf=4, norm=norm))
    path = tmp_path / "latest_net_G.pth"
    torch.save(reference.state_dict(), path)

    model = load_pix2pix_generator(path)
    assert model.config.color_space == space
    assert (model.config.num_downs, model.config.ngf) == (num_downs, 4)
    assert not model.generator.training
    x = torch.rand(2, 1, 2**num_downs, 2**num_downs) * 2 - 1  # L/50 - 1
    with torch.no_grad():
        torch.testing.assert_close(model.generator(x), reference(x), rtol=1e-5, atol=1e-6)


def test_colorization_mode_scaling_reproduces_the_reference_pipeline(tmp_path):
    """Reference test time: A = L/50 - 1, ab = G(A)·110, RGB = lab2rgb(L, ab)."""
    from skimage import color

    reference = randomised(ReferenceUnet(1, 2, 5, ngf=4))
    torch.save(reference.state_dict(), tmp_path / "latest_net_G.pth")
    model = load_pix2pix_generator(tmp_path / "latest_net_G.pth")
    gray = np.random.default_rng(1).random((32, 32))
    with torch.no_grad():
        ab = reference(torch.from_numpy(gray * 2 - 1).float()[None, None])[0].numpy() * 110
    lab = np.concatenate([gray[None] * 100, ab]).transpose(1, 2, 0)
    expected = (np.clip(color.lab2rgb(lab), 0, 1) * 255 + 0.5).astype(np.uint8)
    ours = model.colorize_plane(gray)
    assert np.abs(ours.astype(int) - expected).max() <= 1


def test_dataparallel_prefix_and_old_checkpoints_without_step_counters_load(tmp_path):
    reference = randomised(ReferenceUnet(1, 2, 5, ngf=4))
    state = {f"module.{k}": v for k, v in reference.state_dict().items() if "num_batches" not in k}
    torch.save(state, tmp_path / "g.pth")
    assert load_pix2pix_generator(tmp_path / "g.pth").config.num_downs == 5


def test_foreign_state_dict_is_rejected(tmp_path):
    torch.save({"encoder.weight": torch.zeros(1)}, tmp_path / "g.pth")
    with pytest.raises(ValueError, match="not a pix2pix U-Net"):
        load_pix2pix_generator(tmp_path / "g.pth")


def test_non_tensor_pickles_are_never_unpickled(tmp_path):
    torch.save({"model.model.0.weight": torch.zeros(1), "x": object()}, tmp_path / "g.pth")
    with pytest.raises(ValueError, match="cannot read as a PyTorch state dict"):
        load_pix2pix_generator(tmp_path / "g.pth")


def test_rgb_input_generators_are_rejected(tmp_path):
    torch.save(ReferenceUnet(3, 3, 5, ngf=4).state_dict(), tmp_path / "g.pth")
    with pytest.raises(ValueError, match="maps 3 to 3 channels"):
        load_pix2pix_generator(tmp_path / "g.pth")
