"""VGG19 feature extractor with torchvision's parameter names, and safe loading of its weights.

Nothing here downloads (``vgg_fetch`` does, when the user asks): the ImageNet weights are read
from a file the user provides (argument, the ``NAPARI_COLORGAN_VGG19`` environment variable,
torch's hub cache where torchvision would have put it, or what ``fetch-weights`` installed).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

#: torchvision's file name for the ImageNet VGG19 weights.
VGG19_FILENAME = "vgg19-dcbb9e9d.pth"
#: The name ``fetch-weights vgg19`` installs the weights under, in :func:`weights_dir`.
INSTALLED_NAME = "vgg19-imagenet.safetensors"
#: Environment variable naming a VGG19 weight file (.pth or .safetensors).
VGG19_ENV_VAR = "NAPARI_COLORGAN_VGG19"

# torchvision's configuration "E": conv widths per block, "M" = 2x2 max-pool.
_VGG19_CFG: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
)

# ImageNet statistics the published weights were trained with.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _layer_indices() -> dict[str, int]:
    """Map names like ``relu5_4`` (4th conv of block 5, after ReLU) to ``features`` indices."""
    names: dict[str, int] = {}
    block, conv, index = 1, 0, 0
    for item in _VGG19_CFG:
        if item == "M":
            names[f"pool{block}"] = index
            block, conv, index = block + 1, 0, index + 1
        else:
            conv += 1
            names[f"conv{block}_{conv}"] = index
            names[f"relu{block}_{conv}"] = index + 1
            index += 2
    return names


LAYER_INDEX: dict[str, int] = _layer_indices()


class VGG19Features(nn.Module):
    """The convolutional part of VGG19, returning the activations of named layers.

    Parameters
    ----------
    layers
        Layer names such as ``"relu5_4"`` (φ_5,4 of SRGAN: the 4th convolution of the 5th block,
        after its ReLU, before the 5th max-pool) or ``"relu2_2"``.

    Notes
    -----
    Parameters are named ``features.<i>.weight`` exactly as in ``torchvision.models.vgg19`` so
    its published weight files load with :meth:`load_weights`. The module is frozen and stays in
    eval mode. Input: ImageNet-normalised RGB (b, 3, h, w).
    """

    def __init__(self, layers: Iterable[str] = ("relu5_4",)) -> None:
        super().__init__()
        self.layers = tuple(layers)
        unknown = [name for name in self.layers if name not in LAYER_INDEX]
        if not self.layers or unknown:
            raise ValueError(
                f"unknown VGG19 layers {unknown or '(none given)'}; "
                "use names like 'relu5_4' (block 5, conv 4) or 'relu2_2'"
            )
        modules: list[nn.Module] = []
        c_in = 3
        for item in _VGG19_CFG:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU(inplace=False)]
                c_in = int(item)
        self.features = nn.Sequential(*modules)
        self._last = max(LAYER_INDEX[name] for name in self.layers)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:
        """Stay in eval mode: a loss network must not change with the model it judges."""
        return super().train(False)

    def random_init(self, seed: int = 0) -> VGG19Features:
        """Fill with reproducible Kaiming-normal weights (a random-feature perceptual loss)."""
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for m in self.features:
                if isinstance(m, nn.Conv2d):
                    fan_in = m.weight[0].numel()
                    m.weight.copy_(
                        torch.randn(m.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
                    )
                    m.bias.zero_()
        return self

    def load_weights(self, state: Mapping[str, torch.Tensor]) -> VGG19Features:
        """Load a torchvision-style VGG19 state dict; ``classifier.*`` entries are ignored.

        Raises
        ------
        ValueError
            When convolution weights are missing or have the wrong shape.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        wrong = [
            f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
            for k, v in own.items()
            if k in state and tuple(state[k].shape) != tuple(v.shape)
        ]
        if missing or wrong:
            raise ValueError(
                "not a VGG19 weight file in torchvision's layout: "
                + (f"missing {missing[:4]}{'...' if len(missing) > 4 else ''} " if missing else "")
                + (f"wrong shapes {wrong[:4]}" if wrong else "")
            )
        self.load_state_dict({k: state[k] for k in own})
        return self

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return ``{layer name: activation}`` for the requested layers of ``x`` (b, 3, h, w)."""
        wanted = {LAYER_INDEX[name]: name for name in self.layers}
        out: dict[str, torch.Tensor] = {}
        for index, module in enumerate(self.features[: self._last + 1]):
            x = module(x)
            if index in wanted:
                out[wanted[index]] = x
        return out


def imagenet_normalize(rgb: torch.Tensor) -> torch.Tensor:
    """Normalise RGB in [0, 1] (b, 3, h, w) with the ImageNet mean and std."""
    mean = torch.tensor(_IMAGENET_MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std


def hub_cache_path() -> Path:
    """Where torchvision caches ``vgg19-dcbb9e9d.pth`` (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME


def find_vgg19_weights(path: str | os.PathLike[str] | None = None) -> Path | None:
    """Locate a VGG19 weight file without downloading anything.

    Parameters
    ----------
    path
        An explicit file; it must exist.

    Returns
    -------
    Path or None
        ``path``, else ``$NAPARI_COLORGAN_VGG19``, else torch's hub cache, else the copy
        ``napari-colorgan fetch-weights vgg19 --from FILE`` installed; ``None`` if none exists.

    Raises
    ------
    FileNotFoundError
        When ``path`` or the environment variable names a file that does not exist.
    """
    for given, what in ((path, "the given path"), (os.environ.get(VGG19_ENV_VAR), VGG19_ENV_VAR)):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise FileNotFoundError(f"VGG19 weights not found at {p} ({what})")
            return p
    cached = hub_cache_path()
    if cached.is_file():
        return cached
    return installed_vgg19()  # what ``fetch-weights vgg19 --from`` installed


def weights_dir() -> Path:
    """napari-colorgan's cache folder for weights (``$NAPARI_COLORGAN_CACHE`` overrides it)."""
    given = os.environ.get("NAPARI_COLORGAN_CACHE")
    if given:
        return Path(given).expanduser() / "weights"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("napari-colorgan")) / "weights"


def installed_vgg19() -> Path | None:
    """The VGG19 weights ``fetch-weights`` installed, or None."""
    path = weights_dir() / INSTALLED_NAME
    return path if path.is_file() else None


def missing_weights_help() -> str:
    """Tell the user where to put the VGG19 weights."""
    return (
        "Download torchvision's ImageNet VGG19 weights with `napari-colorgan fetch-weights "
        "vgg19` (575 MB, checked by hash) or the Train widget's download button (advanced "
        f"settings); or install a copy of {VGG19_FILENAME} with `fetch-weights vgg19 --from "
        f"FILE`, put it at {hub_cache_path()}, or point {VGG19_ENV_VAR} at it."
    )


def read_vgg19_state(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a VGG19 state dict from ``.pth`` (tensors only, never unpickling code) or safetensors.

    Raises
    ------
    ValueError
        When the file cannot be read as a tensor dictionary.
    """
    p = Path(path)
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # torch and safetensors raise many types for a bad file
        raise ValueError(f"cannot read VGG19 weights from {p}: {err}") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise ValueError(f"{p} does not hold a dictionary of tensors (a VGG19 state dict)")
    return dict(state)
