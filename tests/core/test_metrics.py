import math

import dask.array as da
import numpy as np
import pytest
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from napari_colorgan import metrics
from napari_colorgan.core.metrics import (
    METRIC_NAMES,
    accuracy,
    colorfulness,
    evaluate,
    format_table,
    mae,
    psnr,
    rmse,
    ssim,
)


def test_hand_computed_errors():
    pred, target = np.full((4, 4, 3), 0.5), np.full((4, 4, 3), 0.25)
    assert mae(pred, target) == pytest.approx(0.25)
    assert rmse(pred, target) == pytest.approx(0.25)
    assert psnr(pred, target) == pytest.approx(10 * math.log10(1 / 0.0625))


def test_identical_images_are_perfect():
    img = np.random.default_rng(0).random((16, 16, 3))
    result = evaluate(img, img)
    assert result["mae"] == 0 and result["psnr"] == math.inf
    assert result["ssim"] == pytest.approx(1) and result["accuracy"] == 1


def test_colorfulness_of_gray_is_zero_and_of_two_pixels_by_hand():
    assert colorfulness(np.full((3, 3, 3), 0.4)) == 0
    img = np.array([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])  # red and blue, 0-255 scale below
    rg, yb = np.array([255.0, 0.0]), np.array([127.5, -255.0])
    expected = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    assert colorfulness(img) == pytest.approx(expected)


def test_accuracy_threshold_is_a_euclidean_distance():
    target = np.zeros((1, 2, 3))
    pred = target.copy()
    pred[0, 0] = [0.06, 0.08, 0.0]  # distance exactly 0.1: counts
    pred[0, 1] = [0.06, 0.081, 0.0]  # just above: does not
    assert accuracy(pred, target, threshold=0.1) == 0.5
    assert accuracy(pred, target, threshold=0.2) == 1.0


def test_integer_images_are_scaled_by_their_range():
    rng = np.random.default_rng(1)
    a, b = (
        rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
        rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
    )
    assert evaluate(a, b) == pytest.approx(evaluate(a / 255, b / 255))
    c = a.astype(np.uint16) * 257
    assert mae(c, b.astype(np.uint16) * 257) == pytest.approx(mae(a, b))


def test_agrees_with_scikit_image():
    rng = np.random.default_rng(2)
    a = rng.random((32, 32, 3))
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1))
    assert rmse(a, b) == pytest.approx(math.sqrt(mean_squared_error(a, b)))
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, channel_axis=-1, data_range=1))


@pytest.mark.parametrize("shape", [(16, 16, 3), (3, 16, 16, 3), (2, 3, 16, 16, 3)])
def test_any_leading_shape(shape):
    rng = np.random.default_rng(3)
    a, b = rng.random(shape), rng.random(shape)
    assert set(evaluate(a, b)) == set(METRIC_NAMES)


def test_stack_ssim_is_the_mean_over_planes():
    rng = np.random.default_rng(4)
    a, b = rng.random((3, 16, 16, 3)), rng.random((3, 16, 16, 3))
    assert ssim(a, b) == pytest.approx(np.mean([ssim(a[i], b[i]) for i in range(3)]))


def test_mask_scores_only_the_selected_pixels():
    target = np.zeros((8, 8, 3))
    pred = target.copy()
    pred[:, 4:] = 1.0  # wrong on the right half only
    mask = np.zeros((8, 8), bool)
    mask[:, :4] = True
    assert mae(pred, target, mask) == 0 and accuracy(pred, target, mask) == 1
    assert mae(pred, target) == 0.5 and accuracy(pred, target) == 0.5


def test_dask_arrays_are_accepted():
    a = da.ones((2, 8, 8, 3), chunks=(1, 8, 8, 3)) * 0.5
    assert mae(a, a) == 0


def test_public_module_reexports_core():
    assert metrics.evaluate is evaluate
    assert "PSNR (dB)  " in format_table(evaluate(np.zeros((8, 8, 3)), np.zeros((8, 8, 3))))


@pytest.mark.parametrize(
    ("pred", "target", "mask", "message"),
    [
        (np.zeros((4, 4)), np.zeros((4, 4)), None, "must be RGB"),
        (np.zeros((4, 4, 4)), np.zeros((4, 4, 4)), None, "must be RGB"),
        (np.zeros((4, 4, 3)), np.zeros((5, 4, 3)), None, "differ in shape"),
        (
            np.zeros((4, 4, 3)),
            np.zeros((4, 4, 3)),
            np.zeros((4, 5), bool),
            "mask \\(4, 5\\) must match",
        ),
        (np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), np.zeros((4, 4), bool), "selects no pixel"),
        (np.zeros((0, 4, 3)), np.zeros((0, 4, 3)), None, "empty"),
        (np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), None, "at least 3 x 3"),
        (np.zeros((4, 4, 3), np.int64), np.zeros((4, 4, 3)), None, "dtype int64"),
    ],
)
def test_bad_inputs_are_named(pred, target, mask, message):
    with pytest.raises(ValueError, match=message):
        evaluate(pred, target, mask)


def test_threshold_must_be_non_negative():
    with pytest.raises(ValueError, match="threshold"):
        accuracy(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), threshold=-1)


@pytest.mark.parametrize(
    ("scale", "message"),
    [(255.0, "from 0 to 255, but float RGB must lie in 0–1: divide it by 255"), (-1.0, "from -1")],
)
def test_float_rgb_off_the_0_1_scale_is_refused_not_scored(scale, message):
    rgb = np.ones((8, 8, 3)) * scale
    rgb[0, 0] = 0
    with pytest.raises(ValueError, match=f"prediction is float RGB with values {message}"):
        evaluate(rgb, np.zeros((8, 8, 3)))


def test_float_rgb_with_nan_is_refused():
    rgb = np.zeros((8, 8, 3))
    rgb[2, 2, 1] = np.nan
    with pytest.raises(ValueError, match="target holds NaN/Inf"):
        evaluate(np.zeros((8, 8, 3)), rgb)


def test_rounding_just_outside_0_1_is_accepted():
    evaluate(np.full((8, 8, 3), 1.004), np.full((8, 8, 3), -0.003))


def test_evaluate_iter_reads_plane_by_plane_and_agrees_with_evaluate():
    import threading

    from napari_colorgan.core.events import Finished, Progress
    from napari_colorgan.core.metrics import evaluate_iter

    rng = np.random.default_rng(0)
    pred = rng.integers(0, 256, (2, 3, 16, 16, 3)).astype(np.uint8)
    truth = rng.integers(0, 256, (2, 3, 16, 16, 3)).astype(np.uint8)
    mask = rng.random((2, 3, 16, 16)) > 0.5
    events = list(evaluate_iter(pred, truth, mask))
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3, 4, 5, 6]
    assert isinstance(events[-1], Finished)
    assert events[-1].result == evaluate(pred, truth, mask)
    stop = threading.Event()
    stop.set()
    assert list(evaluate_iter(pred, truth, stop=stop)) == []
    with pytest.raises(ValueError, match="differ in shape"):
        list(evaluate_iter(pred, truth[:1]))
