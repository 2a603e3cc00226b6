"""The live loss plot: curves of the four terms, thinned for long trainings, really drawn."""

import math

import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from qtpy.QtGui import QColor  # noqa: E402

from napari_colorgan._widgets._loss_plot import MAX_POINTS, SERIES, LossPlot  # noqa: E402


def losses(step):
    decay = math.exp(-step / 300)
    return {"g_gan": 0.7 + 0.1 * decay, "g_l1": 0.3 * decay, "g_vgg": 0.02 + 0.1 * decay,
            "d_real": 0.6, "d_fake": 0.8, "g_total": 30 * decay, "g_ce": 0.9 * decay}  # fmt: skip


def colours_drawn(plot):
    image = plot.grab().toImage()
    return {
        QColor(image.pixel(x, y)).name()
        for x in range(image.width())
        for y in range(image.height())
    }


def test_each_term_is_a_curve_and_long_histories_are_thinned(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 200)
    for step in range(1, 3 * MAX_POINTS):
        plot.add(step, losses(step))
    assert plot.series("D")[0] == (1, pytest.approx(0.7))  # mean of the real and fake halves
    drawn = colours_drawn(plot)
    for _label, _keys, colour in SERIES:
        assert colour in drawn  # every curve is on screen


def test_a_new_training_starts_an_empty_plot(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.add(1, losses(1))
    plot.add(2, losses(2))
    plot.clear()
    assert plot.series("L1") == []
    plot.grab()  # drawing an empty plot is fine


def test_a_term_switched_off_is_left_out_of_the_log_axis(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 200)
    for step in range(1, 50):
        plot.add(step, {**losses(step), "g_vgg": 0.0})  # perceptual loss off
    assert plot._log_range()[0] >= -2  # zeros do not stretch the axis down to the floor
    assert SERIES[3][2] not in colours_drawn(plot)


def test_resuming_from_an_earlier_step_rewinds_the_curves(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    for step in range(1, 11):
        plot.add(step, losses(step))
    plot.add(6, losses(6))  # resumed from the checkpoint of step 5
    assert [s for s, _ in plot.series("L1")] == [1, 2, 3, 4, 5, 6]


def test_the_plot_follows_the_viewers_theme(make_napari_viewer, qtbot):
    from napari.utils.theme import get_theme

    from napari_colorgan._widgets import TrainWidget

    viewer = make_napari_viewer()
    train = TrainWidget(viewer)
    plot = train.plot
    plot.resize(400, 200)
    for theme in ("light", "dark"):
        viewer.theme = theme
        expected = get_theme(theme).background.as_hex()
        image = plot.grab().toImage()
        assert QColor(image.pixel(2, 2)).name() == QColor(expected).name()
    viewer.theme = "light"
    for step in range(1, 50):
        plot.add(step, losses(step))
    drawn = colours_drawn(plot)
    assert all(colour in drawn for _label, _keys, colour in SERIES)  # curves readable on light
