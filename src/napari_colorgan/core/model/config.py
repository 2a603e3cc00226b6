"""Frozen settings shared by the networks, the model files and the trainers.

Every dataclass here round-trips through JSON (``to_dict`` / ``from_dict``) so the exact
settings a model was built with travel inside its model file.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..settings import from_plain as _from_dict

ColorSpace = Literal["lab", "rgb"]
NormKind = Literal["batch", "instance", "none"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a colorizer: the U-Net generator and its PatchGAN critic.

    Parameters
    ----------
    color_space
        ``"lab"``: the generator predicts the a, b chroma channels and the input's own lightness
        is kept; ``"rgb"``: it predicts all three channels.
    context
        Number of neighbouring slices on each side fed as extra input channels (0 = single plane).
    num_downs
        U-Net depth. Each level halves the resolution; 8 is pix2pix's ``unet_256``.
    ngf
        Generator filters in the outermost level (doubling per level, capped at ``8 * ngf``).
    norm
        Normalisation layer of both networks. Batch norm is the pix2pix default and, in eval mode,
        a fixed per-channel affine map, so tiles computed separately agree exactly.
    dropout
        Dropout (p = 0.5) in the innermost decoder blocks, as in pix2pix.
    ndf
        Discriminator filters in its first layer.
    n_layers
        Strided layers of the PatchGAN; 3 gives the 70 x 70 patch of the paper.
    tile
        Side of the training patches in pixels, also the default inference tile.
    classes
        Empty for a colour regressor. Otherwise ``(label, r, g, b)`` per class: the generator
        outputs one logit per class and the colour is the class colour's Lab chroma on the
        input's own lightness, exactly the tint training builds from labels (Lab only).
    chroma_gain
        Saturation applied to a colour model's predictions (1: as the network outputs them):
        Lab chroma scaled, or RGB stretched away from each pixel's grey. Training fits it so
        predictions are as colourful as the annotations (see ``TrainConfig.calibrate``).
    class_bias
        Added to a class model's logits before any decision (one per class, or empty: none).
        Training on strokes weighs rare classes up (``TrainConfig.class_balance``), teaching the
        network logits shifted by ``log w`` for class weights ``w``; training stores
        ``−log w`` here, so decisions and confidences are those of the painted class
        frequencies (measured on real EM in ``benchmarks/class_prior.py``).
    """

    color_space: ColorSpace = "lab"
    context: int = 0
    num_downs: int = 8
    ngf: int = 64
    norm: NormKind = "batch"
    dropout: bool = True
    ndf: int = 64
    n_layers: int = 3
    tile: int = 256
    classes: tuple[tuple[int, int, int, int], ...] = ()
    chroma_gain: float = 1.0
    class_bias: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        # JSON brings lists back: store tuples so equal configs compare equal.
        object.__setattr__(self, "classes", tuple(tuple(int(v) for v in c) for c in self.classes))
        object.__setattr__(self, "class_bias", tuple(float(b) for b in self.class_bias))
        if self.class_bias and len(self.class_bias) != len(self.classes):
            raise ValueError(
                f"class_bias has {len(self.class_bias)} entries for {len(self.classes)} classes"
            )
        if not all(math.isfinite(b) for b in self.class_bias):
            raise ValueError(f"class_bias must be finite, got {self.class_bias}")
        if any(len(c) != 4 for c in self.classes):
            raise ValueError("classes must be (label, r, g, b) entries")
        if self.classes and self.color_space != "lab":
            raise ValueError("a class model renders Lab chroma: use color_space 'lab'")
        if self.color_space not in ("lab", "rgb"):
            raise ValueError(f"color_space must be 'lab' or 'rgb', got {self.color_space!r}")
        if self.norm not in ("batch", "instance", "none"):
            raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {self.norm!r}")
        if self.num_downs < 2:
            raise ValueError(f"num_downs must be at least 2, got {self.num_downs}")
        if not (math.isfinite(self.chroma_gain) and self.chroma_gain > 0):
            raise ValueError(f"chroma_gain must be a finite number > 0, got {self.chroma_gain}")
        if self.classes and self.chroma_gain != 1:
            raise ValueError("a class model paints exact tints: chroma_gain must be 1")
        if self.context < 0:
            raise ValueError(f"context must be >= 0, got {self.context}")
        if self.tile < 2**self.num_downs:
            raise ValueError(
                f"tile {self.tile} must be at least 2**num_downs = {2**self.num_downs} px"
            )
        if self.tile % (2**self.num_downs):
            raise ValueError(
                f"tile {self.tile} must be a multiple of 2**num_downs = {2**self.num_downs}"
            )

    @property
    def in_channels(self) -> int:
        """Generator input channels: the plane and ``context`` neighbours on each side."""
        return 1 + 2 * self.context

    @property
    def color_channels(self) -> int:
        """Colour channels the critic and the losses compare: a, b for Lab; R, G, B for RGB."""
        return 2 if self.color_space == "lab" else 3

    @property
    def out_channels(self) -> int:
        """Generator output channels: one logit per class, or the colour channels."""
        return len(self.classes) or self.color_channels

    @property
    def receptive_field(self) -> int:
        """Receptive field of the generator in pixels (``4 * 2**num_downs - 2``)."""
        # The 4x4 stride-2 convs reach 3 * 2**n - 2 px on the way down; the 4x4 transposed convs
        # on the way up widen it by 2**n - 1 more. Checked against gradient support in the tests.
        return 4 * 2**self.num_downs - 2

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


#: Named architectures. ``small`` and ``medium`` have receptive fields (126 and 254 px) that allow
#: exact tiled inference with a halo of half that; ``pix2pix`` is the paper's unet_256 (1022 px).
PRESETS: dict[str, ModelConfig] = {
    "small": ModelConfig(num_downs=5, ngf=16, ndf=32, n_layers=3, tile=128),
    "medium": ModelConfig(num_downs=6, ngf=32, ndf=64, n_layers=3, tile=256),
    "pix2pix": ModelConfig(num_downs=8, ngf=64, ndf=64, n_layers=3, tile=256),
}


def preset(name: str, **overrides: Any) -> ModelConfig:
    """Return the named preset architecture, with optional field overrides.

    Parameters
    ----------
    name
        One of ``"small"`` (CPU), ``"medium"`` (modest GPU) or ``"pix2pix"`` (the paper's).
    **overrides
        Fields of :class:`ModelConfig` to change, e.g. ``color_space="rgb"``.

    Returns
    -------
    ModelConfig
    """
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
    return dataclasses.replace(base, **overrides)


NormalizeMethod = Literal["percentile", "minmax", "asinh", "none"]


@dataclass(frozen=True)
class InputNormalization:
    """How raw grayscale values become the network's [0, 1] input; stored in every model file.

    Parameters
    ----------
    method
        ``"percentile"`` clips at robust low/high percentiles, ``"minmax"`` at the data range,
        ``"asinh"`` applies ``asinh((x - low) / softening)`` first (astronomy), ``"none"`` expects
        data already in [0, 1].
    low, high
        The values mapped to 0 and 1, measured once on the training data and reused unchanged at
        inference, so every tile and every plane is scaled the same way.
    softening
        The asinh knee, in data units (``"asinh"`` only).
    """

    method: NormalizeMethod = "none"
    low: float = 0.0
    high: float = 1.0
    softening: float = 1.0

    def __post_init__(self) -> None:
        # Checked here so a hand-edited or damaged model file is refused at load, not turned
        # into saturated, black or garbage colours.
        methods = typing.get_args(NormalizeMethod)
        if self.method not in methods:
            raise ValueError(f"unknown normalisation {self.method!r}; known: {list(methods)}")
        values = {"low": self.low, "high": self.high, "softening": self.softening}
        bad = [
            k for k, v in values.items() if not isinstance(v, int | float) or not math.isfinite(v)
        ]
        if bad:
            raise ValueError(
                f"normalisation {bad[0]} must be a finite number, got {values[bad[0]]!r}"
            )
        if self.method in ("percentile", "minmax") and not self.low < self.high:
            raise ValueError(
                f"normalisation low {self.low} must be below high {self.high}: otherwise every "
                "input value maps to black or white"
            )
        if self.method == "asinh" and not (self.high > 0 and self.softening > 0):
            raise ValueError(
                f"asinh normalisation needs high > 0 and softening > 0, got high {self.high}, "
                f"softening {self.softening}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputNormalization:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Provenance:
    """Where a model came from: free-form facts recorded at save time."""

    package_version: str = ""
    created: str = ""
    source: str = ""
    perceptual_weights: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


#: Why a colour model cannot give class maps (one line, for every place that refuses one).
NO_CLASSES = (
    "this model was trained on colour targets, not on labels: it has no classes to map "
    "(class maps and confidence need a model trained from a Labels layer)"
)


def label_ids(model: ModelConfig) -> np.ndarray:
    """Label id of each class index, in the model's class order, as the smallest uint dtype."""
    ids = [c[0] for c in model.classes]
    return np.asarray(ids, dtype=np.min_scalar_type(max(ids, default=0)))


def class_palette(model: ModelConfig) -> dict[int, tuple[int, int, int]]:
    """Label id to RGB (0-255) of each class, as painted, in the model's class order."""
    return {c[0]: (c[1], c[2], c[3]) for c in model.classes}
