"""One pix2pix optimisation step with the perceptual term: the heart of training.

Reads like the paper: the discriminator learns to tell ``(input, real colour)`` from
``(input, generated colour)``; then the generator, with the discriminator frozen, minimises
``γ·(L_cGAN + λ·L1) + (1 − γ)·L_X``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..color import rgb_to_lab
from ..model.colorizer import AB_SCALE, Colorizer, network_input
from ..model.networks import PatchDiscriminator, init_weights
from .config import TrainConfig
from .data import IGNORE
from .losses import (
    GANLoss,
    PerceptualLoss,
    generator_objective,
    masked_fit,
    masked_l1,
)


@dataclass(frozen=True)
class StepLosses:
    """Loss values of one step (floats, for logging)."""

    g_total: float
    g_gan: float
    g_l1: float
    g_vgg: float
    d_real: float
    d_fake: float
    g_ce: float = 0.0


def build_discriminator(colorizer: Colorizer, seed: int | None = 0) -> PatchDiscriminator:
    """The PatchGAN matching ``colorizer``: it sees the input channels plus the colour channels."""
    c = colorizer.config
    disc = PatchDiscriminator(c.in_channels + c.color_channels, c.ndf, c.n_layers, c.norm)
    return init_weights(disc, seed=seed)  # type: ignore[return-value]


def target_to_output_space(colorizer: Colorizer, target_rgb: torch.Tensor) -> torch.Tensor:
    """Express an RGB target (b, 3, h, w) in [0, 1] the way the generator outputs colour."""
    if colorizer.config.color_space == "rgb":
        return 2 * target_rgb - 1
    return rgb_to_lab(target_rgb)[:, 1:] / AB_SCALE  # (b, 2, h, w), ab / 110


def _patch_weight(mask: torch.Tensor | None, logits: torch.Tensor) -> torch.Tensor | None:
    """Share of annotated pixels under each PatchGAN output (b, 1, h', w')."""
    if mask is None:
        return None
    return F.adaptive_avg_pool2d(mask.to(logits.dtype), logits.shape[-2:])


def _fill_unknown(known: torch.Tensor, fill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``known`` where ``mask`` > 0, else ``fill`` (mask (b, 1, h, w) broadcasts over channels)."""
    return torch.where(mask > 0, known, fill)


def lr_factor(progress: float, decay_fraction: float) -> float:
    """Learning-rate multiplier at ``progress`` in [0, 1]: constant, then linear to 0.

    pix2pix's schedule, over steps or over a time budget: the last ``decay_fraction`` of the
    run decays linearly.
    """
    start = 1.0 - decay_fraction
    if progress <= start or decay_fraction == 0:
        return 1.0
    return max(0.0, 1.0 - (progress - start) / decay_fraction)


class Pix2PixStep(nn.Module):
    """Holds the generator, discriminator, losses and optimisers; :meth:`step` trains once.

    Parameters
    ----------
    colorizer
        The generator to train (in place).
    config
        The objective's weights (``gamma``, ``lambda_l1``, ``gan_mode``, ``adversarial``), Adam's
        ``lr`` and ``beta1``, and the schedule's ``decay_fraction``; default ``TrainConfig()``.
    perceptual
        The perceptual loss; ``PerceptualLoss("none")`` (the default) disables the term.
    discriminator
        The critic; built to match when omitted.
    """

    def __init__(
        self,
        colorizer: Colorizer,
        config: TrainConfig | None = None,
        perceptual: PerceptualLoss | None = None,
        discriminator: PatchDiscriminator | None = None,
    ) -> None:
        super().__init__()
        mc = colorizer.config
        # Decide lr and the critic from the model (a no-op for a config the loop resolved).
        self.config = config = (config or TrainConfig()).resolved(bool(mc.classes), mc.color_space)
        self.colorizer = colorizer
        self.generator = colorizer.generator
        self.discriminator = discriminator or build_discriminator(colorizer)
        self.discriminator.to(colorizer.device)
        self.perceptual = perceptual or PerceptualLoss(weights="none")
        self.gan_loss = GANLoss(config.gan_mode)
        betas = (config.beta1, 0.999)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr, betas=betas)
        # What runs forward passes that need gradients averaged across processes (DDP wrappers
        # under torchrun); the plain modules stay for saving and for D's frozen pass in G's step.
        self.g_forward: nn.Module = self.generator
        self.d_forward: nn.Module = self.discriminator
        #: Per-class cross-entropy weights of a class model (None: unweighted).
        self.class_weights: torch.Tensor | None = None

    def set_progress(self, progress: float) -> float:
        """Set both optimisers' learning rate for ``progress`` in [0, 1] of the run; return it."""
        lr = self.config.lr * lr_factor(progress, self.config.decay_fraction)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        return lr

    def step(
        self,
        x: torch.Tensor,
        target_rgb: torch.Tensor,
        mask: torch.Tensor | None = None,
        classes: torch.Tensor | None = None,
    ) -> StepLosses:
        """One discriminator then one generator update.

        Parameters
        ----------
        x
            Normalised input (b, in_channels, h, w) in [0, 1].
        target_rgb
            Ground-truth colour (b, 3, h, w) in [0, 1].
        mask
            Optional (b, 1, h, w): 1 where the target is known (annotated), 0 where every loss
            term must ignore the pixel.
        classes
            Class indices (b, h, w), :data:`~napari_colorgan.core.train.data.IGNORE` where
            unlabelled; needed by class models, whose fitting term is the class-weighted cross
            entropy instead of L1.
        """
        self.generator.train()
        self.discriminator.train()
        real_in = network_input(x)  # what the generator sees, in (-1, 1)
        real_out = target_to_output_space(self.colorizer, target_rgb)  # (b, 2|3, h, w)
        raw = self.g_forward(real_in)  # (b, out_channels, h, w): colour, or class logits
        fake_out = self.colorizer.color_output(raw)  # (b, 2|3, h, w)
        if mask is not None:
            # Unannotated pixels take the generator's own (detached) colour as their "truth", so
            # whatever the target holds there never reaches L1, VGG or the critic.
            real_out = _fill_unknown(real_out, fake_out.detach(), mask)

        zero = fake_out.new_zeros(())
        d_fake = d_real = g_gan = zero
        weight = None
        if self.config.adversarial:
            d_real, d_fake, weight = self._update_discriminator(real_in, real_out, fake_out, mask)

        # Generator: fool the frozen discriminator, fit the annotation (L1 or cross entropy),
        # stay close in VGG feature space.
        self.opt_g.zero_grad(set_to_none=True)
        if self.config.adversarial:
            fake_pair = torch.cat([real_in, fake_out], 1)
            g_gan = self.gan_loss(self.discriminator(fake_pair), True, weight)
        g_ce = zero
        if self.colorizer.config.classes:
            if classes is None:
                raise ValueError("a class model trains from labels: pass the class indices")
            g_ce = class_cross_entropy(raw, classes, self.class_weights)
            with torch.no_grad():  # L1 is only reported for a class model: no graph for it
                g_l1 = masked_l1(fake_out, real_out, mask)
        else:
            g_l1 = masked_fit(fake_out, real_out, mask, self.config.fit_loss)
        if self.perceptual.enabled and self.config.gamma < 1:
            fake_rgb = self.colorizer.output_to_rgb(fake_out, x)  # (b, 3, h, w) in [0, 1]
            if mask is not None:
                target_rgb = _fill_unknown(target_rgb, fake_rgb.detach(), mask)
            g_vgg = self.perceptual(fake_rgb, target_rgb, mask)
        else:
            g_vgg = zero
        fit = g_ce if self.colorizer.config.classes else g_l1
        g_total = generator_objective(g_gan, fit, g_vgg, self.config.gamma, self.config.lambda_l1)
        g_total.backward()
        self.opt_g.step()

        terms = (g_total, g_gan, g_l1, g_vgg, d_real, d_fake, g_ce)
        return StepLosses(*(t.detach().item() for t in terms))

    def _update_discriminator(
        self,
        real_in: torch.Tensor,
        real_out: torch.Tensor,
        fake_out: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Real pairs -> 1, generated pairs -> 0; returns both losses and the patch weights."""
        self.discriminator.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        # Detached: the critic's update sends no gradient to the generator.
        logits_fake = self.d_forward(torch.cat([real_in, fake_out.detach()], 1))
        logits_real = self.d_forward(torch.cat([real_in, real_out], 1))
        weight = _patch_weight(mask, logits_real)
        d_fake = self.gan_loss(logits_fake, False, weight)
        d_real = self.gan_loss(logits_real, True, weight)
        ((d_fake + d_real) * 0.5).backward()
        self.opt_d.step()
        self.discriminator.requires_grad_(False)
        return d_real, d_fake, weight


def class_weights(counts: np.ndarray, balance: float) -> torch.Tensor:
    """Cross-entropy weights from class pixel counts: ∝ share^-balance, mean 1 per pixel.

    Normalised so a pixel's expected weight is 1 (the loss keeps plain cross entropy's scale);
    classes without a pixel get 0.
    """
    counts = np.asarray(counts, np.float64)
    share = counts / max(counts.sum(), 1.0)
    weights = np.where(share > 0, np.maximum(share, 1e-12) ** -balance, 0.0)
    weights /= max(float((share * weights).sum()), 1e-12)
    return torch.from_numpy(weights.astype(np.float32))


def class_cross_entropy(
    logits: torch.Tensor, classes: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Weighted cross entropy over labelled pixels; 0 (not NaN) when a batch has none.

    ``logits`` (b, K, h, w); ``classes`` (b, h, w) with ``IGNORE`` where unlabelled.
    """
    known = classes != IGNORE  # (b, h, w)
    target = torch.where(known, classes, torch.zeros_like(classes))
    per_pixel = F.cross_entropy(logits.float(), target, reduction="none")  # (b, h, w)
    w = known.float() if weights is None else weights.to(logits.device)[target] * known
    return (per_pixel * w).sum() / w.sum().clamp_min(1e-6)
