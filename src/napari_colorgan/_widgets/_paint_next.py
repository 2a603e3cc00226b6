"""The Train widget's "where to paint next": where the running class model is least sure.

Each view preview of a class model brings its confidence over the region in view (the same
forward pass as the preview's colour). With the toggle on, the uncertainty (1 − confidence) is
laid over the image as a translucent layer, and the least confident cells, spread over the
view (:func:`~napari_colorgan.core.train.suggest.least_confident`), are marked with squares to
paint in. Turning the toggle off removes both layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui.widgets import CheckBox

#: The layers shown.
OVERLAY = "where to paint next"
POINTS = "paint here next"
#: Squares marked per preview.
SPOTS = 5


class PaintNext:
    """The toggle and the two layers it shows; fed by the Train widget's view previews."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.toggle = CheckBox(text="show where to paint next (labels)", value=False)
        self.toggle.changed.connect(self._toggled)
        self.spots: list[Any] = []  # the latest suggestions, in the map's pixels

    def show(self, confidence: np.ndarray | None, image: Any, offset: Any) -> None:
        """Lay the uncertainty of a preview over ``image`` from pixel ``offset`` (y, x).

        Nothing happens with the toggle off or for a colour model (no confidence).
        """
        from napari_colorgan.core.train.suggest import CELL, least_confident

        if not self.toggle.value or confidence is None:
            return
        scale = np.asarray(image.scale[-2:], float)
        translate = np.asarray(image.translate[-2:], float) + scale * np.asarray(offset)
        self._overlay(1 - confidence, scale, translate)
        self.spots = least_confident(confidence, SPOTS)
        where = np.array([[s.y, s.x] for s in self.spots]).reshape(-1, 2) * scale + translate
        size = float(CELL * scale.mean())
        if POINTS in self.viewer.layers:
            layer = self.viewer.layers[POINTS]
            layer.data, layer.size = where, size
        else:
            self.viewer.add_points(
                where, name=POINTS, size=size, symbol="square", face_color="transparent",
                border_color="yellow", border_width=0.08,
            )  # fmt: skip

    def _overlay(self, uncertainty: np.ndarray, scale: np.ndarray, translate: np.ndarray) -> None:
        """The translucent uncertainty layer: bright where the model hesitates."""
        if OVERLAY in self.viewer.layers:
            layer = self.viewer.layers[OVERLAY]
            layer.data, layer.translate = uncertainty, translate
            return
        self.viewer.add_image(
            uncertainty, name=OVERLAY, scale=scale, translate=translate, colormap="inferno",
            contrast_limits=(0.0, 1.0), opacity=0.45, blending="additive",
        )  # fmt: skip

    def _toggled(self, on: bool) -> None:
        if on:
            return
        for name in (OVERLAY, POINTS):
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
