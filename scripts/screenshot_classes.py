"""Render the class map and confidence layers on real ssTEM into docs/images/class_layers.png.

    xvfb-run -a .venv/bin/python scripts/screenshot_classes.py --model EM_MODEL.safetensors

A held-out section of ``../shared/data/em-drosophila-vnc`` (Gerhard et al. 2013,
doi:10.6084/m9.figshare.856713) and a class model trained on strokes of other sections (e.g.
``napari-colorgan train`` with a Labels target, or the Train widget): the Colorize widget adds
the colour layer with its class map and confidence, shown side by side in napari's grid mode.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import napari
import tifffile
from qtpy.QtWidgets import QApplication

from napari_colorgan._widgets import ColorizeWidget

OUT = Path(__file__).parents[1] / "docs" / "images" / "class_layers.png"
DATA = Path(__file__).parents[2] / "shared" / "data" / "em-drosophila-vnc"


def settle(seconds: float = 0.5) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="a class model file")
    p.add_argument("--section", type=int, default=15, help="a held-out section")
    p.add_argument("--data", type=Path, default=DATA)
    args = p.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    section = tifffile.imread(args.data / "raw" / f"{args.section:02d}.tif")
    gray = viewer.add_image(section, name=f"section {args.section}")
    col = ColorizeWidget(viewer)
    viewer.window.add_dock_widget(col, name="Colorize")
    col._image.value, col._model_file.value = gray, args.model
    col._use_session.value, col._device.value = False, "cpu"
    col._classes.value = col._confidence.value = True
    layer = col.colorize()
    tiled = layer.metadata["colorgan_tiles"]
    end = time.time() + 300
    while (tiled.source is None or tiled.queue.pending() or not len(tiled.cache)) and (
        time.time() < end
    ):
        settle(0.2)
    settle(2.0)
    classes, confidence = layer.metadata["colorgan_parts"]
    classes.opacity, confidence.visible = 1.0, True
    viewer.grid.enabled = True
    settle(1.0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    viewer.window.screenshot(str(OUT), canvas_only=False)
    print("wrote", OUT)
    viewer.close()


if __name__ == "__main__":
    main()
