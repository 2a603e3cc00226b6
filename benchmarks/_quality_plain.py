"""The plain baseline of the quality benchmark's colour settings: an L1 U-Net, lightness to chroma.

What issue 26's reporter trained to compare against: a small U-Net from the grey input to CIE
(a, b), an L1 loss, Adam at a constant rate, random crops of the training columns flipped at
random, and nothing else (no critic, no perceptual term, no calibration, no fitted stretch).
Its lightness is the baselines' (an isotonic map from input to truth L*, fitted on the
training columns), so it differs from ``mean chroma`` only by its chroma.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
from _quality_common import Prediction, SDSSSetting, Timer, lab_to_rgb, rgb_to_lab
from _quality_peer import asinh_stretch

CROP, BATCH, LR, WIDTH, DEPTH = 64, 8, 1e-3, 16, 4
AB_SCALE = 100.0  # CIE a, b span about +-100


def plain_unet(width: int = WIDTH, depth: int = DEPTH) -> Any:
    """A U-Net of ``depth`` levels: two 3x3 conv-BN-ReLU per level, max-pool down, bilinear up."""
    import torch
    from torch import nn

    def block(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            widths = [width * 2**i for i in range(depth + 1)]
            self.down = nn.ModuleList(
                [block(1, widths[0])] + [block(a, b) for a, b in itertools.pairwise(widths)]
            )
            self.up = nn.ModuleList([block(b + a, a) for a, b in itertools.pairwise(widths)])
            self.head = nn.Conv2d(widths[0], 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, 1, h, w) -> (n, 2, h, w)
            skips = []
            for i, level in enumerate(self.down):
                x = level(x if i == 0 else nn.functional.max_pool2d(x, 2))
                skips.append(x)
            for level, skip in zip(reversed(self.up), reversed(skips[:-1]), strict=True):
                x = nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear")
                x = level(torch.cat([x, skip], 1))
            return self.head(x)

    return UNet()


def normalised(s: SDSSSetting) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out input in about [0, 1]: asinh-stretched if float, then the
    training columns' 0.5-99.5 percentiles."""
    train, test = s.train_input, s.test_input
    if np.issubdtype(train.dtype, np.floating):
        train, test = asinh_stretch(train, s.train_input), asinh_stretch(test, s.train_input)
    low, high = np.percentile(train, (0.5, 99.5))
    scale = 1.0 / max(float(high - low), 1e-6)
    return ((train - low) * scale).astype(np.float32), ((test - low) * scale).astype(np.float32)


def train_plain(
    s: SDSSSetting, lightness: np.ndarray, minutes: float, seed: int
) -> tuple[Prediction, dict[str, Any]]:
    """Train the plain U-Net for ``minutes`` of wall clock; its held-out RGB (on the baselines'
    held-out ``lightness``) and what it did."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train, test = normalised(s)
    ab = (rgb_to_lab(s.train_truth)[..., 1:] / AB_SCALE).astype(np.float32)
    model = plain_unet()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps, h, w = 0, *train.shape
    with Timer() as t:
        end = time.perf_counter() + 60 * minutes
        while time.perf_counter() < end:
            xs, ys = [], []
            for _ in range(BATCH):
                y0, x0 = rng.integers(0, h - CROP + 1), rng.integers(0, w - CROP + 1)
                window = (slice(y0, y0 + CROP), slice(x0, x0 + CROP))
                flip = tuple(slice(None, None, rng.choice((1, -1))) for _ in "yx")
                xs.append(train[window][flip][None])
                ys.append(np.moveaxis(ab[window][flip], -1, 0))
            x, y = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
            loss = torch.nn.functional.l1_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    model.eval()
    with torch.no_grad():
        chroma = model(torch.from_numpy(test)[None, None])[0].numpy()
    lab = np.concatenate([lightness[..., None], np.moveaxis(chroma, 0, -1) * AB_SCALE], -1)
    info = {"steps": steps, "train_s": t.wall, "train_cpu_s": t.cpu, "method": "plain U-Net"}
    return Prediction(lab_to_rgb(lab), t.wall, info), info
