"""Device names that mean the same device compare equal."""

import pytest
import torch

from napari_colorgan.core.devices import same_device


def test_an_unnumbered_device_is_the_current_one():
    assert same_device(torch.device("cuda"), torch.device("cuda:0"))  # current device: 0 here
    assert not same_device(torch.device("cuda:1"), torch.device("cuda:0"))
    assert same_device(torch.device("cpu"), torch.device("cpu:0"))
    assert not same_device(torch.device("cpu"), torch.device("cuda:0"))


def test_training_precision_is_forced_or_chosen_from_the_device():
    import torch

    from napari_colorgan.core.devices import autocast_dtype, cpu_has_bf16

    cpu = torch.device("cpu")
    assert autocast_dtype(cpu, "fp32") is None
    assert autocast_dtype(cpu, "bf16") is torch.bfloat16
    assert autocast_dtype(cpu, "auto") is (torch.bfloat16 if cpu_has_bf16() else None)
    with pytest.raises(ValueError, match="precision"):
        autocast_dtype(cpu, "fp8")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "nonsense", "meta"])
def test_an_unknown_device_is_a_value_error_naming_the_choices(name):
    from napari_colorgan.core.devices import pick_device

    with pytest.raises(ValueError, match=f"{name!r}.*(use auto, cpu|not supported)"):
        pick_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_an_unavailable_gpu_is_a_value_error():
    from napari_colorgan.core.devices import pick_device

    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda:0")
