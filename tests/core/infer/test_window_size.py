"""The default window: least computed pixels within a share of the device's memory."""

import pytest
import torch

from napari_colorgan.core.infer import window_size
from napari_colorgan.core.infer.window_size import bytes_per_pixel, choose_window
from napari_colorgan.core.model.config import PRESETS

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
