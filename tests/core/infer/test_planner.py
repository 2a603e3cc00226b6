"""The planner: one place decides windows, batch and dtype, and says why."""

import numpy as np
import pytest
import torch

from napari_colorgan.core.devices import autocast_dtype, compute_dtype, cpu_has_bf16
from napari_colorgan.core.infer import window_size
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.planner import plan
from napari_colorgan.core.model.config import PRESETS, ModelConfig

GIB = 1 << 30
CPU = ColorizeConfig(device="cpu", precision="fp32")
SMALL = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)  # halo 64 px


@pytest.fixture
def memory(monkeypatch):
    """Set the device memory the planner sees."""

    def set_memory(size: int) -> None:
        monkeypatch.setattr(window_size, "device_memory", lambda device: size)

    return set_memory


def test_the_default_window_fits_memory_and_says_so(memory):
    memory(16 * GIB)
    chosen = plan(SMALL, (300, 410), CPU)
    assert [len(chosen.tiling.layout(n)) for n in (300, 410)] == [1, 1]  # whole plane, exactly
    assert chosen.tiling.mode == "exact" and "fit" in chosen.why and chosen.notice is None
    given = plan(SMALL, (300, 410), ColorizeConfig.create(CPU, tile=256, batch_size=3))
    assert given.tiling.tile == 256 and given.batch_size == 3
    assert given.why == "the window size was given"


def test_an_auto_batch_fits_the_memory_share_also_when_the_tile_is_given(memory):
    memory(256 << 20)  # a quarter: 64 MiB, one 512² window of the small preset in fp32
    small16 = ModelConfig(num_downs=5, ngf=16, tile=64, dropout=False)
    assert plan(small16, (2000, 2000), ColorizeConfig.create(CPU, tile=512)).batch_size == 1
    given = plan(small16, (2000, 2000), ColorizeConfig.create(CPU, tile=512, batch_size=3))
    assert given.batch_size == 3  # the caller's word goes
    chosen = plan(small16, (2000, 2000), ColorizeConfig.create(CPU, batch_size=3))
    assert (
        chosen.batch_size == 3
        and "3 per pass" in chosen.why
        and "3 per pass" in (chosen.describe())
    )


def test_a_window_too_small_for_exact_tiling_is_said_in_one_line():
    small = plan(SMALL, (512, 512), ColorizeConfig.create(CPU, tile=128))
    assert small.tiling.mode == "blended"
    assert small.notice.startswith("blended, not exact: windows of 128 px")
    assert "at least 256 px" in small.notice and "\n" not in small.notice
    thin = plan(SMALL, (512, 512), ColorizeConfig.create(CPU, tile=256, overlap=32))
    assert "overlap of 32 px is less than the 128 px" in thin.notice
    assert plan(SMALL, (512, 512), ColorizeConfig.create(CPU, tile=256)).notice is None
    deep = plan(PRESETS["pix2pix"], (512, 512), ColorizeConfig.create(CPU, tile=256))
    assert deep.tiling.mode == "blended" and deep.notice is None  # blending is its default


def test_colorize_warns_when_it_blends_a_model_that_could_tile_exactly(tiny_colorizer):
    plane = np.zeros((96, 96), np.uint8)
    with pytest.warns(UserWarning, match="blended, not exact"):
        colorize(plane, tiny_colorizer, device="cpu", tile=32)


def test_a_stored_tiling_is_kept_unless_a_window_is_given(memory):
    memory(16 * GIB)
    first = plan(SMALL, (3000, 3000), ColorizeConfig.create(CPU, tile=512))
    memory(1 * GIB)  # another machine: its own default would differ
    again = plan(SMALL, (3000, 3000), CPU, stored=first.record())
    assert again.tiling == first.tiling and "started with" in again.why
    asked = plan(SMALL, (3000, 3000), ColorizeConfig.create(CPU, tile=256), first.record())
    assert asked.tiling.tile == 256


def test_a_plan_serves_any_region_of_any_level():
    # The viewer asks for the windows covering one tile of a pyramid level.
    level = plan(SMALL, (1, 1500, 1700), ColorizeConfig.create(CPU, tile=256))
    rows, cols = level.windows((512, 768, 1024, 1280))
    assert rows[0].keep0 == 512 and rows[-1].keep1 == 768
    assert cols[0].keep0 == 1024 and cols[-1].keep1 == 1280
    ya, yb, xa, xb = level.input_region((512, 768, 1024, 1280))
    halo = 64
    assert ya <= 512 - halo and yb >= 768 + halo and xa <= 1024 - halo and xb >= 1280 + halo
    assert ya % 32 == 0 and xa % 32 == 0  # windows start on the network's grid


def test_auto_precision_means_the_same_in_training_and_inference():
    cpu = torch.device("cpu")
    expected = torch.bfloat16 if cpu_has_bf16() else torch.float32
    assert compute_dtype(cpu, "auto") == expected
    assert (autocast_dtype(cpu, "auto") or torch.float32) == expected
    assert (
        f"cpu, {'bf16' if cpu_has_bf16() else 'fp32'}"
        in plan(SMALL, (64, 64), ColorizeConfig(device="cpu")).describe()
    )
    with pytest.raises(ValueError, match="fp16 is for inference"):
        autocast_dtype(cpu, "fp16")
