"""Device names that mean the same device compare equal."""

import torch

from napari_colorgan.core.devices import same_device


def test_an_unnumbered_device_is_the_current_one():
    assert same_device(torch.device("cuda"), torch.device("cuda:0"))  # current device: 0 here
    assert not same_device(torch.device("cuda:1"), torch.device("cuda:0"))
    assert same_device(torch.device("cpu"), torch.device("cpu:0"))
    assert not same_device(torch.device("cpu"), torch.device("cuda:0"))
