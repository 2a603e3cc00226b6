"""How colourful can a prediction be at a given PSNR? The truth's own chroma, smoothed.

    .venv/bin/python benchmarks/colour_ceiling.py

For each colour astronomy setting of ``quality.py`` (the held-out right 40 %), the truth keeps
its lightness and its CIE a, b are blurred (Gaussian, sigma in px): the PSNR against the truth
and the colourfulness (Hasler & Süsstrunk, ``napari_colorgan.metrics``) of the result. A model
that gets the colours right up to a blur scores like the blurred truth; whatever colourfulness
the truth holds at pixel scale (noise, compression) no model reaches without losing PSNR.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _real_data as rd
from _quality_common import load_sdss_setting, with_chroma
from _quality_peer import sdss_lightness

SIGMAS = (0.7, 1.0, 2.0, 4.0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two images in [0, 1]."""
    return float(10 * np.log10(1 / np.mean((a - b) ** 2)))


def main() -> None:
    from skimage import color, filters

    from napari_colorgan import metrics

    args = argparse.Namespace(data=rd.DEFAULT_ROOT, smoke=False, seed=0)
    for name in ("hubble", "sdss"):
        s = load_sdss_setting(args, name)
        truth = s.test_truth.astype(np.float64) / 255
        lab = color.rgb2lab(truth)
        lightness, ab = sdss_lightness(s)
        base = psnr(with_chroma(lightness, ab).astype(np.float64), truth)
        print(
            f"{name}: truth colourfulness {metrics.colorfulness(truth):.1f}; mean chroma {base:.2f} dB"
        )
        for sigma in SIGMAS:
            blurred = np.dstack([filters.gaussian(lab[..., i], sigma) for i in (1, 2)])
            rgb = np.clip(color.lab2rgb(np.dstack([lab[..., 0], blurred])), 0, 1)
            gain = psnr(rgb, truth) - base
            print(
                f"  chroma blurred sigma {sigma:g} px: {gain:+.2f} dB over mean chroma, "
                f"colourfulness {metrics.colorfulness(rgb):.1f}"
            )


if __name__ == "__main__":
    main()
