"""Where one 2048² plane's time goes on the default path, stage by stage, timed in-process.

    python benchmarks/stage_split.py [--size 2048] [--repeats 3]

pix2pix (random weights), bf16, CPU, one window a plane (the default for 2048² planes): read
the plane from zarr, normalise it, run the generator, convert its Lab output to uint8 RGB
(``Colorizer.raw_to_rgb8``), write the uint8 plane into an OME-Zarr level (compressed), and
the 2x-downsampled pyramid level. The float path it replaced (``raw_to_rgb`` then
``to_uint8``) is timed beside it. Each stage's mean over ``--repeats`` after one untimed pass.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import zarr

from napari_colorgan import Colorizer, preset
from napari_colorgan.core.color import to_uint8
from napari_colorgan.core.model.colorizer import network_input
from napari_colorgan.core.model.normalize import apply_normalization


class Stages:
    """Seconds summed per stage name: ``with stages("forward"): ...``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[name] += time.perf_counter() - t0


def one_plane(model: Colorizer, src: Any, folder: str, stages: Stages) -> None:
    """Colorize plane 0 of ``src`` once, stage by stage, into zarr arrays in ``folder``."""
    side = src.shape[-1]
    with stages("read + decompress"):
        raw = src[0]
    with stages("normalise"):
        x = apply_normalization(raw[None], model.normalization)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        xt = torch.from_numpy(x[None]).contiguous(memory_format=torch.channels_last)
        with stages("forward"):
            out = model.generator(network_input(xt))  # (1, 2, y, x)
        with torch.autocast("cpu", enabled=False):
            with stages("Lab -> uint8 RGB (now)"):
                plane = model.raw_to_rgb8(out, xt)[0].numpy()  # (y, x, 3)
            with stages("Lab -> float RGB -> uint8 (before)"):
                to_uint8(model.raw_to_rgb(out.float(), xt.float())[0].permute(1, 2, 0).numpy())
    level = zarr.create_array(
        f"{folder}/out.zarr", shape=(3, side, side), chunks=(3, side, side), dtype="u1",
        overwrite=True,
    )  # fmt: skip
    with stages("compress + write"):
        level[...] = np.moveaxis(plane, -1, 0)
    small = zarr.create_array(
        f"{folder}/half.zarr", shape=(3, side // 2, side // 2), chunks=(3, side // 2, side // 2),
        dtype="u1", overwrite=True,
    )  # fmt: skip
    with stages("pyramid level (2x down + write)"):
        half = plane.reshape(side // 2, 2, side // 2, 2, 3).mean((1, 3)).round()
        small[...] = np.moveaxis(half.astype(np.uint8), -1, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    side = args.size
    model = Colorizer.from_config(preset("pix2pix"), seed=0)
    model.generator.eval().to(memory_format=torch.channels_last)
    with tempfile.TemporaryDirectory() as tmp:
        src = zarr.create_array(
            f"{tmp}/in.zarr", shape=(1, side, side), chunks=(1, 1024, 1024), dtype="u1"
        )
        src[0] = np.random.default_rng(0).integers(0, 256, (side, side), dtype=np.uint8)
        one_plane(model, src, tmp, Stages())  # untimed: oneDNN sets up its kernels
        stages = Stages()
        for _ in range(args.repeats):
            one_plane(model, src, tmp, stages)
    forward = stages.seconds["forward"]
    print(f"{side}² plane, one window, pix2pix bf16, mean of {args.repeats}:")
    for name, total in stages.seconds.items():
        ms = 1000 * total / args.repeats
        print(f"  {name:<36} {ms:7.0f} ms  ({total / forward:6.1%} of the forward)")


if __name__ == "__main__":
    main()
