"""Where a colour model's held-out error sits: by lightness band, by source, and what its chroma
gain trades against colourfulness.

    .venv/bin/python benchmarks/colour_errors.py MODEL [--setting hubble] [--flips 8]

MODEL is a model file saved by ``quality.py --save-models``. On the held-out right 40 % of a
colour setting, with the truth's lightness put in (so only the chroma counts), it prints:

- per band of the truth's L*: the share of pixels and of the squared RGB error of mean chroma
  and of the model, and a per-band constant chroma fitted on the training columns (a colour
  prior per brightness band) as a method of its own;
- the sources (connected pixels of L* > 10, grown by 2 px) on which the model's error is
  largest, with their true and predicted mean chroma;
- the model's chroma scaled about the training mean by ``alpha``: gain and colourfulness, the
  trade a chroma gain makes between PSNR and colourfulness.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import _real_data as rd
from _quality_common import load_sdss_setting, rgb_to_lab, with_chroma
from quality import colorize

BANDS = (0, 2, 5, 10, 20, 40, 60, 80, 101)
ALPHAS = (0.6, 0.8, 0.9, 1.0, 1.1, 1.2)
SOURCE_L, GROW, TOP = 10.0, 2, 8


def shown(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """RGB (y, x, 3) in [0, 1] of L* (y, x) and chroma broadcastable to (y, x, 2)."""
    return np.clip(with_chroma(lightness, ab), 0, 1)


def squared_error(rgb: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel squared RGB error (y, x) against RGB truth in [0, 1]."""
    return ((rgb - truth) ** 2).sum(-1)


def sources(lightness: np.ndarray) -> tuple[np.ndarray, int]:
    """Label image (y, x) of the sources in an L* image (pixels above ``SOURCE_L`` grown by
    ``GROW`` px), and their count."""
    from scipy import ndimage as ndi

    return ndi.label(ndi.binary_dilation(lightness > SOURCE_L, iterations=GROW))


def _pair(ab: np.ndarray) -> str:
    """Mean a, b (2,) as text."""
    return f"({ab[0]:+.1f}, {ab[1]:+.1f})"


def band_prior(lab: np.ndarray, train_lab: np.ndarray) -> np.ndarray:
    """Per-band constant chroma (y, x, 2): the training columns' mean a, b in each band of L*."""
    out = np.broadcast_to(train_lab[..., 1:].reshape(-1, 2).mean(0), (*lab.shape[:-1], 2)).copy()
    for lo, hi in itertools.pairwise(BANDS):
        here = (lab[..., 0] >= lo) & (lab[..., 0] < hi)
        there = (train_lab[..., 0] >= lo) & (train_lab[..., 0] < hi)
        if there.any():
            out[here] = train_lab[there, 1:].mean(0)
    return out


def main() -> None:
    from scipy import ndimage as ndi

    from napari_colorgan import Colorizer, metrics

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("model", type=Path)
    p.add_argument("--setting", choices=("hubble", "sdss"), default="hubble")
    p.add_argument("--flips", type=int, default=1, choices=(1, 2, 4, 8))
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    args = p.parse_args()
    s = load_sdss_setting(args, args.setting)
    truth, lab, train_lab = (
        s.test_truth / 255.0,
        rgb_to_lab(s.test_truth),
        rgb_to_lab(s.train_truth),
    )
    mean_ab = train_lab[..., 1:].reshape(-1, 2).mean(0)
    rgb, _ = colorize(Colorizer.load(args.model), s.test_input, args.flips)
    pred_ab = rgb_to_lab(rgb)[..., 1:]
    errors = {
        "mean chroma": squared_error(shown(lab[..., 0], mean_ab), truth),
        "band prior": squared_error(shown(lab[..., 0], band_prior(lab, train_lab)), truth),
        "model": squared_error(shown(lab[..., 0], pred_ab), truth),
    }
    total = errors["mean chroma"].sum()
    for name, e in errors.items():
        print(f"{name:12s} {10 * np.log10(total / e.sum()):+.2f} dB over mean chroma")
    print("L* band     pixels  " + "  ".join(f"{k:>11s}" for k in errors) + "   (error shares)")
    for lo, hi in itertools.pairwise(BANDS):
        here = (lab[..., 0] >= lo) & (lab[..., 0] < hi)
        shares = "  ".join(f"{e[here].sum() / total:11.3f}" for e in errors.values())
        print(f"[{lo:3d}, {hi:3d})  {here.mean():6.3f}  {shares}")
    labels, n = sources(lab[..., 0])
    ids = np.arange(1, n + 1)
    err_model = ndi.sum(errors["model"], labels, ids)
    err_mean = ndi.sum(errors["mean chroma"], labels, ids)
    print(f"{n} sources hold {err_model.sum() / total:.3f} of mean chroma's error as the model's")
    for i in np.argsort(-err_model)[:TOP]:
        here = labels == i + 1
        print(
            f"  source at {np.round(ndi.center_of_mass(here)).astype(int).tolist()}, "
            f"{here.sum()} px: model {err_model[i] / total:.3f}, mean chroma "
            f"{err_mean[i] / total:.3f}; a, b true {_pair(lab[here, 1:].mean(0))} "
            f"predicted {_pair(pred_ab[here].mean(0))}"
        )
    for alpha in ALPHAS:
        rgb_scaled = shown(lab[..., 0], mean_ab + alpha * (pred_ab - mean_ab))
        gain = 10 * np.log10(total / squared_error(rgb_scaled, truth).sum())
        print(
            f"chroma x {alpha:.1f} about the mean: {gain:+.2f} dB, colourfulness "
            f"{metrics.colorfulness(rgb_scaled):.1f} (truth {metrics.colorfulness(truth):.1f})"
        )


if __name__ == "__main__":
    main()
