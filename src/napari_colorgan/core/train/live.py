"""Labels that change while a run trains: the ilastik loop (paint, look, paint more).

The GUI copies each repainted plane into a :class:`PaintedPlanes` queue, on its own thread.
Between two steps the run takes the queue (:func:`take_painted`): the planes are rescanned
(anchors and class counts), a newly annotated plane joins the training planes, a plane erased
clean leaves them, and the class weights follow the new counts. Tiles are read from the labels
the run was given, so when those are the painter's own array, the new strokes' pixels are
learnt from the next batch on.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from ..events import AnnotationsChanged
from .sampler import Region
from .step import class_weights

if TYPE_CHECKING:
    from .run import Run


class PaintedPlanes:
    """Repainted label planes waiting for the run: the latest copy of each, thread-safe.

    ``put`` is called by whoever paints (the GUI thread), ``take`` by the training thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, ...], np.ndarray] = {}

    def put(self, plane: tuple[int, ...], labels: np.ndarray) -> None:
        """Queue a copy of plane ``plane`` (its index over the leading axes): labels (y, x)."""
        if np.ndim(labels) != 2:
            raise ValueError(f"a painted plane must be 2D (y, x), got shape {np.shape(labels)}")
        copy = np.array(labels, copy=True)  # the painter goes on writing to the original
        with self._lock:
            self._pending[tuple(int(i) for i in plane)] = copy

    def take(self) -> dict[tuple[int, ...], np.ndarray]:
        """The planes queued since the last call, and an empty queue."""
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken


def take_painted(run: Run, painted: PaintedPlanes) -> AnnotationsChanged | None:
    """Apply the queued planes to ``run``; what changed, or None when nothing was queued."""
    planes = painted.take()
    if not planes:
        return None
    stack = run.stack
    unknown: set[int] = set()
    for plane, labels in planes.items():
        unknown.update(stack.rescan(plane, labels))
    _follow_annotated(run)
    if run.colorizer.config.classes:
        run.step_fn.class_weights = class_weights(stack.class_counts, run.config.class_balance)
        run.colorizer.set_class_bias(run.step_fn.class_weights)
    return AnnotationsChanged(
        run.step,
        tuple(sorted(planes)),
        run.n_train,
        tuple(int(c) for c in stack.class_counts),
        tuple(sorted(unknown)),
    )


def _follow_annotated(run: Run) -> None:
    """Train on every annotated plane that is not held out (and on at least one region).

    Held-out planes stay held out: their validation tiles were drawn at the start, so the
    scores stay comparable over the run.
    """
    stack, sampler = run.stack, run.sampler
    annotated = set(stack.annotated)
    # Planes that were trained on at the start come back with their own region (a single
    # plane's left part, say), even when validation also reads them.
    initial = {r.plane: r for r in run.train_regions}
    held_out = {r.plane for r in run.val_regions} - set(initial)
    kept = [r for r in sampler.regions if r.plane in annotated]
    have = {r.plane for r in kept}
    new = [
        initial.get(p, Region(p, 0, stack.width))
        for p in stack.annotated
        if p not in have | held_out
    ]
    regions = kept + new
    if regions:  # everything erased: go on with the old regions rather than stop
        sampler.regions = regions
    run.n_train = len({r.plane for r in sampler.regions})
