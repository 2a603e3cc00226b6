"""The model file's format name and version, and a check of a file that needs no torch.

napari asks the reader about every ``.safetensors`` file dropped on it, so the check reads
only the header. A safetensors file starts with the length of its JSON header (8 bytes, little
endian), then the header, whose ``__metadata__`` holds our format name.
"""

from __future__ import annotations

import json
import os

FORMAT_NAME = "napari-colorgan-model"
FORMAT_VERSION = 1
#: Headers larger than this are not ours (ours hold a few kilobytes of JSON).
MAX_HEADER = 16 * 1024 * 1024


def looks_like_model_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a safetensors file whose metadata names this package's format.

    Reads only the header; never raises for unreadable or foreign files (returns False).
    """
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size <= MAX_HEADER:
                return False
            header = json.loads(fh.read(size))
    except (OSError, ValueError):
        return False
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return isinstance(meta, dict) and meta.get("format") == FORMAT_NAME
