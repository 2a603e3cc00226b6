"""Fitting or generalising? A colour model scored on its own training columns and held out.

    .venv/bin/python benchmarks/fit_gap.py --setting hubble --minutes 2 5 [--config JSON]

For a colour astronomy setting of ``quality.py`` (train on the left 60 %, judge the right 40 %),
one model per budget is trained with ``napari_colorgan.train_iter`` and scored on both parts,
each against the mean-chroma baseline of its own columns (lightness from the isotonic map fitted
on the training columns, as ``quality.py`` does). A gap that widens with training means the
model learns its training columns rather than what carries over; equal scores that stay low
mean it cannot fit. Also printed: the held-out PSNR with the truth's lightness put in (what the
predicted lightness costs). One JSON line per budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _real_data as rd
from _quality_common import (
    SDSSSetting,
    lab_to_rgb,
    load_sdss_setting,
    rgb_to_lab,
    to_uint8,
    with_chroma,
)
from _quality_peer import sdss_lightness
from quality import colorize, train_ours


def part_scores(model: Any, fit: SDSSSetting, x: np.ndarray, truth: np.ndarray) -> dict:
    """Gain over mean chroma on one part, colourfulness, and PSNR with the truth's lightness."""
    import napari_colorgan as ncg

    m = ncg.metrics
    rgb, _ = colorize(model, x)
    on_part = SDSSSetting(fit.train_input, fit.train_truth, x, truth, fit.cut)
    lightness, ab = sdss_lightness(on_part)
    base = m.psnr(with_chroma(lightness, ab), truth)
    ours, true_lab = rgb_to_lab(rgb), rgb_to_lab(truth)
    true_lightness = to_uint8(lab_to_rgb(np.concatenate([true_lab[..., :1], ours[..., 1:]], -1)))
    return {
        "gain_db": round(m.psnr(rgb, truth) - base, 2),
        "psnr": round(m.psnr(rgb, truth), 2),
        "psnr_true_lightness": round(m.psnr(true_lightness, truth), 2),
        "colorfulness": round(float(m.colorfulness(rgb)), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--setting", choices=("hubble", "sdss"), default="hubble")
    p.add_argument("--minutes", type=float, nargs="+", default=[2.0, 5.0])
    p.add_argument("--config", type=json.loads, default={}, help="TrainConfig overrides")
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT, help="the shared data folder")
    args = p.parse_args()
    s = load_sdss_setting(args, args.setting)
    for minutes in args.minutes:
        model, info = train_ours(s.train_input, minutes, args.config, target=s.train_truth)
        row = {"setting": args.setting, "minutes": minutes, "steps": info.get("steps")}
        row["training_columns"] = part_scores(model, s, s.train_input, s.train_truth)
        row["held_out_columns"] = part_scores(model, s, s.test_input, s.test_truth)
        print(json.dumps(row | {"config": args.config}), flush=True)


if __name__ == "__main__":
    main()
