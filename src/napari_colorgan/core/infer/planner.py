"""The planner: every window decision of a colorization, made in one place.

:func:`plan` turns a model, a plane size and a :class:`~.config.ColorizeConfig` into a
:class:`Plan`: exact or blended tiling, window and halo, windows per pass, and why. What a store
records as its tiling is :meth:`Plan.record`, and a store that records one hands it back as
``stored``, so a resume computes the same windows on any machine. It works for any plane size,
so a viewer asks it for the windows covering one tile of any pyramid level.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..devices import compute_dtype, dtype_name, pick_device
from ..model.config import NO_CLASSES, ModelConfig
from .config import ColorizeConfig
from .tiling import (
    WINDOWS_LAYOUT,
    AxisWindow,
    TilePlan,
    exact_capable,
    halo_of,
    smallest_exact_window,
)
from .window_size import choose_window, fit_batch

#: Output rows ``[y0, y1)`` and columns ``[x0, x1)`` of a plane.
Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class Plan:
    """How one plane size is colorized: the windows, the batch, the device and precision.

    Attributes
    ----------
    tiling
        Window layout (mode, largest window, overlap, grid, output block side).
    height, width
        The plane's size in pixels.
    batch_size
        Windows per forward pass.
    device, precision
        As configured (``"auto"`` is resolved where each task runs, which on a cluster may be
        another machine).
    why
        How the windows were chosen, for a person.
    notice
        A warning for a person, e.g. that the window asked for is too small to tile exactly.
    channels
        Output channels of a block: 3 (RGB), or 5 with the class index and confidence
        (:attr:`ColorizeConfig.classes`).
    flips
        Views of each window averaged (:attr:`ColorizeConfig.flips`).
    """

    tiling: TilePlan
    height: int
    width: int
    batch_size: int
    device: str = "auto"
    precision: str = "auto"
    why: str = field(default="", compare=False, repr=False)
    notice: str | None = field(default=None, compare=False, repr=False)
    channels: int = 3
    flips: int = 1

    def block_edges(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Output blocks' row and column edges (one block per plane below ``block_size``)."""
        return self.tiling.block_edges(self.height), self.tiling.block_edges(self.width)

    def windows(self, region: Region) -> tuple[list[AxisWindow], list[AxisWindow]]:
        """The row and column windows contributing to ``region``, kept ranges cut to it."""
        y0, y1, x0, x1 = region
        return self.tiling.windows(self.height, y0, y1), self.tiling.windows(self.width, x0, x1)

    def input_region(self, region: Region) -> Region:
        """The input rows and columns the windows of ``region`` read (cut at the plane's end)."""
        rows, cols = self.windows(region)
        ya, yb = rows[0].start, min(max(w.start + w.size for w in rows), self.height)
        xa, xb = cols[0].start, min(max(w.start + w.size for w in cols), self.width)
        return ya, yb, xa, xb

    def record(self) -> dict[str, int]:
        """The tiling a store records; passed back to :func:`plan` as ``stored``.

        Flips are recorded only when there are some, so stores begun before they existed
        keep their fingerprint and still resume.
        """
        flips = {"flips": self.flips} if self.flips != 1 else {}
        return {
            "tile": self.tiling.tile,
            "overlap": self.tiling.overlap,
            "windows": WINDOWS_LAYOUT,
            **flips,
        }

    def describe(self) -> str:
        """One line for a person: the windows of a plane, the work, the device and dtype."""
        t = self.tiling
        rows, cols = t.layout(self.height), t.layout(self.width)
        dev = pick_device(self.device)
        dtype = dtype_name(compute_dtype(dev, self.precision))
        return (
            f"{t.mode} tiling: {len(rows)}x{len(cols)} windows of up to "
            f"{max(w.size for w in rows)}x{max(w.size for w in cols)} px a plane (overlap >= "
            f"{t.overlap} px), {self.batch_size} per pass, computing "
            f"{t.cost(self.height, self.width):.2f}x the output pixels"
            + (f", each window seen {self.flips} ways" if self.flips > 1 else "")
            + f"; {dev}, {dtype}"
        )


def plan(
    model: ModelConfig,
    shape: tuple[int, ...],
    config: ColorizeConfig | None = None,
    stored: dict[str, Any] | None = None,
) -> Plan:
    """Decide the windows of planes of ``shape`` (..., y, x) for ``model`` under ``config``.

    Parameters
    ----------
    model
        The generator's architecture (depth: the grid and receptive field; width: memory).
    shape
        The input's shape; its last two axes are the plane (any pyramid level's).
    config
        The settings (default: :class:`ColorizeConfig`'s defaults).
    stored
        The tiling a store recorded (:meth:`Plan.record`): taken when ``config`` names no tile,
        so finishing a store keeps the windows it began with.

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        An unknown or unavailable device, or an overlap that does not fit the window.
    """
    config = config or ColorizeConfig()
    height, width = (int(n) for n in shape[-2:])
    dev = pick_device(config.device)
    dtype = compute_dtype(dev, config.precision)
    most = 16 if dev.type == "cuda" else 4
    tile, overlap, why = config.tile, config.overlap, "the window size was given"
    if tile is None and stored and "tile" in stored:
        tile, why = int(stored["tile"]), "the tiling the store was started with, to finish it"
        overlap = int(stored["overlap"]) if overlap is None else overlap
    choice = None
    if tile is None:
        choice = choose_window(
            model, height, width, dev, dtype, overlap=overlap, block=config.block_size,
            most_batch=most,
        )  # fmt: skip
        tile = choice.tile
    tiling = TilePlan.for_model(model, tile, overlap, config.block_size)
    if config.batch_size != "auto":  # the caller's word goes
        batch = int(config.batch_size)
    else:  # as many windows as fit the memory share, whoever chose the tile
        batch = choice.batch_size if choice else fit_batch(model, tiling.tile, dev, dtype, most)
    if choice is not None:
        why = dataclasses.replace(choice, batch_size=batch).describe()
    notice = _blend_notice(model, tiling, config)
    if config.classes and not model.classes:
        raise ValueError(NO_CLASSES)
    # A class index is one byte of a block, and the viewer keeps 255 for "not computed yet".
    if config.classes and len(model.classes) > 254:
        raise ValueError(
            f"class maps hold at most 254 classes; this model has {len(model.classes)}"
        )
    channels = 5 if config.classes else 3
    return Plan(
        tiling, height, width, batch, config.device, config.precision, why, notice, channels,
        config.flips,
    )  # fmt: skip


def _blend_notice(model: ModelConfig, tiling: TilePlan, config: ColorizeConfig) -> str | None:
    """The line that says a model able to tile exactly blends, because of what was asked."""
    if tiling.mode == "exact" or not exact_capable(model):
        return None
    halo, step, overlap = halo_of(model), 2 * tiling.grid, config.overlap
    if overlap is not None and overlap < 2 * halo:
        asked = f"an overlap of {overlap} px is less than the {2 * halo} px (two halos) it needs"
    elif overlap is not None and overlap % step:
        asked = f"an overlap of {overlap} px is not a multiple of {step} px"
    else:
        asked = f"windows of {tiling.tile} px leave no room for two halos of {halo} px"
    return (
        f"blended, not exact: {asked}. Blending hides the seams but differs from whole-plane "
        f"inference near them; exact tiling needs windows of at least "
        f"{smallest_exact_window(model)} px and an overlap of {2 * halo} px (the defaults)"
    )
