"""Tiled, lazy colorization equals whole-plane inference where the network allows it."""

import dask.array as da
import numpy as np
import pytest
import tifffile
import torch
import zarr

from napari_colorgan.core.infer.blocks import colorize_region, colorize_strips
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.planner import Plan
from napari_colorgan.core.infer.tiling import TilePlan, pad_to_multiple
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig
from napari_colorgan.core.model.networks import init_weights


def model(color_space="lab", num_downs=5, context=0, ngf=8, classes=()) -> Colorizer:
    """An untrained model with strong weights (every pixel matters), batch norm fixed."""
    cfg = ModelConfig(
        color_space=color_space,
        num_downs=num_downs,
        ngf=ngf,
        tile=2**num_downs * 2,
        dropout=False,
        context=context,
        classes=classes,
    )
    m = Colorizer.from_config(cfg, normalization=InputNormalization("minmax", 0, 255))
    init_weights(m.generator, gain=0.3, seed=7)
    with torch.no_grad():
        for mod in m.generator.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_var.fill_(0.5)
    return Colorizer(m.generator.eval(), cfg, m.normalization)


def whole_plane_float(m: Colorizer, plane: np.ndarray) -> np.ndarray:
    x = pad_to_multiple(
        m.normalization and (plane.astype(np.float32) / 255), 2**m.config.num_downs
    )
    with torch.no_grad():
        rgb = m.forward_rgb(torch.from_numpy(x)[None, None])[0]
    return rgb.permute(1, 2, 0).numpy()[: plane.shape[0], : plane.shape[1]]


def psnr(a, b):
    return 10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2))


@pytest.mark.parametrize("space", ["lab", "rgb"])
def test_exact_tiling_equals_whole_plane_inference(space, rng):
    m = model(space)
    plane = rng.integers(0, 256, (300, 410)).astype(np.uint8)
    plan = TilePlan.for_model(m.config, tile=256, overlap=128)
    assert plan.mode == "exact"
    job = Plan(plan, 300, 410, 4, "cpu", "fp32")
    tiled = colorize_region(m, plane[None], (0, 0), (0, 300, 0, 410), job)
    reference = whole_plane_float(m, plane)
    assert psnr(tiled, reference) >= 60  # measured ~ 130 dB: equal up to float rounding


def test_blended_tiling_shows_no_seam_between_grid_offsets(rng):
    # Receptive field 254 px > tile 128: no halo can make this exact, blending must hide it.
    cfg = ModelConfig(num_downs=6, ngf=4, tile=128, dropout=False)
    m = Colorizer.from_config(cfg, normalization=InputNormalization("minmax", 0, 255))
    init_weights(m.generator, gain=0.1, seed=7)  # colourful output (colourfulness ~ 27)
    m.generator.eval()
    plane = rng.integers(0, 256, (256, 320)).astype(np.uint8)
    plan_a = TilePlan("blended", 128, 32, 64)
    plan_b = TilePlan("blended", 128, 64, 64)  # another grid: windows start elsewhere
    a = colorize_region(
        m, plane[None], (0, 0), (0, 256, 0, 320), Plan(plan_a, 256, 320, 4, "cpu", "fp32")
    )
    b = colorize_region(
        m, plane[None], (0, 0), (0, 256, 0, 320), Plan(plan_b, 256, 320, 4, "cpu", "fp32")
    )
    assert psnr(a, b) > 40  # measured 53 dB on this model
    # No seam: the colour jump across a window border is no larger than elsewhere.
    border = 96  # first window ends at 128, its ramp spans 96..128
    jumps = np.abs(np.diff(a, axis=1)).mean(axis=(0, 2))
    assert jumps[border - 1 : border + 33].max() < 3 * np.median(jumps)


@pytest.mark.parametrize("mode", ["exact", "blended"])
def test_stitching_holds_a_strip_of_about_one_window_row_at_a_time(mode, rng):
    m = model()
    plane = rng.integers(0, 256, (600, 200)).astype(np.uint8)
    plan = TilePlan.for_model(m.config, tile=128, overlap=64 if mode == "exact" else 32)
    plan = plan if mode == "exact" else TilePlan("blended", 128, 32, plan.grid)
    job = Plan(plan, 600, 200, 4, "cpu", "fp32")
    strips = []
    colorize_strips(
        m, plane[None], (0, 0), (0, 600, 0, 200), job, lambda top, rgb: strips.append((top, rgb))
    )
    tops = [top for top, _ in strips]
    heights = [len(rgb) for _, rgb in strips]
    assert tops == list(np.cumsum([0, *heights[:-1]]))  # contiguous, top to bottom
    assert sum(heights) == 600 and max(heights) <= plan.tile  # never a region-size buffer
    whole = np.concatenate([rgb for _, rgb in strips])
    np.testing.assert_array_equal(
        whole, colorize_region(m, plane[None], (0, 0), (0, 600, 0, 200), job)
    )


@pytest.mark.parametrize("kind", ["numpy", "dask", "zarr", "tiff"])
@pytest.mark.parametrize("shape", [(70, 90), (2, 70, 90), (2, 2, 70, 90)])
def test_lazy_result_has_the_input_shape_plus_rgb_and_matches_planes(kind, shape, tmp_path, rng):
    m = model()
    data = rng.integers(0, 256, shape).astype(np.uint8)
    source = {
        "numpy": data,
        "dask": da.from_array(data, chunks=(1,) * (len(shape) - 2) + (35, 45)),
    }.get(kind)
    if kind == "zarr":
        z = zarr.create_array(
            tmp_path / "in.zarr",
            shape=shape,
            chunks=(1,) * (len(shape) - 2) + shape[-2:],
            dtype="u1",
        )
        z[:] = data
        source = tmp_path / "in.zarr"
    elif kind == "tiff":
        tifffile.imwrite(tmp_path / "in.tif", data, photometric="minisblack")
        source = tmp_path / "in.tif"
    out = colorize(source, m, device="cpu", precision="fp32")
    assert isinstance(out, da.Array)
    assert out.shape == (*shape, 3) and out.dtype == np.uint8
    assert all(c == 1 for c in out.chunksize[:-3])  # one plane per chunk: browse plane by plane
    last = data.reshape(-1, *shape[-2:])[-1]
    got = np.asarray(out.reshape(-1, *shape[-2:], 3)[-1])
    assert np.abs(got.astype(int) - m.colorize_plane(last)).max() <= 1


def test_large_planes_are_split_into_blocks_with_identical_result(rng):
    m = model()
    plane = rng.integers(0, 256, (300, 410)).astype(np.uint8)
    blocks = colorize(
        plane, m, tile=128, overlap=64, block_size=64, device="cpu", precision="fp32"
    )
    whole = colorize(plane, m, tile=128, overlap=64, device="cpu", precision="fp32")
    assert len(blocks.chunks[0]) > 1 and len(blocks.chunks[1]) > 1
    diff = np.abs(blocks.compute().astype(int) - whole.compute())
    assert diff.max() <= 1  # uint8 rounding of float results that differ by ~1e-6


def test_context_models_see_neighbouring_planes(rng):
    m = model(context=1)
    stack = rng.integers(0, 256, (3, 64, 64)).astype(np.uint8)
    out = colorize(stack, m, device="cpu", precision="fp32").compute()
    changed = stack.copy()
    changed[0] = 0  # a neighbour of plane 1, not plane 1 itself
    out2 = colorize(changed, m, device="cpu", precision="fp32").compute()
    assert not np.array_equal(out[1], out2[1])
    np.testing.assert_array_equal(out[2], out2[2])


def test_model_path_and_nan_input(tmp_path, rng):
    m = model()
    path = m.save(tmp_path / "m.safetensors")
    data = rng.random((40, 50)) * 255
    data[5, 5] = np.nan
    out = colorize(data, path, device="cpu").compute()
    assert out.shape == (40, 50, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((64, 64, 3)), "looks like RGB"),
        (np.zeros((64,)), "grayscale image"),
        (np.zeros((0, 64)), "empty"),
        (np.zeros((8, 8), bool), "dtype bool"),
    ],
)
def test_bad_input_is_named(data, message):
    with pytest.raises(ValueError, match=message):
        colorize(data, model())


def test_context_model_needs_a_stack():
    with pytest.raises(ValueError, match="needs a stack"):
        colorize(np.zeros((64, 64)), model(context=1))


def test_tile_larger_than_the_image_is_handled(rng):
    m = model()
    out = colorize(
        rng.integers(0, 256, (20, 30)).astype(np.uint8), m, tile=512, overlap=128, device="cpu"
    )
    assert out.compute().shape == (20, 30, 3)


def test_out_of_device_memory_says_what_to_lower(rng, monkeypatch):
    m = model()

    def out_of_memory(*_args):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")

    monkeypatch.setattr(m.generator, "forward", out_of_memory)
    plane = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    with pytest.raises(MemoryError, match="lower batch_size or tile"):
        colorize(plane, m, device="cpu").compute()
