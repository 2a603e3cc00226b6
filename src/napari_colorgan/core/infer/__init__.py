"""Colorizing images of any size, tile by tile.

``config`` holds :class:`ColorizeConfig`, the one home of colorize settings; ``planner`` makes
every window decision (:func:`plan`), with ``tiling`` laying windows along an axis (exact halos
where the receptive field allows, blended otherwise) and ``window_size`` choosing the default
window from the device's memory; ``job`` resolves a model, an input and a plan once into a
:class:`ColorizeJob` (``input_check`` refuses what cannot be colorized); ``blocks`` colorizes
one block of a plane on the device (``flips`` averaging a window's mirrored and turned views);
``graph`` builds the lazy dask array and ``class_maps`` a class model's class map and
confidence from the same blocks; ``payload`` ships the model once
through a graph; ``store_fate`` decides what happens to an output store;
``store_check`` checks a store's flags against its chunks and metadata; ``zarr_store`` streams
into a resumable store (its arrays made or opened by ``store_arrays``) in the OME-Zarr layout of
``ome``, a class map as the image-label of ``ome_labels``; ``tiles`` computes the tiles of any
pyramid level that a view-driven colour layer shows, ``tile_cache`` keeps them (bounded) and
orders the work, ``tile_levels`` reads levels for a view (both light enough for napari's
thread), ``tile_spill`` keeps tiles dropped from memory on disk, when asked, and
``tile_export`` writes a region of them (or all) to a store.
"""
