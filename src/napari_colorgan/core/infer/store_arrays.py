"""The arrays of a colour store: made or opened for a job, and where each block goes.

Level 0 of the colour (store order, see :mod:`.ome`), the class map of a model trained on
labels (:mod:`.ome_labels`) and the ``done`` flags of the resumable writer
(:mod:`.zarr_store`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import remove_path
from ..io.axes import Axis
from ..model.config import ModelConfig, label_ids
from .graph import BlockMaker
from .ome import FINGERPRINT_KEY, channel_position, create_level, store_shape, to_store_order
from .ome_labels import (
    CLASSES,
    CONFIDENCE,
    LABELS,
    create_class_level,
    create_confidence_level,
    open_level,
)
from .store_check import STORE_BOOKKEEPING as BOOKKEEPING


def create_store(
    path: Path,
    blocks: BlockMaker,
    fingerprint: dict[str, Any],
    axes: list[Axis],
    confidence: bool = False,
) -> tuple[Targets, Any]:
    """An empty store at ``path`` (whatever stood there is removed): its arrays and flags.

    A class model's store (``blocks`` of 5 channels) gets its class map, and its confidence
    with ``confidence``.
    """
    import zarr

    remove_path(path)
    group = zarr.open_group(str(path), mode="w")
    position = channel_position(axes)
    colour = (*blocks.shape[:-1], 3)  # a class model's blocks carry 2 more channels
    chunks = [int(c[0]) for c in blocks.chunks]
    level0 = create_level(
        group, "0", store_shape(colour, position), store_shape((*chunks[:-1], 3), position), axes
    ).with_config({"write_empty_chunks": True})  # so a missing chunk file means a lost chunk
    classes = sure = None
    plane, plane_chunks = colour[:-1], tuple(chunks[:-1])
    if blocks.job.plan.channels == 5:
        lut = label_ids(blocks.job.model.config)
        classes = create_class_level(group, plane, plane_chunks, axes, lut.dtype)
        if confidence:
            sure = create_confidence_level(group, plane, plane_chunks, axes)
    done = create_flags(group, blocks)
    group.attrs[FINGERPRINT_KEY] = fingerprint
    return Targets(level0, classes, sure, position, blocks.job.model.config), done


@dataclass(frozen=True)
class Targets:
    """The arrays a block is written into: colour level 0, the class map and confidence."""

    colour: Any
    classes: Any | None
    confidence: Any | None
    position: int
    model: ModelConfig

    def write(self, block: np.ndarray, where: tuple[slice, ...]) -> None:
        """Write one computed block (y, x, 3 or 5) at ``where`` (store order); chunk-aligned."""
        lead = len(where) - 3  # the plane's leading axes: length 1 each in the chunk
        self.colour[where] = to_store_order(block[(None,) * lead][..., :3], self.position)
        plane = (*where[: self.position], *where[self.position + 1 :])  # no channel axis
        if self.classes is not None:
            self.classes[plane] = label_ids(self.model)[block[..., 3]][(None,) * lead]
        if self.confidence is not None:
            self.confidence[plane] = block[..., 4][(None,) * lead]


def create_flags(group: Any, blocks: BlockMaker) -> Any:
    """The ``done`` flags, one per output chunk, all cleared."""
    grid = tuple(len(c) for c in blocks.chunks[:-1])
    return group.require_group(BOOKKEEPING).create_array(
        "done", shape=grid, chunks=(1,) * len(grid), dtype="u1", fill_value=0, overwrite=True
    )


def open_store(
    path: Path, blocks: BlockMaker, axes: list[Axis], confidence: bool = False
) -> tuple[Targets, Any]:
    """A store holding this result, opened to finish it: its arrays and done flags.

    Without its flags (the bookkeeping group deleted) nothing says which chunks are done:
    they are made again, all cleared, and every chunk is computed again.
    """
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    if "0" not in group:
        raise ValueError(
            f"{path}: its full-resolution level 0 is missing (deleted?): compute the store "
            "again with if_exists='overwrite' (--overwrite)"
        )
    # Every chunk is stored, black ones too, so a missing chunk file means a lost one.
    level0 = group["0"].with_config({"write_empty_chunks": True})
    wanted = [f"{LABELS}/{CLASSES}"] if blocks.job.plan.channels == 5 else []
    wanted += [CONFIDENCE] if wanted and confidence else []
    found = {name: open_level(group, name) for name in wanted}
    for name, level in found.items():
        if level is None:
            raise ValueError(
                f"{path}: its {name}/0 is missing (deleted?): compute the store again with "
                "if_exists='overwrite' (--overwrite)"
            )
    classes, sure = found.get(f"{LABELS}/{CLASSES}"), found.get(CONFIDENCE)
    targets = Targets(level0, classes, sure, channel_position(axes), blocks.job.model.config)
    try:
        return targets, group[f"{BOOKKEEPING}/done"]
    except KeyError:
        warnings.warn(
            f"{path.name}: its record of finished chunks ({BOOKKEEPING}/done) is missing: "
            "every chunk is computed again",
            UserWarning,
            stacklevel=4,
        )
        return targets, create_flags(group, blocks)
