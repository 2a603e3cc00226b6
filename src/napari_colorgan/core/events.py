"""Typed events yielded by long-running work, so the GUI, the CLI and scripts drive one code path.

A consumer loops over a generator and dispatches on the event type::

    for event in train_iter(...):
        if isinstance(event, StepDone):
            ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class StopSignal(Protocol):
    """Anything with ``is_set()``, e.g. a :class:`threading.Event`: set it to stop cleanly."""

    def is_set(self) -> bool:
        """True once a stop was requested."""
        ...


@dataclass(frozen=True)
class Event:
    """Base of all events."""


@dataclass(frozen=True)
class Started(Event):
    """Training set up: what it runs on and with."""

    device: str
    total_steps: int | None
    start_step: int
    train_planes: int
    val_planes: int
    perceptual: str
    #: What ``precision="auto"`` (or the given one) became: ``fp32`` or ``bf16``.
    precision: str = "fp32"


@dataclass(frozen=True)
class StepDone(Event):
    """One optimisation step finished."""

    step: int
    total_steps: int | None
    losses: dict[str, float]
    lr: float
    elapsed: float


@dataclass(frozen=True)
class Validated(Event):
    """Metrics on the held-out validation tiles."""

    step: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class Preview(Event):
    """A fixed validation tile: input (y, x) float in [0, 1], prediction and truth uint8 RGB."""

    step: int
    gray: np.ndarray = field(repr=False)
    prediction: np.ndarray = field(repr=False)
    target: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class RegionPreview(Event):
    """The current model on a region the user is looking at: uint8 RGB (y, x, 3).

    ``where`` is what the region source returned with the crop (e.g. its plane and offset).
    A class model also gives its ``confidence`` there (y, x), float32 in [0, 1]: where to
    paint next (:func:`~napari_colorgan.core.train.suggest.least_confident`).
    """

    step: int
    prediction: np.ndarray = field(repr=False)
    where: Any
    confidence: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AnnotationsChanged(Event):
    """Repainted planes were taken in between steps (a live run).

    ``planes`` were rescanned; ``train_planes`` planes now feed training; ``class_pixels``
    counts the labelled pixels of each class; ``unknown_labels`` are painted ids the model has
    no class for (new since the start: training ignores them until it is started again).
    """

    step: int
    planes: tuple[tuple[int, ...], ...]
    train_planes: int
    class_pixels: tuple[int, ...]
    unknown_labels: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A resumable checkpoint was written (atomically)."""

    step: int
    path: Path


@dataclass(frozen=True)
class Planned(Event):
    """How a colorization will run, said before it starts.

    ``tiling`` names the windows (mode, largest side, overlap, windows per pass); ``why`` says
    how the default was chosen, or that the caller gave the tile; ``notice`` warns of a choice
    that costs quality (e.g. a window too small to tile exactly), or is None.
    """

    tiling: str
    why: str
    notice: str | None = None


@dataclass(frozen=True)
class Progress(Event):
    """Work units (e.g. output chunks) done out of the total; ``skipped`` were done before."""

    done: int
    total: int
    skipped: int
    elapsed: float


@dataclass(frozen=True)
class Finished(Event):
    """The run ended; ``result`` holds the product (e.g. the trained ``Colorizer``)."""

    step: int
    result: Any = field(repr=False)
    stopped: bool = False


def stop_requested(stop: StopSignal | None) -> bool:
    """True when ``stop`` is set."""
    return stop is not None and stop.is_set()
