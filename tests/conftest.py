"""Shared fixtures: tiny models and images so the suite stays fast on a 2-core CPU."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig


@pytest.fixture(autouse=True)
def _no_user_state(monkeypatch, tmp_path_factory):
    """Keep the user's VGG19 weights, torch hub cache and recent-model list out of the tests.

    The folders go when the test ends: a test that installs weights leaves 77 MB, and CI's
    disk filled part-way through the suite when every test's folders were kept.
    """
    folders = {"TORCH_HOME": "torch_home", "NAPARI_COLORGAN_CONFIG_DIR": "config"}
    folders["NAPARI_COLORGAN_CACHE"] = "cache"
    made = []
    monkeypatch.delenv("NAPARI_COLORGAN_VGG19", raising=False)
    for variable, name in folders.items():
        made.append(tmp_path_factory.mktemp(name))
        monkeypatch.setenv(variable, str(made[-1]))
    yield
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never reach the network: a connection to anything but this machine fails."""
    import socket

    connect = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"tests reach no network: connection to {host} refused")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture
def tiny_config() -> ModelConfig:
    """A 4-level U-Net with 8 filters: 62 px receptive field, a few thousand parameters."""
    return ModelConfig(num_downs=4, ngf=8, ndf=8, n_layers=2, tile=64)


@pytest.fixture
def tiny_colorizer(tiny_config: ModelConfig) -> Colorizer:
    torch.manual_seed(0)
    model = Colorizer.from_config(
        tiny_config, seed=1, normalization=InputNormalization("minmax", 0.0, 255.0)
    )
    model.generator.eval()
    return model


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
