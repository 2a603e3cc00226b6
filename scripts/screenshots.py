"""Render real screenshots of each widget in a running viewer into docs/images/.

    xvfb-run -a .venv/bin/python scripts/screenshots.py

Opens the EM sample, trains a small model for a few seconds, adds a colour layer, exports, and
evaluates, capturing the viewer with each widget docked.
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_colorgan._sample_data import em_sample
from napari_colorgan._widgets import ColorizeWidget, EvaluateWidget, TrainWidget

OUT = Path(__file__).parents[1] / "docs" / "images"


def wait(condition, timeout=600.0) -> None:
    end = time.time() + timeout
    while not condition():
        QApplication.processEvents()
        time.sleep(0.02)
        if time.time() > end:
            raise TimeoutError("the widget did not finish in time")


def shot(viewer, name: str) -> None:
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.02)
    viewer.window.screenshot(str(OUT / name), canvas_only=False)
    print("wrote", OUT / name)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    for data, kwargs, kind in em_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.dims.set_current_step(0, 1)

    train = TrainWidget(viewer)
    viewer.window.add_dock_widget(train, name="Train colorizer")
    train._image.value, train._target.value = viewer.layers["em"], viewer.layers["em labels"]
    train._steps.value, train._tile.value, train._batch.value = 400, 64, 8
    train._vgg.value, train._device.value, train._preview_every.value = "none", "cpu", 5.0
    train.start()
    wait(lambda: train._start.enabled)
    viewer.layers["em labels"].opacity = 0.6
    shot(viewer, "train_widget.png")

    col = ColorizeWidget(viewer)
    viewer.window.add_dock_widget(col, name="Colorize")
    col._image.value, col._use_session.value, col._device.value = viewer.layers["em"], True, "cpu"
    viewer.layers["training preview"].visible = False
    tiles = col.colorize().metadata["colorgan_tiles"]
    viewer.layers["em labels"].visible = False
    viewer.dims.set_current_step(0, 5)  # a slice nobody annotated
    wait(lambda: any(k.plane == (5,) for k in list(tiles.cache._tiles)))  # its colour came
    shot(viewer, "colorize_widget.png")

    ev = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(ev, name="Evaluate colorization")
    ev._pred.value, ev._truth.value = viewer.layers["em colorized"], viewer.layers["em truth"]
    ev._slices.value = "2:8"
    ev.evaluate()
    wait(lambda: bool(ev.results))  # scored in a worker
    viewer.layers["em truth"].visible = True
    viewer.layers["em colorized"].visible = False
    shot(viewer, "evaluate_widget.png")
    print({k: round(v, 3) for k, v in ev.results.items()})
    viewer.close()


if __name__ == "__main__":
    main()
