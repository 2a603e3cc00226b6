"""Where to paint next: strokes where the model is least sure vs strokes at random, real EM.

Real ssTEM (``../shared/data/em-drosophila-vnc``, Gerhard et al. 2013,
doi:10.6084/m9.figshare.856713), classes merged into membrane, glia, mitochondria, synapse,
intracellular. Training stack: sections 0-13; held out: sections 14-19 (whole 1024² sections).

The painter's loop, simulated: strokes on section 0 (``_real_data.simulate_strokes``, ~1 %,
seeded) before Start; the Train widget's defaults, run for ``--base-steps``; then the painter
looks at section ``--section`` (unpainted so far) and paints ``--cells`` cells of 64² px with
strokes (``simulate_strokes`` inside each cell, ``--fraction`` of its pixels, seeded), handed
to the running training as the widget does (``PaintedPlanes``); training goes on to
``--base-steps + --more-steps``. Two arms, identical up to the painting (same seed, a budget in
steps, so the same steps on this CPU):

- ``unsure``: the cells of lowest mean confidence of the running model on that section
  (:func:`napari_colorgan.core.train.suggest.least_confident`, what the widget's "where to paint
  next" shows);
- ``random``: cells drawn at random (seeded).

Scores: held-out class accuracy and macro-F1 of the final model's decisions, and of the model
at the moment of painting (the same in both arms).

    .venv/bin/python benchmarks/paint_next.py --seed 0 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np
from class_prior import HELD_OUT, TRAIN, held_out_logits

RESULTS = Path(__file__).parent / "results" / "paint_next.json"
#: The painters: cells by least confidence or at random; strokes guided by the overlay or not.
ARMS = ("unsure", "random", "random guided", "unsure unguided")
GUIDED = ("unsure", "random guided")


def paint_cells(
    classes: np.ndarray,
    cells: list[tuple[int, int]],
    side: int,
    fraction: float,
    seed: int,
    confidence: np.ndarray | None = None,
) -> np.ndarray:
    """Strokes (y, x) inside each cell (row, col) of ``side`` px, ``fraction`` of its pixels.

    Without ``confidence`` the painter strokes whatever is in the cell
    (``_real_data.simulate_strokes``); with it, the painter follows the overlay: each stroke
    starts on one of the cell's least confident pixels (the brightest in the uncertainty
    layer) and runs along that pixel's true class (:func:`guided_strokes`).
    """
    labels = np.zeros_like(classes)
    for r, c in cells:
        ys, xs = slice(r * side, (r + 1) * side), slice(c * side, (c + 1) * side)
        rng = np.random.default_rng([seed, r, c])
        if confidence is None:
            labels[ys, xs], _n = rd.simulate_strokes(classes[ys, xs], rng, fraction)
        else:
            labels[ys, xs] = guided_strokes(classes[ys, xs], confidence[ys, xs], rng, fraction)
    return labels


def guided_strokes(
    classes: np.ndarray, confidence: np.ndarray, rng: np.random.Generator, fraction: float
) -> np.ndarray:
    """Strokes from the least confident tenth of a cell's pixels, each along its true class."""
    labels = np.zeros_like(classes)
    order = np.argsort(confidence, axis=None)[: max(1, confidence.size // 10)]
    budget, painted, tries = fraction * classes.size, 0, 0
    while painted < budget and tries < 2_000:
        y, x = np.unravel_index(order[rng.integers(order.size)], classes.shape)
        region = classes == classes[y, x]
        path = rd._walk(region, (int(y), int(x)), rng, 60)
        painted += rd._paint(labels, region, path, int(classes[y, x]), 3)
        tries += 1
    return labels


def choose_cells(model: Any, plane: np.ndarray, arm: str, args: argparse.Namespace, seed: int):
    """The cells to paint: least confident ones, or random ones; and the confidence map."""
    from napari_colorgan.core.train.suggest import CELL, least_confident

    was_training = model.generator.training
    _rgb, confidence = model.classify_plane(plane)
    model.generator.train(was_training)  # mid-run: training goes on
    if arm.startswith("unsure"):
        found = least_confident(confidence, args.cells, CELL)
        return [(int(s.y // CELL), int(s.x // CELL)) for s in found], confidence
    rows, cols = plane.shape[0] // CELL, plane.shape[1] // CELL
    picks = np.random.default_rng([seed, 99]).choice(rows * cols, args.cells, replace=False)
    return [(int(p // cols), int(p % cols)) for p in picks], confidence


def held_out_scores(model: Any, raw: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Held-out class accuracy and macro-F1 of the model's decisions (its class bias too)."""
    from napari_colorgan.core.class_metrics import class_map_scores

    logits = held_out_logits(model, raw)  # (z, K, y, x)
    bias = np.asarray(model.config.class_bias or [0.0] * logits.shape[1], np.float32)
    ids = np.array([c[0] for c in model.config.classes])
    scores = class_map_scores(ids[np.argmax(logits + bias[None, :, None, None], 1)], classes)
    return {"accuracy": scores.accuracy, "macro_f1": scores.macro_f1()}


def run_arm(arm: str, data: dict[str, np.ndarray], args: argparse.Namespace, seed: int) -> dict:
    """Train with the painter of ``arm``; the scores before painting and at the end."""
    import torch

    from napari_colorgan.core.events import Finished, StepDone
    from napari_colorgan.core.train.config import TrainConfig
    from napari_colorgan.core.train.live import PaintedPlanes
    from napari_colorgan.core.train.loop import train_iter
    from napari_colorgan.core.train.suggest import CELL

    torch.manual_seed(seed)
    labels = np.zeros_like(data["classes"])
    labels[0], _n = rd.simulate_strokes(data["classes"][0], np.random.default_rng([seed, 0]))
    painted = PaintedPlanes()
    steps = args.base_steps + args.more_steps
    # Validation once, at the end (it is not scored here): every step spent training.
    config = TrainConfig(steps=steps, val_every=steps, seed=seed, checkpoint_every=0)
    events = train_iter(
        data["raw"], labels=labels, palette=rd.EM_PALETTE, config=config, device="cpu",
        painted=painted,
    )  # fmt: skip
    out: dict[str, Any] = {"arm": arm}
    t0 = time.perf_counter()
    for event in events:
        if isinstance(event, StepDone) and event.step == args.base_steps:
            model = events.gi_frame.f_locals["run"].colorizer
            if arm == args.arms[0]:  # the same model in all arms: scored once
                out["before"] = held_out_scores(model, data["held_raw"], data["held_classes"])
                model.generator.train()
            cells, confidence = choose_cells(model, data["raw"][args.section], arm, args, seed)
            z = args.section
            guide = confidence if arm in GUIDED else None  # the painter sees the overlay
            labels[z] = paint_cells(data["classes"][z], cells, CELL, args.fraction, seed, guide)
            painted.put((z,), labels[z])
            out["cells"] = cells
            out["painted_pixels"] = int((labels[z] > 0).sum())
            out["cell_confidence"] = [
                float(confidence[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL].mean())
                for r, c in cells
            ]
        if isinstance(event, Finished):
            out["after"] = held_out_scores(event.result, data["held_raw"], data["held_classes"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps({k: v for k, v in out.items() if k != "cells"}), flush=True)
    return out


def main() -> None:
    """Both arms for each seed; print and save the JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-steps", type=int, default=500, help="steps before painting")
    p.add_argument("--more-steps", type=int, default=700, help="steps after painting")
    p.add_argument("--cells", type=int, default=8, help="64 px cells painted")
    p.add_argument("--fraction", type=float, default=0.15, help="share of a cell's pixels")
    p.add_argument("--section", type=int, default=6, help="the section painted next")
    p.add_argument("--seed", type=int, nargs="+", default=[0, 1])
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    args = p.parse_args()
    import torch

    torch.set_num_threads(2)
    raw, classes = rd.load_em(args.data, TRAIN + HELD_OUT)
    n = len(TRAIN)
    data = {
        "raw": raw[:n],
        "classes": classes[:n],
        "held_raw": raw[n:],
        "held_classes": classes[n:],
    }
    result: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "runs": {}}
    for seed in args.seed:
        result["runs"][str(seed)] = [run_arm(arm, data, args, seed) for arm in args.arms]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
