"""Pure compute: networks, losses, colour conversion, model files, metrics.

Nothing under ``core`` imports napari, Qt or magicgui, so scripts, the CLI and dask workers stay
light; the napari widgets are a thin layer over it.
"""
