"""What happens to an output store: decided once, from what the user asked and what is there.

The user says what to do if the output exists (:data:`IfExists`); what is on disk (the store,
and the replacement an earlier ``overwrite`` left beside it) then decides one :class:`Fate`,
or a refusal that names the problem. Nothing else in a run decides where it writes.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any, Literal

from ..io.atomic import sibling

#: What to do when the output already exists: finish it if it holds this very result
#: (``resume``), refuse (``fail``), or replace it once the new one is finished (``overwrite``).
IfExists = Literal["resume", "fail", "overwrite"]
IF_EXISTS: tuple[str, ...] = ("resume", "fail", "overwrite")


class Fate(enum.Enum):
    """Where a run writes, and what it does with the store there."""

    #: Nothing is there: create the store in place.
    NEW = "new"
    #: The store holds this result, finished or not: compute its missing chunks in place.
    RESUME = "resume"
    #: Replace what is there: build the new store beside it, swap it in once finished.
    REPLACE = "replace"
    #: An earlier replacement of this result was cut short: finish it beside, then swap it in.
    FINISH_REPLACEMENT = "finish replacement"

    @property
    def beside(self) -> bool:
        """Whether this fate writes the replacement beside the store, not the store itself."""
        return self in (Fate.REPLACE, Fate.FINISH_REPLACEMENT)

    @property
    def creates(self) -> bool:
        """Whether this fate starts an empty store (else it opens one holding this result)."""
        return self in (Fate.NEW, Fate.REPLACE)


def replacement(path: Path) -> Path:
    """Where ``overwrite`` builds the new store: ``.NAME.new`` beside ``path``."""
    return sibling(path, "new")


def decide(
    path: Path, wanted: dict[str, Any], if_exists: str, found: Any, found_beside: Any
) -> Fate:
    """The fate of a run writing ``wanted`` to ``path``.

    Parameters
    ----------
    path
        The output store.
    wanted
        The fingerprint of this run's result.
    if_exists
        One of :data:`IF_EXISTS`.
    found, found_beside
        The fingerprints recorded at ``path`` and at :func:`replacement` (None where there is
        no store of ours).

    Raises
    ------
    ValueError
        ``path`` holds something else and ``if_exists`` is not ``overwrite``: what it holds
        and what to do.
    """
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}")
    if not path.exists():
        return Fate.NEW
    if if_exists == "overwrite":
        return Fate.FINISH_REPLACEMENT if found_beside == wanted else Fate.REPLACE
    if not path.is_dir():
        raise ValueError(
            f"{path} is a file, not a zarr store: choose another output or pass "
            "if_exists='overwrite' (--overwrite) to replace it"
        )
    old = old_layout_message(path, found)
    if old is not None:
        raise ValueError(old)
    if found != wanted:
        raise ValueError(
            f"{path} already exists and holds another result "
            f"({differences(found, wanted)}): choose another output or pass "
            "if_exists='overwrite' (--overwrite)"
        )
    if if_exists == "fail":
        raise ValueError(
            f"{path} exists: pass if_exists='resume' to finish it or 'overwrite' to replace it"
        )
    return Fate.RESUME


#: How a fingerprint's entries are named to a person, in the order they are reported.
_DIFFERENCES = {
    "input": "input content",
    "slices": "--slices selection",
    "shape": "shape",
    "model": "model",
    "tile": "tiling",
    "overlap": "tiling",
    "windows": "tiling",
    "flips": "test-time flips",
    "chunks": "chunking",
    "axes": "axis names",
    "region": "region",
    "tile_side": "tiles",
}


def differences(found: Any, wanted: dict[str, Any]) -> str:
    """The names of what differs between a store's fingerprint and this run's, or a reason."""
    if not isinstance(found, dict):
        return "it is not a napari-colorgan store"
    names = [name for key, name in _DIFFERENCES.items() if found.get(key) != wanted.get(key)]
    return "other " + ", ".join(dict.fromkeys(names))


def old_layout_message(path: Path, found: Any) -> str | None:
    """The one-line refusal for a store napari-colorgan 0.1 wrote (channel-last), else None."""
    if not isinstance(found, dict) or "layout" in found:
        return None
    return (
        f"{path} was written by napari-colorgan 0.1 in its channel-last layout, which napari "
        "and OME-Zarr readers cannot open: pass if_exists='overwrite' (--overwrite) to compute "
        f"it anew, or, if it is finished, convert it with `napari-colorgan convert {path} -o "
        "NEW.ome.zarr`"
    )


def check_not_input(data: Any, out: Path) -> None:
    """Refuse an output that is the input, holds it or lies inside it.

    Replacing it (``if_exists="overwrite"``) would delete the input, and writing inside it
    would change someone's store; either way the input would be lost before it was read.

    Raises
    ------
    ValueError
        Naming both paths.
    """
    source = input_path(data)
    if source is None:
        return
    src, dst = source.resolve(), Path(out).resolve()
    if dst == src or dst in src.parents or src in dst.parents:
        how = "is" if dst == src else "holds" if dst in src.parents else "lies inside"
        raise ValueError(
            f"the output {out} {how} the input {source}: writing there would destroy the "
            "input; choose another output path"
        )


def input_path(data: Any) -> Path | None:
    """Where ``data`` lives on disk: its path, or a local zarr array's store folder; else None."""
    if isinstance(data, str | os.PathLike):
        return Path(data)
    root = getattr(getattr(data, "store", None), "root", None)  # zarr v3 LocalStore
    if root is None:
        return None
    path = getattr(data, "path", "") or ""
    return Path(root) / path
