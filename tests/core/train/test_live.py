"""Live runs: planes repainted while training are taken in between steps."""

import numpy as np
import pytest
import torch

from napari_colorgan.core.events import AnnotationsChanged, Finished, StepDone
from napari_colorgan.core.model.config import InputNormalization
from napari_colorgan.core.train.config import TrainConfig
from napari_colorgan.core.train.data import AnnotatedStack
from napari_colorgan.core.train.distributed import current_world
from napari_colorgan.core.train.live import PaintedPlanes, take_painted
from napari_colorgan.core.train.loop import train_iter
from napari_colorgan.core.train.run import Run

PALETTE = {1: (230, 60, 50), 2: (40, 90, 255)}
NORM = InputNormalization("minmax", 0.0, 255.0)


def tiny(**overrides) -> TrainConfig:
    base = dict(preset="small", tile=32, batch_size=2, steps=8, perceptual_weights="none")
    return TrainConfig(**{**base, **overrides})


def strokes(depth: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A stack with two classes painted on planes 0 and 1 only."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (depth, 48, 48)).astype(np.uint8)
    labels = np.zeros(image.shape, np.int32)
    labels[:2, 4:8, 4:30] = 1
    labels[:2, 30:34, 10:40] = 2
    return image, labels


def test_painted_planes_keep_the_latest_copy_of_each_plane():
    painted = PaintedPlanes()
    plane = np.ones((4, 4), np.int32)
    painted.put((2,), plane)
    plane[:] = 5  # the painter goes on: the queued copy is unchanged
    painted.put((3,), plane)
    painted.put((2,), np.full((4, 4), 2, np.int32))
    taken = painted.take()
    assert sorted(taken) == [(2,), (3,)]
    assert (taken[(2,)] == 2).all() and (taken[(3,)] == 5).all()
    assert painted.take() == {}
    with pytest.raises(ValueError, match="must be 2D"):
        painted.put((0,), np.zeros((2, 4, 4)))


def test_rescan_follows_new_erased_and_unknown_strokes():
    image, labels = strokes()
    stack = AnnotatedStack(image, labels=labels, palette=PALETTE, normalization=NORM)
    assert stack.annotated == [(0,), (1,)]
    before = stack.class_counts.copy()
    labels[3, 10:12, 10:20] = 2
    labels[3, 40:42, 40:44] = 9  # an id the palette does not know
    assert stack.rescan((3,), labels[3]) == (9,)
    assert stack.annotated == [(0,), (1,), (3,)]
    assert (stack.class_counts - before).tolist() == [0, 20]
    assert set(stack.anchors[(3,)][:, 2]) == {1}  # class index 1 is label 2; 9 has none
    # A tile over the unknown id trains on it as unlabelled, not with an error.
    _gray, _rgb, mask, classes = stack.read_tile((3,), 32, 32, 16)
    assert not mask[0, 8:10, 8:12].any() and (classes[0, 8:10, 8:12] == -100).all()
    labels[1] = 0  # erased clean
    assert stack.rescan((1,), labels[1]) == ()
    assert stack.annotated == [(0,), (3,)] and (1,) not in stack.anchors
    assert stack.class_counts.tolist() == [before[0] // 2, before[1] // 2 + 20]


def test_rescan_of_an_unchanged_plane_is_a_no_op():
    image, labels = strokes()
    stack = AnnotatedStack(image, labels=labels, palette=PALETTE, normalization=NORM)
    anchors, counts = stack.anchors[(0,)].copy(), stack.class_counts.copy()
    stack.rescan((0,), labels[0])
    assert np.array_equal(stack.anchors[(0,)], anchors)
    assert np.array_equal(stack.class_counts, counts)


def test_planes_outside_the_chosen_slices_are_not_taken_in():
    image, labels = strokes()
    stack = AnnotatedStack(
        image, labels=labels, palette=PALETTE, normalization=NORM, slices=[0, 1]
    )
    labels[3, 10:12, 10:20] = 1
    assert stack.rescan((3,), labels[3]) == ()
    assert stack.annotated == [(0,), (1,)]


def run_painting(config: TrainConfig, labels: np.ndarray, image: np.ndarray, paint) -> list:
    """Train, calling ``paint(painted, step)`` after every step; the events."""
    painted = PaintedPlanes()
    events = []
    for event in train_iter(
        image, labels=labels, palette=PALETTE, config=config, device="cpu", painted=painted
    ):
        events.append(event)
        if isinstance(event, StepDone):
            paint(painted, event.step)
    return events


def test_a_plane_painted_mid_run_joins_training_within_a_step():
    image, labels = strokes()

    def paint(painted: PaintedPlanes, step: int) -> None:
        if step == 3:
            labels[2, 20:24, 5:25] = 1  # painted in place, as napari does
            labels[2, 40:42, 5:9] = 5  # a new id: the model has no class for it
            painted.put((2,), labels[2])

    events = run_painting(tiny(), labels, image, paint)
    changed = [e for e in events if isinstance(e, AnnotationsChanged)]
    assert len(changed) == 1
    change = changed[0]
    # Planes 0 and 1: one trains, one is held out; plane 2 now trains too.
    assert change.step == 3 and change.planes == ((2,),) and change.train_planes == 2
    assert change.unknown_labels == (5,)
    assert change.class_pixels == (2 * 4 * 26 + 80, 2 * 4 * 30)
    assert isinstance(events[-1], Finished) and events[-1].step == 8


def test_class_weights_and_regions_follow_the_new_counts():
    image, labels = strokes()
    stack = AnnotatedStack(image, labels=labels, palette=PALETTE, normalization=NORM)
    run = Run(tiny(class_balance=1.0), stack, torch.device("cpu"), None, current_world())
    weights = run.step_fn.class_weights.numpy()
    assert run.n_train == 1 and weights[0] / weights[1] == pytest.approx(240 / 208)
    painted = PaintedPlanes()
    assert take_painted(run, painted) is None  # nothing queued
    labels[0, 30:34, 10:40] = 0  # class 2 erased from plane 0
    painted.put((0,), labels[0])
    change = take_painted(run, painted)
    assert change.class_pixels == (2 * 4 * 26, 4 * 30)
    weights = run.step_fn.class_weights.numpy()
    assert weights[1] / weights[0] == pytest.approx(208 / 120)  # balance 1: ∝ 1 / share
    (z,) = trained = run.sampler.regions[0].plane
    labels[z] = 0  # the training plane erased clean: training keeps its old region
    painted.put(trained, labels[z])
    assert take_painted(run, painted).train_planes == 1
    assert [r.plane for r in run.sampler.regions] == [trained]
    labels[3, :4, :4] = 1  # then another plane painted: it replaces the erased one
    painted.put((3,), labels[3])
    assert take_painted(run, painted).train_planes == 1
    assert [r.plane for r in run.sampler.regions] == [(3,)]


def test_a_plane_also_used_for_validation_trains_again_once_repainted():
    # Regression: with nothing held out (val_fraction=0) every training plane is also a
    # validation plane; one erased clean and repainted was taken for held out and never
    # trained on again.
    image, labels = strokes()
    stack = AnnotatedStack(image, labels=labels, palette=PALETTE, normalization=NORM)
    run = Run(tiny(val_fraction=0.0), stack, torch.device("cpu"), None, current_world())
    assert [r.plane for r in run.sampler.regions] == [(0,), (1,)]
    painted = PaintedPlanes()
    painted.put((0,), np.zeros_like(labels[0]))
    assert take_painted(run, painted).train_planes == 1
    painted.put((0,), labels[0])
    assert take_painted(run, painted).train_planes == 2
    assert sorted(r.plane for r in run.sampler.regions) == [(0,), (1,)]
