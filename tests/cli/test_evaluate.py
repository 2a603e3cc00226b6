"""``napari-colorgan evaluate``: against colour ground truth, or against painted labels."""

import json

import numpy as np
import pytest
import tifffile

from napari_colorgan.core.annotations import tint

from ._run import run_cli as run

PALETTE = {1: (230, 60, 60), 2: (60, 90, 230)}


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (3, 72, 80, 3)).astype(np.uint8)
    paths = {"rgb": tmp_path / "rgb.tif"}
    tifffile.imwrite(paths["rgb"], rgb, photometric="rgb")
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture
def painted(tmp_path):
    """A colorization that got label 1 right everywhere and label 2 right on one plane of two."""
    gray = np.tile(np.linspace(0.3, 0.8, 40, dtype=np.float32), (2, 32, 1))
    labels = np.zeros(gray.shape, np.uint8)
    labels[:, :8], labels[:, 16:24] = 1, 2
    coloured = labels.copy()
    coloured[1, 16:24] = 1
    pred, _ = tint(gray, coloured, PALETTE)
    paths = {
        "pred": tmp_path / "pred.tif",
        "labels": tmp_path / "labels.tif",
        "palette": tmp_path / "palette.json",
    }
    tifffile.imwrite(paths["pred"], (pred * 255).round().astype(np.uint8), photometric="rgb")
    tifffile.imwrite(paths["labels"], labels, photometric="minisblack")
    paths["palette"].write_text(json.dumps({str(k): v for k, v in PALETTE.items()}))
    return {k: str(v) for k, v in paths.items()}


def test_evaluate_table_json_mask_and_slices(files, tmp_path, capsys):
    code, out, _ = run(capsys, "evaluate", files["rgb"], files["rgb"])
    assert code == 0 and "PSNR (dB)" in out and "inf" in out
    mask = tmp_path / "mask.tif"
    tifffile.imwrite(mask, np.ones((3, 72, 80), np.uint8), photometric="minisblack")
    code, out, _ = run(
        capsys, "evaluate", files["rgb"], files["rgb"], "--mask", mask, "--slices", "1:3", "--json"
    )
    assert code == 0 and json.loads(out)["accuracy"] == 1.0


def test_evaluate_shape_mismatch(files, tmp_path, capsys):
    other = tmp_path / "other.tif"
    tifffile.imwrite(other, np.zeros((2, 72, 80, 3), np.uint8), photometric="rgb")
    code, _, err = run(capsys, "evaluate", files["rgb"], other)
    assert code == 2 and "differ in shape" in err


def test_against_labels_a_table_with_each_label_and_the_confusion(painted, capsys):
    args = (painted["pred"], "--labels", painted["labels"], "--palette", painted["palette"])
    code, out, _ = run(capsys, "evaluate", *args)
    assert code == 0, out
    assert "label 2 accuracy" in out and "confusion" in out
    code, out, _ = run(capsys, "evaluate", *args, "--json")
    doc = json.loads(out)
    assert doc["labels"] == [1, 2]
    assert doc["confusion"] == [[640, 0], [320, 320]]  # 8 rows x 40 columns x 2 planes
    assert doc["per_class"]["1"]["accuracy"] == 1.0 and doc["per_class"]["2"]["accuracy"] == 0.5
    assert doc["metrics"]["class_accuracy"] == pytest.approx(0.75)
    code, out, _ = run(capsys, "evaluate", *args, "--slices", "0:1", "--json")
    assert json.loads(out)["metrics"]["class_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "either TARGET"),
        (("--labels", "LABELS"), "needs --palette"),
        (("--labels", "LABELS", "--palette", "PALETTE", "--mask", "LABELS"), "--mask goes with"),
    ],
)
def test_against_labels_bad_arguments_are_one_line(painted, capsys, extra, message):
    extra = [painted.get(a.lower(), a) for a in extra]
    code, _, err = run(capsys, "evaluate", painted["pred"], *extra)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_class_map_is_scored_class_by_class_without_a_palette(painted, tmp_path, capsys):
    labels = tifffile.imread(painted["labels"])
    predicted = np.where(labels == 0, 1, labels)  # a class everywhere, as a model gives
    predicted[1, 16:24] = 1  # label 2 missed on the second plane
    tifffile.imwrite(tmp_path / "classes.tif", predicted, photometric="minisblack")
    args = ["evaluate", str(tmp_path / "classes.tif"), "--labels", painted["labels"]]
    code, out, _ = run(capsys, *args, "--classes")
    assert code == 0 and "accuracy 0.750, macro F1" in out and "confusion" in out
    code, out, _ = run(capsys, *args, "--classes", "--json")
    doc = json.loads(out)
    assert doc["metrics"]["label 2 IoU"] == pytest.approx(0.5) and doc["labels"] == [1, 2]
    assert doc["confusion"] == [[640, 0], [320, 320]]
