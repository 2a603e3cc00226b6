"""The model payload: one token per weights, bytes only when it leaves the process."""

import pickle

import numpy as np
import pytest
import torch

from napari_colorgan.core.infer import payload as payload_module
from napari_colorgan.core.infer.graph import colorize
from napari_colorgan.core.infer.payload import cached_model, model_payload


def test_a_local_run_never_serialises_the_model(tiny_colorizer, rng):
    plane = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    colorize(plane, tiny_colorizer, device="cpu").compute()
    payload = model_payload(tiny_colorizer)
    assert payload._data is None
    assert cached_model(payload, "cpu") is tiny_colorizer


def test_the_token_is_memoised_and_names_the_weights(tiny_colorizer):
    first = model_payload(tiny_colorizer)
    assert model_payload(tiny_colorizer).token == first.token
    assert payload_module._MEMO[tiny_colorizer][1] == first.token  # hashed once
    with torch.no_grad():
        next(tiny_colorizer.generator.parameters()).add_(1.0)
    second = model_payload(tiny_colorizer)
    assert second.token != first.token


def test_a_pickled_payload_rebuilds_the_same_model(tiny_colorizer, rng):
    payload = model_payload(tiny_colorizer)
    remote = pickle.loads(pickle.dumps(payload))
    assert remote.token == payload.token and remote.source is None
    rebuilt = cached_model(remote, "cpu")
    assert rebuilt is not tiny_colorizer
    plane = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    np.testing.assert_array_equal(
        colorize(plane, rebuilt, device="cpu").compute(),
        colorize(plane, tiny_colorizer, device="cpu").compute(),
    )


def test_weights_changed_after_the_graph_was_built_are_refused(tiny_colorizer, rng, monkeypatch):
    monkeypatch.setattr(payload_module, "_CACHE", {})  # no copy of the old weights built before
    plane = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    lazy = colorize(plane, tiny_colorizer, device="cpu")
    with torch.no_grad():
        next(tiny_colorizer.generator.parameters()).mul_(2.0)
    # Colours from other weights than the graph names would be silently wrong.
    with pytest.raises(RuntimeError, match="weights changed"):
        lazy.compute()


def test_switching_to_channels_last_is_not_a_weight_change(tiny_colorizer, rng, monkeypatch):
    # Regression: bf16 inference moves the generator to channels-last in the first block, which
    # gave its weights new storage; later blocks then took the model for a changed one.
    monkeypatch.setattr(payload_module, "_CACHE", {})
    stack = rng.integers(0, 256, (3, 64, 64), dtype=np.uint8)
    lazy = colorize(stack, tiny_colorizer, device="cpu", precision="bf16")
    out = lazy.compute(scheduler="synchronous")  # one block after another
    assert out.shape == (3, 64, 64, 3)


def test_colorizing_leaves_the_model_trainable(tiny_colorizer, rng):
    # Regression: the channels-last switch ran under inference_mode, turning the user's
    # parameters into inference tensors that training cannot backpropagate through.
    plane = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    colorize(plane, tiny_colorizer, device="cpu", precision="bf16").compute()
    params = list(tiny_colorizer.generator.parameters())
    assert not any(p.is_inference() for p in params)
    tiny_colorizer.generator.train()
    tiny_colorizer.generator(torch.zeros(1, 1, 64, 64)).mean().backward()
    assert params[0].grad is not None


def test_copies_and_pickles_of_a_colorizer_do_not_carry_the_payload(tiny_colorizer, rng):
    import copy

    plane = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    colorize(plane, tiny_colorizer, device="cpu").compute()
    with torch.no_grad():
        next(tiny_colorizer.generator.parameters()).add_(1.0)  # trained on afterwards
    clone = copy.deepcopy(tiny_colorizer)  # no "weights changed" error, no serialising
    assert not hasattr(clone, "_payload_memo")
    assert model_payload(clone).token == model_payload(tiny_colorizer).token


def test_a_new_input_normalisation_is_a_new_model(tiny_colorizer):
    from napari_colorgan.core.model.config import InputNormalization

    first = model_payload(tiny_colorizer).token
    tiny_colorizer.normalization = InputNormalization("minmax", 0.0, 4095.0)
    assert model_payload(tiny_colorizer).token != first
