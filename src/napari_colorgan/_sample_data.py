"""Sample data for File > Open Sample: the synthetic EM stack and the Hubble Deep Field."""

from __future__ import annotations

from typing import Any

import numpy as np

LayerData = list[tuple[Any, dict[str, Any], str]]


def em_sample() -> LayerData:
    """An EM-like stack with painted labels (colours = the palette) and its tinted truth."""
    from napari_colorgan.core.annotations import tint
    from napari_colorgan.core.color import to_uint8
    from napari_colorgan.core.model.normalize import apply_normalization, fit_normalization
    from napari_colorgan.core.synthetic import LABEL_NAMES, synthetic_em

    em = synthetic_em((8, 256, 256), seed=0)
    # The truth keeps the lightness a Lab model keeps: the grayscale after the percentile
    # normalisation that training measures on this stack.
    lightness = apply_normalization(em.gray, fit_normalization(em.gray, "percentile"))
    truth = to_uint8(tint(lightness, em.labels, em.palette)[0])
    colors = {0: (0.0, 0.0, 0.0, 0.0), None: (0.0, 0.0, 0.0, 0.0)}
    colors.update({k: (*(np.array(c) / 255), 1.0) for k, c in em.palette.items()})
    sparse = em.labels.copy()
    sparse[2:] = 0  # annotate only the first two slices: train on them, colorize the rest
    return [
        (em.gray, {"name": "em"}, "image"),
        (
            sparse,
            {
                "name": "em labels",
                "colormap": _label_colormap(colors),
                "metadata": {"names": LABEL_NAMES},
            },
            "labels",
        ),
        (truth, {"name": "em truth", "rgb": True, "visible": False}, "image"),
    ]


def _label_colormap(colors: dict[Any, tuple[float, ...]]) -> Any:
    from napari.utils.colormaps import DirectLabelColormap

    return DirectLabelColormap(color_dict=colors)


def hubble_sample() -> LayerData:
    """The Hubble Deep Field (scikit-image): its lightness as grayscale, and the colour image."""
    from napari_colorgan.core.synthetic import hubble_deep_field

    gray, rgb = hubble_deep_field()
    return [
        (gray, {"name": "hubble"}, "image"),
        (rgb, {"name": "hubble colour", "rgb": True, "visible": False}, "image"),
    ]
