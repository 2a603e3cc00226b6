"""Training from the widget leaves a CPU core to napari's GUI thread (issue 23, item 6).

On 2 cores torch's default of one intra-op thread per core crowded out the GUI thread: the
viewer stalled for up to 0.5 s at a time while training (``benchmarks/gui_block_train.py``).
These tests check the cause, the thread count training runs with, not the wall clock.
"""

import threading

import pytest
import torch

from napari_colorgan._widgets import TrainWidget, _cores
from napari_colorgan.core.train import loop

from .conftest import tiny_training


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 1), (4, 3)])
def test_training_threads_are_one_fewer_than_the_cores_and_restored(monkeypatch, cores, expected):
    monkeypatch.setattr(_cores, "usable_cores", lambda: cores)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 64)  # torch's default: all cores
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    with _cores.leaving_a_core_to_napari() as threads:
        assert threads == expected
    assert calls == [expected, 64]  # capped while training, torch's own count afterwards


def test_the_widget_trains_with_a_core_left_to_the_gui_thread(viewer, qtbot, monkeypatch):
    monkeypatch.setattr(_cores, "usable_cores", lambda: 2)
    seen = []
    real_step = loop._one_step

    def step(run):
        seen.append((threading.current_thread(), torch.get_num_threads()))
        return real_step(run)

    monkeypatch.setattr(loop, "_one_step", step)
    w = TrainWidget(viewer)
    tiny_training(w, viewer, steps=3)
    before = torch.get_num_threads()
    w._start.changed.emit(True)
    qtbot.waitUntil(lambda: w.model is not None and w._start.enabled, timeout=120_000)
    assert len(seen) == 3
    assert all(thread is not threading.main_thread() for thread, _ in seen)
    assert {threads for _, threads in seen} == {1}  # 2 cores: one for torch, one for napari
    assert torch.get_num_threads() == before


def test_steps_reach_the_plot_in_order_when_the_progress_bar_runs_the_event_loop(viewer):
    from napari_colorgan.core.events import StepDone

    w = TrainWidget(viewer)
    losses = {k: 0.1 for k in ("g_total", "g_gan", "g_l1", "g_vgg", "d_real")}

    def step(n):
        return StepDone(step=n, total_steps=10, losses=losses, lr=1e-4, elapsed=float(n))

    real = w._activity.advance
    pending = [step(2), step(3)]

    def pumping(event, minutes):  # napari's bar processes events: the next step comes in here
        real(event, minutes)
        if pending:
            w._on_event(pending.pop(0))

    w._activity.advance = pumping
    w._on_event(step(1))
    assert [h["step"] for h in w.history] == [1, 2, 3]
    assert list(w.plot._steps) == [1, 2, 3]  # nothing dropped as a rewind
