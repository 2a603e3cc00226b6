"""One writer per store: a second run is refused, a dead run's lock is taken over."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from napari_colorgan.core.events import Progress
from napari_colorgan.core.infer.zarr_store import colorize_to_zarr, colorize_to_zarr_iter
from napari_colorgan.core.io.atomic import sibling
from napari_colorgan.core.io.lock import writer_lock

KW = {"device": "cpu", "tile": 64, "overlap": 32, "block_size": 64}


def test_a_second_writer_of_one_store_is_refused_while_the_first_runs(tiny_colorizer, tmp_path):
    from napari_colorgan.core.infer.config import ColorizeConfig

    first = np.zeros((2, 64, 64), np.uint8)
    other = np.full((2, 64, 64), 200, np.uint8)
    out = tmp_path / "out.ome.zarr"
    run = colorize_to_zarr_iter(first, out, tiny_colorizer, ColorizeConfig(**KW))
    next(e for e in run if isinstance(e, Progress))  # the first run holds the store now
    with pytest.raises(
        ValueError, match=f"out.ome.zarr is being written by another run \\(process {os.getpid()}"
    ):
        colorize_to_zarr(other, out, tiny_colorizer, if_exists="overwrite", **KW)
    for _ in run:
        pass
    assert not sibling(out, "lock").exists()
    colorize_to_zarr(other, out, tiny_colorizer, if_exists="overwrite", **KW)  # free again


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    lock = sibling(tmp_path / "out.zarr", "lock")
    lock.write_text(f"{dead.stdout.strip()} {socket.gethostname()}\n")
    with writer_lock(tmp_path / "out.zarr") as held:
        assert held.read_text().split()[0] == str(os.getpid())
    assert not lock.exists()


def test_an_empty_lock_left_long_ago_is_taken_over(tmp_path):
    lock = sibling(tmp_path / "out.zarr", "lock")
    lock.write_text("")
    os.utime(lock, (0, 0))
    with writer_lock(tmp_path / "out.zarr"):
        pass


def test_another_machines_lock_is_respected_and_named(tmp_path):
    lock = sibling(tmp_path / "out.zarr", "lock")
    lock.write_text("123 other-node\n")
    with pytest.raises(ValueError, match="process 123 on other-node.*delete .*out.zarr.lock"):
        with writer_lock(tmp_path / "out.zarr"):
            pass
    assert lock.exists()  # not ours to remove
