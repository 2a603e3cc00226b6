"""Resumable training checkpoints: weights, optimisers, schedulers, step and RNG states.

Like model files, a checkpoint is one safetensors file (tensors) with JSON metadata (everything
else): no pickle, written atomically, so a crash mid-write keeps the previous checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.atomic import write_atomic
from ..model.file import read_tensors

CHECKPOINT_FORMAT = "napari-colorgan-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class CheckpointState:
    """Everything needed to continue a run exactly where it stopped."""

    step: int
    train_config: dict[str, Any]
    normalization: dict[str, Any]
    generator: dict[str, torch.Tensor]
    discriminator: dict[str, torch.Tensor]
    optimizers: dict[str, dict[str, Any]]
    schedulers: dict[str, dict[str, Any]]
    numpy_rng: dict[str, Any]
    torch_rng: torch.Tensor
    extra: dict[str, Any]


def _split_optimizer(name: str, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
    """Move an optimizer state dict's tensors into ``tensors``; return the JSON-able rest."""
    per_param: dict[str, dict[str, Any]] = {}
    for pid, values in state["state"].items():
        plain = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}.{pid}.{key}"] = value
            else:
                plain[key] = value
        per_param[str(pid)] = plain
    return {"param_groups": state["param_groups"], "plain": per_param}


def _join_optimizer(name: str, doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
    state: dict[int, dict[str, Any]] = {}
    for pid, plain in doc["plain"].items():
        state[int(pid)] = dict(plain)
    prefix = f"{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix) :].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    return {"state": state, "param_groups": doc["param_groups"]}


def save_checkpoint(path: str | os.PathLike[str], state: CheckpointState) -> Path:
    """Write ``state`` to ``path`` atomically."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    tensors.update({f"G.{k}": v for k, v in state.generator.items()})
    tensors.update({f"D.{k}": v for k, v in state.discriminator.items()})
    tensors["rng.torch"] = state.torch_rng
    optimizers = {n: _split_optimizer(f"opt.{n}", s, tensors) for n, s in state.optimizers.items()}
    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": str(CHECKPOINT_VERSION),
        "step": str(state.step),
        "train_config": json.dumps(state.train_config),
        "normalization": json.dumps(state.normalization),
        "optimizers": json.dumps(optimizers),
        "schedulers": json.dumps(state.schedulers),
        "numpy_rng": json.dumps(state.numpy_rng),
        "extra": json.dumps(state.extra),
    }
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return write_atomic(path, lambda tmp: save_file(flat, tmp, metadata=meta))


def load_checkpoint(path: str | os.PathLike[str]) -> CheckpointState:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a napari-colorgan checkpoint, unreadable, or missing an entry (named).
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except Exception as err:
        raise ValueError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): {err}"
        ) from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a napari-colorgan training checkpoint")
    if int(meta.get("format_version", "0")) > CHECKPOINT_VERSION:
        raise ValueError(f"{path} comes from a newer napari-colorgan: upgrade to resume it")
    tensors = read_tensors(path)
    doc = _Entries(path, meta)
    optimizers = doc.json("optimizers")
    for name in ("g", "d"):
        doc.require(name, optimizers)
    doc.require("rng.torch", tensors)
    return CheckpointState(
        step=doc.integer("step"),
        train_config=doc.json("train_config"),
        normalization=doc.json("normalization"),
        generator={k[2:]: v for k, v in tensors.items() if k.startswith("G.")},
        discriminator={k[2:]: v for k, v in tensors.items() if k.startswith("D.")},
        optimizers={n: _join_optimizer(f"opt.{n}", d, tensors) for n, d in optimizers.items()},
        schedulers=doc.json("schedulers"),
        numpy_rng=doc.json("numpy_rng"),
        torch_rng=tensors["rng.torch"],
        extra=doc.json("extra"),
    )


class _Entries:
    """A checkpoint's metadata, read entry by entry with errors that name the file.

    A damaged or hand-edited checkpoint used to end in a bare ``KeyError: 'optimizers'``.
    """

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        self.path, self.meta = path, meta

    def require(self, key: str, container: Any) -> None:
        """Refuse ``container`` (metadata, tensors or a decoded entry) without ``key``."""
        if not isinstance(container, dict) or key not in container:
            raise ValueError(
                f"{self.path}: the checkpoint lacks {key!r} (damaged, or not written by "
                "napari-colorgan): start the run again without resuming from it"
            )

    def json(self, key: str) -> Any:
        """Entry ``key`` decoded from JSON."""
        self.require(key, self.meta)
        try:
            return json.loads(self.meta[key])
        except json.JSONDecodeError:
            raise ValueError(f"{self.path}: checkpoint entry {key!r} is not valid JSON") from None

    def integer(self, key: str) -> int:
        """Entry ``key`` as an int."""
        self.require(key, self.meta)
        try:
            return int(self.meta[key])
        except ValueError:
            raise ValueError(
                f"{self.path}: checkpoint entry {key!r} is not a whole number"
            ) from None


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The JSON-able state of a numpy Generator."""
    return rng.bit_generator.state


def restore_numpy_rng(state: dict[str, Any]) -> np.random.Generator:
    """A numpy Generator continuing from ``state``."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
