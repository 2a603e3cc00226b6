"""Bad input and faults through the command line: one line ``napari-colorgan CMD: error: ...``.

One row per case of issue 13: the arguments (``{name}`` is a file made by the ``files``
fixture), then a pattern the error line must match. Every case must exit with status 2, print
exactly one line on stderr and leave no traceback.
"""

import re
from typing import NamedTuple

import numpy as np
import pytest
import tifffile
import torch
import zarr
from safetensors.torch import save_file

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig
from napari_colorgan.core.model.file import save_model_file
from napari_colorgan.core.train.checkpoint import CHECKPOINT_FORMAT

from ._run import run_cli as run

SETTINGS = ["--preset", "small", "--tile", "64", "--batch-size", "2"]
SETTINGS += ["--perceptual-weights", "none", "--device", "cpu"]
TRAIN = [*SETTINGS, "--steps", "2"]


@pytest.fixture
def files(tmp_path):
    """Small valid inputs; each case spoils one thing."""
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (3, 72, 80)).astype(np.uint8)
    rgb = rng.integers(0, 256, (3, 72, 80, 3)).astype(np.uint8)
    paths = {name: tmp_path / name for name in ("gray.tif", "rgb.tif", "m.safetensors")}
    tifffile.imwrite(paths["gray.tif"], gray, photometric="minisblack")
    paths["other.tif"] = tmp_path / "other.tif"
    tifffile.imwrite(paths["other.tif"], 255 - gray, photometric="minisblack")
    group = zarr.open_group(str(tmp_path / "group.zarr"), mode="w")
    for name in ("raw", "labels"):
        group.create_array(name, shape=gray.shape, dtype=gray.dtype)[:] = gray
    paths["group.zarr"] = tmp_path / "group.zarr"
    paths["rgb255.tif"] = tmp_path / "rgb255.tif"
    tifffile.imwrite(paths["rgb255.tif"], rgb.astype(np.float32), photometric="rgb")
    paths["nan.tif"] = tmp_path / "nan.tif"
    tifffile.imwrite(
        paths["nan.tif"], np.full(gray.shape, np.nan, np.float32), photometric="minisblack"
    )
    tifffile.imwrite(paths["rgb.tif"], rgb, photometric="rgb")
    cfg = ModelConfig(num_downs=5, ngf=8, tile=64, dropout=False)
    norm = InputNormalization("minmax", 0, 255)
    model = Colorizer.from_config(cfg, seed=1, normalization=norm)
    model.save(paths["m.safetensors"])
    flat = {**model.metadata(), "normalization": {"method": "minmax", "low": 9, "high": 9}}
    paths["flat.safetensors"] = tmp_path / "flat.safetensors"
    save_model_file(paths["flat.safetensors"], model.generator.state_dict(), flat)
    with torch.no_grad():
        next(model.generator.parameters()).fill_(float("nan"))
    paths["nan.safetensors"] = model.save(tmp_path / "nan.safetensors")
    paths["out.zarr"] = tmp_path / "out.zarr"
    paths["dir"] = tmp_path
    (tmp_path / "stopped.ckpt.safetensors").write_text("a stopped run's checkpoint")
    broken = {"format": CHECKPOINT_FORMAT, "format_version": "1", "step": "4"}
    save_file({"G.w": torch.ones(1)}, str(tmp_path / "broken.ckpt"), metadata=broken)
    paths["file.zarr"] = tmp_path / "file.zarr"
    paths["file.zarr"].write_text("not a store")
    paths["new.safetensors"] = tmp_path / "new.safetensors"
    paths["new.ckpt.safetensors"] = tmp_path / "new.ckpt.safetensors"
    whole = (tmp_path / "gray.tif").read_bytes()
    paths["cut.tif"] = tmp_path / "cut.tif"
    paths["cut.tif"].write_bytes(whole[: len(whole) // 2])
    paths["text.png"] = tmp_path / "text.png"
    paths["text.png"].write_text("not a picture")
    paths["rgba.tif"] = tmp_path / "rgba.tif"
    tifffile.imwrite(paths["rgba.tif"], rng.integers(0, 256, (3, 72, 80, 4), np.uint8))
    paths["bool.tif"] = tmp_path / "bool.tif"
    tifffile.imwrite(paths["bool.tif"], gray > 128, photometric="minisblack")
    labels = np.zeros(gray.shape, np.uint8)
    labels[0, 5:20, 5:20], labels[1, 30:40, 30:40] = 1, 7
    paths["labels.tif"] = tmp_path / "labels.tif"
    tifffile.imwrite(paths["labels.tif"], labels, photometric="minisblack")
    paths["pal1.json"] = tmp_path / "pal1.json"
    paths["pal1.json"].write_text('{"1": [255, 0, 0]}')
    paths["red.json"] = tmp_path / "red.json"
    paths["red.json"].write_text('{"1": "red", "7": [0, 0, 255]}')
    paths["pal.json"] = tmp_path / "pal.json"
    paths["pal.json"].write_text('{"1": [255, 0, 0], "7": [0, 0, 255]}')
    _round_3(tmp_path, paths, gray)
    return {name.replace(".", "_"): str(p) for name, p in paths.items()}


def _round_3(tmp_path, paths, gray):
    """Files of issue 25's sweep: channels, a damaged store, a bioimage.io package."""
    import zipfile

    paths["ij2c.tif"] = tmp_path / "ij2c.tif"
    two = np.stack([gray, gray], axis=1)  # (z, c, y, x)
    tifffile.imwrite(paths["ij2c.tif"], two, imagej=True, metadata={"axes": "ZCYX"})
    paths["package.zip"] = tmp_path / "package.zip"
    with zipfile.ZipFile(paths["package.zip"], "w") as archive:
        archive.writestr("rdf.yaml", "type: model\n")
    paths["broken.zarr"] = tmp_path / "broken.zarr"
    paths["broken.zarr"].mkdir()
    (paths["broken.zarr"] / "zarr.json").write_text('{"zarr_format": 3,')


class Case(NamedTuple):
    """Arguments, a pattern of the error line, and commands run first (which must succeed)."""

    argv: list[str]
    pattern: str
    before: tuple[list[str], ...] = ()


def colorize(
    *extra: str, data: str = "{gray_tif}", model: str = "{m_safetensors}", out: str = "{out_zarr}"
) -> list[str]:
    """``colorize DATA -o OUT --model MODEL *extra``."""
    return ["colorize", data, "-o", out, "--model", model, *extra]


COLORIZED = (colorize("--device", "cpu"),)
LABELLED = ["train", "{gray_tif}", "--labels", "{labels_tif}"]
BIG_TILE = ["--tile", "1024"]
TRAINED = (["train", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN],)

CASES = {
    "colorize --batch-size -3": Case(
        colorize("--batch-size", "-3"), "batch_size must lie between 1 and"
    ),
    "colorize --batch-size 0": Case(colorize("--batch-size", "0"), "batch_size must lie"),
    "colorize --batch-size x": Case(colorize("--batch-size", "x"), "batch_size must be a whole"),
    "colorize --tile 0": Case(colorize("--tile", "0"), "tile must lie between 1 and"),
    "colorize --tile -32": Case(colorize("--tile", "-32"), "tile must lie between 1 and"),
    "colorize --device gpu": Case(colorize("--device", "gpu"), "unknown device 'gpu'"),
    "train --device gpu": Case(
        ["train", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN, "--device", "gpu"],
        "unknown device 'gpu'",
    ),
    "colorize another input of the same shape into a store": Case(
        colorize(data="{other_tif}"),
        "holds another result \\(other input content\\).*--overwrite",
        COLORIZED,
    ),
    "colorize other --slices into a store": Case(
        colorize("--slices", "1:3"), "other input content, --slices selection", COLORIZED
    ),
    "colorize --no-resume into an existing store": Case(
        colorize("--no-resume"), "exists and --no-resume was given: leave out", COLORIZED
    ),
    "colorize a TIFF onto itself, --overwrite": Case(
        [
            "colorize",
            "{gray_tif}",
            "-o",
            "{gray_tif}",
            "--model",
            "{m_safetensors}",
            "--overwrite",
        ],
        "output .*gray.tif is the input .*: writing there would destroy the input",
    ),
    "colorize an array of a store into that store, --overwrite": Case(
        colorize("--overwrite", data="{group_zarr}/raw", out="{group_zarr}"),
        "output .*group.zarr holds the input .*raw: writing there would destroy",
    ),
    "colorize into a store inside the input store": Case(
        colorize(data="{group_zarr}", out="{group_zarr}/colour.zarr"),
        "lies inside the input",
    ),
    "colorize into a regular file named .zarr": Case(
        colorize(out="{file_zarr}"), "is a file, not a zarr store.*--overwrite"
    ),
    "colorize an all-NaN input": Case(colorize(data="{nan_tif}"), "no finite value"),
    "colorize an all-NaN input to TIFF": Case(
        ["colorize", "{nan_tif}", "-o", "{gray_tif}.out.tif", "--model", "{m_safetensors}"],
        "no finite value",
    ),
    "colorize a zarr group of several arrays": Case(
        colorize(data="{group_zarr}"),
        "zarr group holding 2 arrays \\(labels, raw\\): give the one",
    ),
    "colorize with a model whose normalisation has low == high": Case(
        colorize(model="{flat_safetensors}"), "flat.safetensors: .*low 9 must be below high 9"
    ),
    "colorize with NaN weights": Case(
        colorize(model="{nan_safetensors}"), "nan.safetensors: the weights hold NaN/Inf"
    ),
    "train -o an existing model": Case(
        TRAINED[0],
        "new.safetensors exists: pass --overwrite to replace it, or --resume .*new.ckpt",
        TRAINED,
    ),
    "train -o beside another run's checkpoint": Case(
        ["train", "{rgb_tif}", "-o", "{dir}/stopped.safetensors", *TRAIN],
        "stopped.ckpt.safetensors exists: pass --overwrite to replace it, or --resume",
    ),
    "train -o into a file's place": Case(
        ["train", "{rgb_tif}", "-o", "{gray_tif}/m.safetensors", *TRAIN],
        "cannot write .*gray.tif is a file, not a folder",
    ),
    "train --lambda-l1 inf": Case(
        [*TRAINED[0], "--lambda-l1", "inf", "--overwrite"], "lambda_l1 must be a finite number"
    ),
    "train --lambda-l1 -100": Case(
        [*TRAINED[0], "--lambda-l1", "-100"], "lambda_l1 must be a finite number >= 0"
    ),
    "train --minutes nan": Case(
        ["train", "{rgb_tif}", "-o", "{new_safetensors}", *SETTINGS, "--minutes", "nan"],
        "minutes must be a finite number > 0",
    ),
    "train --minutes 0": Case(
        ["train", "{rgb_tif}", "-o", "{new_safetensors}", *SETTINGS, "--minutes", "0"],
        "minutes must be a finite number > 0",
    ),
    "train --resume a checkpoint without optimizer states": Case(
        [*TRAINED[0], "--resume", "{dir}/broken.ckpt"],
        "broken.ckpt: the checkpoint lacks 'optimizers'",
    ),
    "train on a float RGB target in 0-255": Case(
        ["train", "{gray_tif}", "--target", "{rgb255_tif}", "-o", "{new_safetensors}", *TRAIN],
        "the target .*rgb255.tif is float RGB with values from 0 to 255.*divide it by 255",
    ),
    "train on an all-NaN input": Case(
        ["train", "{nan_tif}", "--target", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN],
        "no finite value",
    ),
    "evaluate a float RGB in 0-255": Case(
        ["evaluate", "{rgb255_tif}", "{rgb_tif}"], "prediction is float RGB .* divide it by 255"
    ),
    "colorize a truncated TIFF": Case(
        colorize(data="{cut_tif}"), "cut.tif: the TIFF is truncated .*copy or export it again"
    ),
    "train on a truncated TIFF": Case(
        ["train", "{cut_tif}", "--target", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN],
        "cut.tif: the TIFF is truncated",
    ),
    "colorize a text file named .png": Case(
        colorize(data="{text_png}"), "text.png: not a readable PNG image; is it really one"
    ),
    "train on RGBA alone": Case(
        ["train", "{rgba_tif}", "-o", "{new_safetensors}", *TRAIN],
        "has 4 channels \\(RGBA\\?\\): drop the alpha channel",
    ),
    "train on a bool image": Case(
        ["train", "{bool_tif}", "--target", "{rgb_tif}", "-o", "{new_safetensors}", *TRAIN],
        "cannot train on data of dtype bool",
    ),
    "train with a label missing from the palette": Case(
        [*LABELLED, "--palette", "{pal1_json}", "-o", "{new_safetensors}", *TRAIN],
        "labels \\[7\\] \\(plane \\(1,\\)\\) have no colour in the palette",
    ),
    "train with a palette colour given by name": Case(
        [*LABELLED, "--palette", "{red_json}", "-o", "{new_safetensors}", *TRAIN],
        "red.json: label 1: colour 'red' is not .*give its numbers",
    ),
    "train with a tile larger than the planes": Case(
        [*LABELLED, "--palette", "{pal_json}", "-o", "{new_safetensors}", *TRAIN, *BIG_TILE],
        "tile 1024 is larger than the planes \\(72 x 80\\): choose a tile of at most 64",
    ),
    "colorize an ImageJ hyperstack with two channels": Case(
        colorize(data="{ij2c_tif}"), "ij2c.tif has 2 channels: give one grayscale channel"
    ),
    "colorize into a store whose zarr.json is damaged": Case(
        colorize(out="{broken_zarr}"), "broken.zarr/zarr.json is damaged: not valid JSON"
    ),
    "colorize from a zarr whose zarr.json is damaged": Case(
        colorize(data="{broken_zarr}"), "broken.zarr/zarr.json is damaged"
    ),
    "info of a bioimage.io package": Case(
        ["info", "{package_zip}"], "package.zip is a bioimage.io model package"
    ),
    "colorize with a bioimage.io package as the model": Case(
        colorize(model="{package_zip}"), "package.zip is a bioimage.io model package"
    ),
    "train --resume with another tile": Case(
        [
            "train",
            "{rgb_tif}",
            "-o",
            "{new_safetensors}",
            *TRAIN,
            "--tile",
            "32",
            "--resume",
            "{new_ckpt_safetensors}",
        ],
        "tile=32 \\(checkpoint: 64\\)",
        TRAINED,
    ),
    "info of a model with NaN weights": Case(
        ["info", "{nan_safetensors}"], "nan.safetensors: the weights hold NaN/Inf"
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_exit_2(files, capsys, case):
    argv, pattern, before = CASES[case]
    for command in before:
        assert run(capsys, *(a.format(**files) for a in command))[0] == 0
    code, _, err = run(capsys, *(a.format(**files) for a in argv))
    command = argv[0]
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"napari-colorgan {command}: error: "), err
    assert re.search(pattern, err), err


def test_an_output_that_is_the_input_leaves_the_input_as_it_was(files, capsys):
    before = open(files["gray_tif"], "rb").read()
    argv = ["colorize", files["gray_tif"], "-o", files["gray_tif"], "--overwrite"]
    assert run(capsys, *argv, "--model", files["m_safetensors"])[0] == 2
    assert open(files["gray_tif"], "rb").read() == before
    store = files["group_zarr"]
    argv = [a.format(**files) for a in colorize("--overwrite", data=f"{store}/raw", out=store)]
    assert run(capsys, *argv)[0] == 2
    assert zarr.open_group(store, mode="r")["raw"].shape == (3, 72, 80)  # still there


def test_a_pixel_size_that_is_no_size_is_one_note_line_and_not_copied(tmp_path, files, capsys):
    data = np.zeros((3, 72, 80), np.uint8)
    tifffile.imwrite(
        tmp_path / "ij.tif", data, imagej=True, resolution=(2.0, 2.0),
        metadata={"spacing": float("nan"), "unit": "um"},
    )  # fmt: skip
    out = tmp_path / "ij.ome.zarr"
    code, _, err = run(capsys, "colorize", tmp_path / "ij.tif", "-o", out, "--model",
                       files["m_safetensors"], "--device", "cpu")  # fmt: skip
    assert code == 0
    notes = [line for line in err.splitlines() if "pixel size of axis z" in line]
    assert notes and notes[0].startswith("napari-colorgan colorize: note:")
    assert "NaN" not in (out / "zarr.json").read_text()


def test_evaluating_an_unfinished_store_is_refused(tmp_path, files, capsys):
    import threading

    from napari_colorgan.core.infer.config import ColorizeConfig
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr_iter

    gray = tifffile.imread(files["gray_tif"])
    out, stop = tmp_path / "half.ome.zarr", threading.Event()
    one = ColorizeConfig(device="cpu", parallel=1)  # a chunk at a time
    for event in colorize_to_zarr_iter(gray, out, files["m_safetensors"], one, stop):
        if type(event).__name__ == "Progress" and event.done >= 1:
            stop.set()  # one plane of three computed
    truth = tmp_path / "truth.tif"
    tifffile.imwrite(truth, np.zeros((*gray.shape, 3), np.uint8), photometric="rgb")
    code, _, err = run(capsys, "evaluate", out, truth)
    assert code == 2 and "is not finished: 1 of 3 chunks computed" in err
