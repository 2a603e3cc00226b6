"""Torch is loaded in the background when a widget opens; workers wait for that import."""

import sys
import threading
import time

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
