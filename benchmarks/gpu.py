"""Everything a lent GPU should tell us, in one command, in under five minutes.

    python benchmarks/gpu.py [--json F] [--device cuda] [--quick]

1. **Equal results**: a ``small`` colorizer on a 1024² plane of real EM (or the synthetic stack
   when ``../shared/data`` is absent) colorized on the CPU in fp32 and on the GPU in fp32, bf16
   and fp16: the uint8 colours' largest difference and PSNR against the CPU.
2. **Colorize throughput**: pix2pix (random weights) on 4096² uint8 planes, bf16: ours as a user
   runs it (``colorize`` with its default plan, computed block by block), the bare forward on the
   same windows (pre-made tensors), and MONAI's ``sliding_window_inference`` with its defaults
   (256 px windows, overlap 0.25, gaussian blending, batch 8) when MONAI is installed. Megapixels
   per second of the planes after the first (the first pays cuDNN's set-up), peak GPU memory.
3. **Training**: pix2pix with the critic and the perceptual term (random VGG19 weights: nothing
   is downloaded), batch 16 of 256² patches, bf16, on a time budget: steps per second after the
   first ten, peak GPU memory.

On the project's GPU machines, which lack dask and zarr, carry them as wheels (see the device
tool's README); for example ``dask``, ``zarr``, ``numcodecs``, ``donfig``, ``crc32c``,
``toolz``, ``partd``, ``locket``, ``cloudpickle`` and ``monai``. ``--device cpu --quick`` runs
the same code small on a CPU (a smoke test, not a figure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
EM = ROOT.parent / "shared" / "data" / "em-drosophila-vnc" / "raw"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def em_plane(side: int) -> np.ndarray:
    """A real EM section tiled to ``side``² (or the synthetic stack's first plane)."""
    files = sorted(EM.glob("*.tif"))
    if files:
        import tifffile

        plane = tifffile.imread(files[0])
    else:
        from napari_colorgan.core.synthetic import synthetic_em

        plane = synthetic_em((1, 256, 256)).gray[0]
    reps = -(-side // plane.shape[0]), -(-side // plane.shape[1])
    return np.tile(plane, reps)[:side, :side].astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


def check_equal(device: torch.device, side: int) -> list[dict[str, Any]]:
    """The GPU's colours against the CPU's, per precision."""
    from napari_colorgan import ColorizeConfig, Colorizer, colorize, preset

    model = Colorizer.from_config(preset("small"), seed=0)
    model.generator.eval()
    plane = em_plane(side)
    reference = colorize(plane, model, ColorizeConfig(device="cpu", precision="fp32")).compute()
    rows = []
    for precision in ("fp32", "bf16", "fp16"):
        config = ColorizeConfig(device=str(device), precision=precision)
        rgb = colorize(plane, model, config).compute()
        diff = np.abs(rgb.astype(np.int16) - reference).max()
        rows.append({"precision": precision, "max_diff": int(diff), "psnr": psnr(rgb, reference)})
        print(
            f"equal: {device} {precision} vs cpu fp32: largest difference {diff} levels, "
            f"PSNR {rows[-1]['psnr']:.1f} dB",
            flush=True,
        )
    return rows


def timed_planes(run: Any, planes: int, device: torch.device, side: int) -> dict[str, Any]:
    """Run ``run(i)`` per plane; MP/s of planes 2.. (the first pays set-up), peak memory."""
    run(0)
    synchronize(device)
    reset_peak(device)
    t0 = time.perf_counter()
    for i in range(1, planes):
        run(i)
    synchronize(device)
    seconds = time.perf_counter() - t0
    mp = (planes - 1) * side * side / 1e6
    return {"mp_per_s": mp / seconds, "seconds": seconds, "peak_gib": peak_gib(device)}


def throughput(device: torch.device, side: int, planes: int) -> dict[str, Any]:
    """Ours, the bare forward on our windows, and MONAI's defaults."""
    from napari_colorgan import ColorizeConfig, Colorizer, colorize, preset
    from napari_colorgan.core.infer.planner import plan

    model = Colorizer.from_config(preset("pix2pix"), seed=0)
    model.generator.eval()
    stack = np.stack([em_plane(side)] * planes)
    config = ColorizeConfig(device=str(device), precision="bf16")
    lazy = colorize(stack, model, config)
    chosen = plan(model.config, stack.shape, config)
    print(f"plan: {chosen.describe()}\n  why: {chosen.why}", flush=True)
    out = {"ours": timed_planes(lambda i: lazy[i].compute(scheduler="sync"), planes, device, side)}

    gen = model.generator.to(device, memory_format=torch.channels_last)
    shapes = [
        (r.size, c.size) for r in chosen.tiling.layout(side) for c in chosen.tiling.layout(side)
    ]
    batch = chosen.batch_size
    tensors = {s: torch.rand(batch, 1, *s, device=device) * 2 - 1 for s in set(shapes)}

    def bare(_i: int) -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16):
            for s in set(shapes):
                count = shapes.count(s)
                for start in range(0, count, batch):
                    gen(tensors[s][: min(batch, count - start)])

    out["bare"] = timed_planes(bare, planes, device, side)
    try:
        from monai.inferers import sliding_window_inference
    except ImportError:
        print("monai: not installed, skipped", flush=True)
        return out

    def monai(i: int) -> None:
        x = torch.from_numpy(stack[i].astype(np.float32) / 255)[None, None].to(device)
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16):
            sliding_window_inference(x * 2 - 1, (256, 256), 8, gen, overlap=0.25, mode="gaussian")

    out["monai"] = timed_planes(monai, planes, device, side)
    return out


def training(device: torch.device, seconds: float, batch: int, tile: int) -> dict[str, Any]:
    """Steps per second of the full pix2pix objective, and peak memory."""
    from napari_colorgan import TrainConfig
    from napari_colorgan.core.events import StepDone
    from napari_colorgan.core.synthetic import synthetic_em
    from napari_colorgan.core.train.loop import train_iter

    sample = synthetic_em((4, 512, 512))
    config = TrainConfig(
        preset="pix2pix", minutes=seconds / 60, batch_size=batch, tile=tile, adversarial=True,
        perceptual_weights="random", val_every=0, val_seconds=1e6, checkpoint_every=0,
        calibrate=False, precision="bf16",
    )  # fmt: skip
    reset_peak(device)
    times = []
    for event in train_iter(sample.gray, target=sample.rgb, config=config, device=str(device)):
        if isinstance(event, StepDone):
            times.append(event.elapsed)
    later = times[10:] if len(times) > 12 else times
    rate = (len(later) - 1) / (later[-1] - later[0]) if len(later) > 1 else float("nan")
    return {"steps": len(times), "steps_per_s": rate, "batch": batch, "peak_gib": peak_gib(device)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run this where a GPU is lent (or --device cpu --quick)")
    quick = args.quick
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}, torch {torch.__version__}", flush=True)
    results = {
        "device": name,
        "torch": torch.__version__,
        "equal": check_equal(device, 256 if quick else 1024),
        "colorize": throughput(device, 512 if quick else 4096, 2 if quick else 6),
        "training": training(device, 10 if quick else 60, 2 if quick else 16, 256),
    }
    for mode, row in results["colorize"].items():
        print(f"colorize {mode:<6} {row['mp_per_s']:8.2f} MP/s  peak {row['peak_gib']} GiB")
    t = results["training"]
    print(
        f"training {t['steps_per_s']:.2f} steps/s (batch {t['batch']}), peak {t['peak_gib']} GiB"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
