"""What a resumed training keeps, applies or refuses, each said by name.

A checkpoint continues the training that wrote it. A resume that silently kept the checkpoint's
settings dropped what the user asked for (``--preset``, ``--tile``, ``--context``), kept the
input scaling of other data, and ended in an "unexpected error" when the labels or palette no
longer fitted the network. Now the budget and the reporting cadence are applied (the cadence and
precision with a note), any other setting that differs is refused with its two values, data on
another scale is refused, and a network that does not fit the annotations is refused naming the
layer that differs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from ..model.config import InputNormalization
from .config import TrainConfig

#: Settings that extend or report a run, applied on resume without a word.
BUDGET = ("steps", "minutes")
#: Settings applied on resume with a note: they change how the run reports, saves or computes.
APPLIED = ("checkpoint_every", "val_every", "val_seconds", "precision")


def resumed_config(saved: dict[str, Any], asked: TrainConfig | None, where: Any) -> TrainConfig:
    """The checkpoint's settings with what may change on resume taken from ``asked``.

    Raises
    ------
    ValueError
        ``asked`` differs from the checkpoint in a setting that defines the training.
    """
    base = TrainConfig.from_dict(saved)
    if asked is None:
        return base
    old, new = base.to_dict(), asked.to_dict()
    # "auto" and None ask for nothing: the checkpoint holds what they were resolved to.
    differ = [
        k
        for k in new
        if new[k] != old.get(k) and k not in BUDGET + APPLIED and new[k] not in ("auto", None)
    ]
    if differ:
        said = ", ".join(f"{k}={new[k]!r} (checkpoint: {old.get(k)!r})" for k in differ)
        raise ValueError(
            f"{where}: a resume continues the checkpoint's training, but this run asks for "
            f"{said}: leave those settings out to resume, or start a new training"
        )
    applied = [k for k in APPLIED if new[k] != old.get(k) and new[k] not in ("auto", None)]
    if applied:
        said = ", ".join(f"{k}={new[k]!r} (was {old.get(k)!r})" for k in applied)
        warnings.warn(f"resuming with {said}", UserWarning, stacklevel=3)
    kept = {k: new[k] for k in BUDGET + tuple(applied)}
    return TrainConfig.from_dict({**old, **kept})


def check_same_scale(saved: InputNormalization, now: InputNormalization, where: Any) -> None:
    """Refuse data whose value range barely overlaps the one the checkpoint was trained on.

    Resuming on other data keeps the checkpoint's input scaling (it is part of what the network
    learnt); a FITS range applied to 0-255 EM turns every input black.
    """
    if saved.method != now.method or saved.method not in ("percentile", "minmax", "asinh"):
        return
    overlap = min(saved.high, now.high) - max(saved.low, now.low)
    widest = max(saved.high - saved.low, now.high - now.low)
    if widest > 0 and overlap / widest < 0.5:
        raise ValueError(
            f"{where} was trained on inputs scaled from {saved.low:g} to {saved.high:g}, but "
            f"this input spans {now.low:g} to {now.high:g}: resume on the data it was trained "
            "on, or start a new training"
        )


def annotations_of(stack: Any) -> dict[str, Any]:
    """What a training learns from, recorded in its checkpoints: the kind and the classes."""
    if getattr(stack, "labels", None) is None:
        return {"annotations": "rgb", "classes": []}
    return {"annotations": "labels", "classes": sorted(int(k) for k in stack.palette)}


def check_same_annotations(saved: dict[str, Any], now: dict[str, Any]) -> None:
    """Refuse a resume on another kind of annotation, or a palette with other classes.

    Checkpoints written before this record was kept are not checked.
    """
    if "annotations" not in saved:
        return
    if saved["annotations"] != now["annotations"]:
        kinds = {"rgb": "an RGB target", "labels": "painted labels"}
        raise ValueError(
            f"the checkpoint was trained on {kinds[saved['annotations']]}, but this run gives "
            f"{kinds[now['annotations']]}: resume with what it was trained on, or start a new "
            "training"
        )
    new = sorted(set(now["classes"]) - set(saved["classes"]))
    gone = sorted(set(saved["classes"]) - set(now["classes"]))
    if new or gone:
        said = "; ".join(
            f"{what} {', '.join(map(str, ids))}"
            for what, ids in (("new class", new), ("missing class", gone))
            if ids
        )
        raise ValueError(
            f"the palette differs from the checkpoint's ({said}): a network learns a fixed set "
            "of classes; resume with its palette, or start a new training to learn these"
        )


def load_fitting(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """``module.load_state_dict(state)``, refused in one line when the shapes do not fit.

    They differ when the checkpoint trained another kind of target (RGB against labels) or
    other classes (a palette with a new class), or another architecture.
    """
    own = module.state_dict()
    odd = sorted(set(own) ^ set(state))
    wrong = [k for k in state if k in own and own[k].shape != state[k].shape]
    if odd or wrong:
        key = (odd or wrong)[0]
        there = tuple(state[key].shape) if key in state else "absent"
        here = tuple(own[key].shape) if key in own else "absent"
        raise ValueError(
            f"the checkpoint's {what} does not fit this training ({key}: {there} in the "
            f"checkpoint, {here} here): it was trained for another target kind (RGB or "
            "labels), other classes or another network; resume with the annotations and "
            "palette it was trained with, or start a new training"
        )
    module.load_state_dict(state)


def checkpoint_config(path: str | Path) -> dict[str, Any]:
    """The training settings stored in a checkpoint, read from its header only.

    Empty when they cannot be read: :func:`~.checkpoint.load_checkpoint` then says precisely
    what is wrong with the file, at the run's start.
    """
    import json

    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            return dict(json.loads((fh.metadata() or {})["train_config"]))
    except Exception:  # reported in full by load_checkpoint at the run's start
        return {}
