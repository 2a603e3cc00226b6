"""EM truth, class decoding, scores and the mean-chroma baseline of the quality benchmark."""

from __future__ import annotations

import threading
from typing import Any

import _real_data as rd
import numpy as np
from _quality_common import EMSetting, rgb_to_lab, tint_fn

# ---- EM truth, decoding and scores --------------------------------------------------------------


def reference_normalization(setting: EMSetting) -> tuple[float, float]:
    """The (low, high) the package fits on the training stack (default settings).

    The public API has no "fit the input normalisation" call, so this starts a training run
    with a stop signal already set: it ends before the first step and returns the untrained
    Colorizer, whose ``normalization`` is what every default run on this stack uses.
    """
    import napari_colorgan as ncg

    stop = threading.Event()
    stop.set()
    model = ncg.train(
        setting.train_raw,
        labels=setting.train_labels,
        palette=rd.EM_PALETTE,
        config=ncg.TrainConfig(perceptual_weights="none", checkpoint_every=0),
        device="cpu",
        stop=stop,
    )
    norm = model.normalization
    if norm.method != "percentile":
        raise RuntimeError(f"expected the default percentile normalisation, got {norm}")
    return float(norm.low), float(norm.high)


def normalise(raw: np.ndarray, low: float, high: float) -> np.ndarray:
    """Raw grey values to [0, 1] float32 as the percentile normalisation does."""
    out = (np.asarray(raw, np.float32) - np.float32(low)) / np.float32(high - low)
    return np.clip(out, 0, 1)


def em_truth(gray01: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The colour truth: the package's tint, float32 RGB (..., y, x, 3) in [0, 1]."""
    rgb, _ = tint_fn()(gray01, classes.astype(np.int64), rd.EM_PALETTE)
    return rgb


class ClassDecoder:
    """Decode colours to classes: the class whose tint of the pixel's grey is nearest in Lab."""

    def __init__(self, gray01: np.ndarray) -> None:
        ids = sorted(rd.EM_CLASSES)
        self.ids = np.array(ids)
        # (planes, classes, y, x, 3) candidate colours, computed once per held-out set.
        self.candidates = np.stack(
            [
                np.stack([rgb_to_lab(em_truth(g, np.full(g.shape, c, np.int64))) for c in ids])
                for g in gray01
            ]
        )

    def decode(self, rgb: np.ndarray) -> np.ndarray:
        """Class ids (z, y, x) of predicted colours (z, y, x, 3)."""
        out = np.empty(rgb.shape[:-1], np.uint8)
        for z in range(rgb.shape[0]):
            lab = rgb_to_lab(rgb[z])
            dist = ((self.candidates[z] - lab[None]) ** 2).sum(-1)
            out[z] = self.ids[dist.argmin(0)]
        return out


MEMBRANE = next(c for c, name in rd.EM_CLASSES.items() if name == "membrane")


def class_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, Any]:
    """Pixel accuracy, per-class F1 (named), macro-F1 over the classes in the truth, the
    membrane-against-the-rest accuracy and the confusion matrix (rows: truth).

    The membrane-against-the-rest accuracy is the measure of two-class membrane benchmarks
    such as ISBI 2012 (1 − its pixel error), where this data has five classes.
    """
    k = max(rd.EM_CLASSES) + 1
    cm = np.bincount(true.ravel().astype(np.int64) * k + pred.ravel(), minlength=k * k)
    cm = cm.reshape(k, k)
    f1 = {}
    for c, name in rd.EM_CLASSES.items():
        tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c, :].sum() - cm[c, c]
        if cm[c, :].sum():
            f1[name] = float(2 * tp / max(2 * tp + fp + fn, 1))
    return {
        "class_accuracy": float(np.trace(cm) / cm.sum()),
        "macro_f1": float(np.mean(list(f1.values()))),
        "f1": f1,
        "membrane_vs_rest_accuracy": _one_against_rest(cm, MEMBRANE),
        "confusion": cm.tolist(),
    }


def _one_against_rest(cm: np.ndarray, c: int) -> float:
    """Accuracy of telling class ``c`` from all others, from a confusion matrix."""
    wrong = cm[c, :].sum() + cm[:, c].sum() - 2 * cm[c, c]
    return float(1 - wrong / cm.sum())


def colour_scores(pred: np.ndarray, truth: np.ndarray, ssim: bool = True) -> dict[str, float]:
    """PSNR, SSIM, MAE and colourfulness (ours and truth's) from ``napari_colorgan.metrics``."""
    import napari_colorgan as ncg

    m = ncg.metrics
    if ssim:
        scores = m.evaluate(pred, truth)
    else:
        scores = {
            "psnr": m.psnr(pred, truth),
            "mae": m.mae(pred, truth),
            "colorfulness": m.colorfulness(pred),
            "colorfulness_target": m.colorfulness(truth),
        }
    return {k: float(v) for k, v in scores.items() if k != "accuracy"}


# ---- baselines ----------------------------------------------------------------------------------


def em_mean_ab(setting: EMSetting, gray01: np.ndarray, seed: int) -> np.ndarray:
    """Mean Lab (a, b) of the annotated training targets (≤ 1M pixels sampled)."""
    rng = np.random.default_rng(seed)
    abs_ = []
    for g, labels in zip(gray01, setting.train_labels, strict=True):
        if not labels.any():
            continue
        rgb, mask = tint_fn()(g, labels.astype(np.int64), rd.EM_PALETTE)
        px = rgb[mask]
        abs_.append(px[rng.permutation(len(px))[:200_000]])
    return rgb_to_lab(np.concatenate(abs_))[:, 1:].mean(0)
