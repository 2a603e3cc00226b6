"""Data-parallel training: two gloo processes on the CPU, as torchrun starts them."""

import json
import subprocess
import sys

import numpy as np
import tifffile

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.train.checkpoint import load_checkpoint

TINY = ["--preset", "small", "--tile", "64", "--batch-size", "2", "--perceptual-weights", "none"]


def torchrun(tmp_path, *args):
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "napari_colorgan.cli",
        "train",
        *map(str, args),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_two_processes_train_write_once_and_resume(tmp_path):
    rng = np.random.default_rng(0)
    tifffile.imwrite(
        tmp_path / "gray.tif",
        rng.integers(0, 256, (3, 72, 72)).astype(np.uint8),
        photometric="minisblack",
    )
    labels = np.zeros((3, 72, 72), np.uint8)
    labels[:, 10:40, 10:40] = 1
    tifffile.imwrite(tmp_path / "labels.tif", labels, photometric="minisblack")
    (tmp_path / "palette.json").write_text(json.dumps({"1": [200, 50, 50]}))
    common = [
        "gray.tif",
        "--labels",
        "labels.tif",
        "--palette",
        "palette.json",
        "-o",
        "m.safetensors",
        *TINY,
    ]

    first = torchrun(tmp_path, *common, "--steps", "3")
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("saved") == 1  # rank 0 alone writes the model
    assert Colorizer.load(tmp_path / "m.safetensors").training["steps_done"] == 3
    assert load_checkpoint(tmp_path / "m.ckpt.safetensors").step == 3

    again = torchrun(tmp_path, *common, "--steps", "5", "--resume", "m.ckpt.safetensors")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "after 5 steps" in again.stdout
    assert load_checkpoint(tmp_path / "m.ckpt.safetensors").step == 5
