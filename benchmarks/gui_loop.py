"""The napari training loop as a painter meets it: time to the first preview, GUI-thread stalls.

Real ssTEM (20 sections cropped to 512², ``../shared/data/em-drosophila-vnc``, Gerhard et al.
2013, doi:10.6084/m9.figshare.856713) with simulated brush strokes on ~1 % of sections 0, 3, 6,
9 and 12, in a real napari viewer (run under ``xvfb-run`` without a display). The Train widget
trains with its defaults on a time budget; a 10 ms ``QTimer`` on the GUI thread measures how
long the thread was ever kept from its event loop (the longest gap between ticks), from the
Start click to the end of training. Then the model is scored on held-out sections 14-19
against their full labels with ``metrics.evaluate_labels`` (per-class accuracy).

    xvfb-run -a .venv/bin/python benchmarks/gui_loop.py --minutes 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _real_data as rd
import numpy as np
from _gui_probe import Ticks

CROP = (slice(0, 512), slice(0, 512))
HELD_OUT = list(range(14, 20))


def _palette_colormap() -> object:
    from napari.utils.colormaps import DirectLabelColormap

    colours = {k: np.array([*v, 255]) / 255 for k, v in rd.EM_PALETTE.items()}
    return DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), **colours})


def run(root: Path, minutes: float, wait: float = 0.5, warm: bool = True) -> dict[str, float]:
    """Train from the widget, timing it; score the model on the held-out sections.

    ``wait`` is the time between the widget opening and Start (a user picking layers); with
    ``warm`` off the widget does not load torch in the background meanwhile.
    """
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_colorgan._widgets import TrainWidget, _train
    from napari_colorgan.core.events import Finished, Preview

    raw, classes = rd.load_em(root, list(range(20)), CROP)
    strokes, stats = rd.stroke_labels(classes, list(range(20)), seed=0)
    doc = stats.to_dict()
    print(f"strokes: {doc['labelled_percent']:.2f} % of sections {rd.STROKE_SECTIONS}")
    viewer = napari.Viewer()
    viewer.add_image(raw, name="em")
    viewer.add_labels(strokes, name="strokes", colormap=_palette_colormap())
    if not warm:
        _train.warm_up = lambda *modules: None
    torch_before = "torch" in sys.modules  # a fresh session: not yet
    widget = TrainWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget._image.value, widget._target.value = viewer.layers["em"], viewer.layers["strokes"]
    widget._minutes.value, widget._device.value = minutes, "cpu"
    marks: dict[str, float] = {}
    handle = widget._on_event

    def on_event(event: object) -> None:
        if isinstance(event, Preview):
            marks.setdefault("preview", time.perf_counter())
        if isinstance(event, Finished):
            marks["finished"] = time.perf_counter()
        handle(event)

    widget._on_event = on_event
    app = QApplication.instance()
    ticks = Ticks()
    ticks.timer.start()
    t_open = time.perf_counter()
    while time.perf_counter() - t_open < wait:  # the viewer settles, the user picks layers
        app.processEvents()
        time.sleep(0.01)
    before_start, _ = ticks.longest_gap(t_open)  # the widget open: torch loading meanwhile
    t0 = time.perf_counter()
    widget._start.changed.emit(True)
    click = time.perf_counter() - t0
    while "finished" not in marks or not widget._start.enabled:
        app.processEvents()
        time.sleep(0.002)
    block, block_end = ticks.longest_gap(t0)
    ticks.timer.stop()
    model = widget.model
    from napari_colorgan.core.label_metrics import evaluate_labels  # imports torch

    held = np.stack([model.colorize_plane(raw[z]) for z in HELD_OUT])
    scores = evaluate_labels(held, classes[HELD_OUT], rd.EM_PALETTE)
    viewer.close()
    out = {
        "torch_imported_before_the_widget": float(torch_before),
        "longest_gui_block_before_start_s": before_start,
        "click_s": click,
        "first_preview_s": marks["preview"] - t0,
        "longest_gui_block_s": block,
        "longest_block_ended_at_s": block_end,
        "steps": float(model.training["steps_done"]),
        "class_accuracy": scores.metrics["class_accuracy"],
        "macro_f1": scores.metrics["macro_f1"],
    }
    for label, s in scores.per_class.items():
        out[f"accuracy {rd.EM_CLASSES[label]}"] = s["accuracy"]
    return out


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=1.0, help="training budget")
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    p.add_argument("--wait", type=float, default=0.5, help="seconds from widget to Start")
    p.add_argument("--no-warm-up", action="store_true", help="torch loads at Start only")
    args = p.parse_args()
    results = run(args.data, args.minutes, args.wait, not args.no_warm_up)
    width = max(map(len, results))
    for key, value in results.items():
        print(f"  {key:<{width}}  {value:.3f}")


if __name__ == "__main__":
    main()
