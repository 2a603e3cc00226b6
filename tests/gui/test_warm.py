"""Torch is loaded in the background when a widget opens; workers wait for that import."""

import subprocess
import sys
import threading
import time

import pytest

from napari_colorgan._widgets import _common, _warm
from napari_colorgan._widgets import _train as train_module

MODULE = """
import threading, time
time.sleep({sleep})
IMPORTED_BY = threading.current_thread().name
"""


def _module(tmp_path, monkeypatch, name, sleep=0.0, body=None):
    (tmp_path / f"{name}.py").write_text(body or MODULE.format(sleep=sleep))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_modules_are_imported_by_one_background_thread_in_order(tmp_path, monkeypatch):
    first = _module(tmp_path, monkeypatch, "ncg_warm_first", sleep=0.2)
    second = _module(tmp_path, monkeypatch, "ncg_warm_second")
    _warm.warm_up(first, second)
    assert first not in sys.modules or _warm._STATE["thread"] is None  # not on this thread
    _warm.ready_for_torch()
    assert sys.modules[first].IMPORTED_BY == "napari-colorgan warm-up"
    assert sys.modules[second].IMPORTED_BY == "napari-colorgan warm-up"
    assert _warm._STATE["thread"] is None and not _warm._PENDING


def test_a_worker_starts_only_after_the_warm_up(tmp_path, monkeypatch):
    slow = _module(tmp_path, monkeypatch, "ncg_warm_slow", sleep=0.3)
    seen = []

    def events():
        seen.append(slow in sys.modules)  # what the worker's first line finds
        yield 1

    _warm.warm_up(slow)
    worker = threading.Thread(target=lambda: list(_common._passing_errors(events())))
    worker.start()
    worker.join(10)
    assert seen == [True]


def test_a_failing_import_ends_the_warm_up_quietly(tmp_path, monkeypatch):
    broken = _module(tmp_path, monkeypatch, "ncg_warm_broken", body="raise ImportError('no')")
    _warm.warm_up(broken)
    t0 = time.perf_counter()
    _warm.ready_for_torch()
    assert time.perf_counter() - t0 < 10 and broken not in sys.modules
    assert _warm._STATE["thread"] is None  # the next warm-up can start


def test_the_train_widget_loads_torch_and_its_optimisers_imports_when_it_opens(
    viewer, monkeypatch
):
    asked = []
    monkeypatch.setattr(train_module, "warm_up", lambda *m: asked.append(m))
    train_module.TrainWidget(viewer)
    assert asked == [("torch", "torch._dynamo")]


LOAD_LIBRARIES_FIRST = """
import sys
from napari_colorgan._widgets._warm import map_torch_libraries
loaded = map_torch_libraries()
assert "torch" not in sys.modules
import torch
assert float(torch.ones(3).sum()) == 3.0
print(",".join(loaded))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux wheels' libraries")
def test_torch_libraries_load_before_torch_and_torch_uses_them():
    done = subprocess.run(
        [sys.executable, "-c", LOAD_LIBRARIES_FIRST], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "libtorch_cpu.so" in done.stdout.strip().split(",")


def test_once_torch_is_loaded_nothing_is_mapped_and_no_draw_is_waited_for():
    import torch  # noqa: F401  (this process: loaded)

    never = threading.Event()
    t0 = time.perf_counter()
    _warm.ready_for_torch(never)
    assert time.perf_counter() - t0 < _warm.FIRST_DRAW_WAIT_S
    assert _warm.map_torch_libraries() == []


def test_the_draw_event_comes_once_napari_s_event_loop_ran(qtbot, monkeypatch):
    monkeypatch.setattr(_warm, "FIRST_DRAW_MS", 50)
    drawn = _warm.after_napari_draws()
    assert not drawn.is_set()  # set by the event loop, not at once
    qtbot.waitUntil(drawn.is_set, timeout=5000)


def test_a_worker_loading_torch_first_waits_for_napari_s_draw(monkeypatch):
    monkeypatch.setattr(_warm, "torch_loaded", lambda: False)  # as in a fresh session
    monkeypatch.setattr(_warm, "map_torch_libraries", lambda: [])
    drawn, order = threading.Event(), []

    def events():
        order.append(("worker starts", drawn.is_set()))
        yield 1

    worker = threading.Thread(target=lambda: list(_common._passing_errors(events(), drawn)))
    worker.start()
    time.sleep(0.1)
    order.append(("drawn", None))
    drawn.set()
    worker.join(10)
    assert order == [("drawn", None), ("worker starts", True)]
