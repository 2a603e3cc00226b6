"""A live loss plot drawn with Qt itself: no plotting library, cheap to repaint every step."""

from __future__ import annotations

import math

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

#: (label, loss keys averaged into it, colour): the terms of γ·(L_cGAN + λ·L1) + (1-γ)·L_VGG,
#: the discriminator's two halves, and the cross entropy a class model fits in L1's place.
SERIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("G adv", ("g_gan",), "#e6550d"),
    ("D", ("d_real", "d_fake"), "#3182bd"),
    ("L1", ("g_l1",), "#31a354"),
    ("VGG", ("g_vgg",), "#9e4ac7"),
    ("CE", ("g_ce",), "#d62728"),
)
#: Points drawn per series at most; longer histories are thinned evenly.
MAX_POINTS = 600
FLOOR = 1e-6  # smallest loss drawn on the log axis


class LossPlot(QWidget):
    """Generator, discriminator, L1 and VGG losses against the step, on a log axis.

    Losses of different terms differ by orders of magnitude (L1 ~ 0.05 next to an adversarial
    term ~ 1), so one log axis shows them all.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._steps: list[int] = []
        self._values: dict[str, list[float]] = {label: [] for label, _, _ in SERIES}
        # Smallest and largest log10 of the positive values, kept up to date as steps arrive
        # so a repaint does not rescan the whole history.
        self._extent: tuple[float, float] | None = None
        self._background, self._ink = "#262930", "#8a8f98"  # napari's dark theme

    def set_theme(self, background: str, ink: str) -> None:
        """Colours of the plot's background and of its frame and text (a napari theme's)."""
        self._background, self._ink = background, ink
        self.update()

    def add(self, step: int, losses: dict[str, float]) -> None:
        """Append one step's losses and repaint.

        A step at or before the last one (training resumed from an earlier checkpoint) first
        drops the history from that step on, so the curves never run backwards.
        """
        if self._steps and step <= self._steps[-1]:
            keep = next(i for i, s in enumerate(self._steps) if s >= step)
            del self._steps[keep:]
            self._extent = None
            for values in self._values.values():
                del values[keep:]
                for value in values:
                    self._widen(value)
        self._steps.append(step)
        for label, keys, _ in SERIES:
            present = [losses[k] for k in keys if k in losses]
            value = sum(present) / len(present) if present else math.nan
            self._values[label].append(value)
            self._widen(value)
        self.update()

    def _widen(self, value: float) -> None:
        if not value > 0:  # zero or NaN: not on the log axis
            return
        v = math.log10(max(value, FLOOR))
        lo, hi = self._extent or (v, v)
        self._extent = (min(lo, v), max(hi, v))

    def clear(self) -> None:
        """Forget the history (a new training)."""
        self._steps.clear()
        self._extent = None
        for values in self._values.values():
            values.clear()
        self.update()

    def series(self, label: str) -> list[tuple[int, float]]:
        """The ``(step, value)`` points of one curve."""
        return list(zip(self._steps, self._values[label], strict=True))

    # ---- drawing -------------------------------------------------------------------------

    def paintEvent(self, _event: object) -> None:  # Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(self._background))
        frame = QRectF(self.rect()).adjusted(58, 8, -8, -22)
        painter.setPen(QPen(QColor(self._ink)))
        painter.drawRect(frame)
        if len(self._steps) < 2:
            painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, "losses appear as training runs")
            return
        lo, hi = self._log_range()
        self._draw_axes(painter, frame, lo, hi)
        keep = range(0, len(self._steps), max(1, math.ceil(len(self._steps) / MAX_POINTS)))
        first, last = self._steps[0], max(self._steps[-1], self._steps[0] + 1)
        for n, (label, _, colour) in enumerate(SERIES):
            points = []
            for i in keep:
                value = self._values[label][i]
                if not value > 0:  # a term switched off (0) has no place on a log axis
                    continue
                fx = (self._steps[i] - first) / (last - first)
                fy = (math.log10(max(value, FLOOR)) - lo) / (hi - lo)
                points.append(
                    QPointF(
                        frame.left() + fx * frame.width(), frame.bottom() - fy * frame.height()
                    )
                )
            painter.setPen(QPen(QColor(colour if points else self._ink), 1.5))
            painter.drawPolyline(QPolygonF(points))
            legend = label if points else f"{label} off"
            painter.drawText(QPointF(frame.left() + 8 + 62 * n, frame.top() + 14), legend)

    def _log_range(self) -> tuple[float, float]:
        if self._extent is None:
            return 0.0, 1.0
        lo, hi = math.floor(self._extent[0]), math.ceil(self._extent[1])
        return lo, hi if hi > lo else lo + 1

    def _draw_axes(self, painter: QPainter, frame: QRectF, lo: float, hi: float) -> None:
        painter.setPen(QPen(QColor(self._ink)))
        for decade in range(int(lo), int(hi) + 1):
            y = frame.bottom() - (decade - lo) / (hi - lo) * frame.height()
            painter.drawText(QRectF(14, y - 8, 40, 16), Qt.AlignmentFlag.AlignRight, f"1e{decade}")
        painter.drawText(
            QRectF(frame.left(), frame.bottom() + 2, frame.width(), 18),
            Qt.AlignmentFlag.AlignCenter,
            f"training step ({self._steps[0]} – {self._steps[-1]})",
        )
        # The y axis' name, written upwards along the left edge.
        painter.save()
        painter.translate(12, frame.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-60, -10, 120, 14), Qt.AlignmentFlag.AlignCenter, "loss (log)")
        painter.restore()
