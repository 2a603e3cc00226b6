"""The model file: safetensors weights plus JSON metadata, written atomically, read defensively.

Layout: one ``.safetensors`` file whose tensors are the generator's state dict and whose string
metadata holds ``format``, ``format_version`` and the JSON of the model config, the input
normalisation, the training config and the provenance. No pickle anywhere, so opening a model
file from a stranger cannot run code.

napari asks the reader about every ``.safetensors`` file dropped on it, so
:func:`looks_like_model_file` reads only the header and this module imports torch only inside
the functions that load or save tensors. A safetensors file starts with the length of its JSON
header (8 bytes, little endian), then the header, whose ``__metadata__`` holds our format name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..io.atomic import write_atomic

if TYPE_CHECKING:
    import torch

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


#: Metadata entries holding JSON documents.
JSON_FIELDS = ("model", "normalization", "training", "provenance")

# First bytes of files that are PyTorch pickles: a zip archive or a raw pickle stream.
_PICKLE_MAGIC = (b"PK\x03\x04", b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def encode_metadata(documents: Mapping[str, Any]) -> dict[str, str]:
    """The string metadata of a model file: format, version and the JSON ``documents``."""
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION)}
    metadata.update({key: json.dumps(value, sort_keys=True) for key, value in documents.items()})
    return metadata


def save_model_file(
    path: str | os.PathLike[str],
    tensors: Mapping[str, torch.Tensor],
    documents: Mapping[str, Any],
) -> Path:
    """Write ``tensors`` and the JSON ``documents`` (keys from :data:`JSON_FIELDS`) to ``path``."""
    from safetensors.torch import save_file

    metadata = encode_metadata(documents)
    # safetensors wants contiguous CPU tensors that share no storage.
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return write_atomic(path, lambda tmp: save_file(flat, tmp, metadata=metadata))


def _is_bioimageio_package(path: Path) -> bool:
    """Whether a zip holds a bioimage.io description (read from its listing, nothing run)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith(("rdf.yaml", "bioimageio.yaml")) for n in names)


def _reject_pickle(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"PK\x03\x04" and _is_bioimageio_package(path):
        raise ValueError(
            f"{path} is a bioimage.io model package (ONNX weights for bioimage.io tools), not "
            "a napari-colorgan model file: use the .safetensors model it was exported from"
        )
    if head.startswith(_PICKLE_MAGIC):
        raise ValueError(
            f"{path} is a PyTorch pickle checkpoint, not a napari-colorgan model file. "
            "napari-colorgan never unpickles files; for a generator saved by the reference "
            "pix2pix code use napari_colorgan.load_pix2pix_generator(path)."
        )


#: Largest safetensors header read (the format's own limit).
_MAX_HEADER = 100 << 20


def _safetensors_metadata(path: Path) -> dict[str, Any]:
    """The ``__metadata__`` of a safetensors file, read from its header alone.

    Read by hand rather than through ``safetensors.safe_open``, which imports torch: napari's
    thread reads a model's classes when a colour layer is added, and torch takes seconds to
    import. Checks as safetensors does that the tensors' bytes fill the rest of the file.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError("shorter than a safetensors header")
        length = int.from_bytes(head, "little")
        if length > min(size - 8, _MAX_HEADER):
            raise ValueError(f"header of {length} bytes in a file of {size}")
        try:
            header = json.loads(fh.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"header is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    ends = [
        int(v["data_offsets"][1])
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    if 8 + length + max(ends, default=0) != size:
        raise ValueError(f"its tensors do not fill the file ({size} bytes)")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError("__metadata__ is not a JSON object")
    return metadata


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate the metadata of a model file without loading its weights.

    Returns
    -------
    dict
        ``format``, ``format_version`` and the decoded JSON documents.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is truncated, corrupt, not a napari-colorgan model, or from a newer version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    _reject_pickle(path)
    try:
        raw = _safetensors_metadata(path)
    except ValueError as err:
        raise ValueError(
            f"{path} is not a readable napari-colorgan model file (truncated or corrupt?): {err}"
        ) from None
    if raw.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{path} is a safetensors file but not a napari-colorgan model "
            f"(format {raw.get('format')!r}, expected {FORMAT_NAME!r})"
        )
    try:
        version = int(raw.get("format_version", ""))
    except ValueError:
        raise ValueError(f"{path}: bad format_version {raw.get('format_version')!r}") from None
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer napari-colorgan (model format {version}; this "
            f"version reads up to {FORMAT_VERSION}): upgrade napari-colorgan to open it"
        )
    meta: dict[str, Any] = {"format": FORMAT_NAME, "format_version": version}
    for key in JSON_FIELDS:
        try:
            meta[key] = json.loads(raw[key]) if key in raw else {}
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: metadata entry {key!r} is not valid JSON ({err})") from None
    if not meta["model"]:
        raise ValueError(f"{path}: the model architecture is missing from the metadata")
    return meta


def read_tensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Load the tensors of a model file on the CPU, turning any failure into ``ValueError``."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as err:
        raise ValueError(
            f"{path}: the weights cannot be read (truncated or corrupt file?): {err}"
        ) from None
