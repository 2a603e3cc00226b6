"""``napari-colorgan demo --gui``: open the demo's results in napari."""

from __future__ import annotations

from pathlib import Path


def show(out: Path, run: bool = True) -> object:
    """Open every colorized store in ``out`` as an RGB layer; returns the viewer."""
    import napari

    from napari_colorgan.core.infer.ome import rgb_layer

    viewer = napari.Viewer(title="napari-colorgan demo")
    for store in sorted(Path(out).glob("*.ome.zarr")):
        data, kwargs = rgb_layer(store)
        viewer.add_image(data, **{**kwargs, "name": f"{kwargs['name']} colorized"})
    if run:
        napari.run()
    return viewer
