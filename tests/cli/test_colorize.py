"""``napari-colorgan colorize`` and ``demo``."""

import numpy as np
import pytest
import tifffile
import zarr

from napari_colorgan.cli import main
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

from ._run import run_cli as run


@pytest.fixture
def setup(tmp_path, rng):
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    model = Colorizer.from_config(cfg, seed=1, normalization=InputNormalization("minmax", 0, 255))
    stack = rng.integers(0, 256, (4, 90, 70)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "em.tif", stack)
    return {
        "model": str(model.save(tmp_path / "m.safetensors")),
        "input": str(tmp_path / "em.tif"),
        "stack": stack,
        "m": model,
    }


def test_colorize_to_ome_zarr_with_slices(setup, tmp_path, capsys):
    out = tmp_path / "out.ome.zarr"
    args = ["--slices", "1:3", "--device", "cpu", "--tile", "128", "--overlap", "64"]
    code, stdout, _ = run(
        capsys, "colorize", setup["input"], "-o", out, "--model", setup["model"], *args
    )
    assert code == 0 and "wrote" in stdout
    level0 = zarr.open_array(str(out / "0"), mode="r")
    assert level0.shape == (2, 90, 70, 3)
    assert np.abs(level0[0].astype(int) - setup["m"].colorize_plane(setup["stack"][1])).max() <= 1


def test_rerun_resumes_and_refuses_another_model_without_overwrite(setup, tmp_path, capsys):
    out = tmp_path / "out.zarr"
    args = ["colorize", setup["input"], "-o", out, "--model", setup["model"], "--device", "cpu"]
    assert run(capsys, *args)[0] == 0
    assert run(capsys, *args)[0] == 0  # finished job: nothing to do
    code, _, err = run(capsys, *args, "--slices", "0:2")
    assert code == 2 and "--overwrite" in err
    assert run(capsys, *args, "--slices", "0:2", "--overwrite")[0] == 0


def test_colorize_to_tiff(setup, tmp_path, capsys):
    out = tmp_path / "out.tif"
    assert (
        run(
            capsys,
            "colorize",
            setup["input"],
            "-o",
            out,
            "--model",
            setup["model"],
            "--device",
            "cpu",
        )[0]
        == 0
    )
    assert tifffile.imread(out).shape == (4, 90, 70, 3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "x.png"], "use a .zarr"),
        (["-o", "x.zarr", "--slices", "3:1"], "empty range"),
        (["-o", "x.zarr", "--precision", "fp8"], None),
    ],
)
def test_bad_arguments(setup, tmp_path, capsys, extra, message):
    argv = ["colorize", setup["input"], "--model", setup["model"], *extra]
    if message is None:
        with pytest.raises(SystemExit):
            main(argv)
        return
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_rgb_input_and_corrupt_model_are_one_line_errors(setup, tmp_path, capsys):
    rgb = tmp_path / "rgb.tif"
    tifffile.imwrite(rgb, np.zeros((40, 40, 3), np.uint8), photometric="rgb")
    code, _, err = run(
        capsys, "colorize", rgb, "-o", tmp_path / "o.zarr", "--model", setup["model"]
    )
    assert code == 2 and "looks like RGB" in err and err.count("\n") == 1
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nope")
    code, _, err = run(
        capsys, "colorize", setup["input"], "-o", tmp_path / "o.zarr", "--model", bad
    )
    assert code == 2 and "not a readable" in err


def test_demo_runs_end_to_end(tmp_path, capsys):
    code, out, _ = run(
        capsys, "demo", "--out", tmp_path / "demo", "--minutes", "0.05", "--device", "cpu"
    )
    assert code == 0
    for name in ("em", "hubble"):
        assert (tmp_path / "demo" / f"{name}.png").exists()
        assert (tmp_path / "demo" / f"{name}.ome.zarr" / "0").exists()
    assert out.count("PSNR (dB)") == 2
