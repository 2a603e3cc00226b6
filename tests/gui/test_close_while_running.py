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
worker = train.worker
viewer.close()
t0 = time.time()
while not checkpoint.exists() and time.time() - t0 < 60:
    app.processEvents()  # events of the run still arrive: nothing may fail on them
    time.sleep(0.02)
for _ in range(100):
    app.processEvents()
    time.sleep(0.01)
print("CHECKPOINT", checkpoint.exists(), "STOP", train._stop_event.is_set())
"""


def test_closing_the_viewer_while_training_stops_it_with_its_checkpoint(tmp_path):
    script = tmp_path / "close_training.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "CHECKPOINT True" in done.stdout, done.stdout + done.stderr[-3000:]
    assert "has been deleted" not in done.stderr and "Traceback" not in done.stderr, done.stderr
