"""Where ``colorize_to_zarr``'s time goes, zarr to zarr: a py-spy profile split by stage.

Runs ``colorize_to_zarr`` (pix2pix preset, random weights, bf16, the benchmark's tiling) on a
zarr stack in a child process under ``py-spy record`` and sorts every sample of every busy
thread into a stage by the first frame, from the innermost out, that names one:

* forward — the generator (torch modules);
* Lab→RGB — ``core/color.py`` and the conversion to uint8;
* blend — accumulating windows into strips (``_accumulate``, weight sums, strip division);
* cut + normalise — tiles cut from the block and normalised;
* read + decompress — zarr / codec frames outside the writer;
* compress + write — zarr / codec frames inside ``_write_chunk`` (and the resume flags);
* scheduler + other — dask and everything else.

Samples are summed over busy threads (reading overlaps the forward), so the shares say where
the threads' time went, not the wall clock; idle pool workers and event loops are left out, and
threads queued for the one-at-a-time forward are counted as waiting.

    .venv/bin/python benchmarks/profile_colorize.py --size 2048 --planes 3
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STAGES = (
    ("forward", ("torch/nn/modules", "networks.py")),
    ("Lab→RGB", ("core/color.py", "to_uint8", "raw_to_rgb", "output_to_rgb")),
    ("blend", ("_accumulate", "_weight_sum", "colorize_strips", "_kept_weights")),
    ("cut + normalise", ("_tile ", "normalize.py", "_pad_at_plane_end")),
)
CHILD = """
import sys, zarr
from napari_colorgan import Colorizer, preset
from napari_colorgan.core.infer.zarr_store import colorize_to_zarr
m = Colorizer.from_config(preset("pix2pix"), seed=0); m.generator.eval()
colorize_to_zarr(zarr.open_array(sys.argv[1], mode="r"), sys.argv[2], m, tile=256, overlap=64,
                 batch_size=8, device="cpu", precision=sys.argv[3], pyramid=False)
"""


#: Innermost frames of threads with nothing to do (pool workers and event loops waiting).
IDLE = ("_worker (concurrent/futures/thread.py", "select (selectors.py", "wait (threading.py")


def stage_of(frames: list[str]) -> str:
    """The stage of one sample (frames root first)."""
    leaf = frames[-1]
    if leaf.startswith(IDLE) or "select (selectors.py" in leaf:
        return "idle"
    if leaf.startswith("forward (") and "infer/blocks.py" in leaf:
        return "waiting for the forward lock"
    inner_first = frames[::-1]
    for name, marks in STAGES:
        if any(m in f for f in inner_first for m in marks):
            return name
    if any("zarr" in f or "numcodecs" in f or "codec" in f for f in frames):
        return (
            "compress + write" if any("_write_chunk" in f for f in frames) else "read + decompress"
        )
    return "scheduler + other"


def split(raw: Path) -> tuple[dict[str, int], collections.Counter[str]]:
    """Samples per stage from py-spy's raw (collapsed) output, and the other samples' leaves."""
    counts: collections.Counter[str] = collections.Counter()
    other: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            frames = stack.split(";")
            stage = stage_of(frames)
            counts[stage] += int(n)
            if stage == "scheduler + other":
                other[frames[-1]] += int(n)
    return dict(counts), other


def main() -> None:
    """Profile one run and print the split."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--planes", type=int, default=3)
    p.add_argument("--precision", default="bf16", choices=("fp32", "bf16"))
    args = p.parse_args()
    import numpy as np
    import zarr

    with tempfile.TemporaryDirectory() as tmp:
        src = zarr.create_array(
            f"{tmp}/in.zarr", shape=(args.planes, args.size, args.size), chunks=(1, 1024, 1024),
            dtype="u1",
        )  # fmt: skip
        rng = np.random.default_rng(0)
        for i in range(args.planes):
            src[i] = rng.integers(0, 256, (args.size, args.size), dtype=np.uint8)
        raw = Path(tmp) / "profile.txt"
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        cmd = [
            spy, "record", "--format", "raw", "--rate", "50",
            "--output", str(raw), "--", sys.executable, "-c", CHILD, f"{tmp}/in.zarr",
            f"{tmp}/out.zarr", args.precision,
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"py-spy failed (pip install py-spy): {done.stderr.strip()[-500:]}")
        counts, other = split(raw)
    idle = counts.pop("idle", 0)
    total = sum(counts.values())
    print(
        f"{args.planes} planes of {args.size}², {args.precision}: {total} busy samples "
        f"({idle} idle-thread samples left out)"
    )
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<18} {100 * n / total:5.1f} %")
    print("most frequent innermost frames of 'scheduler + other':")
    for frame, n in other.most_common(8):
        print(f"  {100 * n / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
