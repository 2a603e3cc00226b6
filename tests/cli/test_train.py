"""``napari-colorgan train`` and ``evaluate``: the contract other tools script against."""

import json
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.train.checkpoint import load_checkpoint

from ._run import run_cli as run

TINY = [
    "--preset",
    "small",
    "--tile",
    "64",
    "--batch-size",
    "2",
    "--steps",
    "3",
    "--perceptual-weights",
    "random",
]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (3, 72, 80)).astype(np.uint8)
    rgb = rng.integers(0, 256, (3, 72, 80, 3)).astype(np.uint8)
    labels = np.zeros((3, 72, 80), np.uint8)
    labels[1, 10:30, 10:50] = 1
    labels[1, 40:50, :] = 2
    paths = {
        "gray": tmp_path / "gray.tif",
        "rgb": tmp_path / "rgb.tif",
        "labels": tmp_path / "labels.tif",
        "palette": tmp_path / "palette.json",
    }
    tifffile.imwrite(paths["gray"], gray, photometric="minisblack")
    tifffile.imwrite(paths["rgb"], rgb, photometric="rgb")
    tifffile.imwrite(paths["labels"], labels, photometric="minisblack")
    paths["palette"].write_text(json.dumps({"1": [255, 0, 0], "2": [0, 0, 255]}))
    return {k: str(v) for k, v in paths.items()}


def test_train_on_rgb_target_writes_a_model_and_checkpoint(files, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    code, out, _ = run(
        capsys, "train", files["gray"], "--target", files["rgb"], "-o", model, *TINY
    )
    assert code == 0, out
    assert "saved" in out and "PSNR" in out
    assert Colorizer.load(model).training["steps_done"] == 3
    assert (tmp_path / "m.ckpt.safetensors").exists()


def test_no_calibrate_keeps_the_raw_saturation(files, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    args = ("--target", files["rgb"], "-o", model, "--no-calibrate", *TINY)
    code, out, _ = run(capsys, "train", files["gray"], *args)
    assert code == 0, out
    loaded = Colorizer.load(model)
    assert loaded.training["calibrate"] is False
    assert loaded.config.chroma_gain == 1.0


def test_train_on_labels_and_resume(files, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    args = [
        "train",
        files["gray"],
        "--labels",
        files["labels"],
        "--palette",
        files["palette"],
        "-o",
        model,
    ]
    assert run(capsys, *args, *TINY)[0] == 0
    more = [a if a != "3" else "5" for a in TINY]
    code, out, _ = run(capsys, *args, *more, "--resume", tmp_path / "m.ckpt.safetensors")
    assert code == 0 and "after 5 steps" in out


@pytest.mark.parametrize(("given", "stored"), [([], 0.5), (["--class-balance", "0"], 0.0)])
def test_class_balance_is_decided_by_the_labels_or_given(files, tmp_path, capsys, given, stored):
    model = tmp_path / "m.safetensors"
    args = ["train", files["gray"], "--labels", files["labels"], "--palette", files["palette"]]
    assert run(capsys, *args, "-o", model, *TINY, *given)[0] == 0
    assert Colorizer.load(model).training["class_balance"] == stored  # strokes: 0.5 by default


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--class-balance", "2"], "class_balance must be 'auto' or lie in \\[0, 1\\], got 2.0"),
        (["--class-balance", "dense"], "--class-balance must be 'auto' or a number, got 'dense'"),
        (["--target", "missing.tif"], "target not found"),
        (["--labels", "{labels}"], "--labels needs --palette"),
        (
            ["--labels", "{labels}", "--palette", "{bad_palette}"],
            "labels \\[2\\] \\(plane \\(1,\\)\\) have no colour",
        ),
        (["--target", "{small_rgb}"], "does not match the image"),
        (
            ["--labels", "{labels}", "--palette", "{palette}", "--slices", "2:3"],
            "no annotated pixel",
        ),
        (
            ["--labels", "{labels}", "--palette", "{palette}", "--slices", "2:1"],
            "empty range",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(files, tmp_path, capsys, extra, message):
    bad_palette = tmp_path / "bad.json"
    bad_palette.write_text(json.dumps({"1": [255, 0, 0]}))
    small_rgb = tmp_path / "small.tif"
    tifffile.imwrite(small_rgb, np.zeros((3, 10, 10, 3), np.uint8), photometric="rgb")
    fill = {**files, "bad_palette": str(bad_palette), "small_rgb": str(small_rgb)}
    argv = [
        "train",
        files["gray"],
        *[e.format(**fill) for e in extra],
        "-o",
        tmp_path / "m.safetensors",
        *TINY,
    ]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1
    assert re.search(message, err), err


def test_rgb_given_as_grayscale_input(files, tmp_path, capsys):
    code, _, err = run(
        capsys,
        "train",
        files["rgb"],
        "--target",
        files["rgb"],
        "-o",
        tmp_path / "m.safetensors",
        *TINY,
    )
    assert code == 2 and "must be grayscale" in err


def test_missing_input(tmp_path, capsys):
    code, _, err = run(capsys, "train", tmp_path / "none.tif", "-o", tmp_path / "m.safetensors")
    assert code == 2 and "input not found" in err


def test_an_existing_model_is_replaced_only_with_overwrite(files, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    args = ["train", files["gray"], "--target", files["rgb"], "-o", model, *TINY]
    assert run(capsys, *args)[0] == 0
    first = model.read_bytes()
    code, _, err = run(capsys, *args, "--seed", "5")
    assert code == 2 and "exists: pass --overwrite" in err
    assert model.read_bytes() == first
    assert run(capsys, *args, "--seed", "5", "--overwrite")[0] == 0
    assert model.read_bytes() != first


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_at_any_step(files, tmp_path, sig):
    model = tmp_path / "m.safetensors"
    argv = ["train", files["gray"], "--target", files["rgb"], "-o", str(model), *TINY]
    argv[argv.index("--steps") + 1] = "100000"  # far more than the test waits for
    proc = subprocess.Popen(
        [sys.executable, "-m", "napari_colorgan.cli", *argv, "--device", "cpu"],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    while "training on" not in seen:  # set up: the handlers are in place
        line = proc.stderr.readline()
        assert line, "training ended before it started"
        seen += line
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "stopped at step" in err and "--resume" in err and "Traceback" not in err
    step = load_checkpoint(tmp_path / "m.ckpt.safetensors").step
    assert 0 <= step < 500  # before the first periodic checkpoint
    assert not model.exists()  # a stopped run leaves the model file as it was
