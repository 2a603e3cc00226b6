"""Evaluate widget: full resolution, against labels, and off the GUI thread (a real viewer)."""

import threading

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

import dask.array as da  # noqa: E402

from napari_colorgan._widgets import EvaluateWidget  # noqa: E402
from napari_colorgan.core import metrics  # noqa: E402

from .conftest import errors_since  # noqa: E402


def _run(ev, qtbot):
    ev.results = {}
    ev.evaluate()
    # Until the worker has finished too: its last signal must not outlive the viewer.
    qtbot.waitUntil(lambda: bool(ev.results) and ev._run.enabled, timeout=60_000)
    return ev.results


def test_a_pyramid_is_scored_at_full_resolution(viewer, qtbot):
    truth = np.asarray(viewer.layers["em truth"].data)  # (z, y, x, 3)
    levels = [truth, truth[:, ::2, ::2]]
    viewer.add_image(levels, rgb=True, multiscale=True, name="pyramid")
    ev = EvaluateWidget(viewer)
    ev._pred.value, ev._truth.value = viewer.layers["pyramid"], viewer.layers["em truth"]
    results = _run(ev, qtbot)
    assert results["psnr"] == np.inf and results["accuracy"] == 1.0


def test_labels_as_ground_truth_give_per_label_accuracy_and_a_confusion_table(viewer, qtbot):
    ev = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(ev)
    ev._pred.value = viewer.layers["em truth"]  # the tint of the labels: all right
    ev._truth.value = viewer.layers["em labels"]
    results = _run(ev, qtbot)
    labelled = [k for k in results if k.startswith("label ") and k.endswith("accuracy")]
    assert labelled and all(results[k] == 1.0 for k in labelled)
    assert results["class_accuracy"] == 1.0
    assert not ev._confusion.native.isHidden()  # shown (the test viewer itself is hidden)
    confusion = np.asarray(ev._confusion.to_dict("split")["data"])
    assert confusion.sum() == np.count_nonzero(viewer.layers["em labels"].data)
    assert (confusion == np.diag(np.diag(confusion))).all()
    table = dict(zip(*ev._table.to_dict("list").values(), strict=True))
    assert table["class_accuracy"] == "100.0 %"


def test_a_lazy_layer_is_computed_off_the_gui_thread(viewer, qtbot):
    truth = viewer.layers["em truth"].data
    threads = set()

    def record(block):
        threads.add(threading.current_thread())
        return block

    lazy = da.from_array(np.asarray(truth), chunks=(1, *truth.shape[1:])).map_blocks(record)
    viewer.add_image(lazy, rgb=True, name="lazy")
    threads.clear()  # napari may have drawn the visible plane on its own thread
    ev = EvaluateWidget(viewer)
    ev._pred.value, ev._truth.value = viewer.layers["lazy"], viewer.layers["em truth"]
    results = _run(ev, qtbot)
    assert results == metrics.evaluate(truth, truth)
    assert threads and threading.main_thread() not in threads


def test_labels_and_a_mask_together_are_refused(viewer):
    from napari.utils.notifications import notification_manager

    start = len(notification_manager.records)
    ev = EvaluateWidget(viewer)
    ev._pred.value = viewer.layers["em truth"]
    ev._truth.value = viewer.layers["em labels"]
    ev._mask.value = viewer.layers["em labels"]
    ev._run.changed.emit(True)
    assert any("clear the mask" in m for m in errors_since(start))
