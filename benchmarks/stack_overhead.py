"""Per-plane overhead of ``colorize_to_zarr`` as the stack grows (a tiny model: overhead only).

A 4-level, 8-filter U-Net on 64² planes, zarr in and out, so the network costs almost nothing
and what remains is the engine's own work per plane: graph building, scheduling, reading,
writing, resume flags. Constant milliseconds per plane mean the engine scales with the stack;
growing ones mean some step walks the whole stack once per chunk. Traced memory (tracemalloc)
is the peak of numpy and Python allocations during the run.

    .venv/bin/python benchmarks/stack_overhead.py --planes 8 32 128 256
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import zarr

from napari_colorgan.core.infer.zarr_store import colorize_to_zarr
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

KW = {"device": "cpu", "precision": "fp32", "tile": 64, "overlap": 16}


def main() -> None:
    """Print milliseconds per plane and traced peak memory for each stack length."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--planes", type=int, nargs="+", default=[8, 32, 128, 256])
    p.add_argument("--side", type=int, default=64)
    args = p.parse_args()
    config = ModelConfig(num_downs=4, ngf=8, ndf=8, n_layers=2, tile=64)
    model = Colorizer.from_config(
        config, seed=1, normalization=InputNormalization("minmax", 0, 255)
    )
    model.generator.eval()
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate([2, *args.planes]):  # the first run warms imports up, unprinted
            data = np.random.default_rng(n).integers(0, 256, (n, args.side, args.side))
            source = zarr.create_array(
                f"{tmp}/in{i}.zarr", data=data.astype(np.uint8), chunks=(1, args.side, args.side)
            )
            tracemalloc.start()
            t0 = time.perf_counter()
            colorize_to_zarr(source, Path(tmp) / f"out{i}.zarr", model, pyramid=False, **KW)
            seconds = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            if i:
                print(
                    f"{n:5d} planes  {1000 * seconds / n:6.1f} ms/plane  peak {peak / 1e6:6.2f} MB"
                )


if __name__ == "__main__":
    main()
