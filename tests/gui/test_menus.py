"""The widgets sit in napari's Layers menu as well as under Plugins (a real viewer)."""

import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("menu", "command"),
    [
        ("napari/layers/visualize", "napari-colorgan.colorize"),
        ("napari/layers/classify", "napari-colorgan.train"),
        ("napari/layers/measure", "napari-colorgan.evaluate"),
    ],
)
def test_layers_menu_offers_the_widgets(make_napari_viewer, menu, command):
    from napari._app_model import get_app_model

    make_napari_viewer()
    items = get_app_model().menus.get_menu(menu)
    assert command in [getattr(getattr(i, "command", None), "id", None) for i in items]
