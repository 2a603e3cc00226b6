"""Bad input and faults through the command line: one line ``napari-colorgan CMD: error: ...``.

One row per case of issue 13: the arguments (``{name}`` is a file made by the ``files``
fixture), then a pattern the error line must match. Every case must exit with status 2, print
exactly one line on stderr and leave no traceback.
"""

import re

import numpy as np
import pytest
import tifffile

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

from ._run import run_cli as run

TRAIN = ["--preset", "small", "--tile", "64", "--batch-size", "2", "--steps", "2"]
TRAIN += ["--perceptual-weights", "none", "--device", "cpu"]


@pytest.fixture
def files(tmp_path):
    """Small valid inputs; each case spoils one thing."""
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (3, 72, 80)).astype(np.uint8)
    rgb = rng.integers(0, 256, (3, 72, 80, 3)).astype(np.uint8)
    paths = {name: tmp_path / name for name in ("gray.tif", "rgb.tif", "m.safetensors")}
    tifffile.imwrite(paths["gray.tif"], gray, photometric="minisblack")
    tifffile.imwrite(paths["rgb.tif"], rgb, photometric="rgb")
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    norm = InputNormalization("minmax", 0, 255)
    Colorizer.from_config(cfg, seed=1, normalization=norm).save(paths["m.safetensors"])
    paths["out.zarr"] = tmp_path / "out.zarr"
    paths["new.safetensors"] = tmp_path / "new.safetensors"
    return {name.replace(".", "_"): str(p) for name, p in paths.items()}


COLORIZE = ["colorize", "{gray_tif}", "-o", "{out_zarr}", "--model", "{m_safetensors}"]

CASES = {
    "colorize --batch-size -3": (
        [*COLORIZE, "--batch-size", "-3"],
        "batch_size must lie between 1 and",
    ),
    "colorize --batch-size 0": ([*COLORIZE, "--batch-size", "0"], "batch_size must lie"),
    "colorize --batch-size many": ([*COLORIZE, "--batch-size", "x"], "batch_size must be a whole"),
    "colorize --tile 0": ([*COLORIZE, "--tile", "0"], "tile must lie between 1 and"),
    "colorize --tile -32": ([*COLORIZE, "--tile", "-32"], "tile must lie between 1 and"),
    "colorize --device gpu": ([*COLORIZE, "--device", "gpu"], "unknown device 'gpu'"),
    "train --device gpu": (
        ["train", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN, "--device", "gpu"],
        "unknown device 'gpu'",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_exit_2(files, capsys, case):
    argv, pattern = CASES[case]
    code, _, err = run(capsys, *(a.format(**files) for a in argv))
    command = argv[0]
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"napari-colorgan {command}: error: "), err
    assert re.search(pattern, err), err
