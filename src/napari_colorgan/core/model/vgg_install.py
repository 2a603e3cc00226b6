"""Install VGG19 ImageNet weights the user downloaded: checked, converted, where ``auto`` looks.

Nothing here touches the network. torchvision publishes the weights as ``vgg19-dcbb9e9d.pth``,
whose name carries the first hex digits of the file's SHA-256: the file is refused unless its
hash starts with them (a cut or corrupted download, or another file). It is read without
unpickling code (``weights_only``), loaded into our feature extractor (names and shapes
checked), and written as safetensors into the user cache, atomically.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from ..io.atomic import write_atomic
from .vgg import INSTALLED_NAME, VGG19_FILENAME, VGG19Features, read_vgg19_state, weights_dir

#: Where torchvision publishes the file (for the user to download; never fetched here).
VGG19_URL = f"https://download.pytorch.org/models/{VGG19_FILENAME}"
#: The SHA-256 prefix in torchvision's file name.
VGG19_SHA256_PREFIX = "dcbb9e9d"


def sha256_of(path: Path, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in blocks (the weights are ~550 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def install_vgg19(source: str | os.PathLike[str], prefix: str | None = None) -> Path:
    """Check, convert and install a downloaded VGG19 weight file; the installed path.

    Parameters
    ----------
    source
        The downloaded ``.pth`` (or a ``.safetensors`` copy).
    prefix
        The SHA-256 prefix the file must have (default: torchvision's
        :data:`VGG19_SHA256_PREFIX` for a ``.pth``, none for a ``.safetensors`` copy); ``""``
        skips the check.

    Raises
    ------
    FileNotFoundError
        ``source`` does not exist.
    ValueError
        The hash differs (corrupt or another file), the file is no VGG19 state dict, or its
        weights are not finite.
    """
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    digest = sha256_of(path)
    if prefix is None:
        # torchvision's hash names its .pth; a safetensors copy has its own bytes (its names
        # and shapes are still checked below).
        prefix = "" if path.suffix == ".safetensors" else VGG19_SHA256_PREFIX
    if prefix and not digest.startswith(prefix):
        raise ValueError(
            f"{path.name} is not torchvision's {VGG19_FILENAME}: its SHA-256 starts with "
            f"{digest[:8]}, not {prefix} (a cut or corrupted download?); download it again "
            f"from {VGG19_URL}"
        )
    features = VGG19Features().load_weights(read_vgg19_state(path))
    state = {k: v.contiguous() for k, v in features.state_dict().items()}
    broken = sorted(k for k, v in state.items() if not bool(torch.isfinite(v).all()))
    if broken:
        # Installed, such weights turn every perceptual loss into NaN at the first step.
        raise ValueError(
            f"{path.name} holds NaN or infinite weights ({len(broken)} of {len(state)} "
            f"tensors, e.g. {broken[0]}): not installed; download it again from {VGG19_URL}"
        )

    def write(tmp: str) -> None:
        from safetensors.torch import save_file

        save_file(state, tmp, metadata={"source": VGG19_FILENAME, "sha256": digest})

    return write_atomic(weights_dir() / INSTALLED_NAME, write)
