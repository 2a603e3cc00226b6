"""A real napari viewer (under Xvfb in CI) sees the plugin."""

import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui


def test_plugin_is_registered_in_a_running_viewer(make_napari_viewer):
    from npe2 import PluginManager

    viewer = make_napari_viewer()
    names = {manifest.name for manifest in PluginManager.instance().iter_manifests()}
    assert "napari-colorgan" in names
    viewer.add_image(np.arange(4.0).reshape(2, 2), name="em")
    assert viewer.layers["em"].data.shape == (2, 2)
