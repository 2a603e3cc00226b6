"""``napari-colorgan demo --gui``: open the demo's results in napari."""

from __future__ import annotations

from pathlib import Path


def show(out: Path, run: bool = True) -> object:
    """Open every colorized store in ``out`` as an RGB layer; returns the viewer."""
    import napari

    from napari_colorgan.core.infer.zarr_store import open_multiscale

    viewer = napari.Viewer(title="napari-colorgan demo")
    for store in sorted(Path(out).glob("*.ome.zarr")):
        levels = open_multiscale(store)
        data = levels if len(levels) > 1 else levels[0]
        name = store.name.removesuffix(".ome.zarr")
        viewer.add_image(data, rgb=True, multiscale=len(levels) > 1, name=f"{name} colorized")
    if run:
        napari.run()
    return viewer
