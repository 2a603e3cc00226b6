"""What blocks napari's GUI thread while the Train widget trains: gaps and sampled stacks.

Real ssTEM (20 sections of ``../shared/data/em-drosophila-vnc`` cropped to 512², Gerhard et al.
2013, doi:10.6084/m9.figshare.856713) in a real napari viewer (run it under ``xvfb-run``), with
simulated brush strokes (~1 % of the pixels, every class) on 2 sections. The Train widget
trains on CPU with a user's defaults (small preset, previews on) for a time budget. Meanwhile

- a 10 ms ``QTimer`` on the GUI thread records the gaps between its ticks (a gap is time the
  thread was kept from its event loop);
- a sampler thread looks at the GUI thread's Python stack every 20 ms and, while the timer
  has not ticked for over 100 ms, records that stack.

It prints the worst gaps, the stacks seen most often during long blocks (innermost frames),
and how the blocked time splits between them.

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/gui_block_train.py
"""

from __future__ import annotations

import argparse
import collections
import threading
import time
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np
from _gui_probe import BLOCK_S, SAMPLE_S, StackSampler, Ticks

CROP = (slice(0, 512), slice(0, 512))
STROKED = (0, 10)  # the two sections with strokes
STEADY_S = 15.0  # past Start and the first previews (which add layers): steady training


def _labels_colormap() -> Any:
    from napari.utils.colormaps import DirectLabelColormap

    colours = {k: np.array([*v, 255]) / 255 for k, v in rd.EM_PALETTE.items()}
    return DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), **colours})


def _strokes(classes: np.ndarray) -> np.ndarray:
    """Brush strokes on sections :data:`STROKED` (class ids of the dataset's labels)."""
    labels = np.zeros_like(classes)
    for z in STROKED:
        labels[z], _ = rd.simulate_strokes(classes[z], np.random.default_rng(z), fraction=0.01)
    return labels


def _signature(stack: tuple[str, ...], depth: int) -> str:
    """The innermost ``depth`` frames of a formatted stack, one line each."""
    lines = [frame.strip().splitlines()[0] for frame in stack[-depth:]]
    return "\n      ".join(lines)


def train_and_watch(root: Path, minutes: float) -> tuple[Ticks, StackSampler, float, float]:
    """Train from the widget while sampling; the timer, sampler, start time and wall time."""
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_colorgan._widgets import TrainWidget

    raw, classes = rd.load_em(root, list(range(20)), CROP)
    viewer = napari.Viewer(show=True)
    viewer.add_image(raw, name="em")
    viewer.add_labels(_strokes(classes), name="strokes", colormap=_labels_colormap())
    widget = TrainWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget._image.value, widget._target.value = viewer.layers["em"], viewer.layers["strokes"]
    widget._minutes.value, widget._device.value = minutes, "cpu"
    app = QApplication.instance()
    ticks = Ticks()
    ticks.timer.start()
    for _ in range(100):  # let the viewer settle
        app.processEvents()
        time.sleep(0.01)
    sampler = StackSampler(ticks, threading.main_thread().ident)
    sampler.start()
    t0 = time.perf_counter()
    widget._start.changed.emit(True)
    while widget.worker is None or not widget._start.enabled:
        app.processEvents()
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    sampler.halt()
    ticks.timer.stop()
    print(f"steps: {widget.model.training['steps_done']} on {_cores()} cores")
    viewer.close()
    return ticks, sampler, t0, wall


def _cores() -> int:
    from napari_colorgan._widgets._cores import usable_cores

    return usable_cores()


def report(ticks: Ticks, sampler: StackSampler, t0: float, wall: float, depth: int) -> None:
    """Print the worst gaps, the commonest stacks in long blocks and the blocked-time split."""
    gaps = ticks.gaps(t0)
    long = gaps[gaps[:, 1] > BLOCK_S]
    print(f"training wall time           {wall:8.1f} s")
    print(f"worst GUI-thread gap         {gaps[:, 1].max(initial=0):8.3f} s")
    print(f"gaps > {BLOCK_S * 1000:.0f} ms                 {len(long):8d}")
    print(f"time in gaps > {BLOCK_S * 1000:.0f} ms         {long[:, 1].sum():8.2f} s")
    steady = gaps[gaps[:, 0] > STEADY_S, 1]
    print(
        f"worst gap after {STEADY_S:.0f} s          {steady.max(initial=0):8.3f} s  (steady state)"
    )
    late = np.asarray(sampler.own_lateness)
    print(f"sampler thread late (max)    {late.max(initial=0):8.3f} s  (GIL contention)")
    print("worst gaps (started at, length):")
    for start, length in sorted(long.tolist(), key=lambda g: -g[1])[:8]:
        print(f"  {start:7.2f} s  {length:6.3f} s")
    counts = collections.Counter(_signature(s, depth) for _, s in sampler.samples)
    total = sum(counts.values()) or 1
    print(f"\nstacks during blocks ({total} samples of {SAMPLE_S * 1000:.0f} ms):")
    for signature, n in counts.most_common(6):
        print(f"  {100 * n / total:5.1f} %  ~{n * SAMPLE_S:5.2f} s\n      {signature}")
    print("\nother threads' innermost frames during blocks:")
    for where, n in collections.Counter(sampler.others).most_common(6):
        print(f"  {n:4d}  {where}")
    if sampler.samples:
        _, stack = collections.Counter((0, s) for _, s in sampler.samples).most_common(1)[0][0]
        print("\ncommonest full stack:\n" + "".join(stack[-25:]))


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=1.0, help="training budget")
    p.add_argument("--depth", type=int, default=6, help="innermost frames grouped on")
    p.add_argument("--data", type=Path, default=rd.DEFAULT_ROOT)
    args = p.parse_args()
    report(*train_and_watch(args.data, args.minutes), depth=args.depth)


if __name__ == "__main__":
    main()
