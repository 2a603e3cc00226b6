"""Time to a useful preview while painting: the ilastik loop on real ssTEM, on this CPU.

Real ssTEM (``../shared/data/em-drosophila-vnc``, Gerhard et al. 2013,
doi:10.6084/m9.figshare.856713). A simulated painter brushes ~1 % of a section with strokes,
one stroke section at a time: section 0 before Start, then 3, 6, 9 and 12 at the training
clock's ``--arrivals`` seconds, each handed to the running ``train_iter`` through
``PaintedPlanes`` exactly as the Train widget does on napari's paint event. A second run gets
all five sections at Start. Training uses the Train widget's settings (defaults, previews on a
5 s clock) on a ``--seconds`` budget.

Every ``--every`` seconds of training for the first minute, then every 20 s (the clock runs only
inside the training generator), the weights are copied; afterwards each copy colorizes the
top-left 512² of held-out sections 14-19, scored against their full labels (class accuracy) and
against the tint of the true classes (PSNR), beside two baselines: the mean chroma of all the
strokes and the majority class of the strokes.

    .venv/bin/python benchmarks/live_paint.py --seconds 120 --seed 0
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np
from _quality_common import rgb_to_lab, with_chroma
from _quality_scores import em_truth

HELD_OUT = list(range(14, 20))
#: The held-out part scored: the top-left 512² of each section (as ``gui_loop.py``).
HELD_CROP = (slice(0, 512), slice(0, 512))
SECTIONS = list(range(13))  # 0..12: the stroke sections and the unpainted ones between
RESULTS = Path(__file__).parent / "results" / "live_paint.json"
PLOT = Path(__file__).parents[1] / "docs" / "benchmarks" / "live_paint.png"


def train_painting(
    raw: np.ndarray, strokes: np.ndarray, arrivals: dict[float, int], args: argparse.Namespace
) -> tuple[list[tuple[float, int, dict]], Any]:
    """Train while strokes arrive; weight copies as (training seconds, step, state), model."""
    import torch

    from napari_colorgan.core.events import AnnotationsChanged, Finished, StepDone
    from napari_colorgan.core.train.config import TrainConfig
    from napari_colorgan.core.train.live import PaintedPlanes
    from napari_colorgan.core.train.loop import train_iter

    torch.manual_seed(args.seed)
    labels = np.zeros_like(strokes)
    pending = dict(sorted(arrivals.items()))
    for when, z in list(pending.items()):
        if when <= 0:
            labels[z] = strokes[z]
            del pending[when]
    painted = PaintedPlanes()
    config = TrainConfig(
        minutes=args.seconds / 60, val_every=0, val_seconds=5.0, seed=args.seed
    )  # the widget's cadence; everything else its defaults
    events = train_iter(
        raw, labels=labels, palette=rd.EM_PALETTE, config=config, device="cpu", painted=painted
    )
    clock, copies, next_copy, model = 0.0, [], 0.0, None
    while True:
        t = time.perf_counter()
        event = next(events, None)
        clock += time.perf_counter() - t
        if event is None:
            break
        if isinstance(event, AnnotationsChanged):
            print(f"  {clock:6.1f} s step {event.step}: training on {event.train_planes} planes")
        if isinstance(event, Finished):
            model = event.result
        if not isinstance(event, StepDone):
            continue
        for when, z in list(pending.items()):
            if clock >= when:  # the painter finishes a section: napari's paint event
                labels[z] = strokes[z]
                painted.put((z,), labels[z])
                del pending[when]
        if clock >= next_copy:
            state = copy.deepcopy(event_model_state(events))
            copies.append((clock, event.step, state))
            # Every --every seconds for the first minute (the painter's first look), then
            # every 20 s: scoring a copy costs ~4 s.
            next_copy += args.every if clock < 60 else 20
    return copies, model


def event_model_state(events: Any) -> dict:
    """The running generator's weights, found through the paused ``train_iter`` frame."""
    frame = events.gi_frame
    run = frame.f_locals["run"]
    return run.colorizer.generator.state_dict()


def score_copies(
    copies: list, model: Any, raw_held: np.ndarray, classes_held: np.ndarray
) -> list[dict[str, float]]:
    """Class accuracy and PSNR of each weight copy on the held-out sections."""
    from napari_colorgan.core.label_metrics import evaluate_labels
    from napari_colorgan.core.model.normalize import apply_normalization
    from napari_colorgan.metrics import psnr

    gray = apply_normalization(raw_held, model.normalization)
    truth = em_truth(gray, classes_held)
    rows = []
    for clock, step, state in copies:
        model.generator.load_state_dict(state)
        model.generator.eval()
        pred = np.stack([model.colorize_plane(p) for p in raw_held])
        scores = evaluate_labels(pred, classes_held, rd.EM_PALETTE)
        rows.append(
            {
                "seconds": round(clock, 2),
                "step": step,
                "class_accuracy": scores.metrics["class_accuracy"],
                "macro_f1": scores.metrics["macro_f1"],
                "psnr": float(psnr(pred.astype(np.float32) / 255, truth)),
            }
        )
    return rows


def baselines(
    strokes: np.ndarray, raw: np.ndarray, gray_held: np.ndarray, classes_held: np.ndarray
) -> dict[str, float]:
    """Mean chroma of all the strokes (PSNR) and the majority class of the strokes (accuracy)."""
    from napari_colorgan.metrics import psnr

    truth = em_truth(gray_held, classes_held)
    painted = strokes > 0
    counts = np.bincount(strokes[painted], minlength=max(rd.EM_CLASSES) + 1)
    majority = int(np.argmax(counts))
    lab = []
    for z in np.flatnonzero(painted.any(axis=(1, 2))):
        gz = np.clip(raw[z].astype(np.float32) / 255, 0, 1)
        lab.append(rgb_to_lab(em_truth(gz, strokes[z])[painted[z]]))
    mean_ab = np.concatenate(lab)[:, 1:].mean(0)
    flat = with_chroma(100 * gray_held, np.broadcast_to(mean_ab, (*gray_held.shape, 2)))
    return {
        "mean_chroma_psnr": float(psnr(flat, truth)),
        "majority_accuracy": float((classes_held == majority).mean()),
    }


def plot(result: dict[str, Any], out: Path) -> None:
    """Held-out class accuracy and PSNR against training seconds, both runs and baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc, db) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for name, style in (("live", "-o"), ("all_at_start", "--s")):
        for seed, rows in result["runs"][name].items():
            t = [r["seconds"] for r in rows]
            label = f"{name.replace('_', ' ')} (seed {seed})"
            acc.plot(t, [r["class_accuracy"] for r in rows], style, ms=3, label=label)
            db.plot(t, [r["psnr"] for r in rows], style, ms=3, label=label)
    base = result["baselines"]
    acc.axhline(base["majority_accuracy"], color="grey", lw=1, label="majority class")
    db.axhline(base["mean_chroma_psnr"], color="grey", lw=1, label="mean chroma")
    for when in result["arrivals"][1:]:
        for ax in (acc, db):
            ax.axvline(when, color="grey", lw=0.5, ls=":")
    acc.set(xlabel="training seconds (2-core CPU)", ylabel="held-out class accuracy")
    db.set(xlabel="training seconds (2-core CPU)", ylabel="held-out PSNR (dB)")
    acc.legend(fontsize=7)
    db.legend(fontsize=7)
    fig.suptitle("Live painting on real ssTEM: dotted lines = a new stroke section arrives")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def first_beating(rows: list[dict[str, float]], base: dict[str, float]) -> dict[str, Any]:
    """Training seconds at which previews first beat each baseline, and from when on for good."""

    def times(key: str, baseline: float) -> tuple[float | None, float | None]:
        first = next((r["seconds"] for r in rows if r[key] > baseline), None)
        for_good = None
        for r in rows:
            for_good = (for_good or r["seconds"]) if r[key] > baseline else None
        return first, for_good

    db = times("psnr", base["mean_chroma_psnr"])
    acc = times("class_accuracy", base["majority_accuracy"])
    return {
        "beats_mean_chroma_s": db[0],
        "beats_mean_chroma_for_good_s": db[1],
        "beats_majority_s": acc[0],
        "beats_majority_for_good_s": acc[1],
    }


def summarise(result: dict[str, Any]) -> None:
    """Fill ``result["first"]`` from the runs, print it, save the JSON and the plot."""
    for name, seeds in result["runs"].items():
        for seed, rows in seeds.items():
            result["first"][f"{name} seed {seed}"] = first_beating(rows, result["baselines"])
    print("baselines:", json.dumps(result["baselines"]))
    print("first beating:", json.dumps(result["first"], indent=1))
    RESULTS.write_text(json.dumps(result, indent=1))
    plot(result, PLOT)
    print(f"wrote {RESULTS} and {PLOT}")


def main() -> None:
    """Run both painters for each seed, score, print, save JSON and the plot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0, help="training budget per run")
    p.add_argument("--every", type=float, default=5.0, help="seconds between weight copies")
    p.add_argument("--arrivals", type=float, nargs=5, default=[0, 15, 30, 45, 60])
    p.add_argument("--seed", type=int, nargs="+", default=[0])
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    p.add_argument("--replot", action="store_true", help="summarise and plot the saved JSON")
    args = p.parse_args()
    if args.replot:
        summarise(json.loads(RESULTS.read_text()))
        return
    import torch

    torch.set_num_threads(2)
    raw, classes = rd.load_em(args.data, SECTIONS)
    raw_held, classes_held = rd.load_em(args.data, HELD_OUT, HELD_CROP)
    strokes, stats = rd.stroke_labels(classes, SECTIONS, seed=0)
    print(f"strokes: {stats.to_dict()['labelled_percent']:.2f} % of sections {rd.STROKE_SECTIONS}")
    live = dict(zip(args.arrivals, rd.STROKE_SECTIONS, strict=True))
    at_start = {-float(i): z for i, z in enumerate(rd.STROKE_SECTIONS)}
    result: dict[str, Any] = {"arrivals": args.arrivals, "runs": {}, "first": {}}
    for name, arrivals in (("live", live), ("all_at_start", at_start)):
        result["runs"][name] = {}
        for seed in args.seed:
            run_args = argparse.Namespace(**{**vars(args), "seed": seed})
            print(f"{name}, seed {seed}:")
            copies, model = train_painting(raw, strokes, arrivals, run_args)
            rows = score_copies(copies, model, raw_held, classes_held)
            result["runs"][name][str(seed)] = rows
            if "baselines" not in result:
                from napari_colorgan.core.model.normalize import apply_normalization

                gray = apply_normalization(raw_held, model.normalization)
                result["baselines"] = baselines(strokes, raw, gray, classes_held)
            for r in rows:
                print(
                    f"  {r['seconds']:6.1f} s  step {r['step']:5d}  accuracy "
                    f"{r['class_accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  {r['psnr']:.2f} dB"
                )
    summarise(result)


if __name__ == "__main__":
    main()
