"""Losses of the colorization GAN.

The generator minimises ``L_G = γ·(L_cGAN + λ·L1) + (1 − γ)·L_X`` (:func:`generator_objective`):
pix2pix's adversarial + L1 objective blended with a VGG19 perceptual loss ``L_X`` (SRGAN).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..model.vgg import (
    VGG19Features,
    find_vgg19_weights,
    imagenet_normalize,
    missing_weights_help,
    read_vgg19_state,
)
from .config import FitLoss, GanMode

__all__ = [
    "GANLoss",
    "PerceptualLoss",
    "VGG19Features",
    "generator_objective",
    "masked_fit",
    "masked_l1",
]

PerceptualWeights = Literal["auto", "imagenet", "random", "none"]


def _weighted_mean(value: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``value``; with ``weight`` (broadcastable), the weight-averaged mean."""
    if weight is None:
        return value.mean()
    weight = weight.expand_as(value)
    return (value * weight).sum() / weight.sum().clamp_min(1e-8)


class GANLoss(nn.Module):
    """Adversarial loss on PatchGAN logits.

    Parameters
    ----------
    mode
        ``"vanilla"``: binary cross-entropy on logits (pix2pix); ``"lsgan"``: least squares.

    Notes
    -----
    The real/fake targets are buffers, so ``.to(device)`` moves them with the module.
    """

    def __init__(self, mode: GanMode = "vanilla") -> None:
        super().__init__()
        if mode not in ("vanilla", "lsgan"):
            raise ValueError(f"gan mode must be 'vanilla' or 'lsgan', got {mode!r}")
        self.mode = mode
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))

    def forward(
        self, logits: torch.Tensor, target_is_real: bool, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Loss of ``logits`` (b, 1, h', w') against all-real or all-fake targets.

        ``weight`` (b, 1, h', w'), if given, weights each patch (0 = ignore the patch).
        """
        label = self.real_label if target_is_real else self.fake_label
        target = label.expand_as(logits).to(logits.dtype)
        if self.mode == "vanilla":
            per_patch = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        else:
            per_patch = (logits - target) ** 2
        return _weighted_mean(per_patch, weight)


def masked_l1(
    output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean absolute error; with ``mask`` (b, 1, h, w) only over the masked pixels."""
    return _weighted_mean((output - target).abs(), mask)


#: Huber's threshold in output units (colour in [-1, 1]): about 5 % of the range, below which
#: the error is squared.
HUBER_DELTA = 0.05


def masked_fit(
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    kind: FitLoss = "l1",
) -> torch.Tensor:
    """The colour-fitting term: mean ``"l1"``, squared (``"l2"``) or ``"huber"`` error.

    L1 predicts the median colour, L2 the mean (what PSNR rewards); Huber is L2 near the target
    and L1 far from it. ``mask`` (b, 1, h, w) restricts the mean to annotated pixels.
    """
    if kind == "l1":
        return masked_l1(output, target, mask)
    if kind == "l2":
        return _weighted_mean((output - target).square(), mask)
    if kind == "huber":
        error = F.huber_loss(output, target, reduction="none", delta=HUBER_DELTA)
        return _weighted_mean(error / HUBER_DELTA, mask)  # /δ: L1's slope far from the target
    raise ValueError(f"unknown fit loss {kind!r}: choose l1, l2 or huber")


class PerceptualLoss(nn.Module):
    """VGG19 feature-reconstruction loss ``mean((φ(target) − φ(output))²)`` on RGB images.

    Parameters
    ----------
    layers
        VGG19 layers whose activations are compared, e.g. ``("relu5_4",)`` (φ_5,4, SRGAN's
        choice) or several; the losses of several layers are averaged.
    weights
        ``"auto"``: ImageNet weights when a file is found, else the term is off (with a one-line
        warning saying where to put the file); ``"imagenet"``: require the file; ``"random"``:
        random VGG19 features (seeded; an ablation, not the paper's perceptual loss);
        ``"none"``: the term is 0; or a path to a weight file.

    Attributes
    ----------
    source : str
        What is actually used: ``"imagenet:<path>"``, ``"random"``, ``"none"``, or
        ``"none (no ImageNet VGG19 weights)"`` when ``"auto"`` found no file. Trainers store it in
        the model file.
    """

    def __init__(
        self,
        layers: Iterable[str] = ("relu5_4",),
        weights: PerceptualWeights | str | os.PathLike[str] = "auto",
    ) -> None:
        super().__init__()
        self.vgg: VGG19Features | None = None
        self.source = "none"
        if weights == "none":
            return
        explicit = None if weights in ("auto", "imagenet", "random") else weights
        path = None if weights == "random" else find_vgg19_weights(explicit)
        if path is None and weights == "imagenet":
            raise FileNotFoundError(
                "perceptual_weights='imagenet' needs the VGG19 ImageNet weights. "
                + missing_weights_help()
            )
        if path is None and weights == "auto":
            # Random VGG features are not the perceptual loss of the paper and cost 6-9x per
            # step on a CPU: without ImageNet weights the term is simply off.
            warnings.warn(
                "perceptual loss off: no VGG19 ImageNet weights found. " + missing_weights_help(),
                stacklevel=2,
            )
            self.source = "none (no ImageNet VGG19 weights)"
            return
        self.vgg = VGG19Features(layers)
        if path is None:  # weights == "random": an ablation, by name only
            self._use_random()
            return
        self.vgg.load_weights(read_vgg19_state(path))
        self.source = f"imagenet:{path}"

    def _use_random(self) -> None:
        assert self.vgg is not None
        self.vgg.random_init(seed=0)
        self.source = "random"

    @property
    def enabled(self) -> bool:
        """False when the term is disabled (``weights="none"``)."""
        return self.vgg is not None

    def forward(
        self, output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Compare RGB ``output`` and ``target`` (b, 3, h, w) in [0, 1].

        ``mask`` (b, 1, h, w), if given, is averaged down to each feature map's resolution and
        weights the squared feature differences there.
        """
        if self.vgg is None:
            return output.new_zeros(())
        feats_out = self.vgg(imagenet_normalize(output))
        with torch.no_grad():
            feats_tgt = self.vgg(imagenet_normalize(target))
        losses = []
        for name, f_out in feats_out.items():
            weight = None
            if mask is not None:
                weight = F.adaptive_avg_pool2d(mask.to(f_out.dtype), f_out.shape[-2:])
            losses.append(_weighted_mean((f_out - feats_tgt[name]) ** 2, weight))
        return torch.stack(losses).mean()


def generator_objective(
    l_cgan: torch.Tensor,
    l_l1: torch.Tensor,
    l_vgg: torch.Tensor,
    gamma: float,
    lambda_l1: float,
) -> torch.Tensor:
    """``L_G = γ·(L_cGAN + λ·L1) + (1 − γ)·L_X``.

    Parameters
    ----------
    l_cgan, l_l1, l_vgg
        The adversarial, L1 and perceptual terms (scalars).
    gamma
        Share of the pix2pix terms, in [0, 1]; 1 is plain pix2pix (the default in
        :class:`~napari_colorgan.core.train.config.TrainConfig` is 0.9).
    lambda_l1
        Weight λ of L1 against the adversarial term.

    Returns
    -------
    torch.Tensor
        The scalar loss the generator minimises.
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    return gamma * (l_cgan + lambda_l1 * l_l1) + (1.0 - gamma) * l_vgg
