"""A huge section in a real napari: when colour shows, how long napari's thread is blocked, memory.

    xvfb-run -a -s "-screen 0 1400x1200x24" python benchmarks/big_view_napari.py \
        [--side 16384] [--planes 3] [--out DIR] [--shots DIR] [--model FILE] [--classes]
        [--async-slicing]

Real ssTEM tiled into ``--planes`` sections of ``--side``² px, a 2x zarr pyramid down to 1024 px
(``big_view.write_pyramid``), opened as napari-ome-zarr opens it: a multiscale image layer of
dask arrays over the zarr levels. A ``small`` model file (``--model``, e.g. one trained 3
minutes on the EM labels, for the pictures; else random weights: the speed does not depend on
them) is given to :func:`napari_colorgan.add_colour_layer`, as the Colorize widget's click
does: the model loads in the worker. On a canvas about 1000 px across, as a user would:

* zoomed in at the centre of plane 0 (level 0, the exact colorization);
* a pan of 3000 px;
* zoomed out to the whole section (a preview at the coarsest level);
* zoomed in again at the centre;
* the next plane.

Each view's time starts before its move: napari slices the layers on its own thread as the
camera or plane changes, and that block counts.

The same moves are made first with the grey layer alone: napari's own worst block in the same
session (its slicing of the grey pyramid, its drawing) is the floor the colour layer adds to.

For each view: seconds until the first colour shows there (a coarser level's colour upsampled
counts) and until every tile of the view is computed at the level shown; and the longest time
napari's thread was blocked (a 10 ms timer's longest gap) while the view changed and filled
in. Also: how long the call adding the layer took, beside napari's own ``add_image`` of the
same grey pyramid (the floor of any click that adds a layer), how long a refresh of the grey
layer alone blocks napari (the floor of each colour refresh: one per batch of tiles arriving),
the number of blocks over 50 and 100 ms with and without the colour layer, and the process's
peak RSS. A
screenshot of each view goes to ``--shots``. ``--classes`` (a model trained on labels) adds the
class map and confidence layers too, as the widget's two boxes do. ``--async-slicing`` turns on
napari's own asynchronous slicing (Preferences > Experimental > Render Layers Asynchronously;
here through ``NAPARI_ASYNC=1``, so the user's settings file is not touched).
``--opaque`` makes the colour layer RGB with its own grey placeholder
(``add_colour_layer(..., see_through=False)``) instead of RGBA over the grey layer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from _gui_probe import StackSampler, Ticks
from big_view import write_pyramid

CANVAS = 1000  # px across the canvas


def settle(app: Any, seconds: float) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.005)


#: (start, seconds) of each read of the colour layer on napari's thread: our share of its blocks.
READS: list[tuple[float, float]] = []


def time_reads() -> None:
    """Record every read napari makes of the colour layer's levels on its own thread."""
    from napari_colorgan._widgets import _level_view

    read = _level_view._Selection.read

    def timed(self: Any, ask: bool) -> Any:
        t0 = time.perf_counter()
        out = read(self, ask)
        if threading.current_thread() is threading.main_thread():
            READS.append((t0, time.perf_counter() - t0))
        return out

    _level_view._Selection.read = timed


def view_keys(layer: Any, tiled: Any, plane: tuple[int, ...]) -> list[Any]:
    """The tiles of the level napari shows that meet the canvas."""
    from napari_colorgan.core.infer.tile_cache import TileKey  # no torch on napari's thread

    level = layer.data_level
    (_, y0, x0), (_, y1, x1) = layer.corner_pixels
    covering = tiled.source.covering(level, (y0, y1 + 1), (x0, x1 + 1))
    return [TileKey(level, plane, r, c) for r, c in covering]


def coloured(tiled: Any, keys: list[Any]) -> bool:
    """Whether colour is painted on the view: its tiles or coarser colour, on the kept
    composition napari reads at its next refresh (at most ``REFRESH_MS`` later)."""
    if not keys:
        return False
    with tiled._reading:
        return any(
            region[:2] == (keys[0].level, keys[0].plane) and (shown.coarse or shown.fine)
            for region, shown in tiled._shown.items()
        )


def watch(
    app: Any, ticks: Ticks, layer: Any, tiled: Any, plane: tuple[int, ...], move: Any = None
) -> dict:
    """Make the ``move``, wait for the view to fill in; seconds to first colour and to all
    tiles, worst block (the move's own slicing on napari's thread included)."""
    t0, first = time.perf_counter(), None
    if move is not None:
        move()
    while time.perf_counter() - t0 < 300:
        app.processEvents()
        keys = view_keys(layer, tiled, plane) if tiled.source is not None else []
        if first is None and keys and coloured(tiled, keys):
            first = time.perf_counter() - t0
        if keys and all(k in tiled.cache for k in keys):
            break
        time.sleep(0.005)
    done = time.perf_counter() - t0
    missing = [k for k in keys if k not in tiled.cache]
    if missing:
        print(
            f"not computed after {done:.0f} s: {missing[:4]}, asked {tiled.asked[:4]}, "
            f"pending {tiled.queue.pending()[:4]}",
            file=sys.stderr,
        )
    settle(app, 0.3)  # the last refresh lands
    block, _ = ticks.longest_gap(t0)
    ours = [took for at, took in READS if at >= t0]
    return {
        "reads": {"n": len(ours), "max_s": max(ours, default=0.0), "sum_s": sum(ours)},
        "level": layer.data_level,
        "tiles": len(keys),
        "first_colour_s": first,
        "all_tiles_s": done,
        "worst_block_s": block,
        "blocks": blocks(ticks, t0, time.perf_counter()),
    }


def blocks(ticks: Ticks, since: float, until: float) -> dict[str, Any]:
    """The blocks of napari's thread between two times: how many over 50 and 100 ms, in all.

    The worst block alone is noisy (one draw on a busy software-GL machine); the count and sum
    of long blocks over the same moves tell whether a layer adds blocks where napari has none.
    """
    gaps = ticks.gaps(since)
    lengths = gaps[gaps[:, 0] <= until - since, 1]
    over = {ms: lengths[lengths > ms / 1000] for ms in (50, 100)}
    return {
        "max_s": float(lengths.max(initial=0.0)),
        "over_50ms": int(over[50].size),
        "over_100ms": int(over[100].size),
        "over_100ms_total_s": float(over[100].sum()),
    }


def napari_alone(viewer: Any, app: Any, ticks: Ticks, side: int, width: int) -> dict[str, Any]:
    """The same moves with the grey layer alone: napari's own blocks, for comparison."""
    centre, zoom = (0, side / 2, side / 2), width / CANVAS

    def zoom_in() -> None:
        viewer.camera.zoom, viewer.camera.center = zoom, centre

    moves = [
        lambda: setattr(viewer.camera, "center", (0, side / 2, side / 2 + 3000)),
        lambda: setattr(viewer.camera, "zoom", 0.95 * width / side),
        zoom_in,
        lambda: viewer.dims.set_current_step(0, 1),
        lambda: viewer.dims.set_current_step(0, 0),
    ]
    start = time.perf_counter()
    for move in moves:
        move()
        settle(app, 1.0)
    return blocks(ticks, start, time.perf_counter())


def napari_repaint(app: Any, ticks: Ticks, layer: Any) -> list[float]:
    """napari's thread blocked by a refresh of the grey layer alone (five, sorted).

    What any refresh costs here, however little changed: napari re-slices the view, uploads
    its texture and Qt composes the window in software GL. The colour layer refreshes once
    per batch of tiles arriving, so this is the floor of each of its blocks.
    """
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        layer.refresh()
        settle(app, 0.3)
        times.append(ticks.longest_gap(t0)[0])
    return sorted(times)


def napari_add(
    viewer: Any, app: Any, ticks: Ticks, levels: list[Any], kind: str = "grey"
) -> dict[str, float]:
    """napari's own cost of adding a layer (best of two each): the click's floor.

    ``add_s``: its ``add_image`` of the grey pyramid. ``grey_after_s`` (or ``rgba_after_s``,
    an RGBA pyramid of zeros of the same size: a layer like the colour layer, with nothing to
    compute): the longest block after the call, while napari makes the layer's controls and
    draws it the first time: the floor of the first view.
    """
    import dask.array as da

    if kind == "rgba":
        levels = [da.zeros((*lv.shape, 4), np.uint8, chunks=(1, 1024, 1024, 4)) for lv in levels]
    times: dict[str, list[float]] = {"add_s": [], f"{kind}_after_s": []}
    for _ in range(2):
        t0 = time.perf_counter()
        extra = viewer.add_image(levels, multiscale=True, name="again", rgb=kind == "rgba")
        t1 = time.perf_counter()
        times["add_s"].append(t1 - t0)
        settle(app, 0.5)
        times[f"{kind}_after_s"].append(ticks.longest_gap(t1)[0])
        viewer.layers.remove(extra)
        settle(app, 0.5)
    return {k: min(v) for k, v in times.items()}


def late_frames(sampler: StackSampler, top: int = 12) -> list[tuple[str, int]]:
    """Where napari's thread was while late by > 0.1 s: the innermost frames, most sampled first.

    Each sample is named by its three innermost frames (file:function), so a draw, a slice
    and our reads are told apart.
    """
    from collections import Counter

    def name(line: str) -> str:
        head = line.strip().splitlines()[0]  # 'File "/.../x.py", line 12, in f'
        file = head.split('"')[1].rsplit("/", 1)[-1] if '"' in head else head
        return f"{file}:{head.rsplit(' in ', 1)[-1]}"

    counts = Counter(
        " < ".join(name(f) for f in reversed(stack[-3:])) for _, stack in sampler.samples
    )
    return counts.most_common(top)


class _TorchOnMain:
    """Says so if torch is ever imported on napari's thread (it should load in workers)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" and threading.current_thread() is threading.main_thread():
            print("WARNING: torch imported on napari's thread", file=sys.stderr)


def child(
    path: Path,
    shots: Path,
    model: Path | None,
    classes: bool,
    see_through: bool = True,
    cold: bool = False,
) -> None:
    import dask.array as da
    import napari
    import zarr
    from qtpy.QtWidgets import QApplication

    from napari_colorgan import ColorizeConfig, add_colour_layer

    if cold and model is None:
        sys.exit("--cold needs --model: random weights are made with torch")

    group = zarr.open_group(str(path), mode="r")
    levels = [da.from_zarr(group[str(i)]) for i in range(len(list(group.array_keys())))]
    side, planes = levels[0].shape[-1], levels[0].shape[0]
    if model is None:  # random weights: the same speed, but no picture to look at
        from napari_colorgan import Colorizer, preset

        painted = ((1, 230, 60, 60), (2, 60, 200, 60), (3, 60, 90, 230)) if classes else ()
        model = Colorizer.from_config(preset("small", classes=painted), seed=0).save(
            Path(tempfile.mkdtemp()) / "small.safetensors"
        )
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(CANVAS + 300, CANVAS + 150)
    gray = viewer.add_image(levels, multiscale=True, name="section", contrast_limits=(0, 255))
    app = QApplication.instance()
    settle(app, 2.0)
    width = viewer.window._qt_viewer.canvas.size[0]
    viewer.dims.set_current_step(0, 0)  # napari opens a stack at its middle plane
    viewer.camera.center, viewer.camera.zoom = (0, side / 2, side / 2), width / CANVAS
    settle(app, 1.0)
    ticks = Ticks()
    ticks.timer.start()
    settle(app, 0.5)
    rows: dict[str, Any] = {"planes": planes, "side": side, "cold": "torch" not in sys.modules}
    sys.meta_path.insert(0, _TorchOnMain())
    rows["napari_alone"] = napari_alone(viewer, app, ticks, side, width)
    rows["napari_add"] = napari_add(viewer, app, ticks, levels)
    rows["napari_repaint_s"] = napari_repaint(app, ticks, gray)
    time_reads()
    sampler = StackSampler(ticks, threading.main_thread().ident)
    sampler.start()
    t0 = time.perf_counter()
    config = ColorizeConfig(device="cpu")
    layer = add_colour_layer(
        viewer, gray, model, config, classes=classes, confidence=classes, see_through=see_through
    )
    rows["click_s"] = time.perf_counter() - t0
    tiled = layer.metadata["colorgan_tiles"]
    rows["zoomed in"] = watch(app, ticks, layer, tiled, (0,))
    viewer.screenshot(str(shots / "big_view_zoomed_in.png"), canvas_only=True)
    settle(app, 0.3)  # the screenshot's own block ends before the next move
    pan = lambda: setattr(viewer.camera, "center", (0, side / 2, side / 2 + 3000))
    rows["after a 3000 px pan"] = watch(app, ticks, layer, tiled, (0,), pan)
    viewer.screenshot(str(shots / "big_view_pan.png"), canvas_only=True)
    settle(app, 0.3)
    out = lambda: setattr(viewer.camera, "zoom", 0.95 * width / side)
    rows["zoomed out, whole section"] = watch(app, ticks, layer, tiled, (0,), out)
    viewer.screenshot(str(shots / "big_view_zoomed_out.png"), canvas_only=True)
    settle(app, 0.3)
    if planes > 1:

        def zoom_in() -> None:
            viewer.camera.zoom = width / CANVAS
            viewer.camera.center = (0, side / 2, side / 2)

        rows["zoomed in again"] = watch(app, ticks, layer, tiled, (0,), zoom_in)
        settle(app, 0.3)
        step = lambda: viewer.dims.set_current_step(0, 1)
        rows["next plane, zoomed in"] = watch(app, ticks, layer, tiled, (1,), step)
        viewer.screenshot(str(shots / "big_view_next_plane.png"), canvas_only=True)
    # Screenshots block napari's thread by design: the worst block is the views' own.
    views = [r for r in rows.values() if isinstance(r, dict) and "worst_block_s" in r]
    rows["worst_block_s"] = max(r["worst_block_s"] for r in views)
    rows["views"] = len(views)
    # Summed over the views' own moves (each watched until filled in, screenshots after).
    counts = [r["blocks"] for r in views]
    rows["with_colour"] = {k: sum(c[k] for c in counts) for k in counts[0] if k != "max_s"}
    rows["with_colour"]["max_s"] = rows["worst_block_s"]
    rows["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows["cache_mb"] = tiled.cache.nbytes / 2**20
    sampler.halt()
    rows["late_frames"] = late_frames(sampler)
    viewer.layers.remove(layer)  # after the peak: napari's RGBA pyramid of zeros costs memory
    settle(app, 0.5)
    rgba = napari_add(viewer, app, ticks, levels, "rgba")
    rows["napari_add"]["rgba_after_s"] = rgba["rgba_after_s"]
    viewer.close()
    print("RESULT " + json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--side", type=int, default=16384)
    parser.add_argument("--planes", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep the pyramid here (default: temporary)")
    parser.add_argument("--shots", type=Path, default=Path("docs/images"))
    parser.add_argument("--model", type=Path, help="a small-preset model file for the pictures")
    parser.add_argument("--classes", action="store_true", help="class map and confidence too")
    parser.add_argument("--async-slicing", action="store_true", help="napari's async slicing")
    parser.add_argument(
        "--opaque", action="store_true", help="an RGB colour layer with its own grey"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="torch not imported before the layer is added (a fresh napari session)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.shots, args.model, args.classes, not args.opaque, args.cold)
    args.shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / "section.zarr"
        if not (path / "0").exists():
            write_pyramid(path, args.planes, args.side)
        cmd = [sys.executable, __file__, "--child", str(path), "--shots", str(args.shots)]
        cmd += ["--model", str(args.model)] if args.model else []
        cmd += ["--classes"] if args.classes else []
        cmd += ["--opaque"] if args.opaque else []
        cmd += ["--cold"] if args.cold else []
        env = {**os.environ, "NAPARI_ASYNC": "1" if args.async_slicing else "0"}
        run = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if run.returncode:
            sys.exit(f"the viewer's process failed ({run.returncode}):\n{run.stderr[-3000:]}")
        out = run.stdout
        for line in {line for line in run.stderr.splitlines() if "torch imported" in line}:
            print(line)
    rows = json.loads(out.split("RESULT ", 1)[1])
    planes, side = rows.pop("planes"), rows.pop("side")
    fresh = " (torch first imported by the layer's worker)" if rows.pop("cold") else ""
    print(f"{planes} x {side}² real ssTEM in napari, small preset, this CPU{fresh}:")
    layers = "three layers (colour, class map, confidence)" if args.classes else "the layer"
    print(
        f"  the call adding {layers} returned in {rows.pop('click_s'):.3f} s (napari's "
        f"add_image of the grey pyramid: {rows['napari_add']['add_s']:.3f} s)"
    )
    print(
        "  napari then blocked making the controls and drawing a new layer: "
        f"{rows['napari_add']['grey_after_s']:.3f} s (grey), "
        f"{rows.pop('napari_add')['rgba_after_s']:.3f} s (an RGBA pyramid of zeros)"
    )
    alone = rows.pop("napari_alone")
    print(f"  the same moves with the grey layer alone: napari blocked <= {alone['max_s']:.3f} s")
    repaint = rows.pop("napari_repaint_s")
    print(
        f"  a refresh of the grey layer alone blocks napari for {repaint[2]:.3f} s (median of "
        f"5; {repaint[0]:.3f}-{repaint[-1]:.3f} s)"
    )
    for name in [k for k, v in rows.items() if isinstance(v, dict) and "tiles" in v]:
        r = rows[name]
        first = "-" if r["first_colour_s"] is None else f"{r['first_colour_s']:.2f} s"
        print(
            f"  {name:<28} level {r['level']}, {r['tiles']:2d} tiles: first colour {first}, "
            f"all {r['all_tiles_s']:.2f} s; GUI thread blocked <= {r['worst_block_s']:.3f} s"
        )
        ours = r["reads"]
        print(
            f"  {'':<28} our reads on napari's thread: {ours['n']}, longest "
            f"{1000 * ours['max_s']:.0f} ms, {1000 * ours['sum_s']:.0f} ms in all"
        )
    print("  napari's thread late by > 0.1 s, innermost frames (samples every 20 ms):")
    for frames, count in rows.pop("late_frames"):
        print(f"    {count:3d}  {frames}")
    print(
        f"  worst GUI block overall {rows['worst_block_s']:.3f} s; peak RSS "
        f"{rows['peak_rss_mb']:.0f} MB (tile cache {rows['cache_mb']:.0f} MB)"
    )
    for name, b in (
        ("grey layer alone, 5 moves", alone),
        (f"colour layer, {rows['views']} views", rows["with_colour"]),
    ):
        print(
            f"  {name:<26} blocks > 50 ms: {b['over_50ms']:3d}, > 100 ms: {b['over_100ms']:3d} "
            f"({b['over_100ms_total_s']:.2f} s in all), longest {b['max_s']:.3f} s"
        )
    print("RESULT " + json.dumps(rows | {"napari_alone": alone}))


if __name__ == "__main__":
    main()
