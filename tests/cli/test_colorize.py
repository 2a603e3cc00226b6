"""``napari-colorgan colorize`` and ``demo``."""

import numpy as np
import pytest
import tifffile
import zarr

from napari_colorgan.cli import main
from napari_colorgan.core.infer.ome import open_multiscale
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

from ._run import run_cli as run


@pytest.fixture
def setup(tmp_path, rng):
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    model = Colorizer.from_config(cfg, seed=1, normalization=InputNormalization("minmax", 0, 255))
    stack = rng.integers(0, 256, (4, 90, 70)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "em.tif", stack, photometric="minisblack")
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
    assert code == 0 and "wrote" in stdout and f"napari {out}" in stdout  # how to open it
    assert zarr.open_array(str(out / "0"), mode="r").shape == (3, 2, 90, 70)  # c, z, y, x
    level0 = np.asarray(open_multiscale(out)[0])
    assert level0.shape == (2, 90, 70, 3)
    assert np.abs(level0[0].astype(int) - setup["m"].colorize_plane(setup["stack"][1])).max() <= 1
    code, stdout, _ = run(capsys, "info", out)
    assert code == 0 and "layout ome-zarr-0.5, finished" in stdout and "z (1 px)" in stdout


def test_convert_rewrites_an_old_store_and_info_says_how(setup, tmp_path, capsys):
    old = tmp_path / "old.zarr"  # what 0.1.0 wrote: channel-last, flags beside the levels
    group = zarr.open_group(str(old), mode="w")
    rgb = np.random.default_rng(0).integers(0, 256, (2, 40, 30, 3)).astype(np.uint8)
    group.create_array("0", data=rgb)
    group.create_array("done", data=np.ones((2, 1, 1), np.uint8))
    axes = [{"name": n, "type": "space"} for n in ("dim_0", "y", "x")]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [*axes, {"name": "c", "type": "channel"}],
                "datasets": [
                    {
                        "path": "0",
                        "coordinateTransformations": [{"type": "scale", "scale": [1] * 4}],
                    }
                ],
            }
        ],
    }
    group.attrs["napari_colorgan"] = {"shape": [2, 40, 30, 3]}
    code, stdout, _ = run(capsys, "info", old)
    assert code == 0 and "layout 0.1" in stdout and "napari-colorgan convert" in stdout
    code, _, err = run(
        capsys, "colorize", setup["input"], "-o", old, "--model", setup["model"], "--device", "cpu"
    )
    assert code == 2 and "napari-colorgan 0.1" in err and len(err.strip().splitlines()) == 1
    new = tmp_path / "new.ome.zarr"
    assert run(capsys, "convert", old, "-o", new)[0] == 0
    np.testing.assert_array_equal(open_multiscale(new)[0], rgb)
    code, _, err = run(capsys, "convert", old, "-o", new)
    assert code == 2 and "--overwrite" in err


def test_rerun_resumes_and_refuses_another_model_without_overwrite(setup, tmp_path, capsys):
    out = tmp_path / "out.zarr"
    args = ["colorize", setup["input"], "-o", out, "--model", setup["model"], "--device", "cpu"]
    code, _, err = run(capsys, *args)
    # The default windows are said, and why: here one window a plane, within a memory share.
    assert code == 0 and "1x1 windows of up to 96x96 px a plane" in err
    assert "computing 1.46x the output pixels" in err and "GiB" in err  # 90x70 padded to 96²
    code, _, err = run(capsys, *args)
    assert code == 0 and "why: the tiling the store was started with" in err  # nothing to do
    code, stdout, _ = run(capsys, "info", out)
    assert "tiling        windows up to 256 px, overlap >= 128 px" in stdout  # 4 halos
    code, _, err = run(capsys, *args, "--slices", "0:2")
    assert code == 2 and "--overwrite" in err
    assert run(capsys, *args, "--slices", "0:2", "--overwrite")[0] == 0


def test_colorize_to_tiff(setup, tmp_path, capsys):
    out = tmp_path / "out.tif"
    args = ["colorize", setup["input"], "-o", out, "--model", setup["model"], "--device", "cpu"]
    code, _, err = run(capsys, *args)
    assert code == 0 and tifffile.imread(out).shape == (4, 90, 70, 3)
    assert "windows of up to 96x96 px a plane" in err and "why:" in err  # as for zarr


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


def test_convert_reads_a_plain_rgb_zarr_array(tmp_path, capsys):
    rgb = np.random.default_rng(3).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    zarr.create_array(str(tmp_path / "plain.zarr"), data=rgb)
    assert run(capsys, "convert", tmp_path / "plain.zarr", "-o", tmp_path / "c.ome.zarr")[0] == 0
    np.testing.assert_array_equal(open_multiscale(tmp_path / "c.ome.zarr")[0], rgb)


@pytest.fixture
def class_model_file(tmp_path):
    classes = ((2, 255, 0, 0), (9, 0, 0, 255))
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False, classes=classes)
    model = Colorizer.from_config(cfg, seed=1, normalization=InputNormalization("minmax", 0, 255))
    return str(model.save(tmp_path / "classes.safetensors"))


def test_a_class_model_writes_its_class_map_and_confidence(
    setup, class_model_file, tmp_path, capsys
):
    from napari_colorgan.core.infer.ome_labels import open_class_map, open_confidence

    base = ["colorize", setup["input"], "--model", class_model_file, "--device", "cpu"]
    code, out, _ = run(capsys, *base, "-o", tmp_path / "c.tif", "--confidence")
    assert code == 0 and "c.classes.tif" in out and "c.confidence.tif" in out
    rgb = tifffile.imread(tmp_path / "c.tif")
    classes = tifffile.imread(tmp_path / "c.classes.tif")
    confidence = tifffile.imread(tmp_path / "c.confidence.tif")
    assert rgb.shape == (4, 90, 70, 3) and classes.shape == confidence.shape == (4, 90, 70)
    assert set(np.unique(classes)) <= {2, 9} and 0.5 <= confidence.min() <= confidence.max() <= 1
    code, _, _ = run(capsys, *base, "-o", tmp_path / "c.ome.zarr", "--confidence")
    levels, _ = open_class_map(tmp_path / "c.ome.zarr")
    np.testing.assert_array_equal(levels[0], classes)
    np.testing.assert_allclose(open_confidence(tmp_path / "c.ome.zarr")[0], confidence)
    code, _, _ = run(capsys, *base, "-o", tmp_path / "plain.ome.zarr", "--no-classes")
    assert code == 0 and open_class_map(tmp_path / "plain.ome.zarr") is None


def test_a_colour_model_has_no_class_map_to_write(setup, tmp_path, capsys):
    args = ["colorize", setup["input"], "--model", setup["model"], "--device", "cpu"]
    code, _, err = run(capsys, *args, "-o", tmp_path / "c.tif", "--classes")
    assert code != 0 and "trained on colour targets, not on labels" in err
    assert not (tmp_path / "c.tif").exists()


def test_colorize_with_flips_averages_views_as_the_api_does(setup, tmp_path, capsys):
    import napari_colorgan as ncg

    out = tmp_path / "flipped.zarr"
    args = ["--device", "cpu", "--tile", "128", "--overlap", "64", "--flips", "4"]
    code, _, _ = run(
        capsys, "colorize", setup["input"], "-o", out, "--model", setup["model"], *args
    )
    assert code == 0
    level0 = np.asarray(open_multiscale(out)[0])
    api = ncg.colorize(setup["stack"], setup["m"], tile=128, overlap=64, device="cpu", flips=4)
    np.testing.assert_array_equal(level0, np.asarray(api))
    with pytest.raises(SystemExit):  # argparse names the choices
        main(
            ["colorize", setup["input"], "-o", str(out), "--model", setup["model"], "--flips", "3"]
        )
    assert "--flips: invalid choice: 3" in capsys.readouterr().err
