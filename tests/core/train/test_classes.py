"""Class models: trained from labels as a class-balanced classifier, coloured by the palette."""

import numpy as np
import pytest
import torch

from napari_colorgan.core.annotations import tint
from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig
from napari_colorgan.core.train.config import STROKES_BALANCE, TrainConfig, resolve_balance
from napari_colorgan.core.train.data import IGNORE, AnnotatedStack
from napari_colorgan.core.train.loop import train
from napari_colorgan.core.train.sampler import PatchSampler, split_regions
from napari_colorgan.core.train.step import class_cross_entropy, class_weights

PALETTE = {1: (230, 60, 50), 7: (40, 90, 255)}
NORM = InputNormalization("minmax", 0.0, 255.0)


def test_auto_objective_is_classes_with_labels_and_colour_otherwise():
    assert TrainConfig().model_config(PALETTE).classes == ((1, 230, 60, 50), (7, 40, 90, 255))
    assert TrainConfig().model_config(None).classes == ()
    assert TrainConfig(objective="color").model_config(PALETTE).classes == ()
    with pytest.raises(ValueError, match="needs labels"):
        TrainConfig(objective="classes").uses_classes(None)
    with pytest.raises(ValueError, match="lab"):
        TrainConfig(objective="classes", color_space="rgb")


def test_the_critic_is_opt_in_and_sets_pix2pix_learning_rate():
    auto = TrainConfig().resolved(classes=True)
    assert auto.objective == "classes" and auto.adversarial is False and auto.lr == 1e-3
    gan = TrainConfig(adversarial=True).resolved(classes=False, color_space="rgb")
    assert gan.objective == "color" and gan.lr == 2e-4 and gan.color_space == "rgb"
    forced = TrainConfig(adversarial=True, lr=5e-4).resolved(classes=True)
    assert forced.adversarial is True and forced.lr == 5e-4


def test_patch_centres_are_balanced_between_classes():
    labels = np.zeros((1, 128, 128), np.uint8)
    labels[0, :, :100] = 1  # a big class
    labels[0, 60:62, 120:122] = 7  # four pixels of a small one
    image = np.full((1, 128, 128), 100, np.uint8)
    stack = AnnotatedStack(image, labels=labels, palette=PALETTE, normalization=NORM)
    assert stack.class_counts.tolist() == [12800, 4]
    sampler = PatchSampler(stack, split_regions(stack, 16, 0.0)[0], 16)
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(400):
        y, x = sampler._position(sampler.regions[0], rng)
        hits += bool((labels[0, y : y + 16, x : x + 16] == 7).any())
    # The small class covers 0.03 % of the labels but is in ~45 % of the patches (0.9 / 2).
    assert 0.35 < hits / 400 < 0.6


def test_batches_carry_class_indices_with_unlabelled_ignored():
    labels = np.zeros((2, 32, 32), np.uint8)
    labels[:, 4:8, 4:8] = 7
    stack = AnnotatedStack(
        np.zeros((2, 32, 32), np.uint8), labels=labels, palette=PALETTE, normalization=NORM
    )
    batch = PatchSampler(stack, split_regions(stack, 32, 0.0)[0], 32).sample(
        2, np.random.default_rng(0)
    )
    assert batch.classes.shape == (2, 32, 32) and batch.classes.dtype == torch.int64
    assert set(batch.classes.unique().tolist()) == {IGNORE, 1}  # label 7 is class 1
    assert torch.equal(batch.classes != IGNORE, batch.mask[:, 0] > 0)


def test_class_weights_balance_and_keep_the_loss_scale():
    w = class_weights(np.array([900, 100, 0]), balance=1.0)
    share = np.array([0.9, 0.1, 0.0])
    assert float((share * w.numpy()).sum()) == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(9.0) and w[2] == 0
    assert torch.equal(class_weights(np.array([3, 1]), 0.0), torch.ones(2))


def test_auto_balance_is_plain_for_dense_labels_and_balanced_for_strokes():
    dense = np.ones((2, 32, 32), np.uint8)
    dense[:, :, 16:] = 7
    strokes = np.zeros((2, 32, 32), np.uint8)
    strokes[0, 4:6, 2:30], strokes[1, 20:22, 2:30] = 1, 7  # a stroke of 56 px a plane
    image = np.zeros((2, 32, 32), np.uint8)
    shares = [
        AnnotatedStack(image, labels=lab, palette=PALETTE, normalization=NORM).labelled_share
        for lab in (dense, strokes)
    ]
    assert shares == [1.0, pytest.approx(112 / 2048)]
    assert resolve_balance("auto", shares[0]) == 0.0
    assert resolve_balance("auto", shares[1]) == STROKES_BALANCE
    assert resolve_balance(0.25, shares[0]) == 0.25  # a number is kept
    assert TrainConfig().resolved(True, labelled_share=1.0).class_balance == 0.0
    assert TrainConfig().resolved(True).class_balance == "auto"  # no data: undecided


def test_cross_entropy_ignores_unlabelled_pixels_and_is_zero_without_any():
    logits = torch.randn(1, 2, 4, 4)
    classes = torch.full((1, 4, 4), IGNORE)
    assert class_cross_entropy(logits, classes, None) == 0
    classes[0, 0, 0] = 1
    other = logits.clone()
    other[..., 1:, :] = 100.0  # change only unlabelled pixels' logits
    assert class_cross_entropy(logits, classes, None) == class_cross_entropy(other, classes, None)


def test_class_model_in_eval_mode_paints_exactly_the_tint():
    config = ModelConfig(num_downs=3, ngf=4, tile=16, classes=((1, 230, 60, 50), (7, 40, 90, 255)))
    model = Colorizer.from_config(config)
    model.generator.eval()
    gray = torch.rand(1, 1, 16, 16)
    logits = torch.zeros(1, 2, 16, 16)
    logits[:, 1, :, 8:] = 5.0  # right half: class 1 (label 7)
    rgb = model.raw_to_rgb(logits, gray)[0].permute(1, 2, 0).numpy()
    labels = np.where(np.arange(16) < 8, 1, 7)[None].repeat(16, 0)
    expected, _ = tint(gray[0, 0].numpy(), labels, PALETTE)
    np.testing.assert_allclose(rgb, expected, atol=1e-4)


def test_the_class_bias_undoes_the_balancing_in_every_decision():
    classes = ((1, 230, 60, 50), (7, 40, 90, 255))
    model = Colorizer.from_config(ModelConfig(num_downs=3, ngf=4, tile=16, classes=classes))
    model.generator.eval()
    logits = torch.zeros(1, 2, 4, 4)
    logits[:, 1] = 0.5  # class 1 is ahead, but it was weighed up 3x in training
    model.set_class_bias(class_weights(np.array([900, 100]), balance=0.5))
    assert model.config.class_bias[1] < model.config.class_bias[0]
    probs = model.class_probabilities(logits)
    assert (probs.argmax(1) == 0).all()
    np.testing.assert_allclose(probs.sum(1).numpy(), 1, atol=1e-6)
    chroma = model.color_output(logits)  # the colour decides the same way
    torch.testing.assert_close(chroma[0, :, 0, 0], model.class_chroma()[0])
    with pytest.raises(ValueError, match="class_bias has 1 entries for 2 classes"):
        ModelConfig(classes=classes, class_bias=(0.0,))


def test_class_model_file_round_trip(tmp_path):
    config = ModelConfig(num_downs=3, ngf=4, tile=16, classes=((1, 230, 60, 50),))
    loaded = Colorizer.load(Colorizer.from_config(config).save(tmp_path / "m.safetensors"))
    assert loaded.config == config and loaded.config.out_channels == 1


def test_strokes_train_a_class_model_that_separates_two_textures():
    rng = np.random.default_rng(0)
    image = np.where(np.arange(64)[None, :] < 32, 60, 190).repeat(64, 0)  # (64, 64)
    image = np.stack([image + rng.integers(-10, 10, (64, 64)) for _ in range(2)]).astype(np.uint8)
    labels = np.zeros_like(image)
    labels[:, 10:14, 4:28] = 1  # strokes on each texture
    labels[:, 40:44, 36:60] = 7
    config = TrainConfig(
        tile=32, batch_size=4, steps=60, lr=2e-3, adversarial=False, perceptual_weights="none"
    )
    model = train(image, labels=labels, palette=PALETTE, config=config, device="cpu")
    assert model.config.classes
    counts = np.array([(labels == 1).sum(), (labels == 7).sum()])  # both planes train
    expected = -np.log(class_weights(counts, STROKES_BALANCE).numpy())  # strokes: balanced
    np.testing.assert_allclose(model.config.class_bias, expected, rtol=0.05)
    assert model.training["class_balance"] == STROKES_BALANCE  # stored as decided
    rgb = model.colorize_plane(image[0])
    left, right = rgb[:, :28].reshape(-1, 3).mean(0), rgb[:, 36:].reshape(-1, 3).mean(0)
    assert left[0] > left[2] and right[2] > right[0]  # reddish left, bluish right


def test_dense_labels_train_with_plain_cross_entropy():
    image = np.where(np.arange(32)[None, :] < 12, 60, 190).repeat(32, 0)[None].astype(np.uint8)
    labels = np.where(image < 100, 1, 7).astype(np.uint8)  # every pixel: 3/8 and 5/8
    config = TrainConfig(
        tile=32, batch_size=2, steps=2, adversarial=False, perceptual_weights="none"
    )
    model = train(image, labels=labels, palette=PALETTE, config=config, device="cpu")
    assert model.training["class_balance"] == 0.0
    np.testing.assert_allclose(model.config.class_bias, 0.0, atol=1e-6)  # nothing to undo
