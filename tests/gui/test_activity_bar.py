"""The Train widget's bar in napari's activity dock: bounded redraws, exact at the end."""

from napari_colorgan._widgets import _activity_bar
from napari_colorgan._widgets._activity_bar import ActivityBar
from napari_colorgan.core.events import StepDone

LOSSES = {k: 0.1 for k in ("g_total", "g_gan", "g_l1", "g_vgg", "d_real")}


def _steps(bar, clock, count, per_second, total=None):
    shown = []
    for n in range(1, count + 1):
        clock[0] += 1 / per_second
        bar.advance(StepDone(step=n, total_steps=total, losses=LOSSES, lr=1e-4,
                             elapsed=n / per_second), None if total else 1.0)  # fmt: skip
        if not shown or shown[-1] != bar.bar.n:
            shown.append(bar.bar.n)
    return shown


def test_the_bar_is_redrawn_at_most_twice_a_second_and_ends_exact(viewer, monkeypatch):
    # napari's bar runs the event loop at each update (a window repaint, ~20 ms a step on
    # 2 cores in benchmarks/gui_block_train.py); steps every 50 ms need no more.
    clock = [100.0]
    monkeypatch.setattr(_activity_bar.time, "monotonic", lambda: clock[0])
    bar = ActivityBar()
    shown = _steps(bar, clock, 20, per_second=20, total=20)
    assert shown[0] == 1 and len(shown) <= 3  # the first step, then twice a second
    napari_bar = bar.bar
    bar.close()
    assert napari_bar.n == 20 and bar.bar is None  # the last step shown before it closed


def test_a_time_budget_counts_seconds(viewer, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(_activity_bar.time, "monotonic", lambda: clock[0])
    bar = ActivityBar()
    _steps(bar, clock, 30, per_second=10)  # 3 s of a 1-minute budget
    assert bar.bar.total == 60
    napari_bar = bar.bar
    bar.close()
    assert napari_bar.n == 3
