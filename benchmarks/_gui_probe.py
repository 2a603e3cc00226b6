"""Probes of napari's GUI thread for the GUI benchmarks: how long it was busy, and on what.

:class:`Ticks` is a 10 ms timer on the GUI thread: a gap between its ticks is a time the thread
could not run it. :class:`StackSampler` records the GUI thread's stack while the timer is late.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback

import numpy as np

SAMPLE_S = 0.02
BLOCK_S = 0.1


class Ticks:
    """Timestamps of a 10 ms timer on the GUI thread: gaps are times the thread was busy."""

    def __init__(self) -> None:
        from qtpy.QtCore import QTimer

        self.times: list[float] = [time.perf_counter()]
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def longest_gap(self, since: float) -> tuple[float, float]:
        """The longest gap after ``since`` and when it ended (seconds after ``since``)."""
        t = np.array([since, *[x for x in self.times if x >= since]])
        if t.size < 2:
            return 0.0, 0.0
        i = int(np.argmax(np.diff(t)))
        return float(t[i + 1] - t[i]), float(t[i + 1] - since)

    def gaps(self, since: float) -> np.ndarray:
        """(start, length) of every gap between ticks after ``since``."""
        t = np.array([x for x in self.times if x >= since])
        return np.stack([t[:-1] - since, np.diff(t)], axis=1) if t.size > 1 else np.zeros((0, 2))


class StackSampler(threading.Thread):
    """Every ``SAMPLE_S``, the GUI thread's stack, kept while the timer is late by > BLOCK_S."""

    def __init__(self, ticks: Ticks, main_id: int) -> None:
        super().__init__(daemon=True)
        self.ticks, self.main_id = ticks, main_id
        self.samples: list[tuple[float, tuple[str, ...]]] = []  # (time, formatted stack)
        self.others: list[str] = []  # the other threads' innermost frames, at the same times
        self.own_lateness: list[float] = []  # how late this thread woke (GIL contention)
        self._halt = threading.Event()

    def run(self) -> None:
        """Sample until :meth:`halt`."""
        due = time.perf_counter()
        while not self._halt.is_set():
            due += SAMPLE_S
            time.sleep(max(0.0, due - time.perf_counter()))
            now = time.perf_counter()
            self.own_lateness.append(now - due)
            due = max(due, now - SAMPLE_S)
            if now - self.ticks.times[-1] <= BLOCK_S:
                continue
            frames = sys._current_frames()
            frame = frames.get(self.main_id)
            if frame is not None:
                self.samples.append((now, tuple(traceback.format_stack(frame))))
                self.others.extend(
                    f"{f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno} {f.f_code.co_name}"
                    for ident, f in frames.items()
                    if ident not in (self.main_id, self.ident)
                )

    def halt(self) -> None:
        """Stop sampling."""
        self._halt.set()
        self.join()
