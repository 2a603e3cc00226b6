"""The default window: least computed pixels within a share of the device's memory."""

import numpy as np
import pytest
import torch

from napari_colorgan.core.infer import window_size
from napari_colorgan.core.infer.job import prepare
from napari_colorgan.core.infer.window_size import bytes_per_pixel, choose_window
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import PRESETS, ModelConfig

CPU = torch.device("cpu")
GIB = 1 << 30


@pytest.fixture
def memory(monkeypatch):
    """Set the device memory the chooser sees."""

    def set_memory(size: int) -> None:
        monkeypatch.setattr(window_size, "device_memory", lambda device: size)

    return set_memory


def monai_cost(length: int, roi: int = 256, overlap: float = 0.25) -> float:
    """Window pixels per output pixel of MONAI's sliding window on a square plane."""
    step = int(roi * (1 - overlap))
    n = -(-(length - roi) // step) + 1
    return (n * roi / length) ** 2


def test_a_2048_plane_is_one_window_and_computes_each_pixel_once(memory):
    memory(24 * GIB)  # this project's CPU machines
    choice = choose_window(PRESETS["pix2pix"], 2048, 2048, CPU, torch.bfloat16)
    assert (choice.tile, choice.cost) == (2048, 1.0)
    assert monai_cost(2048) / choice.cost > 1.5  # 1.89x fewer pixels than MONAI's windows


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", ["small", "pix2pix"])
def test_the_window_fits_the_budget_and_more_memory_never_costs_more(memory, name, dtype):
    costs = []
    for gib in (1, 2, 4, 8, 16, 64):
        memory(gib * GIB)
        choice = choose_window(PRESETS[name], 3000, 4096, CPU, dtype)
        assert choice.batch_size * choice.tile**2 * choice.bytes_per_pixel <= choice.budget
        costs.append(choice.cost)
    assert costs == sorted(costs, reverse=True) and costs[-1] < 1.06


def test_too_little_memory_falls_back_to_the_models_own_tile(memory):
    memory(1 << 20)
    choice = choose_window(PRESETS["small"], 1000, 1000, CPU, torch.float32)
    assert choice.tile == 512 and choice.batch_size == 1


def test_bytes_per_pixel_grows_with_width_and_precision():
    small, big = PRESETS["small"], PRESETS["pix2pix"]
    assert bytes_per_pixel(big, torch.float32) > bytes_per_pixel(big, torch.bfloat16)
    assert bytes_per_pixel(big, torch.float32) > bytes_per_pixel(small, torch.float32)
    # At least what was measured (B/px, peak RSS growth, CPU, 2048 px windows).
    assert bytes_per_pixel(big, torch.float32) >= 435
    assert bytes_per_pixel(big, torch.bfloat16) >= 166


def test_a_container_limit_below_the_ram_is_used(tmp_path, monkeypatch):
    limit = tmp_path / "memory.max"
    limit.write_text("1073741824\n")
    monkeypatch.setattr(window_size, "CGROUP_LIMITS", (str(tmp_path / "missing"), str(limit)))
    assert window_size.device_memory(CPU) == GIB
    limit.write_text("max\n")  # no limit
    assert window_size.device_memory(CPU) > GIB


def test_describe_says_what_was_chosen_and_why(memory):
    memory(16 * GIB)
    text = choose_window(PRESETS["pix2pix"], 2048, 2048, CPU, torch.float32).describe()
    assert "2048 px" in text and "1.00x" in text and "4.0 GiB" in text and "16 GiB" in text


def test_prepare_uses_the_choice_unless_a_tile_is_given(memory):
    memory(16 * GIB)
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=0)
    plane = np.zeros((300, 410), np.uint8)
    job = prepare(plane, m, device="cpu", precision="fp32")
    assert job.window is not None and job.plan.tile == job.window.tile
    assert job.block.batch_size == job.window.batch_size
    assert [len(job.plan.layout(n)) for n in (300, 410)] == [1, 1]  # whole plane, exactly
    given = prepare(plane, m, device="cpu", precision="fp32", tile=128, batch_size=3)
    assert given.window is None and given.plan.tile == 128 and given.block.batch_size == 3


def test_an_auto_batch_fits_the_memory_share_also_when_the_tile_is_given(memory):
    memory(256 << 20)  # a quarter: 64 MiB, one 512² window of the small preset in fp32
    cfg = ModelConfig(num_downs=5, ngf=16, tile=64, dropout=False)
    m = Colorizer.from_config(cfg, seed=0)
    plane = np.zeros((2000, 2000), np.uint8)
    job = prepare(plane, m, device="cpu", precision="fp32", tile=512)
    assert job.block.batch_size == 1  # not the CPU's 4: four windows would not fit
    given = prepare(plane, m, device="cpu", precision="fp32", tile=512, batch_size=3)
    assert given.block.batch_size == 3  # the caller's word goes
    chosen = prepare(plane, m, device="cpu", precision="fp32", batch_size=3)
    assert chosen.block.batch_size == 3 and "3 per pass" in chosen.window.describe()
