"""Dropping a model file on the viewer opens it in the Colorize widget, adding no layer."""

import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari_colorgan._widgets._recent import recent_models  # noqa: E402
from napari_colorgan.core.model.colorizer import Colorizer  # noqa: E402
from napari_colorgan.core.model.config import preset  # noqa: E402


def test_a_dropped_model_opens_the_colorize_widget(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    path = Colorizer.from_config(preset("small", tile=64)).save(tmp_path / "m.safetensors")
    layers = viewer.open(path, plugin="napari-colorgan")
    assert layers == [] and len(viewer.layers) == 0
    (widget,) = [w for w in viewer.window.dock_widgets.values() if hasattr(w, "use_model_file")]
    assert widget._model_file.value == path
    assert path.resolve() in recent_models()
