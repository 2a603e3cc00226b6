"""Colour for a view of a huge section: how long until the tiles in view are computed.

    python benchmarks/big_view.py [--side 16384] [--planes 1] [--out DIR]

Real ssTEM (``../shared/data/em-drosophila-vnc``, 1024² sections) is tiled into ``--planes``
sections of ``--side``² px and written as a zarr pyramid (2x per level down to <= 1024 px), as
volume-EM sections are stored. Then, in a fresh process (so its peak RSS is its own), the tile
engine of ``core/infer/tiles.py`` with the ``small`` preset (random weights: the speed does not
depend on them), on this CPU, computes what a viewer about 1000 px across would show:

* zoomed in at the centre, level 0 (the exact colorization);
* after a pan of 3000 px;
* zoomed out to the whole section: the level whose plane is at most 1024 px (a preview);
* the next plane, zoomed in (when ``--planes`` > 1).

Each figure is the time from asking for the view's tiles to the last one cached (centre first,
so the first colour comes sooner), with the tile count, and the process's peak RSS. This is the
engine alone; the napari layer on top of it is measured separately.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "em-drosophila-vnc" / "raw"
VIEW = 1000  # px across, as a 1000 px canvas shows at 100 %


def write_pyramid(path: Path, planes: int, side: int) -> None:
    """``planes`` sections of ``side``² tiled from the real EM sections, with a 2x pyramid."""
    import tifffile
    import zarr

    sections = [tifffile.imread(f) for f in sorted(DATA.glob("*.tif"))]
    if not sections:
        sys.exit(f"no EM sections in {DATA}: see ../shared/data/README.md")
    group = zarr.open_group(str(path), mode="w")
    level, n = 0, side
    while True:
        group.create_array(
            str(level), shape=(planes, n, n), chunks=(1, min(n, 1024), min(n, 1024)), dtype="u1"
        )
        if n <= 1024:
            break
        level, n = level + 1, n // 2
    s0 = sections[0].shape[0]
    for z in range(planes):
        for r in range(side // s0):  # one band of sections at a time: bounded memory
            band = np.concatenate(
                [sections[(z * 7 + r * 3 + c) % len(sections)] for c in range(side // s0)], axis=1
            )
            group["0"][z, r * s0 : (r + 1) * s0] = band
            for lv in range(1, level + 1):
                f = 2**lv
                small = band.reshape(s0 // f, f, side // f, f).mean((1, 3)).astype(np.uint8)
                group[str(lv)][z, r * s0 // f : (r + 1) * s0 // f] = small


def view_tiles(source, level, plane, centre):
    from napari_colorgan.core.infer.tiles import TileKey

    half = VIEW // 2
    rows = (centre[0] - half, centre[0] + half)
    cols = (centre[1] - half, centre[1] + half)
    return [TileKey(level, plane, r, c) for r, c in source.covering(level, rows, cols)]


def timed_view(source, cache, keys, centre) -> dict:
    """Compute ``keys`` centre first, as the queue orders them; seconds to first and last."""
    from napari_colorgan.core.infer.tiles import TileQueue

    queue = TileQueue()
    queue.want(keys, centre, source, skip=cache)
    t0, first = time.perf_counter(), None
    for key in queue.pending():
        cache.put(key, source.compute(key))
        first = first or time.perf_counter() - t0
    return {"tiles": len(keys), "first_s": first, "all_s": time.perf_counter() - t0}


def child(path: Path, planes: int) -> None:
    import zarr

    from napari_colorgan import ColorizeConfig, Colorizer, preset
    from napari_colorgan.core.infer.tiles import TileCache, TileSource

    group = zarr.open_group(str(path), mode="r")
    levels = [group[str(i)] for i in range(len(list(group.array_keys())))]
    model = Colorizer.from_config(preset("small"), seed=0)
    model.generator.eval()
    source = TileSource(levels, model, ColorizeConfig(device="cpu"))
    cache = TileCache(512 << 20)
    side = levels[0].shape[-1]
    mid = side / 2
    rows = {}
    keys = view_tiles(source, 0, (0,), (mid, mid))
    rows["zoomed in"] = timed_view(source, cache, keys, (mid, mid))
    keys = view_tiles(source, 0, (0,), (mid, mid + 3000))
    rows["after a 3000 px pan"] = timed_view(source, cache, keys, (mid, mid + 3000))
    top = len(levels) - 1
    n = levels[top].shape[-1]
    keys = view_tiles(source, top, (0,), (n / 2, n / 2))
    rows[f"zoomed out (level {top}, {n}² px)"] = timed_view(source, cache, keys, (n / 2, n / 2))
    if planes > 1:
        keys = view_tiles(source, 0, (1,), (mid, mid))
        rows["next plane, zoomed in"] = timed_view(source, cache, keys, (mid, mid))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"views": rows, "peak_rss_mb": peak, "cache_mb": cache.nbytes / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--side", type=int, default=16384)
    parser.add_argument("--planes", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the pyramid here (default: temporary)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.planes)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / "section.zarr"
        if not (path / "0").exists():
            t0 = time.perf_counter()
            write_pyramid(path, args.planes, args.side)
            print(
                f"pyramid of {args.planes} x {args.side}² written in {time.perf_counter() - t0:.0f} s"
            )
        cmd = [sys.executable, __file__, "--child", str(path), "--planes", str(args.planes)]
        result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    print(f"{args.planes} x {args.side}² real ssTEM, small preset, this CPU, engine only:")
    for name, row in result["views"].items():
        print(
            f"  {name:<32} {row['tiles']:2d} tiles: first {row['first_s']:.2f} s, "
            f"all {row['all_s']:.2f} s"
        )
    print(f"  peak RSS {result['peak_rss_mb']:.0f} MB (tile cache {result['cache_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
