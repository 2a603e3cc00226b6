"""Training on annotated stacks: ``train_iter`` yields events, ``train`` returns the model."""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..annotations import Palette
from ..devices import autocast_dtype, dtype_name, out_of_memory_message, pick_device
from ..events import (
    CheckpointSaved,
    Event,
    Finished,
    RegionPreview,
    Started,
    StepDone,
    StopSignal,
    Validated,
    stop_requested,
)
from ..io.atomic import check_writable
from ..io.axes import image_axes
from ..model.colorizer import Colorizer
from ..model.config import InputNormalization, Provenance
from ..model.pixel_size import pixel_size_record
from .calibrate import fit_chroma_gain
from .checkpoint import (
    CheckpointState,
    load_checkpoint,
    save_checkpoint,
)
from .config import TrainConfig
from .data import AnnotatedStack
from .distributed import (
    World,
    any_process,
    barrier,
    current_world,
    device_for,
)
from .live import PaintedPlanes, take_painted
from .preview import RegionSource, preview_crop
from .resume import check_same_scale, resumed_config
from .run import Run, fit_input_normalization


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or Inf; the last good checkpoint is kept."""


def train_iter(
    image: Any,
    *,
    target: Any = None,
    labels: Any = None,
    palette: Palette | None = None,
    slices: slice | list[int] | None = None,
    config: TrainConfig | None = None,
    device: str | torch.device = "auto",
    resume: str | os.PathLike[str] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    stop: StopSignal | None = None,
    preview_region: RegionSource | None = None,
    painted: PaintedPlanes | None = None,
    pixel_size: dict[str, Any] | None = None,
) -> Iterator[Event]:
    """Train a colorizer, yielding events as it goes.

    Parameters
    ----------
    image
        Grayscale stack (..., y, x) — or an RGB stack alone, whose lightness is the input —
        as numpy, dask, zarr or a file path.
    target
        RGB ground truth (..., y, x, 3) matching ``image``.
    labels, palette
        Integer labels matching ``image`` (0 = not annotated) and their colours
        ``{label: (r, g, b)}``; the target is the grayscale tinted by the label colours.
    slices
        Planes of the first axis to train on (``slice`` or list); unannotated ones are skipped.
    config
        The settings; default :class:`TrainConfig()`. On resume the checkpoint's settings are
        used, except ``steps`` and ``minutes``, which may extend the run.
    device
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda:0"``...
    resume
        A checkpoint to continue from.
    checkpoint
        Where to write checkpoints (every ``checkpoint_every`` steps, at the end, on stop).
    stop
        Set it (``threading.Event``) to end cleanly after the current step, with a checkpoint.
    preview_region
        With each validation, also colorize its latest crop (:class:`RegionPreview`).
    painted
        Planes repainted while training runs (the ilastik loop), taken in between steps
        (:class:`AnnotationsChanged`); pass the painter's own ``labels`` array.
    pixel_size
        ``{"y", "x", "unit"}`` of the input, kept in the model file; default: the file's.

    Yields
    ------
    Event
        :class:`Started`, :class:`StepDone` per step, :class:`Validated` and :class:`Preview`
        every ``val_every`` steps or ``val_seconds``, :class:`CheckpointSaved`,
        :class:`AnnotationsChanged`, and last :class:`Finished` (the trained :class:`Colorizer`).

    Raises
    ------
    ValueError
        Bad settings, inputs, device or checkpoint path: at the first ``next()``, before a step.
    NonFiniteLossError
        A loss became NaN/Inf; the last checkpoint written stays as it was.
    """
    world = current_world()
    # The device first: a typo there should not wait for the input's statistics.
    dev = device_for(world, pick_device(device))
    if checkpoint is not None:
        check_writable(checkpoint)  # now, not after the first hour of training
    config, ckpt, normalization = _settings(image, target, labels, config, resume)
    stack = AnnotatedStack(
        image, target=target, labels=labels, palette=palette, slices=slices,
        normalization=normalization, context=config.context,
    )  # fmt: skip
    run = Run(config, stack, dev, ckpt, world)
    run.pixel_size = pixel_size if pixel_size is not None else _pixel_size_of(image, stack)
    run.region_source = preview_region
    total = None if config.minutes else config.steps
    yield _started(run, total)
    stopped = yield from _optimise_keeping_work(run, world, checkpoint, stop, painted)
    yield from _wrap_up(run, world, checkpoint, stopped)


def _pixel_size_of(image: Any, stack: AnnotatedStack) -> dict[str, Any] | None:
    """The training input's pixel size from its file's metadata (None for arrays)."""
    if not isinstance(image, str | os.PathLike):
        return None
    return pixel_size_record(image_axes(image, len(stack.gray_shape)))


def _started(run: Run, total: int | None) -> Started:
    """What the run trains on and with, said before its first step."""
    amp = autocast_dtype(run.device, run.config.precision)
    return Started(
        str(run.device), total, run.step, run.n_train, run.n_val, run.perceptual.source,
        dtype_name(amp or torch.float32),
    )  # fmt: skip


def _optimise_keeping_work(
    run: Run,
    world: World,
    checkpoint: Any,
    stop: StopSignal | None,
    painted: PaintedPlanes | None,
) -> Generator[Event, None, bool]:
    """:func:`_optimise`, with a checkpoint if the consumer closes the generator."""
    try:
        return (yield from _optimise(run, world, checkpoint, stop, painted))
    except GeneratorExit:
        # The consumer closed us (e.g. napari's worker.quit()): keep the work done so far.
        if checkpoint is not None and world.is_main:
            save_checkpoint(checkpoint, run.state())
        raise


def _settings(
    image: Any, target: Any, labels: Any, config: TrainConfig | None, resume: Any
) -> tuple[TrainConfig, CheckpointState | None, InputNormalization]:
    """The run's settings, checkpoint and input normalisation (a resume keeps the saved ones)."""
    asked, config = config, config or TrainConfig()
    if resume is None:
        return config, None, fit_input_normalization(image, target, labels, config)
    ckpt = load_checkpoint(resume)
    config = resumed_config(ckpt.train_config, asked, resume)
    saved = InputNormalization.from_dict(ckpt.normalization)
    check_same_scale(saved, fit_input_normalization(image, target, labels, config), resume)
    return config, ckpt, saved


def _write_checkpoint(run: Run, world: World, path: Any) -> Iterator[Event]:
    """Save a checkpoint from the main process (one writer in a data-parallel run)."""
    if path is not None and world.is_main:
        yield CheckpointSaved(run.step, save_checkpoint(path, run.state()))
    barrier(world)


def _what_is_kept(checkpoint: Any) -> str:
    """Whether a checkpoint exists to resume from after a failed step (none before the first)."""
    if checkpoint is not None and Path(checkpoint).is_file():
        return f"the checkpoint {checkpoint} written before is kept, resume from it"
    return "no checkpoint had been written yet"


def _optimise(
    run: Run,
    world: World,
    checkpoint: Any,
    stop: StopSignal | None,
    painted: PaintedPlanes | None,
) -> Generator[Event, None, bool]:
    """Step until the budget is spent or a stop is asked for; returns whether it was stopped."""
    config = run.config
    total = None if config.minutes else config.steps
    budget = None if config.minutes is None else config.minutes * 60
    t0 = time.perf_counter()
    run.validated = (run.step, t0)
    while True:
        elapsed = time.perf_counter() - t0
        done = run.step >= config.steps if budget is None else elapsed >= budget
        if any_process(done, world):
            return False
        if any_process(stop_requested(stop), world):
            return True
        if painted is not None and (changed := take_painted(run, painted)):
            yield changed
        progress = run.step / config.steps if budget is None else elapsed / budget
        lr = run.step_fn.set_progress(progress)
        try:
            values = _one_step(run)
        except NonFiniteLossError as err:
            raise NonFiniteLossError(f"{err}; {_what_is_kept(checkpoint)}") from None
        run.step += 1
        yield StepDone(run.step, total, values, lr, time.perf_counter() - t0)
        if _validation_due(run) and world.is_main:
            yield from _validation(run)
        if config.checkpoint_every and run.step % config.checkpoint_every == 0:
            yield from _write_checkpoint(run, world, checkpoint)


def _one_step(run: Run) -> dict[str, float]:
    """One optimisation step on a fresh batch; its losses, checked to be finite."""
    dev = run.device
    batch = run.sampler.sample(run.config.batch_size, run.rng)
    mask = None if batch.mask is None else batch.mask.to(dev)
    amp = autocast_dtype(dev, run.config.precision)
    try:
        with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
            classes = None if batch.classes is None else batch.classes.to(dev)
            losses = run.step_fn.step(batch.x.to(dev), batch.target.to(dev), mask, classes)
    except torch.OutOfMemoryError:
        raise MemoryError(out_of_memory_message(dev, "batch_size or tile")) from None
    values = dict(vars(losses))
    bad = [k for k, v in values.items() if not np.isfinite(v)]
    if bad:
        raise NonFiniteLossError(
            f"loss {bad} became NaN/Inf at step {run.step + 1}: training stopped; lower lr "
            "or check the input for NaN"
        )
    return values


def _validation_due(run: Run) -> bool:
    """Every ``val_every`` steps, and every ``val_seconds`` seconds when that is set."""
    config, (_, when) = run.config, run.validated
    late = config.val_seconds > 0 and time.perf_counter() - when >= config.val_seconds
    return bool(config.val_every and run.step % config.val_every == 0) or late


def _validation(run: Run) -> Iterator[Event]:
    run.validated = (run.step, time.perf_counter())
    scores, preview = run.validate()
    yield Validated(run.step, scores)
    yield preview
    region = run.region_source.latest() if run.region_source is not None else None
    if region is not None:
        found = preview_crop(run.colorizer, region[0])
        if found is not None:
            yield RegionPreview(run.step, found[0], region[1], found[1])


def _wrap_up(run: Run, world: World, checkpoint: Any, stopped: bool) -> Iterator[Event]:
    """Last validation and checkpoint (unless just done), then :class:`Finished`."""
    config = run.config
    if run.step != run.validated[0] and run.step > 0 and world.is_main:
        yield from _validation(run)
    just_saved = config.checkpoint_every and run.step % config.checkpoint_every == 0
    if not (just_saved and not stopped):
        yield from _write_checkpoint(run, world, checkpoint)
    model = run.colorizer
    model.generator.eval()
    if config.calibrate and not model.config.classes and world.is_main:
        fit_chroma_gain(model, run.calibration_tiles())
    model.provenance = Provenance(
        source="napari-colorgan train",
        perceptual_weights=run.perceptual.source,
        extra={"steps": run.step, "device": str(run.device), "stopped": stopped},
    )
    model.training = {**config.to_dict(), "steps_done": run.step}
    if run.pixel_size:
        model.training["pixel_size"] = dict(run.pixel_size)
    yield Finished(run.step, model, stopped)


def train(*args: Any, progress: bool = False, **kwargs: Any) -> Colorizer:
    """Train and return the colorizer: :func:`train_iter` drained.

    Parameters
    ----------
    *args, **kwargs
        As for :func:`train_iter`.
    progress
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    Colorizer
    """
    events = train_iter(*args, **kwargs)
    if progress:
        from ..progress import drive_training

        events = drive_training(events)
    result = None
    for event in events:
        if isinstance(event, Finished):
            result = event.result
    if not isinstance(result, Colorizer):  # pragma: no cover - train_iter always finishes
        raise RuntimeError("training ended without a result")
    return result


def save_path_for_checkpoint(model_path: str | os.PathLike[str]) -> Path:
    """The checkpoint path the CLI and widgets use beside a model file."""
    p = Path(model_path)
    return p.with_name(p.name.removesuffix(".safetensors") + ".ckpt.safetensors")
