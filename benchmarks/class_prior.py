"""A class model's decision rule in the first minutes: argmax vs prior-corrected logits.

Real ssTEM (``../shared/data/em-drosophila-vnc``, Gerhard et al. 2013,
doi:10.6084/m9.figshare.856713), classes merged into membrane, glia, mitochondria, synapse,
intracellular. Simulated brush strokes (``_real_data.simulate_strokes``: ~1 % of a section,
every class present, seeded) on two sections (``--stroke-sections``, default 0 and 6); sections
0-13 are the training stack, the rest unannotated. Training: the Train widget's defaults (the
``small`` preset, class-balanced cross entropy with ``class_balance`` 0.5, previews on a 5 s
clock) for ``--seconds`` of its own clock on this CPU. At each ``--at`` second the weights are
copied; afterwards each copy's logits on held-out sections 14-19 (whole 1024² sections) are
decided by several rules, all from the same logits:

- ``argmax``: the class of the largest logit (the rule before this benchmark);
- ``prior α``: ``argmax(logits − α·log w)`` where ``w`` are the class weights training used
  (``class_weights(painted counts, class_balance)``): α = 1 undoes the balancing exactly (the
  posterior of the painted class frequencies), smaller α undoes part of it.

Scores: held-out class accuracy and macro-F1 over the five classes
(:func:`napari_colorgan.core.class_metrics.class_map_scores`), against the majority class of
the strokes (its accuracy).

    .venv/bin/python benchmarks/class_prior.py --seconds 300 --at 60 120 300 --seed 0 1
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

TRAIN = list(range(14))
HELD_OUT = list(range(14, 20))
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
RESULTS = Path(__file__).parent / "results" / "class_prior.json"
PLOT = Path(__file__).parents[1] / "docs" / "benchmarks" / "class_prior.png"


def strokes_on(classes: np.ndarray, sections: list[int], seed: int) -> np.ndarray:
    """Stroke labels (z, y, x) on the training stack: only ``sections`` are painted."""
    labels = np.zeros_like(classes)
    for z in sections:
        labels[z], _n = rd.simulate_strokes(classes[z], np.random.default_rng([seed, z]))
    return labels


def train_with_copies(
    raw: np.ndarray, labels: np.ndarray, seed: int, seconds: float, at: list[float]
) -> tuple[list[tuple[float, int, dict]], Any, np.ndarray]:
    """Train on the strokes; weight copies at each ``at`` second, the model, the class counts."""
    import torch

    from napari_colorgan.core.events import Finished, StepDone
    from napari_colorgan.core.train.config import TrainConfig
    from napari_colorgan.core.train.loop import train_iter

    torch.manual_seed(seed)
    config = TrainConfig(minutes=seconds / 60, val_every=0, val_seconds=5.0, seed=seed)
    events = train_iter(raw, labels=labels, palette=rd.EM_PALETTE, config=config, device="cpu")
    clock, copies, model, counts = 0.0, [], None, None
    pending = sorted(at)
    while True:
        t = time.perf_counter()
        event = next(events, None)
        clock += time.perf_counter() - t
        if event is None:
            break
        if isinstance(event, Finished):
            model = event.result
        if not isinstance(event, StepDone):
            continue
        run = events.gi_frame.f_locals["run"]
        counts = np.array(run.stack.class_counts)
        if pending and clock >= pending[0]:
            copies.append((clock, event.step, copy.deepcopy(run.colorizer.generator.state_dict())))
            print(f"  seed {seed}: copy at {clock:6.1f} s, step {event.step}", flush=True)
            pending.pop(0)
    if model is not None and pending:  # the budget ended first: the final weights count
        copies.append((clock, -1, copy.deepcopy(model.generator.state_dict())))
    return copies, model, counts


def held_out_logits(model: Any, raw: np.ndarray) -> np.ndarray:
    """The generator's logits (z, K, y, x) on the held-out sections, eval mode."""
    import torch

    from napari_colorgan.core.model.colorizer import network_input
    from napari_colorgan.core.model.normalize import apply_normalization

    model.generator.eval()
    out = []
    with torch.inference_mode():
        for plane in raw:
            x = torch.from_numpy(apply_normalization(plane, model.normalization))[None, None]
            out.append(model.generator(network_input(x))[0].float().numpy())
    return np.stack(out)


def decide(logits: np.ndarray, log_w: np.ndarray, alpha: float, ids: np.ndarray) -> np.ndarray:
    """Label ids (z, y, x) by ``argmax(logits − α·log w)``."""
    return ids[np.argmax(logits - alpha * log_w[None, :, None, None], axis=1)]


def score_copies(
    copies: list, model: Any, counts: np.ndarray, raw: np.ndarray, classes: np.ndarray
) -> list[dict[str, Any]]:
    """Accuracy and macro-F1 of every rule for every weight copy."""
    from napari_colorgan.core.class_metrics import class_map_scores
    from napari_colorgan.core.train.step import class_weights

    ids = np.array([c[0] for c in model.config.classes])
    log_w = np.log(np.maximum(class_weights(counts, 0.5).numpy(), 1e-12))
    rows = []
    for clock, step, state in copies:
        model.generator.load_state_dict(state)
        logits = held_out_logits(model, raw)
        row: dict[str, Any] = {"seconds": round(clock, 1), "step": step}
        for alpha in ALPHAS:
            s = class_map_scores(decide(logits, log_w, alpha, ids), classes)
            row[f"prior {alpha}"] = {"accuracy": s.accuracy, "macro_f1": s.macro_f1()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def plot(result: dict[str, Any], out: Path) -> None:
    """Held-out accuracy and macro-F1 against training seconds, one line per rule and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc, f1) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for k, alpha in enumerate(ALPHAS):
        for s, rows in enumerate(result["runs"].values()):
            t = [r["seconds"] for r in rows]
            rule = f"prior {alpha}"
            label = ("argmax" if alpha == 0 else f"α = {alpha}") if s == 0 else None
            style = dict(color=f"C{k}", ls="-" if s == 0 else "--", marker="o", ms=3)
            acc.plot(t, [r[rule]["accuracy"] for r in rows], label=label, **style)
            f1.plot(t, [r[rule]["macro_f1"] for r in rows], label=label, **style)
    majority = np.mean([b["majority_accuracy"] for b in result["baselines"].values()])
    acc.axhline(majority, color="grey", lw=1, label="majority class of the strokes")
    acc.set(xlabel="training seconds (2-core CPU)", ylabel="held-out class accuracy")
    f1.set(xlabel="training seconds (2-core CPU)", ylabel="held-out macro-F1")
    acc.legend(fontsize=7)
    fig.suptitle("Strokes on two ssTEM sections: decision rule (solid seed 0, dashed seed 1)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> None:
    """Train once per seed, score every rule on every copy, save the JSON and the plot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=300.0, help="training budget per run")
    p.add_argument("--at", type=float, nargs="+", default=[60, 120, 300], help="copy times")
    p.add_argument("--seed", type=int, nargs="+", default=[0, 1])
    p.add_argument("--stroke-sections", type=int, nargs="+", default=[0, 6])
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    p.add_argument("--replot", action="store_true", help="plot the saved JSON only")
    args = p.parse_args()
    if args.replot:
        plot(json.loads(RESULTS.read_text()), PLOT)
        return
    import torch

    torch.set_num_threads(2)
    raw, classes = rd.load_em(args.data, TRAIN + HELD_OUT)
    train_raw, held_raw, held_classes = raw[: len(TRAIN)], raw[len(TRAIN) :], classes[len(TRAIN) :]
    # Seeds of earlier runs are kept (a seed run again is replaced): one seed per call works.
    result: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result["args"] = {k: str(v) for k, v in vars(args).items()}
    result.setdefault("runs", {})
    result.setdefault("baselines", {})
    for seed in args.seed:
        labels = strokes_on(classes[: len(TRAIN)], args.stroke_sections, seed)
        painted = np.bincount(labels[labels > 0], minlength=max(rd.EM_CLASSES) + 1)
        majority = int(np.argmax(painted))
        result["baselines"][str(seed)] = {
            "majority_class": majority,
            "majority_accuracy": float((held_classes == majority).mean()),
            "painted_counts": painted[1:].tolist(),
        }
        copies, model, counts = train_with_copies(train_raw, labels, seed, args.seconds, args.at)
        result["runs"][str(seed)] = score_copies(copies, model, counts, held_raw, held_classes)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    plot(result, PLOT)
    print(json.dumps(result["baselines"]))
    print(f"wrote {RESULTS} and {PLOT}")


if __name__ == "__main__":
    main()
