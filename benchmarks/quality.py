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
- ``hubble``: the Hubble Deep Field (NASA/STScI; the 8-bit RGB shipped with scikit-image) is
  the truth and its CIE lightness the input, split the same way.

On the colour settings, ``--train-columns F`` trains on only the left F (< 0.6) of the columns
and judges the same right 40 %: how the held-out score grows with training data.

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
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _real_data as rd
from _quality_common import (
    COLOUR_SETTINGS,
    FIGURES,
    RESULTS,
    SDSS_TRAIN_FRACTION,
    SETTINGS,
    SMOKE_DIR,
    THREADS,
    Prediction,
    Timer,
    load_em_setting,
    load_sdss_setting,
    run_stamp,
    with_chroma,
)
from _quality_peer import asinh_stretch, peer_em, peer_sdss, sdss_lightness
from _quality_plain import train_plain
from _quality_report import em_grid, merge_results, plot_f1, plot_grid, print_strokes, print_table
from _quality_scores import (
    ClassDecoder,
    class_scores,
    colour_scores,
    em_mean_ab,
    em_truth,
    normalise,
    reference_normalization,
)

# ---- our model -------------------------------------------------------------------------------------


def train_config(minutes: float, overrides: dict[str, Any]) -> Any:
    """TrainConfig of one budget: the user's overrides, a time budget and unlimited steps.

    A ``steps`` override replaces the time budget: equal-step A/B runs of two variants stay
    comparable on a machine that is busy with something else.
    """
    import napari_colorgan as ncg

    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    if "steps" in fixed:
        return ncg.TrainConfig(**{**fixed, "minutes": None})
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


def colorize(model: Any, planes: np.ndarray, flips: int = 1) -> tuple[np.ndarray, float]:
    """Held-out planes through ``napari_colorgan.colorize`` (one dask thread); RGB and seconds."""
    import dask

    import napari_colorgan as ncg

    with Timer() as t, dask.config.set(scheduler="synchronous"):
        rgb = np.asarray(ncg.colorize(planes, model, device="cpu", flips=flips))
    return rgb, t.wall


def score_ours(
    model: Any,
    planes: np.ndarray,
    score: Callable[[np.ndarray], dict[str, Any]],
    info: dict[str, Any],
    args: argparse.Namespace,
    tag: str,
) -> tuple[dict[str, Any], np.ndarray]:
    """One trained model scored on the held-out planes, and again with ``--flips``; its RGB.

    The model is saved under ``--save-models`` as ``{tag}.safetensors`` first, so it can be
    scored again later without training it again.
    """
    if args.save_models:
        args.save_models.mkdir(parents=True, exist_ok=True)
        model.save(args.save_models / f"{tag}.safetensors")
    rgb, infer_s = colorize(model, planes)
    scores = score(rgb) | info | {"infer_s": infer_s}
    if args.flips > 1:
        flipped, flip_s = colorize(model, planes, args.flips)
        scores["flips"] = {"n": args.flips, **score(flipped), "infer_s": flip_s}
    return scores, rgb


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
        n = model.normalization
        info.update(
            normalization=n.to_dict(),
            lightness_matches_truth=bool(
                n.method == "percentile" and (n.low, n.high) == (low, high)
            ),
        )
        tag = f"{name}-{args.label}-{minutes:g}min"
        ours[minutes], rgb = score_ours(model, setting.test_raw, score, info, args, tag)
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


def run_sdss(
    args: argparse.Namespace, name: str = "sdss"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """All methods on a colour split: SDSS, or the Hubble Deep Field (``name``)."""
    s = load_sdss_setting(args, name)
    lightness, ab = sdss_lightness(s)
    used = s.train_input.shape[1]  # training columns, from the left
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
        if args.method == "plain":  # the plain L1 U-Net in place of ours
            preds[f"ours@{minutes:g}"], info = train_plain(s, lightness, minutes, args.seed)
            scores = colour_scores(preds[f"ours@{minutes:g}"].rgb, s.test_truth, args.ssim)
            ours[minutes] = scores | info | {"train_columns": used}
            print(f"  [{name}] plain U-Net@{minutes:g} min: {info['steps']} steps", flush=True)
            continue
        model, info = train_ours(s.train_input, minutes, args.config, target=s.train_truth)
        info.update(normalization=model.normalization.to_dict(), train_columns=used)
        ours[minutes], rgb = score_ours(
            model,
            s.test_input,
            lambda rgb: colour_scores(rgb, s.test_truth, args.ssim),
            info,
            args,
            f"{name}-{args.label}-{minutes:g}min",
        )
        preds[f"ours@{minutes:g}"] = Prediction(rgb, info["train_s"])
        print(f"  [{name}] ours@{minutes:g} min: {info.get('steps', 0)} steps", flush=True)
    lupton = f"make_lupton_rgb(i, r, g, Q={rd.LUPTON['Q']:g}, stretch={rd.LUPTON['stretch']:g})"
    hubble = name == "hubble"
    notes = {
        "input": "CIE L* of the RGB (uint8)" if hubble else "g + r + i (float32 nanomaggies)",
        "truth": "skimage.data.hubble_deep_field() (8-bit RGB)" if hubble else lupton,
        "split": f"train columns [0, {used}), held out [{s.cut}, {s.cut + s.test_input.shape[1]})",
        "baseline_lightness": "isotonic map input -> truth L*, fitted on the training columns",
        "peer_input": "arcsinh(x / MAD of the training columns)",
    }
    caption = "SDSS NGC 6976, held-out right 40 % (truth: make_lupton_rgb Q=10, stretch=0.5)"
    if hubble:
        caption = "Hubble Deep Field (scikit-image), held-out right 40 %"
    plot_grid(
        asinh_stretch(s.test_input, s.train_input),
        preds,
        (slice(None), slice(None)),
        args.figures / f"quality_grid_{name}.png",
        True,
        caption,
    )
    return {"reference": rows, "ours": ours}, notes


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
    p.add_argument(
        "--method",
        choices=("ours", "plain"),
        default="ours",
        help="plain: a plain L1 U-Net (lightness to chroma) in place of ours, colour settings only",
    )
    p.add_argument(
        "--flips",
        type=int,
        default=1,
        choices=(1, 2, 4, 8),
        help="also score each trained model with this many test-time flips",
    )
    p.add_argument(
        "--train-columns",
        type=float,
        default=SDSS_TRAIN_FRACTION,
        help="colour settings: train on this share of the columns from the left (at most 0.6; "
        "the held-out right 40 %% stays the same)",
    )
    p.add_argument("--save-models", type=Path, default=None, help="folder to save models in")
    p.add_argument("--no-ssim", dest="ssim", action="store_false", help="skip SSIM")
    p.add_argument("--smoke", action="store_true", help="tiny, fast pipeline check")
    p.add_argument("--results", type=Path, default=None, help=f"JSON (default {RESULTS})")
    p.add_argument("--figures", type=Path, default=None, help=f"figure folder (default {FIGURES})")
    args = p.parse_args(argv)
    if not isinstance(args.config, dict):
        p.error("--config must be a JSON object")
    if args.method == "plain" and set(args.settings) - set(COLOUR_SETTINGS):
        p.error("--method plain applies to the colour settings (sdss, hubble) only")
    if not 0 < args.train_columns <= SDSS_TRAIN_FRACTION:
        p.error(f"--train-columns must be in (0, {SDSS_TRAIN_FRACTION}], got {args.train_columns}")
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
        colour = setting in COLOUR_SETTINGS
        result, notes = run_sdss(args, setting) if colour else run_em(setting, args)
        print_table(setting, result, args.label)
        merge_results(args.results, setting, result, notes, args)
        print(f"[{setting}] done in {time.perf_counter() - t0:.0f} s", flush=True)
    plot_f1(args.results, args.figures / "quality_f1.png")
    print(f"\nresults: {args.results}\nfigures: {args.figures}")


if __name__ == "__main__":
    main()
