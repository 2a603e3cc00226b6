"""Quality on real data: our colorizer vs plain baselines and a pixel-classifier peer.

Run (from the repository root, with the project's virtual environment)::

    .venv/bin/python benchmarks/quality.py --smoke                       # pipeline check, < 1 min
    .venv/bin/python benchmarks/quality.py --budgets 1 --label default   # one real measurement
    .venv/bin/python benchmarks/quality.py --settings dense strokes --budgets 1 5 10 \\
        --label no-vgg --config '{"perceptual_weights": "none"}'          # a variant to compare

Settings (``--settings``, default all three):

- ``dense``: EM sections 0-13 train with all their labels; sections 14-19 are held out.
- ``strokes``: simulated brush strokes (random walks ~3 px wide, inside each class region,
  ~1 % of the pixels of sections 0, 3, 6, 9, 12, every class present; seeded); the other
  training sections are unannotated. Same held-out sections.
- ``sdss``: the g+r+i sum (float32) is the grayscale input, the Lupton RGB composite the
  truth; train on the left 60 % of the columns, judge on the right 40 %.

Methods, all learning from the same annotations:

- ``gray``: the truth's lightness, zero chroma. ``mean chroma``: that lightness with the mean
  Lab (a, b) of the annotated training targets everywhere.
- ``peer (RF)``: what ilastik / convpaint users do: scikit-image ``multiscale_basic_features``
  (intensity, edges, texture; sigma 1-16) and a scikit-learn random forest (100 trees, depth 10,
  2 jobs) on the annotated pixels (at most 200k, stratified by class: proportional with a 1 %
  floor, or an equal quota per class with ``--rf-sampling balanced``), its classes rendered
  with the same tint (EM); for SDSS a forest regressor predicting Lab.
- ``ours``: ``napari_colorgan.train`` (public API only) for a fixed wall-clock budget per run
  (``--budgets``, minutes on 2 CPU threads), inference with ``napari_colorgan.colorize``.

EM truth: the tint that training itself builds (``napari_colorgan.core.annotations.tint``):
the class colour's Lab chroma on the grayscale's own lightness, the grayscale normalised as the
package normalises the training stack (its default percentile method, fitted on sections 0-13).
Scores on held-out sections (every pixel labelled there): PSNR (dB) and gain over mean chroma,
SSIM, the colourfulness of Hasler & Süsstrunk (``napari_colorgan.metrics``) against the truth's,
and class accuracy, per-class F1 and macro-F1, where a pixel's class is decoded from its colour:
the class whose tint of that pixel's own grey value is nearest in CIE Lab (Euclidean). The
``truth`` row decodes the truth itself: the ceiling the tint allows (it loses the class where
the grey is black or white). SDSS truth: ``astropy.visualization.make_lupton_rgb(i, r, g, Q=10,
stretch=0.5)`` as in astropy's documentation example for these frames; the baselines' lightness
is an isotonic (monotone) map from input value to truth L* fitted on the training columns only.

Data (not shipped; read from ``../shared/data``, see its README):

- Gerhard, Funke, Martel, Cardona, Fetter, *Segmented anisotropic ssTEM dataset of neural
  tissue*, figshare 2013, doi:10.6084/m9.figshare.856713 (CC BY-NC-SA 3.0): Drosophila larva
  VNC, 20 sections of 1024² uint8, labels merged into membrane, glia, mitochondria, synapse,
  intracellular.
- Sloan Digital Sky Survey g, r, i frames of NGC 6976, reprojected as in astropy's
  ``make_lupton_rgb`` example (astropy/astropy-data, ``visualization/``).

Writes: results merged into ``benchmarks/results/quality_real.json`` (keyed by setting, label
and budget; other entries are kept), ``docs/benchmarks/quality_f1.png`` (macro-F1 against
minutes, every label in the JSON) and ``docs/benchmarks/quality_grid_{setting}.png`` (input |
ours at the largest budget of this run | peer | truth). ``--smoke`` writes beside them under
``benchmarks/results/smoke/`` instead.

No ``--preview-curve``: the public API does not expose the generator while ``train_iter`` runs
(only ``Finished.result``; ``Preview`` events carry one validation tile), and its time budget
counts wall-clock time spent by the consumer, so evaluating mid-run would eat the budget.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _real_data as rd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "quality_real.json"
FIGURES = REPO / "docs" / "benchmarks"
SMOKE_DIR = REPO / "benchmarks" / "results" / "smoke"
SETTINGS = ("dense", "strokes", "sdss")
TRAIN_SECTIONS = list(range(14))
TEST_SECTIONS = list(range(14, 20))
SDSS_TRAIN_FRACTION = 0.6
RF_MAX_SAMPLES = 200_000
THREADS = 2


# ---- small helpers ------------------------------------------------------------------------------


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab (..., 3) to float RGB in [0, 1] (scikit-image, D65; matches the package's tint)."""
    import warnings

    from skimage.color import lab2rgb

    with warnings.catch_warnings():  # out-of-gamut clipping is expected, and what tint does
        warnings.simplefilter("ignore", UserWarning)
        return lab2rgb(np.asarray(lab, np.float64), channel_axis=-1).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB (..., 3), uint8 or float in [0, 1], to float32 Lab."""
    from skimage.color import rgb2lab

    a = np.asarray(rgb)
    a = a / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)
    return rgb2lab(a, channel_axis=-1).astype(np.float32)


def to_uint8(rgb01: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] to uint8, rounded."""
    return (np.clip(rgb01, 0, 1) * 255 + 0.5).astype(np.uint8)


def with_chroma(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """RGB from lightness L* (...) and one chroma (a, b) everywhere (zero: gray)."""
    lab = np.empty((*lightness.shape, 3), np.float32)
    lab[..., 0] = lightness
    lab[..., 1:] = ab
    return lab_to_rgb(lab)


def tint_fn() -> Any:
    """The package's tint (the colour target training builds from labels)."""
    try:
        from napari_colorgan.core.annotations import tint
    except ImportError as err:  # the module layout is being refactored
        raise SystemExit(
            f"cannot import tint from napari_colorgan.core.annotations: {err}"
        ) from None
    return tint


def _git(*cmd: str) -> str:
    try:
        out = subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return ""
    return out.stdout.strip()


def run_stamp(smoke: bool) -> dict[str, Any]:
    """When and on what code the run started (read-only git; ``src_dirty``: uncommitted src/)."""
    import napari_colorgan as ncg

    return {
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "src_dirty": bool(_git("status", "--porcelain", "--", "src")),
        "version": ncg.__version__,
        "threads": THREADS,
        "smoke": smoke,
    }


@dataclass
class Timer:
    """Wall-clock and process CPU seconds of a block (``with Timer() as t: ...``)."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c


@dataclass
class Prediction:
    """One method's output on the held-out data and what it cost."""

    rgb: np.ndarray  # (..., y, x, 3) uint8 or float in [0, 1]
    train_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


# ---- data of each setting -------------------------------------------------------------------


@dataclass
class EMSetting:
    """Training stack + labels and the held-out sections of one EM setting."""

    name: str
    train_raw: np.ndarray  # (z, y, x) uint8
    train_labels: np.ndarray  # (z, y, x) uint8, 0 = unannotated
    test_raw: np.ndarray
    test_classes: np.ndarray  # (z, y, x) 1..5, every pixel
    sections: dict[str, list[int]]
    strokes: dict[str, Any] | None = None


@dataclass
class SDSSSetting:
    """Input and truth of the training (left) and held-out (right) columns."""

    train_input: np.ndarray  # (y, x) float32
    train_truth: np.ndarray  # (y, x, 3) uint8
    test_input: np.ndarray
    test_truth: np.ndarray
    cut: int


def em_sections(smoke: bool) -> tuple[list[int], list[int], rd.Crop | None]:
    """Training and held-out section numbers, and the crop (smoke: two 256² sections)."""
    if smoke:
        return [0, 3], [14], (slice(384, 640), slice(384, 640))
    return TRAIN_SECTIONS, TEST_SECTIONS, None


def load_em_setting(name: str, args: argparse.Namespace) -> EMSetting:
    """The EM data of ``dense`` or ``strokes``."""
    train, test, crop = em_sections(args.smoke)
    train_raw, train_classes = rd.load_em(args.data, train, crop)
    test_raw, test_classes = rd.load_em(args.data, test, crop)
    strokes = None
    labels = train_classes
    if name == "strokes":
        labels, stats = rd.stroke_labels(train_classes, train, args.seed)
        strokes = stats.to_dict()
    return EMSetting(
        name,
        train_raw,
        labels,
        test_raw,
        test_classes,
        {
            "train": train,
            "test": test,
            "annotated": sorted({s for s, p in zip(train, labels, strict=True) if p.any()}),
        },
        strokes,
    )


def load_sdss_setting(args: argparse.Namespace) -> SDSSSetting:
    """g+r+i as input, the Lupton composite as truth, split at 60 % of the columns."""
    bands = rd.load_sdss(args.data)
    gray = (bands["g"] + bands["r"] + bands["i"]).astype(np.float32)
    truth = rd.lupton_truth(bands)
    cut = round(gray.shape[1] * SDSS_TRAIN_FRACTION)
    return SDSSSetting(gray[:, :cut], truth[:, :cut], gray[:, cut:], truth[:, cut:], cut)


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


def class_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, Any]:
    """Pixel accuracy, per-class F1 (named) and macro-F1 over the classes in the truth."""
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
    }


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


# ---- our model -------------------------------------------------------------------------------------


def train_config(minutes: float, overrides: dict[str, Any]) -> Any:
    """TrainConfig of one budget: the user's overrides, a time budget and unlimited steps."""
    import napari_colorgan as ncg

    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return ncg.TrainConfig(**{**fixed, "minutes": minutes, "steps": 10**9})


def train_ours(
    image: np.ndarray, minutes: float, overrides: dict[str, Any], **kw: Any
) -> tuple[Any, dict[str, Any]]:
    """Drain ``napari_colorgan.train_iter``; the model and what the run did and cost."""
    import napari_colorgan as ncg

    config = train_config(minutes, overrides)
    info: dict[str, Any] = {"config": config.to_dict()}
    model = None
    with Timer() as t:
        # Event classes are not exported at the top level: dispatch on their names.
        for event in ncg.train_iter(image, config=config, device="cpu", **kw):
            kind = type(event).__name__
            if kind == "Started":
                info.update(
                    perceptual=event.perceptual,
                    train_planes=event.train_planes,
                    val_planes=event.val_planes,
                )
            elif kind == "StepDone":
                info.update(steps=event.step, loop_s=event.elapsed)
            elif kind == "Finished":
                model = event.result
    info.update(train_s=t.wall, train_cpu_s=t.cpu)
    return model, info


def colorize(model: Any, planes: np.ndarray) -> tuple[np.ndarray, float]:
    """Held-out planes through ``napari_colorgan.colorize`` (one dask thread); RGB and seconds."""
    import dask

    import napari_colorgan as ncg

    with Timer() as t, dask.config.set(scheduler="synchronous"):
        rgb = np.asarray(ncg.colorize(planes, model, device="cpu"))
    return rgb, t.wall


# ---- the settings ----------------------------------------------------------------------------------


def run_em(name: str, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """All methods on one EM setting: rows of scores, predictions (for the figure), data notes."""
    setting = load_em_setting(name, args)
    if setting.strokes:
        print_strokes(setting.strokes)
    low, high = reference_normalization(setting)
    train01, test01 = (
        normalise(setting.train_raw, low, high),
        normalise(setting.test_raw, low, high),
    )
    truth = em_truth(test01, setting.test_classes)
    decoder = ClassDecoder(test01)

    def score(rgb: np.ndarray) -> dict[str, Any]:
        decoded = decoder.decode(rgb)
        return colour_scores(rgb, truth, args.ssim) | class_scores(decoded, setting.test_classes)

    preds: dict[str, Prediction] = {"truth": Prediction(truth)}
    with Timer() as mean_t:
        ab = em_mean_ab(setting, train01, args.seed)
    preds["gray"] = Prediction(with_chroma(100 * test01, np.zeros(2)))
    preds["mean chroma"] = Prediction(
        with_chroma(100 * test01, ab), mean_t.wall, {"ab": ab.tolist()}
    )
    preds["peer (RF)"], _ = peer_em(setting, train01, test01, args)
    rows = {k: score(p.rgb) | {"train_s": p.train_s, **p.extra} for k, p in preds.items()}
    ours = {}
    for minutes in args.budgets:
        model, info = train_ours(
            setting.train_raw,
            minutes,
            args.config,
            labels=setting.train_labels,
            palette=rd.EM_PALETTE,
        )
        rgb, infer_s = colorize(model, setting.test_raw)
        n = model.normalization
        info.update(
            infer_s=infer_s,
            normalization=n.to_dict(),
            lightness_matches_truth=bool(
                n.method == "percentile" and (n.low, n.high) == (low, high)
            ),
        )
        ours[minutes] = score(rgb) | info
        preds[f"ours@{minutes:g}"] = Prediction(rgb, info["train_s"])
        print(f"  [{name}] ours@{minutes:g} min: {info.get('steps', 0)} steps", flush=True)
    notes = {
        "sections": setting.sections,
        "crop": "256² at (384, 384)" if args.smoke else None,
        "normalization": {"method": "percentile", "low": low, "high": high},
        "palette": {rd.EM_CLASSES[k]: v for k, v in rd.EM_PALETTE.items()},
        "strokes": setting.strokes,
        "decode": "nearest tint of the pixel's grey in CIE Lab (Euclidean)",
    }
    first = setting.sections["test"][0]
    em_grid(name, preds, setting.test_raw, setting.test_classes, first, args.figures)
    return {"reference": rows, "ours": ours}, notes


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


def run_sdss(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """All methods on the SDSS split."""
    s = load_sdss_setting(args)
    lightness, ab = sdss_lightness(s)
    preds = {
        "truth": Prediction(s.test_truth),
        "gray": Prediction(with_chroma(lightness, np.zeros(2))),
        "mean chroma": Prediction(with_chroma(lightness, ab), 0.0, {"ab": ab.tolist()}),
        "peer (RF)": peer_sdss(s, args),
    }
    rows = {
        k: colour_scores(p.rgb, s.test_truth, args.ssim) | {"train_s": p.train_s, **p.extra}
        for k, p in preds.items()
    }
    ours = {}
    for minutes in args.budgets:
        model, info = train_ours(s.train_input, minutes, args.config, target=s.train_truth)
        rgb, infer_s = colorize(model, s.test_input)
        info.update(infer_s=infer_s, normalization=model.normalization.to_dict())
        ours[minutes] = colour_scores(rgb, s.test_truth, args.ssim) | info
        preds[f"ours@{minutes:g}"] = Prediction(rgb, info["train_s"])
        print(f"  [sdss] ours@{minutes:g} min: {info.get('steps', 0)} steps", flush=True)
    notes = {
        "input": "g + r + i (float32 nanomaggies)",
        "truth": f"make_lupton_rgb(i, r, g, Q={rd.LUPTON['Q']:g}, stretch={rd.LUPTON['stretch']:g})",
        "split": f"train columns [0, {s.cut}), held out [{s.cut}, {s.cut + s.test_input.shape[1]})",
        "baseline_lightness": "isotonic map input -> truth L*, fitted on the training columns",
        "peer_input": "arcsinh(x / MAD of the training columns)",
    }
    caption = "SDSS NGC 6976, held-out right 40 % (truth: make_lupton_rgb Q=10, stretch=0.5)"
    plot_grid(
        asinh_stretch(s.test_input, s.train_input),
        preds,
        (slice(None), slice(None)),
        args.figures / "quality_grid_sdss.png",
        True,
        caption,
    )
    return {"reference": rows, "ours": ours}, notes


# ---- output: table, JSON, figures ------------------------------------------------------------------


def _fmt(value: Any, spec: str) -> str:
    """``value`` formatted, or a dash of the same width when missing or infinite."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()) or 1)
        return "—".rjust(width)
    return format(value, spec)


def print_strokes(stats: dict[str, Any]) -> None:
    """What the simulated strokes labelled, per class."""
    print(
        f"  strokes: {stats['strokes']} strokes, {stats['labelled_pixels']} px = "
        f"{stats['labelled_percent']:.2f} % of the stroked sections"
    )
    for name, c in stats["per_class"].items():
        print(
            f"    {name:<14} {c['pixels']:>7} px  {c['percent_of_sections']:.3f} % of sections  "
            f"{c['percent_of_class']:.2f} % of the class  {c['share_of_labels']:.1f} % of labels"
        )


def print_table(setting: str, result: dict[str, Any], label: str) -> None:
    """One row per method: PSNR, gain, SSIM, class acc, macro-F1, colourfulness, train time."""
    ref = result["reference"]
    base = ref["mean chroma"]["psnr"]
    rows = [(k, v) for k, v in ref.items()] + [
        (f"ours [{label}] @{m:g} min", v) for m, v in result["ours"].items()
    ]
    head = f"{'method':<28} {'PSNR':>6} {'gain':>6} {'SSIM':>6} {'acc':>6} {'macroF1':>7} {'colourf':>7} {'train s':>8} {'steps':>6}"
    print(f"\n== {setting} ==  (truth colourfulness {ref['truth']['colorfulness']:.1f})")
    print(head)
    for name, r in rows:
        psnr = r.get("psnr")
        gain = None if psnr is None or not np.isfinite(psnr) else psnr - base
        print(
            f"{name:<28} {_fmt(psnr, '6.2f')} {_fmt(gain, '+6.2f')} {_fmt(r.get('ssim'), '6.3f')} "
            f"{_fmt(r.get('class_accuracy'), '6.3f')} {_fmt(r.get('macro_f1'), '7.3f')} "
            f"{_fmt(r.get('colorfulness'), '7.1f')} {_fmt(r.get('train_s'), '8.1f')} {_fmt(r.get('steps'), '6d')}"
        )
    f1_rows = [(n, r["f1"]) for n, r in rows if "f1" in r]
    if f1_rows:
        names = list(rd.EM_CLASSES.values())
        print(f"{'per-class F1':<28} " + " ".join(f"{n[:8]:>8}" for n in names))
        for n, f1 in f1_rows:
            print(f"{n:<28} " + " ".join(_fmt(f1.get(c), "8.3f") for c in names))


def merge_results(
    path: Path,
    setting: str,
    result: dict[str, Any],
    notes: dict[str, Any],
    args: argparse.Namespace,
) -> None:
    """Merge into the JSON file: reference rows replaced, ours[label][budget] added/replaced."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    stamp = args.stamp
    entry = data.setdefault(setting, {})
    entry["data"] = notes
    entry["reference"] = {k: v | {"run": stamp} for k, v in result["reference"].items()}
    runs = entry.setdefault("ours", {}).setdefault(args.label, {})
    for minutes, scores in result["ours"].items():
        runs[f"{minutes:g}"] = scores | {"run": stamp, "overrides": args.config}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def plot_f1(results_path: Path, out: Path) -> None:
    """Macro-F1 against training minutes: ours (a line per label) and the peer (a point)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(results_path.read_text())
    panels = [s for s in ("dense", "strokes") if s in data]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    # One colour per label across both panels, so a variant reads the same everywhere.
    labels = sorted({label for s in panels for label in data[s].get("ours", {})})
    colours = {label: f"C{i}" for i, label in enumerate(labels)}
    for ax, setting in zip(axes[0], panels, strict=True):
        entry = data[setting]
        for label, runs in sorted(entry.get("ours", {}).items()):
            pts = sorted((float(m), r["macro_f1"]) for m, r in runs.items())
            ax.plot(*zip(*pts, strict=True), "o-", color=colours[label], label=f"ours [{label}]")
        ref = entry["reference"]
        peer = ref["peer (RF)"]
        ax.plot(peer["train_s"] / 60, peer["macro_f1"], "s", color="k", label="peer (RF)")
        for name, style in (("truth", ":"), ("mean chroma", "--"), ("gray", "-.")):
            ax.axhline(
                ref[name]["macro_f1"], ls=style, color="gray", lw=1, label=f"{name} (decoded)"
            )
        ax.set(
            title=setting,
            xlabel="training minutes (2 CPU threads)",
            ylabel="macro-F1",
            ylim=(0, 1.03),
        )
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    for ax in axes[0]:
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "Held-out EM sections 14-19 (Gerhard et al. 2013, doi:10.6084/m9.figshare.856713)",
        fontsize=9,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def busiest_crop(classes: np.ndarray, size: int) -> rd.Crop:
    """The size² window (stride size/4) with the most pixels of the small classes."""
    h, w = classes.shape
    size = min(size, h, w)
    rare = np.isin(classes, [2, 3, 4]).astype(np.int64)
    best, where = -1, (0, 0)
    for y in range(0, h - size + 1, max(size // 4, 1)):
        for x in range(0, w - size + 1, max(size // 4, 1)):
            n = int(rare[y : y + size, x : x + size].sum())
            if n > best:
                best, where = n, (y, x)
    y, x = where
    return slice(y, y + size), slice(x, x + size)


def plot_grid(
    gray: np.ndarray,
    preds: dict[str, Prediction],
    crop: rd.Crop,
    out: Path,
    flip: bool,
    caption: str,
) -> None:
    """Input | ours (largest budget) | peer | truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = [k for k in preds if k.startswith("ours@")][-1]
    panels = [
        ("input", gray),
        (ours, preds[ours].rgb),
        ("peer (RF)", preds["peer (RF)"].rgb),
        ("truth", preds["truth"].rgb),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    for ax, (title, img) in zip(axes, panels, strict=True):
        img = np.asarray(img)[crop]
        img = img[::-1] if flip else img
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(caption, fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def em_grid(
    setting: str,
    result_preds: dict[str, Prediction],
    test_raw: np.ndarray,
    classes: np.ndarray,
    section: int,
    folder: Path,
) -> None:
    """The picture grid of one EM setting on its first held-out section."""
    crop = busiest_crop(classes[0], 256)
    first = {k: Prediction(np.asarray(p.rgb)[0]) for k, p in result_preds.items()}
    caption = f"{setting}: held-out section {section}, crop y {crop[0].start}, x {crop[1].start} (Gerhard et al. 2013, CC BY-NC-SA 3.0)"
    plot_grid(test_raw[0], first, crop, folder / f"quality_grid_{setting}.png", False, caption)


# ---- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    p.add_argument("--budgets", nargs="+", type=float, default=[1.0, 5.0, 10.0], help="minutes")
    p.add_argument("--label", default="default", help="tag of this variant in the results")
    p.add_argument("--config", type=json.loads, default={}, help="TrainConfig overrides as JSON")
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT, help="the shared data folder")
    p.add_argument("--rf-trees", type=int, default=None, help="peer forest size (default 100)")
    p.add_argument(
        "--rf-sampling",
        choices=("proportional", "balanced"),
        default="proportional",
        help="class stratification of the peer's training pixels when there are more than 200k",
    )
    p.add_argument("--seed", type=int, default=0, help="strokes and pixel sampling")
    p.add_argument("--no-ssim", dest="ssim", action="store_false", help="skip SSIM")
    p.add_argument("--smoke", action="store_true", help="tiny, fast pipeline check")
    p.add_argument("--results", type=Path, default=None, help=f"JSON (default {RESULTS})")
    p.add_argument("--figures", type=Path, default=None, help=f"figure folder (default {FIGURES})")
    args = p.parse_args(argv)
    if not isinstance(args.config, dict):
        p.error("--config must be a JSON object")
    if args.smoke:
        args.budgets = [0.1] if args.budgets == [1.0, 5.0, 10.0] else args.budgets
    args.budgets = sorted(set(args.budgets))
    args.rf_trees = args.rf_trees or (10 if args.smoke else 100)
    args.results = args.results or (SMOKE_DIR / "quality_real.json" if args.smoke else RESULTS)
    args.figures = args.figures or (SMOKE_DIR if args.smoke else FIGURES)
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the chosen settings, print tables, write JSON and figures."""
    import torch

    args = parse_args(argv)
    args.stamp = run_stamp(args.smoke)
    torch.set_num_threads(THREADS)
    for setting in args.settings:
        t0 = time.perf_counter()
        print(
            f"[{setting}] running (budgets {args.budgets} min, label {args.label!r})", flush=True
        )
        result, notes = run_sdss(args) if setting == "sdss" else run_em(setting, args)
        print_table(setting, result, args.label)
        merge_results(args.results, setting, result, notes, args)
        print(f"[{setting}] done in {time.perf_counter() - t0:.0f} s", flush=True)
    plot_f1(args.results, args.figures / "quality_f1.png")
    print(f"\nresults: {args.results}\nfigures: {args.figures}")


if __name__ == "__main__":
    main()
