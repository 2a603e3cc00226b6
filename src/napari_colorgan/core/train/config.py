"""``TrainConfig``: every setting of a training run, frozen and stored in the model file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from napari_colorgan.core.model.config import (
    ColorSpace,
    ModelConfig,
    NormalizeMethod,
    _from_dict,
    preset,
)
from napari_colorgan.core.train.losses import DEFAULT_GAMMA, DEFAULT_LAMBDA_L1


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Parameters
    ----------
    preset
        Architecture: ``"small"`` (CPU), ``"medium"`` or ``"pix2pix"`` (GPU).
    steps
        Optimisation steps (each one discriminator and one generator update).
    minutes
        Wall-clock budget instead of ``steps``; the learning rate then decays over time.
    tile
        Patch side in pixels (default: the preset's); a multiple of ``2**num_downs``.
    batch_size
        Patches per step.
    gamma, lambda_l1
        ``L_G = γ·(L_cGAN + λ·L1) + (1 − γ)·L_VGG``.
    gan_mode
        ``"vanilla"`` (BCE, pix2pix) or ``"lsgan"``.
    adversarial
        False trains without the critic (``L_cGAN`` = 0): the "L1 only" ablation.
    perceptual_weights
        ``"auto"``, ``"imagenet"``, ``"random"``, ``"none"`` or a path to VGG19 weights.
    perceptual_layers
        VGG19 layers of the perceptual loss.
    color_space
        ``"lab"`` (predict chroma, keep the input's lightness) or ``"rgb"``.
    normalize
        Input normalisation measured on the training data: ``"percentile"``, ``"minmax"``,
        ``"asinh"`` or ``"none"``.
    context
        Neighbouring slices on each side as extra input channels.
    seed
        Seeds weights, patch sampling and dropout: equal seeds give equal runs on CPU.
    lr, beta1
        Adam's learning rate and β1 (pix2pix: 2e-4, 0.5).
    decay_fraction
        Share of the run (at its end) over which the learning rate decays linearly to 0.
    checkpoint_every
        Steps between checkpoints (0: only at the end and on stop).
    val_every
        Steps between validation metrics and preview images.
    val_fraction
        Share of annotated planes (or of a single plane's width) held out for validation.
    """

    preset: Literal["small", "medium", "pix2pix"] = "small"
    steps: int = 2000
    minutes: float | None = None
    tile: int | None = None
    batch_size: int = 8
    gamma: float = DEFAULT_GAMMA
    lambda_l1: float = DEFAULT_LAMBDA_L1
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    adversarial: bool = True
    perceptual_weights: str = "auto"
    perceptual_layers: tuple[str, ...] = ("relu5_4",)
    color_space: ColorSpace = "lab"
    normalize: NormalizeMethod = "percentile"
    context: int = 0
    seed: int = 0
    lr: float = 2e-4
    beta1: float = 0.5
    decay_fraction: float = 0.5
    checkpoint_every: int = 500
    val_every: int = 100
    val_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes must be > 0, got {self.minutes}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not 0 <= self.decay_fraction <= 1:
            raise ValueError(f"decay_fraction must lie in [0, 1], got {self.decay_fraction}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must lie in [0, 1), got {self.val_fraction}")
        self.model_config()  # validates preset, tile and context together

    def model_config(self) -> ModelConfig:
        """The architecture this run trains."""
        overrides: dict[str, Any] = {"color_space": self.color_space, "context": self.context}
        if self.tile is not None:
            overrides["tile"] = self.tile
        return preset(self.preset, **overrides)

    def lr_factor(self, progress: float) -> float:
        """Learning-rate multiplier at ``progress`` in [0, 1]: constant, then linear to 0."""
        start = 1.0 - self.decay_fraction
        if progress <= start or self.decay_fraction == 0:
            return 1.0
        return max(0.0, 1.0 - (progress - start) / self.decay_fraction)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)
