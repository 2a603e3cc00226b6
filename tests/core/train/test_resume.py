"""A resume refuses or applies every setting that differs, and refuses data that do not fit."""

import numpy as np
import pytest

from napari_colorgan.cli import main
from napari_colorgan.core.train.loop import train, train_iter
from tests.core.train.test_loop import tiny


@pytest.fixture
def checkpoint(tmp_path):
    """A 3-step RGB-target checkpoint on 0-4095 grey."""
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 4096, (4, 80, 72)).astype(np.uint16)
    rgb = rng.integers(0, 256, (4, 80, 72, 3)).astype(np.uint8)
    ckpt = tmp_path / "c.safetensors"
    for _ in train_iter(gray, target=rgb, config=tiny(steps=3), device="cpu", checkpoint=ckpt):
        pass
    return gray, rgb, ckpt


def test_a_setting_that_defines_the_training_is_refused_with_both_values(checkpoint):
    gray, rgb, ckpt = checkpoint
    with pytest.raises(ValueError, match=r"asks for preset='medium' \(checkpoint: 'small'\), "
                                         r"context=1 \(checkpoint: 0\)"):  # fmt: skip
        train(gray, target=rgb, config=tiny(steps=5, preset="medium", context=1), resume=ckpt,
              device="cpu")  # fmt: skip


def test_the_budget_is_applied_silently_and_the_cadence_with_a_note(checkpoint):
    gray, rgb, ckpt = checkpoint
    with pytest.warns(UserWarning, match=r"resuming with val_every=2 \(was 3\)"):
        model = train(gray, target=rgb, config=tiny(steps=5, val_every=2), resume=ckpt,
                      device="cpu")  # fmt: skip
    assert model.training["steps_done"] == 5


def test_labels_given_to_an_rgb_checkpoint_are_refused(checkpoint):
    gray, _, ckpt = checkpoint
    labels = np.zeros(gray.shape, np.uint8)
    labels[:, 10:30, 10:30], labels[:, 40:60, 40:60] = 1, 2
    palette = {1: (255, 0, 0), 2: (0, 255, 0)}
    with pytest.raises(ValueError, match="trained on an RGB target, but this run gives painted"):
        train(gray, labels=labels, palette=palette, config=tiny(steps=5), resume=ckpt,
              device="cpu")  # fmt: skip


def test_data_on_another_scale_is_refused(checkpoint):
    gray, rgb, ckpt = checkpoint
    with pytest.raises(ValueError, match="trained on inputs scaled from .* this input spans"):
        train((gray // 256).astype(np.uint8), target=rgb, config=tiny(steps=5), resume=ckpt,
              device="cpu")  # fmt: skip


def test_the_command_resumes_with_the_checkpoints_settings_and_refuses_a_new_tile(
    checkpoint, tmp_path, capsys
):
    import tifffile

    gray, rgb, ckpt = checkpoint
    tifffile.imwrite(tmp_path / "g.tif", gray, photometric="minisblack")
    tifffile.imwrite(tmp_path / "t.tif", rgb)
    base = ["train", str(tmp_path / "g.tif"), "--target", str(tmp_path / "t.tif"), "-o",
            str(tmp_path / "m.safetensors"), "--device", "cpu", "--resume", str(ckpt)]  # fmt: skip
    assert main([*base, "--tile", "96"]) == 2
    assert "tile=96 (checkpoint: 64)" in capsys.readouterr().err
    assert main([*base, "--steps", "4"]) == 0  # the checkpoint's own settings, extended


def test_a_palette_with_a_new_class_is_refused_naming_it(tmp_path):
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (3, 80, 72)).astype(np.uint8)
    labels = np.zeros(gray.shape, np.uint8)
    labels[:, 10:30, 10:30], labels[:, 40:60, 40:60] = 1, 2
    palette = {1: (255, 0, 0), 2: (0, 255, 0)}
    ckpt = tmp_path / "c.safetensors"
    for _ in train_iter(gray, labels=labels, palette=palette, config=tiny(steps=3),
                        device="cpu", checkpoint=ckpt):  # fmt: skip
        pass
    with pytest.raises(
        ValueError, match="the palette differs from the checkpoint's \\(new class 3\\)"
    ):
        train(gray, labels=labels, palette={**palette, 3: (0, 0, 255)}, config=tiny(steps=5),
              resume=ckpt, device="cpu")  # fmt: skip
