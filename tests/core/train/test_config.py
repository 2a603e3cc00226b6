"""``TrainConfig`` refuses every setting that would fail later, hang or train on nothing."""

import pytest

from napari_colorgan.core.train.config import TrainConfig

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"minutes": NAN}, "minutes must be a finite number > 0"),
        ({"minutes": 0}, "minutes must be a finite number > 0"),
        ({"minutes": -1.0}, "minutes must be a finite number > 0"),
        ({"lambda_l1": INF}, "lambda_l1 must be a finite number >= 0"),
        ({"lambda_l1": -100.0}, "lambda_l1 must be a finite number >= 0"),
        ({"gamma": NAN}, "gamma must lie in \\[0, 1\\]"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"tile": 0}, "tile 0 must be at least"),
        ({"tile": -64}, "tile -64 must be at least"),
        ({"gan_mode": "wgan"}, "gan_mode must be one of"),
        ({"normalize": "zscore"}, "normalize must be one of"),
        ({"val_every": -1}, "val_every must be >= 0"),
        ({"val_every": 0}, "both 0"),
        ({"val_seconds": float("nan")}, "val_seconds"),
        ({"val_seconds": -1.0}, "val_seconds"),
        ({"checkpoint_every": -1}, "checkpoint_every must be >= 0"),
        ({"beta1": 1.0}, "beta1 must lie in \\[0, 1\\)"),
        ({"beta1": NAN}, "beta1 must lie in \\[0, 1\\)"),
        ({"context": -1}, "context must be >= 0"),
        ({"decay_fraction": NAN}, "decay_fraction must lie in"),
        ({"class_balance": 1.5}, "class_balance must be 'auto' or lie in"),
        ({"class_balance": "dense"}, "class_balance must be 'auto' or lie in"),
        ({"class_balance": NAN}, "class_balance must be 'auto' or lie in"),
    ],
)
def test_bad_settings_are_refused_at_construction(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**settings)


def test_defaults_and_a_minutes_budget_are_accepted():
    TrainConfig()
    TrainConfig(minutes=0.5, checkpoint_every=0, lambda_l1=0.0)
