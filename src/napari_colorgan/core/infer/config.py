"""``ColorizeConfig``: every setting of a colorization, frozen, the one home of their defaults.

The CLI, the Colorize widget and scripts read defaults and allowed values from here
(:meth:`ColorizeConfig.default`, :meth:`ColorizeConfig.choices`), as training does with
``TrainConfig``. What the settings *become* for one model, plane size and machine (windows,
halo, batch, dtype) is the planner's decision (:func:`~napari_colorgan.core.infer.planner.plan`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..io.selection import parse_slices
from ..settings import Precision, Settings

#: Largest inference window side accepted (pixels): far beyond any device's memory already.
MAX_TILE = 16384
#: Output block side (pixels) for planes too large to compute as one block.
BLOCK = 4096
#: Most windows per forward pass accepted: more is a typo.
MAX_BATCH = 4096
#: Test-time flips allowed: the first 1, 2, 4 or 8 of the square's symmetries (``flips.py``).
FLIPS = (1, 2, 4, 8)


def check_count(name: str, value: object, most: int, unit: str = "") -> int:
    """``value`` as an int in ``[1, most]``, or a ``ValueError`` naming the setting.

    Zero or negative sizes used to be clamped or looped over silently (a store of black chunks
    flagged done); a size beyond ``most`` is a typo, not a request.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not 1 <= int(value) <= most:
        unit = f" {unit}" if unit else ""
        raise ValueError(f"{name} must lie between 1 and {most}{unit}, got {value}")
    return int(value)


@dataclass(frozen=True)
class ColorizeConfig(Settings):
    """Settings of one colorization (lazy array, zarr store, viewer layer alike).

    Parameters
    ----------
    tile
        Largest window side in pixels (a ceiling: an axis gets the fewest windows of one size
        that cover it). None: the layout that computes the fewest pixels among those whose
        activations fit a share of the device's memory.
    overlap
        Least overlap of neighbouring windows in pixels. None: from the model (twice the halo
        where the receptive field allows exact tiling, else a quarter of its training tile).
    batch_size
        Windows per forward pass, or ``"auto"``: as many as fit the same memory share, at most
        16 on CUDA and 4 elsewhere.
    device
        ``"auto"`` (CUDA, then MPS, then CPU, decided where each task runs), ``"cpu"``,
        ``"cuda:0"``, ``"mps"``.
    precision
        ``"auto"`` (bf16 on CUDA and on CPUs with native bf16, fp16 on CUDA without bf16, fp32
        elsewhere: the rule training uses), ``"fp32"``, ``"bf16"`` or ``"fp16"``.
    block_size
        Side of the output blocks (and zarr chunks) planes larger than it are cut into.
    slices
        Planes of the first axis, as typed: ``"0:20"``, ``"5"``, ``"-1"``; None for all.
    worker_resources
        Dask worker resources each task claims on a cluster, e.g. ``{"GPU": 1}`` with workers
        started as ``dask worker --resources GPU=1``.
    parallel
        Blocks computed at once when writing a store (None: the scheduler's worker count,
        at least 2).
    classes
        Also compute each pixel's class and the model's confidence in it (models trained on
        labels only): blocks then hold five channels, RGB, the class's index in the model's
        palette and the confidence (the top class probability) times 255.
    flips
        Test-time augmentation: each window goes through the network this many times (1, 2,
        4 or 8), mirrored and turned, and the outputs are averaged: smoother, more accurate
        colour and classes at that many times the compute. 1 (one pass) by default.
    """

    tile: int | None = None
    overlap: int | None = None
    batch_size: int | Literal["auto"] = "auto"
    device: str = "auto"
    precision: Precision = "auto"
    block_size: int = BLOCK
    slices: str | None = None
    worker_resources: Mapping[str, float] | None = field(default=None, compare=False)
    parallel: int | None = None
    classes: bool = False
    flips: int = 1

    def __post_init__(self) -> None:
        if self.tile is not None:
            check_count("tile", self.tile, MAX_TILE, "px")
        if self.overlap is not None and (
            isinstance(self.overlap, bool) or not isinstance(self.overlap, int | np.integer)
        ):
            raise ValueError(f"overlap must be a whole number of pixels, got {self.overlap!r}")
        if self.overlap is not None and self.overlap < 0:
            raise ValueError(f"overlap must be >= 0 px, got {self.overlap}")
        if self.batch_size != "auto":
            check_count("batch_size", self.batch_size, MAX_BATCH)
        if self.precision not in self.choices("precision"):
            allowed = ", ".join(self.choices("precision"))
            raise ValueError(f"precision must be one of {allowed}, got {self.precision!r}")
        check_count("block_size", self.block_size, 1 << 20, "px")
        parse_slices(self.slices)  # a typo is named now, not after the model loaded
        if self.parallel is not None:
            check_count("parallel", self.parallel, 1024)
        ok = isinstance(self.flips, int | np.integer) and not isinstance(self.flips, bool)
        if not ok or self.flips not in FLIPS:
            allowed = ", ".join(map(str, FLIPS))
            raise ValueError(f"flips must be one of {allowed}, got {self.flips!r}")

    @classmethod
    def create(cls, config: ColorizeConfig | None = None, **overrides: Any) -> ColorizeConfig:
        """``config`` (or the defaults) with ``overrides``; a ``slice`` becomes its text.

        What ``colorize(data, model, tile=256)`` and the CLI use to build one config.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if {"overwrite", "resume"} & set(unknown):
            raise ValueError(
                "overwrite= and resume= became one choice: if_exists='overwrite', 'resume' "
                "(the default) or 'fail', given to colorize_to_zarr or ZarrTarget"
            )
        if unknown:
            raise ValueError(f"unknown colorize settings {unknown}; known: {sorted(known)}")
        if isinstance(overrides.get("slices"), slice):
            overrides["slices"] = slice_text(overrides["slices"])
        return dataclasses.replace(config or cls(), **overrides)

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """The allowed values of ``"precision"`` or the suggested ones of ``"device"``."""
        if name == "device":
            return ("auto", "cpu", "cuda:0", "mps")
        return super().choices(name)

    @property
    def selection(self) -> slice | None:
        """``slices`` as a ``slice`` of the first axis (None: every plane)."""
        return parse_slices(self.slices)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = dataclasses.asdict(self)
        if self.worker_resources is not None:
            out["worker_resources"] = dict(self.worker_resources)
        return out


def slice_text(selection: slice) -> str:
    """A ``slice`` of planes as the text ``parse_slices`` reads (``slice(0, 20)``: ``"0:20"``)."""
    if selection.step not in (None, 1):
        raise ValueError(f"slices take no step, got {selection}")
    start = "" if selection.start is None else str(selection.start)
    stop = "" if selection.stop is None else str(selection.stop)
    return f"{start}:{stop}"
