"""``TrainConfig``: every setting of a training run, frozen and stored in the model file.

This is the one home of the training defaults and of each setting's allowed values: the CLI
and the napari widget read both from here (:meth:`TrainConfig.default`,
:meth:`TrainConfig.choices`) instead of keeping copies.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..model.config import (
    PRESETS,
    ColorSpace,
    ModelConfig,
    preset,
)
from ..settings import Precision, Settings

GanMode = Literal["vanilla", "lsgan"]
Objective = Literal["auto", "color", "classes"]
ColorSpaceChoice = Literal["auto", "lab", "rgb"]
NormalizeChoice = Literal["auto", "percentile", "minmax", "asinh", "none"]
PresetName = Literal["small", "medium", "pix2pix"]
FitLoss = Literal["l1", "l2", "huber"]
Sampling = Literal["uniform", "signal"]

#: Share of the annotated planes' pixels from which labels count as dense (``"auto"``).
DENSE_SHARE = 0.5
#: The balance ``"auto"`` gives strokes.
STROKES_BALANCE = 0.5


def resolve_balance(balance: float | str, labelled_share: float) -> float:
    """The class balance of a run: ``balance`` itself, or for ``"auto"`` one by label density.

    Dense labels (``labelled_share`` of the annotated planes' pixels >= :data:`DENSE_SHARE`)
    get plain cross entropy (0): their class shares are the image's, and patches are already
    centred class by class. Strokes get :data:`STROKES_BALANCE`. On real ssTEM at equal CPU
    time (``docs/benchmarks.md``) 0 beat 0.5 on dense labels and lost to it on strokes.
    """
    if balance != "auto":
        return float(balance)
    return 0.0 if labelled_share >= DENSE_SHARE else STROKES_BALANCE


@dataclass(frozen=True)
class TrainConfig(Settings):
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
    fit_loss
        The colour-fitting term in that sum: ``"l2"`` (squared error, the default: the mean
        colour, which PSNR rewards; +1.4 dB over L1 on SDSS at equal steps, equal on the
        Hubble Deep Field), ``"l1"`` (pix2pix's: the median, which hedges to grey) or
        ``"huber"``. Class models use cross entropy instead.
    sampling
        Where colour-target patches are centred: ``"uniform"`` (anywhere) or ``"signal"`` (half
        of them on the most colourful pixels of the target: rare bright sources are seen as often
        as the background). Sparse labels always centre patches on their strokes.
    gan_mode
        ``"vanilla"`` (BCE, pix2pix) or ``"lsgan"``.
    adversarial
        Train with the PatchGAN critic (``L_cGAN``): the seed's full pix2pix objective. Off by
        default: on a 2-core CPU the critic made each step ~4.5× slower and lost 4 dB (SDSS)
        and class accuracy (EM) at equal time; see the benchmarks page.
    perceptual_weights
        ``"auto"``, ``"imagenet"``, ``"random"``, ``"none"`` or a path to VGG19 weights.
    perceptual_layers
        VGG19 layers of the perceptual loss.
    color_space
        ``"lab"`` (predict chroma, keep the input's lightness) or ``"rgb"`` (predict all three
        channels). ``"auto"``: Lab, unless a colour target's lightness differs from the
        normalised input (e.g. an astronomical composite with its own stretch), then RGB.
    normalize
        Input normalisation measured on the training data: ``"auto"`` (asinh for float data
        with a heavy bright tail, such as FITS; percentile otherwise), ``"percentile"``,
        ``"minmax"``, ``"asinh"`` or ``"none"``.
    context
        Neighbouring slices on each side as extra input channels.
    objective
        ``"classes"``: with labels, the generator is a per-pixel classifier (class-balanced cross
        entropy takes L1's place in the objective) whose colour is the class colour's chroma;
        ``"color"``: it regresses colour (pix2pix's L1); ``"auto"``: classes when training
        from labels, colour otherwise.
    class_balance
        Class weights of the cross entropy ∝ (class pixel share)^-class_balance: 0 is plain
        cross entropy, 1 weighs every class equally. ``"auto"``: 0 for dense labels (at least
        half of the annotated planes' pixels labelled), 0.5 for strokes (see
        :func:`resolve_balance`).
    precision
        ``"auto"``: bf16 mixed precision on CUDA and on CPUs with native bf16, fp32 elsewhere
        (the same rule as inference, :func:`~napari_colorgan.core.devices.compute_dtype`);
        ``"fp32"`` or ``"bf16"`` to force it.
    seed
        Seeds weights, patch sampling and dropout: equal seeds give equal runs on CPU.
    lr, beta1
        Adam's learning rate and β1. ``lr=None`` (default): pix2pix's 2e-4 with the critic,
        1e-3 without it.
    decay_fraction
        Share of the run (at its end) over which the learning rate decays linearly to 0.
    checkpoint_every
        Steps between checkpoints (0: only at the end and on stop).
    val_every
        Steps between validation metrics and preview images (0: by ``val_seconds`` only).
    val_seconds
        Also validate (and send a preview) whenever this many seconds passed since the last
        one; 0: by steps only. The napari widget uses a few seconds, so the first preview comes
        seconds after Start whatever the speed of a step.
    val_fraction
        Share of annotated planes (or of a single plane's width) held out for validation.
    calibrate
        After training a colour model, fit ``ModelConfig.chroma_gain`` so its predictions on
        annotated tiles (validation ones when there are) are as colourful as their targets,
        giving up at most 0.1 dB of their PSNR: regressors hedge towards grey. Class models
        paint exact tints and are not touched.
    """

    preset: PresetName = "small"
    steps: int = 2000
    minutes: float | None = None
    tile: int | None = None
    batch_size: int = 8
    # γ = 0.9 keeps pix2pix's balance dominant while (1 − γ) adds the perceptual term.
    gamma: float = 0.9
    # λ of pix2pix: the L1 term outweighs the adversarial one a hundred times.
    lambda_l1: float = 100.0
    fit_loss: FitLoss = "l2"
    sampling: Sampling = "uniform"
    gan_mode: GanMode = "vanilla"
    adversarial: bool = False
    perceptual_weights: str = "auto"
    perceptual_layers: tuple[str, ...] = ("relu5_4",)
    color_space: ColorSpaceChoice = "auto"
    normalize: NormalizeChoice = "auto"
    context: int = 0
    objective: Objective = "auto"
    class_balance: float | Literal["auto"] = "auto"
    precision: Precision = "auto"
    seed: int = 0
    lr: float | None = None
    beta1: float = 0.5
    decay_fraction: float = 0.5
    checkpoint_every: int = 500
    val_every: int = 100
    val_seconds: float = 0.0
    val_fraction: float = 0.2
    calibrate: bool = True

    def __post_init__(self) -> None:
        for name in (
            "preset",
            "gan_mode",
            "color_space",
            "normalize",
            "objective",
            "precision",
            "fit_loss",
            "sampling",
        ):
            allowed = self.choices(name)
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.minutes is not None and not (math.isfinite(self.minutes) and self.minutes > 0):
            raise ValueError(f"minutes must be a finite number > 0, got {self.minutes}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not (math.isfinite(self.lambda_l1) and self.lambda_l1 >= 0):
            raise ValueError(f"lambda_l1 must be a finite number >= 0, got {self.lambda_l1}")
        if not 0 <= self.decay_fraction <= 1:
            raise ValueError(f"decay_fraction must lie in [0, 1], got {self.decay_fraction}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if self.class_balance != "auto" and not (
            isinstance(self.class_balance, int | float) and 0 <= self.class_balance <= 1
        ):
            raise ValueError(
                f"class_balance must be 'auto' or lie in [0, 1], got {self.class_balance!r}"
            )
        if self.objective == "classes" and self.color_space == "rgb":
            raise ValueError("objective 'classes' renders Lab chroma: use color_space 'lab'")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must lie in [0, 1), got {self.val_fraction}")
        if not 0 <= self.beta1 < 1:
            raise ValueError(f"beta1 must lie in [0, 1), got {self.beta1}")
        if self.val_every < 0:
            raise ValueError(f"val_every must be >= 0 (0: by time only), got {self.val_every}")
        if not (math.isfinite(self.val_seconds) and self.val_seconds >= 0):
            raise ValueError(f"val_seconds must be a finite number >= 0, got {self.val_seconds}")
        if self.val_every == 0 and self.val_seconds == 0:
            raise ValueError("val_every and val_seconds are both 0: set one of them")
        if self.checkpoint_every < 0:
            raise ValueError(
                f"checkpoint_every must be >= 0 (0: at the end only), got {self.checkpoint_every}"
            )
        self.model_config()  # validates preset, tile and context together

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """The allowed values of a setting with a fixed set of them, e.g. ``"gan_mode"``."""
        if name == "preset":
            return tuple(PRESETS)
        if name == "precision":  # fp16 is for inference: training has no loss scaling
            return tuple(p for p in typing.get_args(Precision) if p != "fp16")
        return super().choices(name)

    def uses_classes(self, palette: Mapping[int, Any] | None) -> bool:
        """Whether this run trains a class model, given the palette of its labels (if any)."""
        if self.objective == "classes" and not palette:
            raise ValueError("objective 'classes' needs labels with a palette")
        return bool(palette) and self.objective != "color" and self.color_space != "rgb"

    def resolved(
        self,
        classes: bool,
        color_space: ColorSpace = "lab",
        labelled_share: float | None = None,
    ) -> TrainConfig:
        """A copy with every ``auto``/None setting decided, as the run uses and stores it.

        Parameters
        ----------
        classes
            Whether the run trains a class model (see :meth:`uses_classes`).
        color_space
            What ``color_space="auto"`` became for this data.
        labelled_share
            The labelled share of the annotated planes' pixels, which decides
            ``class_balance="auto"`` (:func:`resolve_balance`); None leaves it undecided.
        """
        balance = self.class_balance
        if labelled_share is not None:
            balance = resolve_balance(balance, labelled_share)
        return dataclasses.replace(
            self,
            objective="classes" if classes else "color",
            lr=self.lr if self.lr is not None else (2e-4 if self.adversarial else 1e-3),
            color_space=color_space if self.color_space == "auto" else self.color_space,
            class_balance=balance,
        )

    def model_config(self, palette: Mapping[int, Any] | None = None) -> ModelConfig:
        """The architecture this run trains (a class model for ``palette`` when it uses one)."""
        space = "lab" if self.color_space == "auto" else self.color_space
        overrides: dict[str, Any] = {"color_space": space, "context": self.context}
        if self.tile is not None:
            overrides["tile"] = self.tile
        if palette is not None and self.uses_classes(palette):
            overrides["classes"] = tuple((k, *palette[k]) for k in sorted(palette))
        return preset(self.preset, **overrides)
