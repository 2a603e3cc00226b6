import pytest
import torch

from napari_colorgan.core.model.config import PRESETS, ModelConfig
from napari_colorgan.core.model.networks import (
    PatchDiscriminator,
    UNetGenerator,
    count_parameters,
    init_weights,
)


def gradient_support(net: torch.nn.Module, channels: int, size: int) -> tuple[int, int]:
    """Height and width of the input region that reaches the centre output pixel."""
    net = net.double().eval()
    x = torch.randn(1, channels, size, size, dtype=torch.double, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows, cols = (x.grad[0].abs().sum(0) > 0).nonzero(as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_unet_256_has_the_reference_parameter_count():
    net = UNetGenerator(in_channels=1, out_channels=2, num_downs=8, ngf=64, norm="batch")
    assert count_parameters(net) == 54_409_858


def test_patchgan_has_the_reference_parameter_count():
    net = PatchDiscriminator(in_channels=3, ndf=64, n_layers=3, norm="batch")
    assert count_parameters(net) == 2_765_633


def test_patchgan_sees_70_by_70_patches():
    net = PatchDiscriminator(in_channels=3, ndf=8, n_layers=3)
    assert gradient_support(net, channels=3, size=160) == (70, 70)


@pytest.mark.parametrize("num_downs", [3, 4, 5])
def test_unet_receptive_field_matches_the_config_formula(num_downs):
    net = UNetGenerator(1, 2, num_downs=num_downs, ngf=4, dropout=False)
    expected = ModelConfig(num_downs=num_downs, tile=2**num_downs).receptive_field
    assert gradient_support(net, channels=1, size=16 * 2**num_downs) == (expected, expected)


def test_preset_receptive_fields():
    assert {k: v.receptive_field for k, v in PRESETS.items()} == {
        "small": 126,
        "medium": 254,
        "pix2pix": 1022,
    }


@pytest.mark.parametrize("out_channels", [2, 3])
def test_unet_output_shape_and_range(out_channels):
    net = UNetGenerator(1, out_channels, num_downs=4, ngf=8).eval()
    y = net(torch.randn(2, 1, 32, 48) * 10)
    assert y.shape == (2, out_channels, 32, 48)
    assert y.abs().max() <= 1


def test_unet_rejects_sizes_not_divisible_by_its_depth():
    net = UNetGenerator(1, 2, num_downs=4, ngf=8)
    with pytest.raises(ValueError, match="multiples of 2\\*\\*num_downs = 16"):
        net(torch.zeros(1, 1, 30, 32))


def test_dropout_sits_in_the_inner_decoder_blocks_only():
    net = UNetGenerator(1, 2, num_downs=8, ngf=4, dropout=True)
    levels = [
        i for i, block in enumerate(net.up) if any(isinstance(m, torch.nn.Dropout) for m in block)
    ]
    assert levels == [4, 5, 6]  # num_downs - 5 blocks just above the bottleneck, as in pix2pix
    assert not any(
        isinstance(m, torch.nn.Dropout) for m in UNetGenerator(1, 2, 8, 4, dropout=False).modules()
    )


def test_instance_norm_uses_conv_biases():
    net = UNetGenerator(1, 2, num_downs=4, ngf=4, norm="instance")
    assert net.down[1][1].bias is not None
    assert UNetGenerator(1, 2, num_downs=4, ngf=4, norm="batch").down[1][1].bias is None


def test_init_weights_is_normal_0_002_and_reproducible():
    a = init_weights(UNetGenerator(1, 2, 6, 16), seed=3)
    b = init_weights(UNetGenerator(1, 2, 6, 16), seed=3)
    w = torch.cat([m.weight.flatten() for m in a.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(float(w.mean())) < 1e-3
    assert float(w.std()) == pytest.approx(0.02, rel=0.05)
    for (_, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb)
