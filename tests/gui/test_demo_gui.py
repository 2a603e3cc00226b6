import numpy as np
import pytest

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui


def test_demo_results_open_in_napari(tmp_path, qtbot):
    from napari_colorgan._demo_gui import show
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr
    from napari_colorgan.core.model.colorizer import Colorizer
    from napari_colorgan.core.model.config import preset

    model = Colorizer.from_config(preset("small", tile=64))
    colorize_to_zarr(
        np.zeros((2, 40, 50), np.uint8), tmp_path / "em.ome.zarr", model, device="cpu"
    )
    viewer = show(tmp_path, run=False)
    try:
        assert viewer.layers["em colorized"].rgb
    finally:
        viewer.close()
