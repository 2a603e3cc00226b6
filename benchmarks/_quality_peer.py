"""The pixel-classifier peer (ilastik / convpaint recipe) of the quality benchmark."""

from __future__ import annotations

import argparse

import numpy as np
from _quality_common import (
    RF_MAX_SAMPLES,
    THREADS,
    EMSetting,
    Prediction,
    SDSSSetting,
    Timer,
    lab_to_rgb,
    rgb_to_lab,
)
from _quality_scores import class_scores, em_truth

# ---- the pixel-classifier peer -------------------------------------------------------------------


def rf_features(image: np.ndarray) -> np.ndarray:
    """scikit-image multiscale features (y, x, F): intensity, edges, texture, sigma 1-16."""
    from skimage.feature import multiscale_basic_features

    return multiscale_basic_features(
        np.asarray(image, np.float32),
        intensity=True,
        edges=True,
        texture=True,
        sigma_min=1,
        sigma_max=16,
        workers=THREADS,
    ).astype(np.float32)


def class_quotas(counts: dict[int, int], cap: int, balanced: bool) -> dict[int, int]:
    """Pixels to draw per class: all when they fit under ``cap``, else stratified.

    Proportional (default): each class keeps its share of the annotations, with a floor of
    1 % of ``cap`` so rare classes stay represented. Balanced: an equal quota per class.
    """
    total = sum(counts.values())
    if total <= cap:
        return dict(counts)
    if balanced:
        return {c: min(n, cap // len(counts)) for c, n in counts.items()}
    floor = cap // 100
    return {c: min(n, max(round(cap * n / total), floor)) for c, n in counts.items()}


def stratified_pixels(
    labels: np.ndarray, cap: int, rng: np.random.Generator, balanced: bool = False
) -> tuple[np.ndarray, ...]:
    """Indices (z, y, x) of at most ~``cap`` annotated pixels, stratified by class."""
    where = {int(c): np.flatnonzero(labels == c) for c in np.unique(labels) if c > 0}
    quotas = class_quotas({c: idx.size for c, idx in where.items()}, cap, balanced)
    picks = [rng.choice(idx, size=quotas[c], replace=False) for c, idx in where.items()]
    return np.unravel_index(np.sort(np.concatenate(picks)), labels.shape)


def peer_em(
    setting: EMSetting, train01: np.ndarray, test01: np.ndarray, args: argparse.Namespace
) -> tuple[Prediction, np.ndarray]:
    """Random-forest pixel classifier on multiscale features; rendered with the tint."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(args.seed)
    with Timer() as fit_t:
        zs, ys, xs = stratified_pixels(
            setting.train_labels, RF_MAX_SAMPLES, rng, args.rf_sampling == "balanced"
        )
        feats, targets = [], []
        for z in np.unique(zs):
            sel = zs == z
            f = rf_features(train01[z])
            feats.append(f[ys[sel], xs[sel]])
            targets.append(setting.train_labels[z, ys[sel], xs[sel]])
        forest = RandomForestClassifier(
            n_estimators=args.rf_trees, max_depth=10, n_jobs=THREADS, random_state=args.seed
        )
        forest.fit(np.concatenate(feats), np.concatenate(targets))
    with Timer() as pred_t:
        classes = np.stack(
            [
                forest.predict(rf_features(g).reshape(-1, forest.n_features_in_)).reshape(g.shape)
                for g in test01
            ]
        ).astype(np.uint8)
        rgb = em_truth(test01, classes)
    extra = {
        "train_samples": len(zs),
        "sampling": args.rf_sampling,
        "train_cpu_s": fit_t.cpu,
        "predict_s": pred_t.wall,
        "total_s": fit_t.wall + pred_t.wall,
        "n_estimators": args.rf_trees,
        "max_depth": 10,
        "direct": class_scores(classes, setting.test_classes),
    }
    return Prediction(rgb, fit_t.wall, extra), classes


def sdss_lightness(s: SDSSSetting) -> tuple[np.ndarray, np.ndarray]:
    """Held-out L* from an isotonic map input → truth L* fitted on the training columns; mean ab."""
    from sklearn.isotonic import IsotonicRegression

    lab = rgb_to_lab(s.train_truth)
    iso = IsotonicRegression(out_of_bounds="clip").fit(s.train_input.ravel(), lab[..., 0].ravel())
    lightness = iso.predict(s.test_input.ravel()).reshape(s.test_input.shape)
    return lightness.astype(np.float32), lab[..., 1:].reshape(-1, 2).mean(0)


def asinh_stretch(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """arcsinh(x / noise), the noise (MAD) measured on ``ref`` (training columns only)."""
    noise = float(np.median(np.abs(ref - np.median(ref)))) or 1.0
    return np.arcsinh(x / noise).astype(np.float32)


def peer_sdss(s: SDSSSetting, args: argparse.Namespace) -> Prediction:
    """Random-forest regressor from multiscale features of the stretched input to Lab."""
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(args.seed)
    with Timer() as fit_t:
        feats = rf_features(asinh_stretch(s.train_input, s.train_input))
        flat = feats.reshape(-1, feats.shape[-1])
        lab = rgb_to_lab(s.train_truth).reshape(-1, 3)
        pick = rng.permutation(len(flat))[:RF_MAX_SAMPLES]
        forest = RandomForestRegressor(
            n_estimators=args.rf_trees, max_depth=10, n_jobs=THREADS, random_state=args.seed
        )
        forest.fit(flat[pick], lab[pick])
    with Timer() as pred_t:
        test = rf_features(asinh_stretch(s.test_input, s.train_input))
        out = forest.predict(test.reshape(-1, test.shape[-1])).reshape(*s.test_input.shape, 3)
        rgb = lab_to_rgb(out)
    extra = {
        "train_samples": len(pick),
        "train_cpu_s": fit_t.cpu,
        "predict_s": pred_t.wall,
        "total_s": fit_t.wall + pred_t.wall,
        "n_estimators": args.rf_trees,
        "max_depth": 10,
    }
    return Prediction(rgb, fit_t.wall, extra)
