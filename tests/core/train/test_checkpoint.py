"""A damaged checkpoint is refused with a message naming the file and what is missing."""

import json

import pytest
import torch
from safetensors.torch import save_file

from napari_colorgan.core.train.checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointState,
    load_checkpoint,
    save_checkpoint,
)


def state() -> CheckpointState:
    weight = torch.ones(2, 2)
    return CheckpointState(
        step=3,
        train_config={"steps": 3},
        normalization={"method": "none"},
        generator={"w": weight},
        discriminator={"w": weight},
        optimizers={
            "g": {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0]}]},
            "d": {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0]}]},
        },
        schedulers={},
        numpy_rng={"bit_generator": "PCG64"},
        torch_rng=torch.get_rng_state(),
        extra={},
    )


def rewrite(path, drop_meta=(), drop_tensors=(), **meta_changes):
    """Save a checkpoint, then rewrite it without some entries."""
    from safetensors import safe_open

    save_checkpoint(path, state())
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    meta = {k: v for k, v in {**meta, **meta_changes}.items() if k not in drop_meta}
    tensors = {k: v for k, v in tensors.items() if k not in drop_tensors}
    save_file(tensors, str(path), metadata=meta)


def test_round_trip(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", state())
    loaded = load_checkpoint(tmp_path / "c.safetensors")
    assert loaded.step == 3 and set(loaded.optimizers) == {"g", "d"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"drop_meta": ("optimizers",)}, "lacks 'optimizers'"),
        ({"drop_meta": ("step",)}, "lacks 'step'"),
        ({"drop_tensors": ("rng.torch",)}, "lacks 'rng.torch'"),
        ({"optimizers": json.dumps({"g": {"param_groups": [], "plain": {}}})}, "lacks 'd'"),
        ({"train_config": "{oops"}, "'train_config' is not valid JSON"),
        ({"step": "three"}, "'step' is not a whole number"),
    ],
)
def test_a_damaged_checkpoint_names_the_file_and_the_missing_entry(tmp_path, changes, message):
    path = tmp_path / "c.safetensors"
    rewrite(path, **changes)
    with pytest.raises(ValueError, match=f"c.safetensors.*{message}"):
        load_checkpoint(path)


def test_a_model_file_given_as_checkpoint_is_named(tmp_path):
    save_file({"w": torch.ones(1)}, str(tmp_path / "m.safetensors"), metadata={"format": "x"})
    with pytest.raises(ValueError, match="not a napari-colorgan training checkpoint"):
        load_checkpoint(tmp_path / "m.safetensors")
    assert CHECKPOINT_FORMAT
