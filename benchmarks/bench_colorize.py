"""Colorization throughput and memory: bare forward vs ours (zarr to zarr) vs MONAI.

    python benchmarks/bench_colorize.py [--size 4096] [--planes 4 16] [--precision bf16]

Same model (pix2pix U-Net, 256 px tiles, overlap 1/4), same tiles, same machine. Each
measurement runs in its own process so its peak RSS is its own:

* bare  — the generator's forward alone on as many pre-cut tiles as ours computes;
* ours  — ``colorize_to_zarr`` from a zarr input to a zarr output (reading, blending, writing);
* monai — MONAI ``sliding_window_inference`` (gaussian) per plane on an in-memory tensor
  (optional: ``pip install monai``).

Prints megapixels per second of output and peak RSS; ``--json`` writes them to a file.
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
import torch

TILE, OVERLAP = 256, 64


def model():
    from napari_colorgan import Colorizer, preset

    m = Colorizer.from_config(preset("pix2pix"), seed=0)
    m.generator.eval()
    return m


def autocast(precision: str):
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return torch.autocast("cpu", dtype=dtype, enabled=dtype is not None)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_tiles(size: int, planes: int) -> int:
    from napari_colorgan.core.infer.tiling import TilePlan
    from napari_colorgan.core.model.config import preset

    plan = TilePlan.for_model(preset("pix2pix"), TILE, OVERLAP)
    return planes * len(plan.windows(size)) ** 2


def run_bare(args) -> float:
    gen = model().generator.to(memory_format=torch.channels_last)
    n = count_tiles(args.size, args.planes)
    batch = torch.rand(args.batch_size, 1, TILE, TILE).contiguous(
        memory_format=torch.channels_last
    )
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(args.precision):
        for _ in range(0, n, args.batch_size):
            gen(batch * 2 - 1)
    return time.perf_counter() - t0


def run_ours(args) -> float:
    from napari_colorgan import colorize_to_zarr_iter
    from napari_colorgan.core.events import Progress

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        events = colorize_to_zarr_iter(
            args.input,
            Path(tmp) / "out.zarr",
            model(),
            tile=TILE,
            overlap=OVERLAP,
            batch_size=args.batch_size,
            device="cpu",
            precision=args.precision,
            pyramid=False,
        )
        for event in events:
            if isinstance(event, Progress) and event.done:
                args.trace.append(round(peak_rss_mb()))  # peak so far, after each plane
        return time.perf_counter() - t0


def run_monai(args) -> float:
    import zarr
    from monai.inferers import sliding_window_inference

    gen = model().generator.to(memory_format=torch.channels_last)
    data = zarr.open_array(args.input, mode="r")
    t0 = time.perf_counter()
    for z in range(data.shape[0]):
        x = torch.from_numpy(data[z].astype(np.float32) / 255)[None, None]
        with torch.inference_mode(), autocast(args.precision):
            out = sliding_window_inference(
                x * 2 - 1,
                (TILE, TILE),
                args.batch_size,
                gen,
                overlap=OVERLAP / TILE,
                mode="gaussian",
            )
        del out
    return time.perf_counter() - t0


def child(args) -> None:
    args.trace = []
    seconds = {"bare": run_bare, "ours": run_ours, "monai": run_monai}[args.mode](args)
    mp = args.planes * args.size * args.size / 1e6
    print(
        json.dumps(
            {
                "mode": args.mode,
                "planes": args.planes,
                "seconds": seconds,
                "mp_per_s": mp / seconds,
                "peak_rss_mb": peak_rss_mb(),
                "peak_rss_after_each_plane_mb": args.trace,
            }
        )
    )


def make_input(path: Path, planes: int, size: int) -> None:
    import zarr

    z = zarr.create_array(
        str(path), shape=(planes, size, size), chunks=(1, 1024, 1024), dtype="u1"
    )
    rng = np.random.default_rng(0)
    for i in range(planes):
        z[i] = rng.integers(0, 256, (size, size), dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--planes", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="bf16", choices=("fp32", "bf16"))
    parser.add_argument("--modes", nargs="+", default=["bare", "ours", "monai"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.mode, args.planes = args.child, args.planes[0]
        return child(args)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for planes in args.planes:
            src = Path(tmp) / f"in{planes}.zarr"
            make_input(src, planes, args.size)
            for mode in args.modes:
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    "--input",
                    str(src),
                    "--planes",
                    str(planes),
                    "--size",
                    str(args.size),
                    "--batch-size",
                    str(args.batch_size),
                    "--precision",
                    args.precision,
                ]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    print(
                        f"{mode} failed: {proc.stderr.strip().splitlines()[-1]}", file=sys.stderr
                    )
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(row)
                print(
                    f"{planes:>3} planes of {args.size}²  {mode:<6} {row['mp_per_s']:6.2f} MP/s  "
                    f"{row['seconds']:7.1f} s  peak RSS {row['peak_rss_mb']:7.0f} MB",
                    flush=True,
                )
                if row["peak_rss_after_each_plane_mb"]:
                    print(
                        f"      peak RSS after each plane: {row['peak_rss_after_each_plane_mb']}"
                    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": {k: v for k, v in vars(args).items() if k != "json"},
                    "results": results,
                },
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
