"""Per-class IoU and F1 of a class map against painted labels, and the confusion table."""

import numpy as np
import pytest
import zarr

from napari_colorgan.core.class_metrics import class_map_scores


def test_scores_count_only_painted_pixels_class_by_class():
    truth = np.array([[1, 1, 2, 0], [2, 2, 0, 0]], np.uint8)
    predicted = np.array([[1, 2, 2, 1], [2, 1, 7, 7]], np.uint16)  # 7 only where unpainted
    scores = class_map_scores(predicted, truth)
    assert scores.ids == (1, 2) and scores.pixels == 5
    np.testing.assert_array_equal(scores.confusion, [[1, 1], [1, 2]])
    assert scores.accuracy == pytest.approx(3 / 5)
    assert scores.iou() == pytest.approx({1: 1 / 3, 2: 2 / 4})
    assert scores.f1() == pytest.approx({1: 2 / 4, 2: 4 / 6})
    assert scores.macro_f1() == pytest.approx((0.5 + 4 / 6) / 2)
    assert "macro F1 0.583" in scores.table()


def test_a_predicted_class_never_painted_shows_in_the_table_but_not_the_means():
    truth = np.array([[1, 1]], np.uint8)
    scores = class_map_scores(np.array([[1, 3]], np.uint8), truth)
    assert scores.ids == (1, 3) and set(scores.f1()) == {1}
    assert scores.confusion[0].tolist() == [1, 1]


def test_a_zarr_stack_is_scored_plane_by_plane(tmp_path, rng):
    truth = rng.integers(0, 3, (4, 64, 64)).astype(np.uint8)
    stored = zarr.open_array(str(tmp_path / "t.zarr"), mode="w", shape=truth.shape,
                             chunks=(1, 64, 64), dtype="u1")  # fmt: skip
    stored[:] = truth
    scores = class_map_scores(truth.copy(), stored)
    assert scores.accuracy == 1.0 and scores.pixels == int((truth > 0).sum())


@pytest.mark.parametrize(
    ("predicted", "truth", "said"),
    [
        (np.zeros((2, 3), int), np.zeros((3, 2), int), "shape \\(2, 3\\) but the labels"),
        (np.zeros((2, 2)), np.ones((2, 2), int), "class map must hold integer"),
        (np.zeros((2, 2), int), np.zeros((2, 2), int), "no painted pixel"),
    ],
)
def test_bad_maps_are_named(predicted, truth, said):
    with pytest.raises(ValueError, match=said):
        class_map_scores(predicted, truth)
