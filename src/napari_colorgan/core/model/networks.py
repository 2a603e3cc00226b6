"""The pix2pix networks: a U-Net generator and a PatchGAN discriminator.

The U-Net is written as explicit encoder and decoder lists rather than the reference's
recursive skip blocks; :mod:`napari_colorgan.core.model.pix2pix_import` maps the
reference's parameter names onto these so its checkpoints load.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from .config import NormKind


def norm_layer(kind: NormKind) -> type[nn.Module] | functools.partial[nn.Module]:
    """Return the normalisation layer class for ``kind`` (``batch``, ``instance`` or ``none``)."""
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if kind == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "none":
        return lambda channels: nn.Identity()  # type: ignore[return-value]
    raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {kind!r}")


def _level_channels(num_downs: int, ngf: int) -> list[int]:
    """Feature channels after each encoder level: ngf, 2ngf, 4ngf, 8ngf, 8ngf, ..."""
    return [ngf * min(2**level, 8) for level in range(num_downs)]


class UNetGenerator(nn.Module):
    """pix2pix U-Net: ``num_downs`` stride-2 levels down, the same up, with skip connections.

    Parameters
    ----------
    in_channels
        Input channels (1 for a grayscale plane, more with neighbouring slices as context).
    out_channels
        Output channels: 2 for Lab chroma (a, b), 3 for RGB.
    num_downs
        Number of levels; the input side must be divisible by ``2**num_downs``.
        8 is pix2pix's ``unet_256`` and 7 its ``unet_128``.
    ngf
        Filters of the outermost level.
    norm
        ``"batch"`` (pix2pix default), ``"instance"`` or ``"none"``.
    dropout
        Dropout p = 0.5 in the decoder blocks of the ``num_downs - 5`` innermost 8·ngf levels
        below the bottleneck, as in pix2pix (its source of generator noise).

    Notes
    -----
    The output passes through Tanh, so it lies in (-1, 1).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        num_downs: int = 8,
        ngf: int = 64,
        norm: NormKind = "batch",
        dropout: bool = True,
    ) -> None:
        super().__init__()
        if num_downs < 2:
            raise ValueError(f"num_downs must be at least 2, got {num_downs}")
        self.num_downs = num_downs
        norm_cls = norm_layer(norm)
        # Batch norm carries its own affine shift, so the convs before it go without bias.
        use_bias = norm != "batch"
        ch = _level_channels(num_downs, ngf)
        inner = num_downs - 1

        down: list[nn.Module] = []
        for level in range(num_downs):
            c_in = in_channels if level == 0 else ch[level - 1]
            conv = nn.Conv2d(c_in, ch[level], 4, stride=2, padding=1, bias=use_bias)
            if level == 0:  # raw image in: no activation, no norm
                down.append(nn.Sequential(conv))
            elif level == inner:  # bottleneck (1x1 for a 256 px input at 8 levels): no norm
                down.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv))
            else:
                down.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv, norm_cls(ch[level])))
        self.down = nn.ModuleList(down)

        up: list[nn.Module] = []
        for level in range(num_downs):
            # Every decoder but the innermost sees its own output concatenated with the skip.
            c_in = ch[level] if level == inner else 2 * ch[level]
            if level == 0:
                convt = nn.ConvTranspose2d(c_in, out_channels, 4, stride=2, padding=1)
                up.append(nn.Sequential(nn.ReLU(True), convt, nn.Tanh()))
                continue
            c_out = ch[level - 1]
            convt = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.ReLU(True), convt, norm_cls(c_out)]
            if dropout and 4 <= level < inner:
                layers.append(nn.Dropout(0.5))
            up.append(nn.Sequential(*layers))
        self.up = nn.ModuleList(up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` (b, in_channels, h, w) to (b, out_channels, h, w) in (-1, 1)."""
        side = 2**self.num_downs
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(
                f"input of {tuple(x.shape[-2:])} px: height and width must be multiples of "
                f"2**num_downs = {side}; pad the image (the tiler does this for you)"
            )
        skips = []
        h = x
        for block in self.down:
            h = block(h)  # (b, ch[level], h / 2**(level+1), w / 2**(level+1))
            skips.append(h)
        h = self.up[-1](skips[-1])
        for level in range(self.num_downs - 2, -1, -1):
            # Skip first, then the deeper path: the reference's channel order, so weights port.
            h = self.up[level](torch.cat([skips[level], h], dim=1))
        return h


class PatchDiscriminator(nn.Module):
    """PatchGAN critic: one real/fake logit per overlapping image patch.

    Parameters
    ----------
    in_channels
        Conditional input: grayscale plus colour channels (e.g. 1 + 2 for Lab, 1 + 3 for RGB).
    ndf
        Filters in the first layer.
    n_layers
        Stride-2 layers; 3 gives 70 x 70 patches as in pix2pix.
    norm
        Normalisation layer kind.

    Notes
    -----
    Outputs logits (no sigmoid); :class:`~napari_colorgan.core.train.losses.GANLoss` applies the
    sigmoid inside BCE-with-logits, which is numerically safer.
    """

    def __init__(
        self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: NormKind = "batch"
    ) -> None:
        super().__init__()
        norm_cls = norm_layer(norm)
        use_bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1  # the last hidden layer keeps the resolution
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=use_bias),
                norm_cls(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        # One flat Sequential named `model`, as in pix2pix, so its discriminators load too.
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (b, in_channels, h, w) to a patch logit map (b, 1, h', w')."""
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02, seed: int | None = None) -> nn.Module:
    """Draw conv weights from N(0, ``gain``) and norm scales from N(1, ``gain``), as pix2pix does.

    Parameters
    ----------
    net
        The network, changed in place.
    gain
        Standard deviation of the normal initialisation.
    seed
        When given, the draw is reproducible and leaves torch's global RNG untouched.

    Returns
    -------
    nn.Module
        ``net``, for chaining.
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * gain)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=gen) * gain)
                m.bias.zero_()
    return net


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters of ``net``."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
