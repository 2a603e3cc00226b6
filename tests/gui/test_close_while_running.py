"""Closing the viewer while a widget works: no traceback, and a training keeps its checkpoint."""

import os
import subprocess
import sys
import textwrap

SCRIPT = """
import time
import napari
from qtpy.QtWidgets import QApplication
from napari_colorgan._widgets import TrainWidget
from napari_colorgan._sample_data import em_sample

viewer = napari.Viewer(show=False)
for data, kwargs, kind in em_sample():
    getattr(viewer, f"add_{kind}")(data, **kwargs)
train = TrainWidget(viewer)
viewer.window.add_dock_widget(train)
train._image.value, train._target.value = viewer.layers["em"], viewer.layers["em labels"]
train._steps.value, train._tile.value, train._batch.value = 100000, 64, 2
train._vgg.value, train._device.value, train._preview_every.value = "none", "cpu", 0.5
checkpoint, app = train._checkpoint, QApplication.instance()
train.start()
t0 = time.time()
while len(train.history) < 3 and time.time() - t0 < 120:
    app.processEvents()
    time.sleep(0.02)
import napari_colorgan as ncg
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

tiny = Colorizer.from_config(ModelConfig(num_downs=4, ngf=8, tile=64), seed=1,
                             normalization=InputNormalization("minmax", 0.0, 255.0))
colour = ncg.add_colour_layer(viewer, viewer.layers["em"], tiny)
for _ in range(50):
    app.processEvents()
    time.sleep(0.02)
worker = train.worker
viewer.close()
t0 = time.time()
while not checkpoint.exists() and time.time() - t0 < 60:
    app.processEvents()  # events of the run still arrive: nothing may fail on them
    time.sleep(0.02)
for _ in range(100):
    app.processEvents()
    time.sleep(0.01)
import threading
from qtpy.QtCore import QThreadPool
t0 = time.time()
while QThreadPool.globalInstance().activeThreadCount() and time.time() - t0 < 60:
    app.processEvents()
    time.sleep(0.02)
busy = QThreadPool.globalInstance().activeThreadCount()
alive = [t.name for t in threading.enumerate()
         if t is not threading.main_thread() and not isinstance(t, threading._DummyThread)]
print("CHECKPOINT", checkpoint.exists(), "STOP", train._stop_event.is_set())
print("WHERE", checkpoint)
print("BUSY", busy, "ALIVE", alive)
"""


def test_closing_the_viewer_while_training_and_colouring_stops_both_and_exits(tmp_path):
    script = tmp_path / "close_training.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "NAPARI_COLORGAN_CACHE": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]  # it exited: no worker left blocked
    assert "CHECKPOINT True" in done.stdout, done.stdout + done.stderr[-3000:]
    assert "BUSY 0 ALIVE []" in done.stdout, done.stdout + done.stderr[-3000:]
    where = done.stdout.split("WHERE ")[1].split()[0]
    assert where.startswith(str(tmp_path / "sessions"))  # the user cache, not /tmp
    assert f"its training's checkpoint is {where}" in done.stderr
    assert "has been deleted" not in done.stderr and "Traceback" not in done.stderr, done.stderr
