"""Import generators saved by the reference pix2pix code (junyanz/pytorch-CycleGAN-and-pix2pix).

The reference builds its U-Net recursively: each level is an ``nn.Sequential`` named ``model``
holding the next level (at index 1 in the outermost level, index 3 in the others). So the
outermost level's parameters are ``model.model.<i>.<param>``, level 1's
``model.model.1.model.<i>.<param>``, level 2's ``model.model.1.model.3.model.<i>.<param>``, and
so on. We map those names onto our explicit ``down``/``up`` lists:

=============  ============================  =================================
level          reference ``model.<i>``        ours
=============  ============================  =================================
outermost      0 conv, 3 convT               ``down.0.0``, ``up.0.1``
innermost      1 conv, 3 convT, 4 norm       ``down.k.1``, ``up.k.1``, ``up.k.2``
in between     1 conv, 2 norm, 5 convT,      ``down.k.1``, ``down.k.2``,
               6 norm                        ``up.k.1``, ``up.k.2``
=============  ============================  =================================
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from .colorizer import Colorizer, build_generator, load_generator_state
from .config import InputNormalization, ModelConfig, NormKind, Provenance

_KEY = re.compile(r"^model\.model\.(?:1\.model\.((?:3\.model\.)*))?(\d+)\.(\w+)$")
_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _our_name(level: int, num_downs: int, index: int) -> str | None:
    """Our module path for the reference's ``index`` in level ``level``; None if unknown."""
    if level == 0:
        table = {0: "down.0.0", 3: "up.0.1"}
    elif level == num_downs - 1:
        table = {1: f"down.{level}.1", 3: f"up.{level}.1", 4: f"up.{level}.2"}
    else:
        table = {
            1: f"down.{level}.1",
            2: f"down.{level}.2",
            5: f"up.{level}.1",
            6: f"up.{level}.2",
        }
    return table.get(index)


def _parse(state: dict[str, torch.Tensor]) -> dict[tuple[int, int, str], torch.Tensor]:
    """Split reference keys into (level, index, param); reject foreign layouts."""
    parsed = {}
    for key, value in state.items():
        match = _KEY.match(key.removeprefix("module."))
        if match is None:
            raise ValueError(
                f"unexpected parameter {key!r}: not a pix2pix U-Net generator state dict "
                "(expected names like 'model.model.1.model.1.weight')"
            )
        nested = match.group(1)
        level = 0 if nested is None else 1 + nested.count("3.model.")
        parsed[(level, int(match.group(2)), match.group(3))] = value
    return parsed


def convert_pix2pix_state(
    state: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], ModelConfig]:
    """Rename a reference U-Net state dict to ours and infer the architecture from it.

    Returns
    -------
    state, config
        Our state dict and the matching :class:`ModelConfig` (Lab if 2 output channels).
    """
    parsed = _parse(state)
    num_downs = max(level for level, _, _ in parsed) + 1
    first = parsed.get((0, 0, "weight"))
    last = parsed.get((0, 3, "weight"))
    if first is None or last is None:
        raise ValueError("not a pix2pix U-Net: the outermost convolutions are missing")
    ngf, in_channels = int(first.shape[0]), int(first.shape[1])
    out_channels = int(last.shape[1])  # ConvTranspose2d weights are (in, out, kh, kw)
    if in_channels != 1 or out_channels not in (2, 3):
        raise ValueError(
            f"the generator maps {in_channels} to {out_channels} channels; napari-colorgan "
            "imports grayscale-to-colour generators (1 -> 2 for Lab, 1 -> 3 for RGB)"
        )
    # Batch norm leaves running statistics; instance norm (no affine) leaves none, but its
    # convolutions carry biases. The reference's norm "none" has neither and is not supported.
    norm: NormKind
    if any(param == "running_mean" for _, _, param in parsed):
        norm = "batch"
    elif (0, 0, "bias") in parsed:
        norm = "instance"
    else:
        raise ValueError("unsupported pix2pix generator: neither batch nor instance norm")
    config = ModelConfig(
        color_space="lab" if out_channels == 2 else "rgb",
        num_downs=num_downs,
        ngf=ngf,
        norm=norm,
        tile=max(256, 2**num_downs),
    )
    ours: dict[str, torch.Tensor] = {}
    for (level, index, param), value in parsed.items():
        name = _our_name(level, num_downs, index)
        if name is None:
            raise ValueError(f"unexpected layer model.{index} at U-Net level {level}")
        if norm != "batch" and param in _NORM_BUFFERS:
            continue  # stale buffers that old torch versions saved for instance norm
        ours[f"{name}.{param}"] = value
    return ours, config


def load_pix2pix_generator(path: str | os.PathLike[str]) -> Colorizer:
    """Load a generator saved by the reference pix2pix code, e.g. ``latest_net_G.pth``.

    Parameters
    ----------
    path
        A ``.pth`` state dict of a U-Net generator (``--netG unet_256`` / ``unet_128``), as
        written by ``--model colorization`` (1 -> 2 channels, Lab) or pix2pix (1 -> 3, RGB).
        It is read with ``torch.load(weights_only=True)``: tensors only, no code runs.

    Returns
    -------
    Colorizer
        In eval mode, with the reference's scaling (input ``L/50 − 1``, output ``ab·110``) and
        input normalisation ``"none"`` (images in [0, 1], i.e. ``L = 100·x``).

    Raises
    ------
    ValueError
        The file is not a readable pix2pix U-Net generator.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pix2pix generator not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path}: cannot read as a PyTorch state dict: {err}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    ours, config = convert_pix2pix_state(state)
    generator = build_generator(config)
    own = generator.state_dict()
    # Checkpoints from torch < 0.4.1 lack the batch-norm step counters; they are not weights.
    for key in own:
        if key.endswith("num_batches_tracked") and key not in ours:
            ours[key] = own[key]
    load_generator_state(generator, ours, str(path))
    generator.eval()
    return Colorizer(
        generator,
        config,
        InputNormalization("none"),
        provenance=Provenance(source=f"pix2pix:{path.name}"),
    )
