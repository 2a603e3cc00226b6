"""Colorizing images of any size, tile by tile.

``tiling`` plans windows (exact halos where the receptive field allows, blended otherwise);
``job`` resolves a model, an input and a plan once into a :class:`ColorizeJob`; ``blocks``
colorizes one block of a plane on the device; ``graph`` builds the lazy dask array;
``payload`` ships the model once through a graph; ``zarr_store`` streams into a resumable
OME-Zarr store.
"""
