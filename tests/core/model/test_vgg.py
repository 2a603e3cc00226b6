import pytest
import torch
from safetensors.torch import save_file

from napari_colorgan.core.model.vgg import (
    LAYER_INDEX,
    VGG19_ENV_VAR,
    VGG19_FILENAME,
    VGG19Features,
    find_vgg19_weights,
    hub_cache_path,
    read_vgg19_state,
)


def torchvision_style_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A random state dict in the key layout of torchvision's vgg19 (features + classifier)."""
    torch.manual_seed(seed)
    state = {k: torch.randn_like(v) * 0.05 for k, v in VGG19Features().state_dict().items()}
    # torchvision's file also holds the classifier; small stand-ins keep the test light.
    state["classifier.0.weight"] = torch.zeros(4, 4)
    state["classifier.6.bias"] = torch.zeros(4)
    return state


def test_parameter_names_are_torchvisions():
    names = list(VGG19Features().state_dict())
    assert names[:2] == ["features.0.weight", "features.0.bias"]
    assert names[-1] == "features.34.bias"
    assert len(names) == 32  # 16 convolutions


def test_layer_names_follow_block_and_conv():
    assert LAYER_INDEX["relu5_4"] == 35  # torchvision's features[:36] is φ_5,4
    assert LAYER_INDEX["relu2_2"] == 8
    assert LAYER_INDEX["pool5"] == 36


def test_forward_returns_the_requested_layers():
    vgg = VGG19Features(["relu1_2", "relu3_1"]).random_init()
    out = vgg(torch.rand(1, 3, 32, 32))
    assert out["relu1_2"].shape == (1, 64, 32, 32)
    assert out["relu3_1"].shape == (1, 256, 8, 8)


def test_is_frozen_and_stays_in_eval_mode():
    vgg = VGG19Features()
    vgg.train()
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())


def test_unknown_layer_is_named():
    with pytest.raises(ValueError, match="relu6_1"):
        VGG19Features(["relu6_1"])


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_loads_torchvision_layout_from_pth_and_safetensors(tmp_path, suffix):
    state = torchvision_style_state()
    path = tmp_path / f"vgg19{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    vgg = VGG19Features().load_weights(read_vgg19_state(path))
    assert torch.equal(vgg.features[34].weight, state["features.34.weight"])


def test_incomplete_state_is_rejected(tmp_path):
    state = torchvision_style_state()
    del state["features.10.weight"]
    with pytest.raises(ValueError, match="missing \\['features.10.weight'\\]"):
        VGG19Features().load_weights(state)


def test_pickled_objects_are_not_executed(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": torch.zeros(1), "note": object()}, path)
    with pytest.raises(ValueError, match="cannot read VGG19 weights"):
        read_vgg19_state(path)


def test_weights_are_found_by_argument_env_var_then_hub_cache(tmp_path, monkeypatch):
    assert find_vgg19_weights() is None
    cached = hub_cache_path()
    assert cached.name == VGG19_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert find_vgg19_weights() == cached
    env_file = tmp_path / "env.pth"
    env_file.write_bytes(b"x")
    monkeypatch.setenv(VGG19_ENV_VAR, str(env_file))
    assert find_vgg19_weights() == env_file
    arg_file = tmp_path / "arg.safetensors"
    arg_file.write_bytes(b"x")
    assert find_vgg19_weights(arg_file) == arg_file


def test_missing_explicit_file_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        find_vgg19_weights(tmp_path / "nowhere.pth")
    monkeypatch.setenv(VGG19_ENV_VAR, str(tmp_path / "gone.pth"))
    with pytest.raises(FileNotFoundError, match=VGG19_ENV_VAR):
        find_vgg19_weights()
