"""Colorization throughput and memory: ours (as a user runs it) vs the bare forward vs MONAI.

    python benchmarks/bench_colorize.py --size 2048 --planes 1 3 [--modes ...] [--json F]

pix2pix U-Net (random weights, saved to a model file), bf16 on the CPU, zarr input of uint8
planes. Each measurement runs in its own process, so its peak RSS is its own:

* ``ours``      — ``napari-colorgan colorize IN.zarr -o OUT.ome.zarr --model M`` with its
  default windows (chosen from the model, the plane and the machine's memory);
* ``ours256``   — the same with ``--tile 256 --overlap 64``: MONAI's windows;
* ``cluster``   — ``ours`` through ``--scheduler`` on a ``LocalCluster`` (one worker process
  with two threads); its peak RSS is the worker's;
* ``bare``      — the generator's forward alone on as many windows of the sizes ``ours``
  computes (pre-made tensors, no reading, blending, colour conversion or writing; one untimed
  pass first, as oneDNN sets up its kernels on the first call at a shape);
* ``bare256``   — the same for ``ours256``'s windows;
* ``monai``     — MONAI ``sliding_window_inference`` with its defaults (overlap 0.25,
  gaussian blending) on 256 px windows, batch 8, plane by plane from the zarr input, in memory.

With two or more ``--planes`` counts, the marginal throughput (the extra planes' megapixels
over the extra seconds) is printed too: start-up (imports, loading the model, the first pass)
cancels out of it. ``--json`` writes every figure.
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

MONAI_TILE, MONAI_OVERLAP = 256, 0.25


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generator():
    from napari_colorgan import Colorizer, preset

    m = Colorizer.from_config(preset("pix2pix"), seed=0)
    return m.generator.eval().to(memory_format=torch.channels_last)


def autocast(precision: str):
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return torch.autocast("cpu", dtype=dtype, enabled=dtype is not None)


def cli_args(args, out: Path, extra: list[str]) -> list[str]:
    return [
        "colorize", args.input, "-o", str(out), "--model", args.model,
        "--device", "cpu", "--precision", args.precision, *extra,
    ]  # fmt: skip


def run_ours(args, extra: list[str] | None = None) -> float:
    from napari_colorgan.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if main(cli_args(args, Path(tmp) / "out.ome.zarr", extra or [])):
            raise RuntimeError("colorize failed")
        return time.perf_counter() - t0


def run_cluster(args) -> float:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=True) as cluster,
        Client(cluster) as client,
    ):
        seconds = run_ours(args, ["--scheduler", cluster.scheduler_address])
        peaks = client.run(peak_rss_mb)
        args.worker_rss = max(peaks.values())
    return seconds


def windows_of(args, tile: int | None, overlap: int | None) -> tuple[list[tuple[int, int]], int]:
    """The window shapes ``colorize`` computes for one plane, and its batch size."""
    import zarr

    from napari_colorgan import ColorizeConfig, preset
    from napari_colorgan.core.infer.planner import plan

    data = zarr.open_array(args.input, mode="r")
    config = ColorizeConfig(tile=tile, overlap=overlap, device="cpu", precision=args.precision)
    chosen = plan(preset("pix2pix"), data.shape, config)
    h, w = data.shape[-2:]
    shapes = [(r.size, c.size) for r in chosen.tiling.layout(h) for c in chosen.tiling.layout(w)]
    return shapes, chosen.batch_size


def run_bare(args, tile: int | None = None, overlap: int | None = None) -> float:
    shapes, batch = windows_of(args, tile, overlap)
    gen = generator()
    inputs = {
        s: torch.rand(batch, 1, *s).contiguous(memory_format=torch.channels_last) for s in shapes
    }
    with torch.inference_mode(), autocast(args.precision):
        for shape in set(shapes):  # untimed: oneDNN's first call at a shape sets up its kernels
            gen(inputs[shape][:1] * 2 - 1)
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(args.precision):
        for _ in range(args.planes):
            for shape in sorted(set(shapes)):
                count = shapes.count(shape)
                for start in range(0, count, batch):
                    gen(inputs[shape][: min(batch, count - start)] * 2 - 1)
    return time.perf_counter() - t0


def run_monai(args) -> float:
    import zarr
    from monai.inferers import sliding_window_inference

    gen = generator()
    data = zarr.open_array(args.input, mode="r")
    t0 = time.perf_counter()
    for z in range(args.planes):
        x = torch.from_numpy(data[z].astype(np.float32) / 255)[None, None]
        with torch.inference_mode(), autocast(args.precision):
            out = sliding_window_inference(
                x * 2 - 1,
                (MONAI_TILE, MONAI_TILE),
                args.batch_size,
                gen,
                overlap=MONAI_OVERLAP,
                mode="gaussian",
            )
        del out
    return time.perf_counter() - t0


RUNS = {
    "ours": run_ours,
    "ours256": lambda a: run_ours(a, ["--tile", "256", "--overlap", "64"]),
    "cluster": run_cluster,
    "bare": run_bare,
    "bare256": lambda a: run_bare(a, 256, 64),
    "monai": run_monai,
}


def child(args) -> None:
    args.worker_rss = None
    seconds = RUNS[args.mode](args)
    mp = args.planes * args.size * args.size / 1e6
    row = {
        "mode": args.mode,
        "planes": args.planes,
        "size": args.size,
        "seconds": seconds,
        "mp_per_s": mp / seconds,
        "peak_rss_mb": args.worker_rss or peak_rss_mb(),
    }
    print(json.dumps(row))


def make_input(path: Path, planes: int, size: int) -> None:
    import zarr

    z = zarr.create_array(
        str(path), shape=(planes, size, size), chunks=(1, 1024, 1024), dtype="u1"
    )
    rng = np.random.default_rng(0)
    for i in range(planes):
        z[i] = rng.integers(0, 256, (size, size), dtype=np.uint8)


def measure(args, mode: str, planes: int, src: Path, model: Path) -> dict | None:
    cmd = [
        sys.executable, __file__, "--child", mode, "--input", str(src), "--model-file",
        str(model), "--planes", str(planes), "--size", str(args.size), "--batch-size",
        str(args.batch_size), "--precision", args.precision,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        print(f"{mode} failed: {proc.stderr.strip().splitlines()[-1]}", file=sys.stderr)
        return None
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{planes:>3} planes of {args.size}²  {mode:<8} {row['mp_per_s']:6.2f} MP/s  "
        f"{row['seconds']:7.1f} s  peak RSS {row['peak_rss_mb']:7.0f} MB",
        flush=True,
    )
    return row


def marginal(rows: list[dict]) -> dict[str, float]:
    """MP/s of the extra planes between the smallest and largest count, per mode."""
    out = {}
    for mode in dict.fromkeys(r["mode"] for r in rows):
        runs = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["planes"])
        if len(runs) >= 2:
            a, b = runs[0], runs[-1]
            mp = (b["planes"] - a["planes"]) * a["size"] ** 2 / 1e6
            out[mode] = mp / (b["seconds"] - a["seconds"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--planes", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--batch-size", type=int, default=8, help="MONAI's windows per pass")
    parser.add_argument("--precision", default="bf16", choices=("fp32", "bf16"))
    parser.add_argument("--modes", nargs="+", default=["ours", "bare", "monai"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--model-file", dest="model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.mode, args.planes = args.child, args.planes[0]
        return child(args)
    from napari_colorgan import Colorizer, preset

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Colorizer.from_config(preset("pix2pix"), seed=0).save(Path(tmp) / "m.safetensors")
        for planes in args.planes:
            src = Path(tmp) / f"in{planes}.zarr"
            make_input(src, planes, args.size)
            for mode in args.modes:
                row = measure(args, mode, planes, src, model)
                rows.extend([row] if row else [])
    rates = marginal(rows)
    for mode, rate in rates.items():
        print(f"marginal {mode:<8} {rate:6.2f} MP/s", flush=True)
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "json"}
        text = json.dumps({"settings": settings, "results": rows, "marginal": rates}, indent=1)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
