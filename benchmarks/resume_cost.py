"""What a resume costs: kill -9 half-way through ``napari-colorgan colorize``, then rerun it.

A zarr stack is colorized zarr to zarr through the command line (pix2pix preset, random
weights, bf16, its default windows: one a 2048² plane) three ways, each its own process:

* whole — uninterrupted, to a fresh store;
* start-up — rerunning the finished job (it checks the store and computes nothing);
* resume — a run killed with SIGKILL once half of the chunks are flagged done, then rerun;
* fresh half — a fresh run of as many planes as the resume had left (``--slices``): the
  missing half plus everything a run starts with (imports, the model, the first pass, whose
  kernel set-up the finished-store rerun never reaches).

The goal: the resume costs no more than the missing half plus start-up, i.e. the fresh half.

    .venv/bin/python benchmarks/resume_cost.py --size 2048 --planes 8
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

CLI = [sys.executable, "-m", "napari_colorgan.cli"]


def colorize(src: Path, out: Path, model: Path, *extra: str) -> list[str]:
    """The command line of one run."""
    return [
        *CLI, "colorize", str(src), "-o", str(out), "--model", str(model),
        "--precision", "bf16", "--device", "cpu", *extra,
    ]  # fmt: skip


def timed(cmd: list[str]) -> float:
    """Seconds a command takes (it must succeed)."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"failed: {done.stderr.strip()[-400:]}")
    if os.environ.get("RESUME_COST_VERBOSE"):
        print(done.stderr.strip().replace("\r", "\n")[-600:], file=sys.stderr)
    return time.perf_counter() - t0


def flags_done(out: Path) -> tuple[int, int]:
    """Chunks flagged done and in all, or (0, 1) before the store exists."""
    try:
        flags = zarr.open_array(str(out / "napari_colorgan" / "done"), mode="r")[...]
    except Exception:  # not created yet
        return 0, 1
    return int(flags.sum()), int(flags.size)


def killed_half_way(cmd: list[str], out: Path) -> tuple[float, int, int]:
    """Run until half the chunks are done, SIGKILL it; seconds run and the flags then."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        done, total = flags_done(out)
        if done * 2 >= total:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    return time.perf_counter() - t0, *flags_done(out)


def main() -> None:
    """Print the three times and the check."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--planes", type=int, default=8, help="at least 8: chunks run 4 at a time")
    args = p.parse_args()
    from napari_colorgan import Colorizer, preset

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = Colorizer.from_config(preset("pix2pix"), seed=0).save(folder / "m.safetensors")
        shape = (args.planes, args.size, args.size)
        data = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        zarr.create_array(str(folder / "in.zarr"), data=data, chunks=(1, 1024, 1024))
        src = folder / "in.zarr"
        whole = timed(colorize(src, folder / "whole.zarr", model))
        start = timed(colorize(src, folder / "whole.zarr", model))
        ran, done, total = killed_half_way(
            colorize(src, folder / "part.zarr", model), folder / "part.zarr"
        )
        resume = timed(colorize(src, folder / "part.zarr", model))
        half = f"0:{args.planes * (total - done) // total}"
        fresh = timed(colorize(src, folder / "half.zarr", model, "--slices", half))
        same = np.array_equal(
            zarr.open_array(str(folder / "whole.zarr" / "0"))[...],
            zarr.open_array(str(folder / "part.zarr" / "0"))[...],
        )
    missing = (total - done) / total
    print(f"{args.planes} planes of {args.size}², {total} chunks")
    print(f"  uninterrupted run          {whole:7.1f} s")
    print(f"  start-up (finished store)  {start:7.1f} s")
    print(f"  killed after               {ran:7.1f} s with {done}/{total} chunks done")
    print(f"  resume                     {resume:7.1f} s")
    budget = missing * (whole - start) + start
    print(f"  missing part + start-up    {budget:7.1f} s  -> resume/budget {resume / budget:.2f}")
    print(f"  fresh run of those planes  {fresh:7.1f} s  -> resume/fresh  {resume / fresh:.2f}")
    print(f"  resumed store equals the uninterrupted one: {same}")


if __name__ == "__main__":
    main()
