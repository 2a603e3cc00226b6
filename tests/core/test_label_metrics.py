import threading

import numpy as np
import pytest

from napari_colorgan.core.annotations import tint
from napari_colorgan.core.events import Finished, Progress
from napari_colorgan.core.label_metrics import (
    decode_classes,
    evaluate_labels,
    evaluate_labels_iter,
)

PALETTE = {1: (230, 60, 60), 2: (60, 90, 230), 3: (70, 200, 90)}


@pytest.fixture
def scene():
    """Two planes of a grey ramp, three painted bands and an unlabelled strip (label 0)."""
    gray = np.tile(np.linspace(0.25, 0.8, 48, dtype=np.float32), (2, 40, 1))  # (2, 40, 48)
    labels = np.zeros(gray.shape, np.int64)
    labels[:, 0:10], labels[:, 10:20], labels[:, 20:30] = 1, 2, 3
    truth, _ = tint(gray, labels, PALETTE)
    return gray, labels, truth


def test_the_tint_itself_decodes_to_its_labels(scene):
    _gray, labels, truth = scene
    decoded = decode_classes(truth, PALETTE)
    assert (decoded[labels > 0] == labels[labels > 0]).all()


def test_a_perfect_colorization_scores_perfectly(scene):
    _, labels, truth = scene
    scores = evaluate_labels((truth * 255).round().astype(np.uint8), labels, PALETTE)
    assert scores.metrics["class_accuracy"] == 1.0 and scores.metrics["macro_f1"] == 1.0
    assert scores.metrics["psnr"] > 45  # the training target, up to uint8 rounding
    assert (scores.confusion == np.diag(np.diag(scores.confusion))).all()
    assert {k: v["accuracy"] for k, v in scores.per_class.items()} == {1: 1.0, 2: 1.0, 3: 1.0}


def test_a_wrong_band_lands_in_the_confusion_table_and_unlabelled_pixels_do_not_count(scene):
    gray, labels, _truth = scene
    wrong = labels.copy()
    wrong[:, 10:20] = 3  # the "2" band painted as class 3
    pred, _ = tint(gray, wrong, PALETTE)
    pred[:, 30:] = np.random.default_rng(0).random(pred[:, 30:].shape)  # unlabelled: garbage
    scores = evaluate_labels(pred, labels, PALETTE)
    n_band = 2 * 10 * 48
    assert scores.labels == (1, 2, 3)
    assert scores.confusion[1, 2] == n_band and scores.confusion[1, 1] == 0
    assert scores.per_class[2]["accuracy"] == 0.0 and scores.per_class[1]["accuracy"] == 1.0
    assert scores.metrics["class_accuracy"] == pytest.approx(2 / 3)
    assert scores.per_class[3]["f1"] == pytest.approx(2 * n_band / (n_band + 2 * n_band))
    names = [name for name, _ in scores.rows()]
    assert "label 2 accuracy" in names and "class_accuracy" in names


def test_progress_per_plane_and_stop(scene):
    _, labels, truth = scene
    events = list(evaluate_labels_iter(truth, labels, PALETTE))
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2]
    assert isinstance(events[-1], Finished)
    stop = threading.Event()
    stop.set()
    assert list(evaluate_labels_iter(truth, labels, PALETTE, stop=stop)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, lab: (p[:, ::2], lab), "do not match the prediction's planes"),
        (lambda p, lab: (p[..., 0], lab), "must be RGB"),
        (lambda p, lab: (p * 255, lab), "divide it by 255"),
        (lambda p, lab: (p, lab * 0), "no labelled pixel"),
        (lambda p, lab: (p, lab.astype(np.float32)), "must be integers"),
    ],
)
def test_bad_input_is_named(scene, change, message):
    _, labels, truth = scene
    pred, lab = change(truth, labels)
    with pytest.raises(ValueError, match=message):
        evaluate_labels(pred, lab, PALETTE)


def test_row_blocks_change_nothing(scene, monkeypatch):
    from napari_colorgan.core import label_metrics

    _gray, labels, truth = scene
    pred = np.clip(truth + np.random.default_rng(1).normal(0, 0.05, truth.shape), 0, 1)
    whole = evaluate_labels(pred.astype(np.float32), labels, PALETTE)
    monkeypatch.setattr(label_metrics, "ROWS", 7)
    blocks = evaluate_labels(pred.astype(np.float32), labels, PALETTE)
    assert (whole.confusion == blocks.confusion).all()
    assert whole.metrics["psnr"] == pytest.approx(blocks.metrics["psnr"])
