import threading

import numpy as np
import pytest
import torch

from napari_colorgan.core.events import (
    CheckpointSaved,
    Finished,
    Preview,
    Started,
    StepDone,
    Validated,
)
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.train.checkpoint import load_checkpoint
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.loop import NonFiniteLossError, train, train_iter
from napari_colorgan.core.train.losses import GANLoss


def tiny(**overrides) -> TrainConfig:
    base = dict(
        preset="small",
        tile=64,
        batch_size=2,
        steps=6,
        perceptual_weights="random",
        perceptual_layers=("relu2_2",),
        val_every=3,
        checkpoint_every=3,
    )
    return TrainConfig(**{**base, **overrides})


@pytest.fixture
def rgb_pair():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 4096, (4, 80, 72)).astype(np.uint16)
    rgb = rng.integers(0, 256, (4, 80, 72, 3)).astype(np.uint8)
    return gray, rgb


def test_events_arrive_in_order_and_the_result_is_a_colorizer(rgb_pair, tmp_path):
    gray, rgb = rgb_pair
    events = list(
        train_iter(
            gray, target=rgb, config=tiny(), device="cpu", checkpoint=tmp_path / "c.safetensors"
        )
    )
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Finished"
    assert [e.step for e in events if isinstance(e, StepDone)] == [1, 2, 3, 4, 5, 6]
    assert [e.step for e in events if isinstance(e, Validated)] == [3, 6]
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [3, 6]
    preview = next(e for e in events if isinstance(e, Preview))
    assert preview.prediction.shape == (64, 64, 3) and preview.prediction.dtype == np.uint8
    started = events[0]
    assert isinstance(started, Started) and started.perceptual == "random"
    assert (started.train_planes, started.val_planes) == (3, 1)
    model = events[-1].result
    assert isinstance(model, Colorizer) and not model.generator.training
    assert model.normalization.method == "percentile"
    assert model.training["steps_done"] == 6


def test_normalization_is_stored_in_the_model_file(rgb_pair, tmp_path):
    gray, rgb = rgb_pair
    model = train(gray, target=rgb, config=tiny(steps=1, normalize="minmax"), device="cpu")
    loaded = Colorizer.load(model.save(tmp_path / "m.safetensors"))
    assert loaded.normalization.method == "minmax"
    assert (loaded.normalization.low, loaded.normalization.high) == (gray.min(), gray.max())
    assert loaded.training["normalize"] == "minmax"
    assert loaded.provenance.perceptual_weights == "random"


def test_stop_then_resume_equals_an_uninterrupted_run(rgb_pair, tmp_path):
    gray, rgb = rgb_pair
    whole = train(gray, target=rgb, config=tiny(), device="cpu")

    stop = threading.Event()
    ckpt = tmp_path / "run.ckpt.safetensors"
    for event in train_iter(
        gray, target=rgb, config=tiny(checkpoint_every=0), device="cpu", checkpoint=ckpt, stop=stop
    ):
        if isinstance(event, StepDone) and event.step == 2:
            stop.set()
        if isinstance(event, Finished):
            assert event.stopped and event.step == 2
    assert load_checkpoint(ckpt).step == 2

    resumed = train(gray, target=rgb, config=tiny(), device="cpu", resume=ckpt)
    for key, value in whole.generator.state_dict().items():
        torch.testing.assert_close(resumed.generator.state_dict()[key], value, rtol=0, atol=1e-6)


def test_closing_the_generator_keeps_a_checkpoint(rgb_pair, tmp_path):
    gray, rgb = rgb_pair
    ckpt = tmp_path / "c.safetensors"
    events = train_iter(
        gray, target=rgb, config=tiny(checkpoint_every=0), device="cpu", checkpoint=ckpt
    )
    for event in events:
        if isinstance(event, StepDone) and event.step == 2:
            events.close()  # what napari's worker.quit() does
            break
    assert load_checkpoint(ckpt).step == 2


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_checkpoint(
    rgb_pair, tmp_path, monkeypatch
):
    gray, rgb = rgb_pair
    ckpt = tmp_path / "c.safetensors"
    calls = {"n": 0}
    original = GANLoss.forward

    def poisoned(self, logits, target_is_real, weight=None):
        calls["n"] += 1
        loss = original(self, logits, target_is_real, weight)
        return loss * float("nan") if calls["n"] > 3 * 4 else loss  # 3 calls a step: NaN at step 5

    monkeypatch.setattr(GANLoss, "forward", poisoned)
    with pytest.raises(NonFiniteLossError, match="NaN/Inf at step 5.*written before is kept"):
        for _ in train_iter(
            gray, target=rgb, config=tiny(adversarial=True), device="cpu", checkpoint=ckpt
        ):
            pass
    assert load_checkpoint(ckpt).step == 3


def test_nan_at_the_first_step_does_not_claim_a_checkpoint(rgb_pair, tmp_path, monkeypatch):
    gray, rgb = rgb_pair
    original = GANLoss.forward
    monkeypatch.setattr(GANLoss, "forward", lambda *a: original(*a) * float("nan"))
    with pytest.raises(NonFiniteLossError, match="step 1.*no checkpoint had been written yet"):
        for _ in train_iter(
            gray,
            target=rgb,
            config=tiny(adversarial=True),
            device="cpu",
            checkpoint=tmp_path / "c.safetensors",
        ):
            pass
    assert not (tmp_path / "c.safetensors").exists()


def test_minutes_budget_ends_the_run(rgb_pair):
    gray, rgb = rgb_pair
    model = train(gray, target=rgb, config=tiny(minutes=0.02, steps=10_000), device="cpu")
    assert 1 <= model.training["steps_done"] < 10_000


def test_sparse_labels_train_and_unlabelled_pixels_pull_nowhere():
    # A uniform texture; 10% of its pixels are labelled red. Unlabelled pixels carry no colour,
    # so the model must learn "this texture is red" everywhere instead of being pulled to gray.
    rng = np.random.default_rng(3)
    gray = (rng.random((2, 64, 64)) * 60 + 100).astype(np.float32)
    labels = np.zeros((2, 64, 64), np.uint8)
    labels[0][rng.random((64, 64)) < 0.1] = 1
    config = tiny(steps=40, lr=2e-3, val_fraction=0.0, perceptual_weights="none", val_every=100)
    model = train(gray, labels=labels, palette={1: (230, 60, 60)}, config=config, device="cpu")
    rgb = model.colorize_plane(gray[1]).astype(float)
    assert (rgb[..., 0] - rgb[..., 1]).mean() > 20  # red everywhere, on an unlabelled plane too


def test_progress_bar_option(rgb_pair, capsys):
    gray, rgb = rgb_pair
    train(gray, target=rgb, config=tiny(steps=2), device="cpu", progress=True)
    assert "2/2" in capsys.readouterr().err


def test_auto_colour_space_follows_the_targets_lightness():
    from napari_colorgan.core.color import to_uint8

    rng = np.random.default_rng(0)
    gray = rng.random((2, 64, 64)).astype(np.float32)
    config = TrainConfig(tile=32, batch_size=2, steps=1, perceptual_weights="none")
    # A target that keeps the input's lightness (grey = RGB): Lab keeps it exactly.
    same = to_uint8(np.repeat(gray[..., None], 3, -1))
    model = train(gray, target=same, config=config, device="cpu")
    assert model.config.color_space == "lab"
    # A target with its own tone curve (dark where the input is mid-grey): only RGB can fit it.
    curve = to_uint8(np.repeat(gray[..., None] ** 4, 3, -1))
    model = train(gray, target=curve, config=config, device="cpu")
    assert model.config.color_space == "rgb" and model.training["color_space"] == "rgb"


def test_an_unwritable_checkpoint_is_refused_before_training(rgb_pair, tmp_path):
    gray, rgb = rgb_pair
    (tmp_path / "notes.txt").write_text("x")
    events = train_iter(
        gray, target=rgb, config=tiny(), device="cpu", checkpoint=tmp_path / "notes.txt" / "c"
    )
    with pytest.raises(ValueError, match="cannot write"):
        next(events)


def test_previews_on_a_time_cadence(rgb_pair, monkeypatch):
    # A clock that advances 1 s per reading: with val_seconds=2.5 a preview is due every few
    # steps whatever their real speed; val_every=0 means by time only.
    from napari_colorgan.core.train import loop

    ticks = iter(range(10_000))
    monkeypatch.setattr(loop.time, "perf_counter", lambda: float(next(ticks)))
    gray, rgb = rgb_pair
    config = tiny(steps=12, val_every=0, val_seconds=2.5, checkpoint_every=0)
    events = list(train_iter(gray, target=rgb, config=config, device="cpu"))
    steps = [e.step for e in events if isinstance(e, Preview)]
    assert len(steps) >= 3 and steps[-1] == 12  # several by time, and one at the end
    assert steps == sorted(set(steps))
