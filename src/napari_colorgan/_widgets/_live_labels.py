"""Strokes painted while training runs, handed to the run (the ilastik loop).

napari emits a Labels layer's ``paint`` event once per finished stroke or fill, with the edit's
history atoms. Each plane an edit touched is copied here, on napari's thread, into the run's
:class:`~napari_colorgan.core.train.live.PaintedPlanes` queue; the run takes it in between two
steps. An undo emits no ``paint`` event: the run sees it with the next stroke on that plane.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from napari_colorgan._widgets._common import level0


def painted_planes(atoms: Iterable[Any], shape: tuple[int, ...]) -> set[tuple[int, ...]]:
    """Planes (indices over the leading axes of ``shape``) that paint-history atoms touched.

    An atom's first item is either a bounding box (a tuple of slices, napari ≥ 0.6's masked
    atoms) or fancy indices (a tuple of integer arrays, one per axis).
    """
    lead = len(shape) - 2
    if lead <= 0:
        return {()}
    planes: set[tuple[int, ...]] = set()
    for atom in atoms:
        where = atom[0]
        if all(isinstance(w, slice) for w in where[:lead]):
            ranges = [range(*w.indices(n)) for w, n in zip(where[:lead], shape, strict=False)]
            planes.update(itertools.product(*ranges))
        else:
            rows = np.stack([np.asarray(w).ravel() for w in where[:lead]], axis=1)
            planes.update(tuple(int(i) for i in row) for row in np.unique(rows, axis=0))
    return planes


class LiveLabels:
    """Copy the planes painted in ``layer`` into ``painted`` until :meth:`close`."""

    def __init__(self, layer: Any, painted: Any) -> None:
        self.layer, self.painted = layer, painted
        self._due: set[tuple[int, ...]] = set()
        layer.events.paint.connect(self._on_paint)

    def _on_paint(self, event: Any) -> None:
        from qtpy.QtCore import QTimer

        # A single edit (``Labels.paint``, a fill) emits its event before writing the array:
        # the planes are copied on the next turn of napari's event loop, once written.
        if not self._due:
            QTimer.singleShot(0, self._copy_due)
        self._due.update(painted_planes(event.value, level0(self.layer).shape))

    def _copy_due(self) -> None:
        data, due = level0(self.layer), self._due
        self._due = set()
        for plane in due:
            self.painted.put(plane, np.asarray(data[plane]))

    def close(self) -> None:
        """Stop following the layer (planes painted just before are still handed over)."""
        self.layer.events.paint.disconnect(self._on_paint)
