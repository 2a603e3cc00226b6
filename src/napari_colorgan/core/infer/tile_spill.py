"""Tiles dropped from memory kept on disk, in a zarr group, when the user asks for it.

A colour layer's cache in RAM is bounded (:class:`~napari_colorgan.core.infer.tiles.TileCache`);
with a spill folder, what leaves RAM is written here instead of being lost, and read back
(milliseconds) instead of being computed again (a second or so on a CPU). Each tile is one
small zarr array, so the folder is readable by any zarr reader; it lives in a fresh folder
inside the one given and is removed when the layer goes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np


class SpillStore:
    """Tiles on disk under a fresh folder inside ``folder``; thread-safe.

    Parameters
    ----------
    folder
        Where to make the spill folder (it must exist and be writable).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        import zarr

        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(
                f"the spill folder {folder} does not exist: create it or pick another"
            )
        self.path = Path(tempfile.mkdtemp(prefix="colorgan-tiles-", dir=folder))
        self._group = zarr.open_group(str(self.path / "tiles.zarr"), mode="w")
        self._written: set[Any] = set()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._written

    def __len__(self) -> int:
        with self._lock:
            return len(self._written)

    def write(self, key: Any, tile: np.ndarray) -> None:
        """Keep ``tile`` (y, x, 3) on disk under ``key`` (a TileKey)."""
        with self._lock:
            if key in self._written:
                return
            array = self._group.create_array(
                _name(key), shape=tile.shape, chunks=tile.shape, dtype=tile.dtype, overwrite=True
            )
            array[...] = tile
            self._written.add(key)

    def read(self, key: Any) -> np.ndarray | None:
        """The tile kept under ``key``, or None."""
        with self._lock:
            if key not in self._written:
                return None
            return np.asarray(self._group[_name(key)][...])

    def close(self) -> None:
        """Remove the spill folder and everything in it."""
        with self._lock:
            self._written.clear()
            shutil.rmtree(self.path, ignore_errors=True)


def _name(key: Any) -> str:
    """A tile's array path: level, plane, row and column."""
    plane = "_".join(str(i) for i in key.plane) or "0"
    return f"level{key.level}/plane{plane}/r{key.row}c{key.col}"
