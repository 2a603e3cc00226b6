"""How much of a colour astronomy image's held-out gain is knowing each source's colour?

    .venv/bin/python benchmarks/source_colour.py [--setting hubble]

On the held-out right 40 % of a colour setting of ``quality.py``, with the truth's lightness put
in (so only the chroma counts), sources are the connected pixels of L* > 10 grown by 2 px (as in
``colour_errors.py``); every other pixel is background. It scores, as gain over mean chroma:

- oracles that read the held-out truth: each source its own true mean a, b (background mean
  chroma); the same per band of L* inside each source; and the truth's chroma blurred by 2 px
  in the background only, sources at their true mean;
- a guess from each source's shape alone: its mean a, b predicted from its area, peak and mean
  L*, concentration and elongation by the nearest training-column sources (k-NN, fitted on the
  left 60 %), the background at mean chroma; and that guess halved about the mean (a guess
  hedged towards grey, as a squared loss would).

The first says how far "every source the right colour" goes; the last how far those colours
follow from what a source looks like in grey. With ``--model MODEL`` (saved by ``quality.py
--save-models``) it also scores the model, and the model with each held-out source's mean a, b
moved to the truth's (its colour within the source kept): the gain left in knowing which colour
each source is, over what the model makes of its structure.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _real_data as rd
from _quality_common import load_sdss_setting, rgb_to_lab
from colour_errors import shown, sources, squared_error

BANDS, NEIGHBOURS = (0.0, 20.0, 40.0, 101.0), 5


def features(lab: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Per-source grey features (n, 5): log area, peak L*, mean L*, share of the source's pixels
    above half its peak (concentration), and the ratio of its second moments (elongation)."""
    from scipy import ndimage as ndi

    ids = np.arange(1, n + 1)
    light = lab[..., 0]
    area = ndi.sum(np.ones_like(light), labels, ids)
    peak = ndi.maximum(light, labels, ids)
    mean = ndi.mean(light, labels, ids)
    out = np.zeros((n, 5))
    for i, sl in enumerate(ndi.find_objects(labels)):
        here = labels[sl] == i + 1
        core = (light[sl] > peak[i] / 2) & here
        ys, xs = np.nonzero(here)
        cov = np.cov(np.stack([ys, xs])) if here.sum() > 2 else np.eye(2)
        eig = np.linalg.eigvalsh(cov + 1e-3 * np.eye(2))
        out[i] = (np.log(area[i]), peak[i], mean[i], core.sum() / area[i], eig[1] / eig[0])
    return out


def mean_chroma(lab: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Per-source mean a, b (n, 2) of a CIE Lab image (y, x, 3): the truth's, or a model's."""
    from scipy import ndimage as ndi

    ids = np.arange(1, n + 1)
    return np.stack([ndi.mean(lab[..., c], labels, ids) for c in (1, 2)], -1)


def paint(labels: np.ndarray, per_source: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Chroma image (y, x, 2): each source its row of ``per_source``, elsewhere ``fill``."""
    table = np.concatenate([np.asarray(fill, float)[None], per_source], 0)
    return table[labels]


def banded(lab: np.ndarray, labels: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Oracle chroma (y, x, 2): each source's true mean a, b per band of L* inside it."""
    n = int(labels.max())
    out = paint(labels, np.zeros((n, 2)), fill)
    for lo, hi in itertools.pairwise(BANDS):
        band = (lab[..., 0] >= lo) & (lab[..., 0] < hi) & (labels > 0)
        keyed = np.where(band, labels, 0)
        with np.errstate(invalid="ignore"):  # sources with no pixel in this band: unused NaN
            means = mean_chroma(lab, keyed, n)
        out[band] = means[labels[band] - 1]
    return out


def knn_guess(train: np.ndarray, train_ab: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Mean a, b (m, 2) of each test source's ``NEIGHBOURS`` nearest training sources in
    standardised feature space."""
    mu, sd = train.mean(0), train.std(0) + 1e-9
    a, b = (train - mu) / sd, (test - mu) / sd
    dist = ((b[:, None] - a[None]) ** 2).sum(-1)
    nearest = np.argsort(dist, 1)[:, :NEIGHBOURS]
    return train_ab[nearest].mean(1)


def model_rows(
    args: argparse.Namespace,
    grey: np.ndarray,
    lab: np.ndarray,
    labels: np.ndarray,
    true_ab: np.ndarray,
    fill: np.ndarray,
) -> dict[str, np.ndarray]:
    """The model's held-out chroma (y, x, 2), and the same with each source's mean a, b moved to
    the truth's."""
    from quality import colorize

    from napari_colorgan import Colorizer

    rgb, _ = colorize(Colorizer.load(args.model), grey, args.flips)
    pred = rgb_to_lab(rgb)[..., 1:]
    guess = mean_chroma(np.dstack([lab[..., :1], pred]), labels, len(true_ab))
    moved = pred + paint(labels, true_ab - guess, np.zeros(2))
    return {
        f"the model ({args.flips} flips)": pred,
        "the model's mean a, b per source, flat": paint(labels, guess, fill),
        "the model, each source's mean a, b made true": moved,
    }


def main() -> None:
    from skimage import filters

    from napari_colorgan import metrics

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--setting", choices=("hubble", "sdss"), default="hubble")
    p.add_argument("--model", type=Path, default=None, help="a model file to score beside")
    p.add_argument("--flips", type=int, default=1, choices=(1, 2, 4, 8))
    args = p.parse_args()
    s = load_sdss_setting(
        argparse.Namespace(data=rd.DEFAULT_ROOT, smoke=False, seed=0), args.setting
    )
    truth, lab, train_lab = (
        s.test_truth / 255.0,
        rgb_to_lab(s.test_truth),
        rgb_to_lab(s.train_truth),
    )
    fill = train_lab[..., 1:].reshape(-1, 2).mean(0)
    test_labels, n = sources(lab[..., 0])
    train_labels, m = sources(train_lab[..., 0])
    true_ab = mean_chroma(lab, test_labels, n)

    base = squared_error(shown(lab[..., 0], fill), truth).sum()

    def gain(ab: np.ndarray) -> tuple[float, float]:
        rgb = shown(lab[..., 0], ab)
        db = 10 * np.log10(base / squared_error(rgb, truth).sum())
        return float(db), float(metrics.colorfulness(rgb))

    blurred = np.dstack([filters.gaussian(lab[..., c], 2.0) for c in (1, 2)])
    oracle = paint(test_labels, true_ab, fill)
    guessed = knn_guess(
        features(train_lab, train_labels, m),
        mean_chroma(train_lab, train_labels, m),
        features(lab, test_labels, n),
    )
    rows = {
        "each source its true mean a, b": oracle,
        "each source its true mean a, b per L* band": banded(lab, test_labels, fill),
        "sources true mean, background truth blurred 2 px": np.where(
            test_labels[..., None] > 0, oracle, blurred
        ),
        f"sources guessed from grey shape ({NEIGHBOURS}-NN)": paint(test_labels, guessed, fill),
        "sources guessed, its gain x 0.5 about the mean": paint(
            test_labels, fill + 0.5 * (guessed - fill), fill
        ),
    }
    if args.model is not None:
        rows.update(model_rows(args, s.test_input, lab, test_labels, true_ab, fill))
    print(
        f"{args.setting}: {m} training-column sources, {n} held-out sources "
        f"({(test_labels > 0).mean():.3f} of the held-out pixels); "
        f"truth colourfulness {metrics.colorfulness(truth):.1f}"
    )
    for name, ab in rows.items():
        db, colourful = gain(ab)
        print(f"  {name:52s} {db:+.2f} dB over mean chroma, colourfulness {colourful:.1f}")


if __name__ == "__main__":
    main()
