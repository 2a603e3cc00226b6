"""Installing downloaded VGG19 weights: hash checked, never unpickled, found by training."""

import pytest
import torch

from napari_colorgan.cli import main
from napari_colorgan.core.model.vgg import VGG19Features, find_vgg19_weights, read_vgg19_state
from napari_colorgan.core.model.vgg_install import install_vgg19, sha256_of


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """A torchvision-layout VGG19 file (random weights, with a classifier entry to ignore)."""
    path = tmp_path_factory.mktemp("dl") / "vgg19-test.pth"
    state = VGG19Features().random_init(seed=4).state_dict()
    state["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(state, path)
    return path


def test_a_matching_file_is_converted_and_found_by_training(vgg_file):
    assert find_vgg19_weights() is None
    installed = install_vgg19(vgg_file, prefix=sha256_of(vgg_file)[:8])
    assert installed.suffix == ".safetensors" and find_vgg19_weights() == installed
    got = read_vgg19_state(installed)
    want = torch.load(vgg_file, weights_only=True)
    assert set(got) == {k for k in want if k.startswith("features.")}
    assert all(torch.equal(got[k], want[k]) for k in got)


def test_a_corrupt_or_other_file_is_refused_and_nothing_installed(vgg_file, tmp_path):
    with pytest.raises(ValueError, match="SHA-256 starts with .* not dcbb9e9d"):
        install_vgg19(vgg_file)  # torchvision's prefix: this file is not theirs
    cut = tmp_path / "cut.pth"
    cut.write_bytes(vgg_file.read_bytes()[:5000])  # an interrupted download
    with pytest.raises(ValueError, match="cannot read VGG19 weights"):
        install_vgg19(cut, prefix="")
    assert find_vgg19_weights() is None


def test_a_pickle_with_code_is_never_run(tmp_path):
    evil = tmp_path / "evil.pth"

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran')",))

    torch.save({"x": Boom()}, evil)
    with pytest.raises(ValueError, match="cannot read VGG19 weights"):
        install_vgg19(evil, prefix="")


def test_the_command_installs_a_file_brought_by_the_user(vgg_file, capsys, monkeypatch):
    assert main(["fetch-weights", "vgg19", "--from", str(vgg_file)]) == 2  # not theirs
    import napari_colorgan.core.model.vgg_install as vi

    monkeypatch.setattr(vi, "VGG19_SHA256_PREFIX", sha256_of(vgg_file)[:8])
    assert main(["fetch-weights", "vgg19", "--from", str(vgg_file)]) == 0
    assert main(["fetch-weights", "vgg19"]) == 0 and "installed" in capsys.readouterr().out


def test_a_safetensors_copy_installs_without_torchvisions_hash(vgg_file, tmp_path):
    from safetensors.torch import save_file

    copy = tmp_path / "vgg19.safetensors"
    state = read_vgg19_state(vgg_file)
    save_file({k: v for k, v in state.items() if k.startswith("features.")}, str(copy))
    assert find_vgg19_weights() is None
    assert install_vgg19(copy) == find_vgg19_weights()


def test_weights_that_are_not_finite_are_refused(vgg_file, tmp_path):
    state = torch.load(vgg_file, weights_only=True)
    state["features.0.weight"] = torch.full_like(state["features.0.weight"], float("nan"))
    bad = tmp_path / "nan.pth"
    torch.save(state, bad)
    with pytest.raises(ValueError, match="NaN or infinite weights .* features.0.weight"):
        install_vgg19(bad, prefix="")
    assert find_vgg19_weights() is None


def test_info_on_a_bioimageio_package_names_it(tmp_path, capsys):
    import zipfile

    package = tmp_path / "model.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("rdf.yaml", "type: model\n")
        archive.writestr("weights.onnx", b"\x00")
    assert main(["info", str(package)]) == 2
    assert "is a bioimage.io model package" in capsys.readouterr().err
