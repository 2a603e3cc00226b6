"""The mutable state of one training run: data, networks, optimisers, step, validation tiles.

``loop.train_iter`` drives a :class:`Run`; this module builds it from the settings and the
annotated stack (resolving the ``auto`` settings that depend on the data) and saves or restores
its state for checkpoints.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from .. import metrics
from ..color import to_uint8
from ..events import Preview
from ..io.images import open_image
from ..model.colorizer import Colorizer
from ..model.config import ColorSpace, InputNormalization
from ..model.normalize import fit_normalization
from .checkpoint import CheckpointState, numpy_rng_state, restore_numpy_rng
from .config import TrainConfig
from .data import AnnotatedStack
from .distributed import World, wrap
from .lightness import fit_to_lightness, lightness_error, paired_sample
from .losses import PerceptualLoss
from .preview import RegionSource
from .resume import annotations_of, check_same_annotations, load_fitting
from .sampler import PatchSampler, split_regions
from .step import Pix2PixStep, class_weights

#: Mean |L* difference| (0-100) between a target and the normalised input above which
#: ``color_space="auto"`` predicts RGB rather than keeping the input's lightness.
LIGHTNESS_GAP = 8.0
#: Mean |L* difference| below which a stretch fitted to the target's lightness is used: the
#: target is the input rescaled (an RGB's lightness, a linear stretch), not a tone curve of
#: its own (an astronomical composite's, which an RGB model learns).
LIGHTNESS_FITS = 2.0
#: Validation tiles drawn once per run (fixed, so their metrics are comparable over time).
N_VAL_TILES = 4
#: Tiles the colour calibration measures colourfulness on, at the end of a run.
N_CALIBRATION_TILES = 16


def fit_input_normalization(
    image: Any, target: Any, labels: Any, config: TrainConfig
) -> InputNormalization:
    """Statistics of the input grayscale (none needed when the input is an RGB's lightness).

    With a colour target that a Lab model may learn (``normalize`` and ``color_space`` left to
    ``auto``, or Lab asked for), the stretch is fitted to the target's lightness when that
    brings the two within :data:`LIGHTNESS_FITS` (:mod:`.lightness`): the target's lightness
    is the input's up to scale, and a Lab model's lightness is then the target's.
    """
    if target is None and labels is None:
        return InputNormalization("none")
    gray = open_image(image)
    norm = fit_normalization(gray, config.normalize)
    if target is None or config.normalize != "auto" or config.color_space == "rgb":
        return norm
    colour = open_image(target)
    if tuple(colour.shape) != (*gray.shape, 3):
        return norm  # refused with a clear message when the stack is built
    try:
        values, lightness = paired_sample(gray, colour)
    except ValueError:
        return norm  # a bad target: the stack refuses it naming the file
    fitted = fit_to_lightness(values, lightness, norm)
    before, after = (lightness_error(values, lightness, n) for n in (norm, fitted))
    return fitted if after < min(before, LIGHTNESS_FITS) else norm


def _color_space(config: TrainConfig, stack: AnnotatedStack, classes: bool) -> ColorSpace:
    """What ``color_space="auto"`` means here.

    Lab, unless a colour target's lightness is not the input's: then only an RGB model can
    reproduce it.
    """
    if config.color_space != "auto":
        return config.color_space
    if classes or stack.labels is not None or stack.rgb_only:
        return "lab"  # tints and an RGB's own lightness keep the input's lightness exactly
    tile = config.model_config().tile
    gap = stack.lightness_gap(tile, np.random.default_rng(config.seed))
    return "rgb" if gap > LIGHTNESS_GAP else "lab"


def _check_tile(config: TrainConfig, tile: int, stack: AnnotatedStack) -> None:
    """A patch side chosen larger than the planes would train mostly on mirror padding."""
    side = min(stack.height, stack.width)
    if config.tile is not None and tile > side:
        grid = 2 ** config.model_config().num_downs
        raise ValueError(
            f"tile {tile} is larger than the planes ({stack.height} x {stack.width}): choose "
            f"a tile of at most {max(side // grid, 1) * grid} (a multiple of {grid})"
        )


def _fixed_tiles(
    stack: AnnotatedStack, regions: list[Any], tile: int, count: int, seed: int
) -> list[tuple[Any, ...]]:
    """``count`` un-augmented tiles of ``regions``, the same for the same seed."""
    rng = np.random.default_rng(seed + 10_007)
    sampler = PatchSampler(stack, regions, tile)
    return [sampler.tile_at(regions[i % len(regions)], rng) for i in range(count)]


class Run:
    """The mutable state of one run; ``loop.train_iter`` drives it."""

    def __init__(
        self,
        config: TrainConfig,
        stack: AnnotatedStack,
        device: torch.device,
        resume: CheckpointState | None,
        world: World,
    ) -> None:
        palette = stack.palette if stack.labels is not None else None
        classes = config.uses_classes(palette)
        if resume is None:
            space = _color_space(config, stack, classes)
            config = config.resolved(classes, space, stack.labelled_share)
        self.config, self.device = config, device
        tile = config.model_config().tile
        _check_tile(config, tile, stack)
        train_regions, val_regions = split_regions(stack, tile, config.val_fraction)
        self.sampler = PatchSampler(stack, train_regions, tile, config.sampling)
        #: The training regions at the start (a live run's regions change; these do not).
        self.train_regions = list(train_regions)
        self.n_train, self.n_val = (
            len({r.plane for r in train_regions}),
            len({r.plane for r in val_regions}),
        )
        self.val_tiles = _fixed_tiles(stack, val_regions, tile, N_VAL_TILES, config.seed)
        self.stack, self.val_regions = stack, val_regions
        torch.manual_seed(config.seed)
        # Each process of a data-parallel run draws its own patches.
        self.rng = np.random.default_rng(
            [config.seed, world.rank] if world.parallel else config.seed
        )
        self.colorizer = Colorizer.from_config(
            config.model_config(palette),
            seed=config.seed,
            normalization=stack.normalization,
            training=config.to_dict(),
        )
        self.perceptual = PerceptualLoss(config.perceptual_layers, config.perceptual_weights)
        self.colorizer.to(device)
        self.step_fn = Pix2PixStep(self.colorizer, config, perceptual=self.perceptual).to(device)
        if self.colorizer.config.classes:
            self.step_fn.class_weights = class_weights(stack.class_counts, config.class_balance)
            self.colorizer.set_class_bias(self.step_fn.class_weights)
        self.step = 0
        self.pixel_size: dict[str, Any] | None = None  # of the input, for the model file
        self.region_source: RegionSource | None = None
        #: (step, time.perf_counter()) of the last validation.
        self.validated = (0, time.perf_counter())
        if resume is not None:
            self._restore(resume)
            if (
                world.parallel
            ):  # the checkpoint holds rank 0's sampler; the others re-derive theirs
                self.rng = np.random.default_rng([config.seed, world.rank, self.step])
        self.step_fn.g_forward = wrap(self.step_fn.generator, world, device)
        self.step_fn.d_forward = wrap(self.step_fn.discriminator, world, device)

    def calibration_tiles(self) -> list[tuple[Any, ...]]:
        """Tiles for the colour calibration: held-out ones (training tiles flatter the model)."""
        tile, seed = self.config.model_config().tile, self.config.seed + 1
        return _fixed_tiles(self.stack, self.val_regions, tile, N_CALIBRATION_TILES, seed)

    def _restore(self, ckpt: CheckpointState) -> None:
        s = self.step_fn
        check_same_annotations(ckpt.extra, annotations_of(self.stack))
        load_fitting(s.generator, ckpt.generator, "generator")
        load_fitting(s.discriminator, ckpt.discriminator, "discriminator")
        s.opt_g.load_state_dict(ckpt.optimizers["g"])
        s.opt_d.load_state_dict(ckpt.optimizers["d"])
        self.rng = restore_numpy_rng(ckpt.numpy_rng)
        torch.set_rng_state(ckpt.torch_rng)
        self.step = ckpt.step

    def state(self) -> CheckpointState:
        """Everything a checkpoint needs to continue this run exactly."""
        s = self.step_fn
        return CheckpointState(
            step=self.step,
            train_config=self.config.to_dict(),
            normalization=self.colorizer.normalization.to_dict(),
            generator=s.generator.state_dict(),
            discriminator=s.discriminator.state_dict(),
            optimizers={"g": s.opt_g.state_dict(), "d": s.opt_d.state_dict()},
            # The schedule is a pure function of progress (step.lr_factor): its state is
            # the step and the settings, recorded here for people reading the file.
            schedulers={
                "lr": {
                    "step": self.step,
                    "base_lr": self.config.lr,
                    "decay_fraction": self.config.decay_fraction,
                }
            },
            numpy_rng=numpy_rng_state(self.rng),
            torch_rng=torch.get_rng_state(),
            extra={"perceptual": self.perceptual.source, **annotations_of(self.stack)},
        )

    @torch.no_grad()
    def validate(self) -> tuple[dict[str, float], Preview]:
        """Metrics on the fixed validation tiles, and the first tile as a preview."""
        preds, targets, masks = [], [], []
        gen = self.colorizer.generator
        gen.eval()
        for x, target, mask, _classes in self.val_tiles:
            out = self.colorizer.forward_rgb(torch.from_numpy(x)[None].to(self.device))
            preds.append(out[0].permute(1, 2, 0).float().cpu().numpy())
            targets.append(np.moveaxis(target, 0, -1))
            masks.append(np.ones(target.shape[1:], bool) if mask is None else mask[0] > 0)
        gen.train()
        pred, truth, known = np.stack(preds), np.stack(targets), np.stack(masks)
        values = metrics.evaluate(pred, truth, mask=known if known.any() else None)
        x0 = self.val_tiles[0][0]
        preview = Preview(
            self.step, x0[self.config.context], to_uint8(preds[0]), to_uint8(targets[0])
        )
        return values, preview
