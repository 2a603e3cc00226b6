"""Constants and small helpers shared by the quality benchmark's modules."""

from __future__ import annotations

import argparse
import datetime
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "quality_real.json"
FIGURES = REPO / "docs" / "benchmarks"
SMOKE_DIR = REPO / "benchmarks" / "results" / "smoke"
SETTINGS = ("dense", "strokes", "sdss", "hubble")
#: The colour-target settings (a grayscale input and its colour truth, split by columns).
COLOUR_SETTINGS = ("sdss", "hubble")
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


def load_sdss_setting(args: argparse.Namespace, name: str = "sdss") -> SDSSSetting:
    """A colour setting split at 60 % of the columns: training left, held out right.

    ``sdss``: g+r+i as input, the Lupton composite as truth. ``hubble``: the Hubble Deep Field
    (NASA/STScI, the 8-bit RGB shipped with scikit-image) as truth, its CIE lightness as input.
    ``args.train_columns`` (a share of the width, at most 0.6) trains on fewer columns.
    """
    if name == "hubble":
        from napari_colorgan.core.synthetic import hubble_deep_field

        gray, truth = hubble_deep_field()
    else:
        bands = rd.load_sdss(args.data)
        gray = (bands["g"] + bands["r"] + bands["i"]).astype(np.float32)
        truth = rd.lupton_truth(bands)
    cut = round(gray.shape[1] * SDSS_TRAIN_FRACTION)
    # Fewer training columns (from the left) leave the held-out right 40 % as it is.
    used = round(gray.shape[1] * getattr(args, "train_columns", SDSS_TRAIN_FRACTION))
    return SDSSSetting(gray[:, :used], truth[:, :used], gray[:, cut:], truth[:, cut:], cut)
