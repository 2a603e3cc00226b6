"""Test-time flips: the views' outputs averaged, tiled exactly like one pass."""

import numpy as np
import pytest
import torch

from napari_colorgan.core.infer.blocks import colorize_region
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.flips import VIEWS, _apply, _undo, flipped_mean
from napari_colorgan.core.infer.planner import Plan, plan
from napari_colorgan.core.infer.tiling import TilePlan
from napari_colorgan.core.model.colorizer import network_input

from .test_graph import model, psnr


def lopsided() -> torch.nn.Conv2d:
    """A 3x3 convolution with no symmetry: every view gives another output."""
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(18.0).reshape(2, 1, 3, 3) ** 1.5)
    return conv


def test_one_flip_is_one_plain_pass():
    net, x = lopsided(), torch.rand(2, 1, 8, 12)
    assert torch.equal(flipped_mean(net, x, 1), net(x))


def test_two_flips_average_the_window_and_its_mirror():
    net, x = lopsided(), torch.rand(2, 1, 8, 12)
    expected = (net(x) + net(x.flip(-1)).flip(-1)) / 2
    torch.testing.assert_close(flipped_mean(net, x, 2), expected)


def test_views_are_the_eight_symmetries_of_the_square():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    seen = {tuple(_apply(x, v).flatten().tolist()) for v in VIEWS}
    assert len(seen) == 8
    assert all(torch.equal(_undo(_apply(x, v), v), x) for v in VIEWS)


def test_eight_flips_make_the_output_turn_with_the_input():
    net, x = lopsided(), torch.rand(1, 1, 10, 10)
    turned = flipped_mean(net, x.rot90(1, (-2, -1)), 8)
    torch.testing.assert_close(turned, flipped_mean(net, x, 8).rot90(1, (-2, -1)))


def test_exact_tiling_with_flips_equals_whole_plane_flips(rng):
    m = model()
    plane = rng.integers(0, 256, (320, 416)).astype(np.uint8)  # on the grid: no padding
    tiling = TilePlan.for_model(m.config, tile=256, overlap=128)
    tiled = colorize_region(
        m, plane[None], (0, 0), (0, 320, 0, 416), Plan(tiling, 320, 416, 4, "cpu", "fp32", flips=4)
    )
    x = torch.from_numpy(plane.astype(np.float32) / 255)[None, None]
    with torch.no_grad():
        rgb = m.raw_to_rgb(flipped_mean(m.generator, network_input(x), 4), x)[0]
    assert psnr(tiled, rgb.permute(1, 2, 0).numpy()) >= 60
    one = colorize_region(
        m, plane[None], (0, 0), (0, 320, 0, 416), Plan(tiling, 320, 416, 4, "cpu", "fp32")
    )
    assert psnr(tiled, one) < 60  # the flips did change the colour


@pytest.mark.parametrize("flips", [0, 3, 16, True, 2.0])
def test_flips_outside_1_2_4_8_are_refused_by_name(flips):
    with pytest.raises(ValueError, match="flips must be one of 1, 2, 4, 8"):
        ColorizeConfig(flips=flips)


def test_a_store_records_flips_only_when_there_are_some():
    m = model()
    assert "flips" not in plan(m.config, (64, 64), ColorizeConfig(device="cpu")).record()
    four = plan(m.config, (64, 64), ColorizeConfig(device="cpu", flips=4))
    assert four.record()["flips"] == 4 and "seen 4 ways" in four.describe()


def test_a_store_is_not_resumed_with_other_flips(tmp_path, rng):
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr

    m, plane = model(), rng.integers(0, 256, (2, 64, 64)).astype(np.uint8)
    path = colorize_to_zarr(plane, tmp_path / "out.zarr", m, device="cpu")
    with pytest.raises(ValueError, match="other test-time flips"):
        colorize_to_zarr(plane, path, m, device="cpu", flips=2)
    colorize_to_zarr(plane, path, m, device="cpu")  # the same settings finish it
