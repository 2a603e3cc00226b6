"""Colorization quality metrics: against colour ground truth, or against painted labels.

Re-exported from :mod:`napari_colorgan.core.metrics` and
:mod:`napari_colorgan.core.label_metrics`.
"""

from napari_colorgan.core.label_metrics import (
    LabelScores,
    decode_classes,
    evaluate_labels,
    evaluate_labels_iter,
)
from napari_colorgan.core.metrics import *  # noqa: F403
from napari_colorgan.core.metrics import __all__ as _colour_metrics

__all__ = [
    *_colour_metrics,
    "LabelScores",
    "decode_classes",
    "evaluate_labels",
    "evaluate_labels_iter",
]
