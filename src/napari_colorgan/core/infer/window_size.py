"""The default inference window: what the device's memory allows, no more than the plane needs.

Small windows waste work: every window computes its overlap with its neighbours again, and for
deep generators (pix2pix: 8 levels) window sides come in steps of 256 px, so a 256 px window
with a quarter overlap computes about 1.9 times the pixels it outputs. The forward pass costs
about the same per pixel at any window size (measured on this project's CPU: 2.2-2.5 MP/s from
256 px to 4096 px windows), so the default is the window layout that computes the fewest
pixels among those whose activations fit a share of the device's memory.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..model.config import ModelConfig
from .config import BLOCK, MAX_TILE
from .tiling import TilePlan

#: Share of the device's memory one forward pass may take (the rest is the model, the input
#: and output blocks in flight, the viewer, and other programs).
SHARE = {"cpu": 0.25, "mps": 0.25, "cuda": 0.5}
#: Assumed when a machine's memory cannot be read.
FALLBACK_MEMORY = 8 << 30
#: Where Linux says a container's memory limit (cgroup v2, then v1).
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


@dataclass(frozen=True)
class WindowChoice:
    """The default window of one colorization, and why.

    Attributes
    ----------
    tile
        Largest window side (px) of the chosen layout.
    batch_size
        Windows per forward pass that fit the same budget (at most the device's default).
    cost
        Window pixels computed per output pixel (1.0: each pixel computed once).
    budget
        Bytes one forward pass may take: ``SHARE`` of the device's ``memory``.
    memory
        The device's memory in bytes (RAM for the CPU).
    bytes_per_pixel
        Estimated activation memory per window pixel at the compute precision.
    device
        The device type the choice was made for.
    """

    tile: int
    batch_size: int
    cost: float
    budget: int
    memory: int
    bytes_per_pixel: int
    device: str

    def describe(self) -> str:
        """One line for a person: what was chosen and why."""
        gib = 1 << 30
        return (
            f"windows up to {self.tile} px, {self.batch_size} per pass, computing "
            f"{self.cost:.2f}x the output pixels: the layout with the least work whose "
            f"activations (~{self.bytes_per_pixel} B/px) fit {self.budget / gib:.1f} GiB, "
            f"{self.budget / self.memory:.0%} of the {self.device}'s {self.memory / gib:.0f} GiB"
        )


def bytes_per_pixel(config: ModelConfig, dtype: torch.dtype) -> int:
    """Estimated peak memory of one forward pass per window pixel, in bytes.

    Measured on the CPU with the presets at 1024-2048 px windows (fp32: 435 B/px for pix2pix,
    131-186 small, 247-293 medium; bf16: 166, 120-141, 125-151): about ``ngf`` x 6 B in fp32 and
    x 2.6 B in bf16 for the skip connections and decoder features, plus ~100 B of input,
    output and colour conversion in fp32. The estimate rounds each term up.
    """
    per_filter = 6 if dtype == torch.float32 else 3
    channels = 1 + 2 * config.context
    return 128 + per_filter * config.ngf + 4 * channels


def device_memory(device: torch.device) -> int:
    """Total memory of ``device`` in bytes (RAM, within any container limit, for the CPU)."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    if device.type == "mps":
        return int(torch.mps.recommended_max_memory())
    return _ram()


def _ram() -> int:
    """Physical RAM, or the cgroup (container) memory limit when that is lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        total = FALLBACK_MEMORY
    for limit_file in CGROUP_LIMITS:
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return int(total)


def choose_window(
    config: ModelConfig,
    height: int,
    width: int,
    device: torch.device,
    dtype: torch.dtype,
    *,
    overlap: int | None = None,
    block: int = BLOCK,
    most_batch: int = 4,
) -> WindowChoice:
    """The tile with the least computed pixels for ``height`` x ``width`` planes on ``device``.

    Parameters
    ----------
    config
        The generator's architecture (depth sets the grid, width the memory per pixel).
    height, width
        The plane's size.
    device, dtype
        Where and at which precision the forward runs.
    overlap
        The overlap asked for, or None for the model's default.
    block
        Output block side (windows never straddle more than two blocks).
    most_batch
        The device's default windows per pass, an upper bound on ``batch_size``.

    Returns
    -------
    WindowChoice
    """
    memory = device_memory(device)
    budget = memory_budget(device)
    per_px = bytes_per_pixel(config, dtype)
    grid = 2**config.num_downs
    largest = min(max(grid, math.isqrt(budget // per_px) // grid * grid), MAX_TILE // grid * grid)
    costs = _costs(config, height, width, overlap, block, largest)
    # Near-ties (within 1 %) go to the larger window: fewer passes, no slower per pixel.
    tile = max(t for t, c in costs.items() if c <= min(costs.values()) * 1.01)
    # The smallest ceiling with the same windows: what the store records and `info` shows is
    # then the window really used (a small plane's), not a machine-dependent ceiling.
    tile = _smallest_same(config, (height, width), overlap, block, tile, sorted(costs))
    cost = costs[tile]
    batch = fit_batch(config, tile, device, dtype, most_batch)
    return WindowChoice(tile, batch, cost, budget, memory, per_px, device.type)


def memory_budget(device: torch.device) -> int:
    """Bytes one forward pass may take on ``device``: its ``SHARE`` of the device's memory."""
    return int(device_memory(device) * SHARE.get(device.type, 0.25))


def fit_batch(
    config: ModelConfig, tile: int, device: torch.device, dtype: torch.dtype, most: int
) -> int:
    """Windows of up to ``tile`` px per forward pass that fit the memory share (1..``most``)."""
    per_window = bytes_per_pixel(config, dtype) * tile * tile
    return int(max(1, min(most, memory_budget(device) // per_window)))


def _smallest_same(
    config: ModelConfig,
    shape: tuple[int, int],
    overlap: int | None,
    block: int,
    tile: int,
    candidates: list[int],
) -> int:
    """The smallest of ``candidates`` whose windows on ``shape`` are those of ``tile``."""
    chosen = TilePlan.for_model(config, tile, overlap, block)
    layouts = [chosen.layout(n) for n in shape]
    for smaller in candidates:
        plan = TilePlan.for_model(config, smaller, overlap, block)
        if plan.mode == chosen.mode and [plan.layout(n) for n in shape] == layouts:
            return smaller
    return tile


def _costs(
    config: ModelConfig, height: int, width: int, overlap: int | None, block: int, largest: int
) -> dict[int, float]:
    """Computed pixels per output pixel for each tile up to ``largest`` in the model's mode.

    Tiles too small for the model's default mode (exact needs four halos) are left out: an
    exact-capable model is not made to blend.
    """
    mode = TilePlan.for_model(config, None, overlap, block).mode
    grid = 2**config.num_downs
    costs = {}
    for tile in range(grid, largest + 1, grid):
        try:
            plan = TilePlan.for_model(config, tile, overlap, block)
        except ValueError:  # the overlap asked for does not fit this tile
            continue
        if plan.mode == mode:
            costs[tile] = plan.cost(height, width)
    if not costs:  # nothing fits: the model's own default, whatever memory says
        plan = TilePlan.for_model(config, None, overlap, block)
        costs[plan.tile] = plan.cost(height, width)
    return costs
