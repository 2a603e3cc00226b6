"""Browsing a colour layer in napari: the longest time the GUI thread is blocked.

Real ssTEM sections (``../shared/data/em-drosophila-vnc``, Gerhard et al. 2013,
doi:10.6084/m9.figshare.856713), each 1024² section tiled 2 × 2 into a 2048² plane, 4 planes,
``small`` preset (random weights: the cost is the same). A 10 ms ``QTimer`` on napari's GUI
thread measures the longest gap between its ticks while the user adds the colour layer and
steps through the planes: for an RGB layer already in memory (the floor: napari's own slicing
and drawing, in software OpenGL under Xvfb here), for the Colorize widget's layer, and for a
plain dask layer of ``napari_colorgan.colorize`` (which napari computes on its GUI thread).

    xvfb-run -a .venv/bin/python benchmarks/gui_browse.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np
from _gui_probe import Ticks


def _settle(app: Any, seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def _browse(app: Any, viewer: Any, planes: int, ticks: Ticks, settle: float) -> float:
    """Step through the planes, pausing ``settle`` s on each; the longest GUI block."""
    t0 = time.perf_counter()
    for z in range(planes):
        viewer.dims.set_current_step(0, z)
        _settle(app, settle)
    return ticks.longest_gap(t0)[0]


def run(root: Path, planes: int, settle: float) -> dict[str, float]:
    """Longest GUI-thread block: adding and browsing each kind of colour layer."""
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_colorgan import colorize
    from napari_colorgan._widgets import ColorizeWidget
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    raw, _ = rd.load_em(root, list(range(planes)))
    stack = np.tile(raw, (1, 2, 2))  # (planes, 2048, 2048)
    model = Colorizer.from_config(preset("small"))
    path = model.save(Path(tempfile.mkdtemp()) / "m.safetensors")
    viewer = napari.Viewer()
    viewer.add_image(stack, name="em")
    app = QApplication.instance()
    ticks = Ticks()
    ticks.timer.start()
    out: dict[str, float] = {}

    # The floor: a colour layer already in memory costs only napari's slicing and drawing.
    t0 = time.perf_counter()
    floor = viewer.add_image(np.repeat(stack[..., None], 3, -1), rgb=True, name="in memory")
    _settle(app, 0.5)
    out["in-memory RGB (floor): add layer, longest block s"] = ticks.longest_gap(t0)[0]
    out["in-memory RGB (floor): browse, longest block s"] = _browse(
        app, viewer, planes, ticks, settle
    )
    viewer.layers.remove(floor)

    t0 = time.perf_counter()
    widget = ColorizeWidget(viewer)
    widget._image.value, widget._model_file.value = viewer.layers["em"], path
    widget._use_session.value, widget._device.value = False, "cpu"
    layer = widget.colorize()
    _settle(app, 0.5)
    out["ours: add layer, longest block s"] = ticks.longest_gap(t0)[0]
    out["ours: browse, longest block s"] = _browse(app, viewer, planes, ticks, settle)
    viewer.layers.remove(layer)

    t0 = time.perf_counter()
    viewer.add_image(colorize(stack, model, device="cpu"), rgb=True, name="plain dask")
    _settle(app, 0.5)
    out["plain dask layer: add layer, longest block s"] = ticks.longest_gap(t0)[0]
    out["plain dask layer: browse, longest block s"] = _browse(app, viewer, planes, ticks, settle)
    ticks.timer.stop()
    viewer.close()
    return out


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--planes", type=int, default=4)
    p.add_argument("--settle", type=float, default=2.0, help="seconds on each plane")
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    args = p.parse_args()
    results = run(args.data, args.planes, args.settle)
    width = max(map(len, results))
    for key, value in results.items():
        print(f"  {key:<{width}}  {value:.3f}")


if __name__ == "__main__":
    main()
