"""The Train widget's progress bar in napari's activity dock, redrawn at a bounded rate."""

from __future__ import annotations

import time
from typing import Any

#: Seconds between redraws of napari's bar: each one runs napari's event loop and repaints the
#: window (about 20 ms on 2 cores, ``benchmarks/gui_block_train.py``), while training steps
#: come every few milliseconds.
BAR_SECONDS = 0.5


class ActivityBar:
    """Steps done, or seconds spent of a time budget, on a ``napari.utils.progress`` bar.

    The bar is made at the first step of a run and shows its latest value at most every
    :data:`BAR_SECONDS`, and exactly when it closes.
    """

    def __init__(self) -> None:
        self.bar: Any = None  # napari.utils.progress, while a run lasts
        self._in_seconds = False
        self._done = 0  # the latest value
        self._drawn = -float("inf")  # time.monotonic() of the last redraw

    def advance(self, event: Any, minutes: float | None) -> None:
        """Take a ``StepDone`` event; ``minutes`` is the run's budget (None: by steps)."""
        if self.bar is None:
            from napari.utils import progress

            # Decided once per run: the budget box may change while training.
            seconds = round(minutes * 60) if minutes else 0
            self.bar = progress(total=seconds or event.total_steps, desc="training colorizer")
            self._in_seconds, self._drawn = bool(seconds), -float("inf")
        self._done = min(round(event.elapsed), self.bar.total) if self._in_seconds else event.step
        if time.monotonic() - self._drawn >= BAR_SECONDS:
            self._draw()

    def close(self) -> None:
        """Show the last value (not the last one drawn) and take the bar away."""
        if self.bar is not None:
            self._draw()
            self.bar.close()
            self.bar = None

    def _draw(self) -> None:
        if self._done != self.bar.n:
            self._drawn = time.monotonic()
            self.bar.update(self._done - self.bar.n)
