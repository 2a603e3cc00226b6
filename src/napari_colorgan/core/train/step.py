"""One pix2pix optimisation step with the perceptual term: the heart of training.

Reads like the paper: the discriminator learns to tell ``(input, real colour)`` from
``(input, generated colour)``; then the generator, with the discriminator frozen, minimises
``γ·(L_cGAN + λ·L1) + (1 − γ)·L_X``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from napari_colorgan.core.color import rgb_to_lab
from napari_colorgan.core.model.colorizer import AB_SCALE, Colorizer, network_input
from napari_colorgan.core.model.networks import PatchDiscriminator, init_weights
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.losses import (
    GANLoss,
    PerceptualLoss,
    generator_objective,
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


def build_discriminator(colorizer: Colorizer, seed: int | None = 0) -> PatchDiscriminator:
    """The PatchGAN matching ``colorizer``: it sees the input channels plus the colour channels."""
    c = colorizer.config
    disc = PatchDiscriminator(c.in_channels + c.out_channels, c.ndf, c.n_layers, c.norm)
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
        self.config = config = config or TrainConfig()
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

    def set_progress(self, progress: float) -> float:
        """Set both optimisers' learning rate for ``progress`` in [0, 1] of the run; return it."""
        lr = self.config.lr * lr_factor(progress, self.config.decay_fraction)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        return lr

    def step(
        self, x: torch.Tensor, target_rgb: torch.Tensor, mask: torch.Tensor | None = None
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
        """
        self.generator.train()
        self.discriminator.train()
        real_in = network_input(x)  # what the generator sees, in (-1, 1)
        real_out = target_to_output_space(self.colorizer, target_rgb)  # (b, 2|3, h, w)
        fake_out = self.g_forward(real_in)  # (b, 2|3, h, w)
        if mask is not None:
            # Unannotated pixels take the generator's own (detached) colour as their "truth", so
            # whatever the target holds there never reaches L1, VGG or the critic.
            real_out = _fill_unknown(real_out, fake_out.detach(), mask)

        zero = fake_out.new_zeros(())
        d_fake = d_real = g_gan = zero
        if self.config.adversarial:
            # Discriminator: real pairs -> 1, generated pairs -> 0; detached: no gradient to G.
            self.discriminator.requires_grad_(True)
            self.opt_d.zero_grad(set_to_none=True)
            logits_fake = self.d_forward(torch.cat([real_in, fake_out.detach()], 1))
            logits_real = self.d_forward(torch.cat([real_in, real_out], 1))
            weight = _patch_weight(mask, logits_real)
            d_fake = self.gan_loss(logits_fake, False, weight)
            d_real = self.gan_loss(logits_real, True, weight)
            ((d_fake + d_real) * 0.5).backward()
            self.opt_d.step()
            self.discriminator.requires_grad_(False)

        # Generator: fool the frozen discriminator, stay close in L1 and in VGG feature space.
        self.opt_g.zero_grad(set_to_none=True)
        if self.config.adversarial:
            fake_pair = torch.cat([real_in, fake_out], 1)
            g_gan = self.gan_loss(self.discriminator(fake_pair), True, weight)
        g_l1 = masked_l1(fake_out, real_out, mask)
        if self.perceptual.enabled and self.config.gamma < 1:
            fake_rgb = self.colorizer.output_to_rgb(fake_out, x)  # (b, 3, h, w) in [0, 1]
            if mask is not None:
                target_rgb = _fill_unknown(target_rgb, fake_rgb.detach(), mask)
            g_vgg = self.perceptual(fake_rgb, target_rgb, mask)
        else:
            g_vgg = zero
        g_total = generator_objective(g_gan, g_l1, g_vgg, self.config.gamma, self.config.lambda_l1)
        g_total.backward()
        self.opt_g.step()

        values = [t.detach().item() for t in (g_total, g_gan, g_l1, g_vgg, d_real, d_fake)]
        return StepLosses(*values)
