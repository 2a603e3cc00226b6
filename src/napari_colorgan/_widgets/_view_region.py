"""The part of the image a user is looking at, for live training previews.

Read on napari's thread whenever the view moves (the training thread never touches layers);
training takes the latest crop at each validation and sends back its colours.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_colorgan._widgets._common import current_plane_index, level0, visible_region

#: The crop's largest side: the centre of the view when more is shown (matches the core cap).
SIDE = 512


def centred(region: tuple[slice, slice], side: int) -> tuple[slice, slice]:
    """At most ``side`` x ``side`` around the centre of ``region``."""
    out = []
    for r in region:
        length = min(r.stop - r.start, side)
        start = r.start + (r.stop - r.start - length) // 2
        out.append(slice(start, start + length))
    return out[0], out[1]


def view_camera(viewer: Any) -> Any:
    """The viewer's camera: ``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before."""
    scene = getattr(viewer, "scene", None)
    return getattr(scene, "camera", None) or viewer.camera


class ViewRegion:
    """The visible crop of the current plane of ``layer`` (a :class:`RegionSource`).

    ``latest()`` returns ``(crop, (plane index, (row, column) offset))``.
    """

    def __init__(self, viewer: Any, layer: Any) -> None:
        self.viewer, self.layer = viewer, layer
        self.data = level0(layer)
        self._latest: tuple[np.ndarray, Any] | None = None
        self._key: Any = None  # (plane, rows, columns) of the crop read last
        camera = view_camera(viewer)
        self._events = [camera.events.center, camera.events.zoom]
        self._events.append(viewer.dims.events.current_step)
        for event in self._events:
            event.connect(self.update)
        self.update()

    def update(self, *_args: Any) -> None:
        """Read the crop now shown (on napari's thread); the training thread only reads it."""
        shape = self.data.shape[-2:]
        region = visible_region(self.layer, shape) or (slice(0, shape[0]), slice(0, shape[1]))
        ys, xs = centred(region, SIDE)
        plane = current_plane_index(self.viewer, self.data.ndim)
        key = (plane, (ys.start, ys.stop), (xs.start, xs.stop))
        if key == self._key:
            return  # panning within a plane shown whole: the same crop, not read again
        self._key = key
        crop = np.asarray(self.data[(*plane, ys, xs)])
        self._latest = (crop, (plane, (ys.start, xs.start)))  # one assignment: thread-safe

    def latest(self) -> tuple[np.ndarray, Any] | None:
        """The last crop read (called from the training thread)."""
        return self._latest

    def close(self) -> None:
        """Stop following the view."""
        for event in self._events:
            event.disconnect(self.update)
