"""Test-time flips: a window through the network mirrored and turned, the outputs averaged.

The network learned from patches flipped and turned at random (the training sampler), so each
of the square's eight symmetries is an equally good view of a window. Averaging the outputs of
several views cancels part of each view's error: colour regresses closer to the mean, class
logits vote. The views come in a fixed order, so ``flips=n`` always means the same first ``n``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: A symmetry of the square as (transpose first, flip rows, flip columns); the identity first,
#: then the mirrors (no transpose: any window shape), then the transposed ones.
VIEWS: tuple[tuple[bool, bool, bool], ...] = (
    (False, False, False),
    (False, False, True),
    (False, True, False),
    (False, True, True),
    (True, False, False),
    (True, False, True),
    (True, True, False),
    (True, True, True),
)


def _mirrored(x: torch.Tensor, view: tuple[bool, bool, bool]) -> torch.Tensor:
    """``x`` (b, c, h, w) with the rows and columns ``view`` mirrors flipped."""
    dims = [d for d, on in ((-2, view[1]), (-1, view[2])) if on]
    return x.flip(dims) if dims else x


def _apply(x: torch.Tensor, view: tuple[bool, bool, bool]) -> torch.Tensor:
    """``x`` (b, c, h, w) seen in ``view``: transposed first, then mirrored."""
    return _mirrored(x.transpose(-2, -1) if view[0] else x, view)


def _undo(y: torch.Tensor, view: tuple[bool, bool, bool]) -> torch.Tensor:
    """The output ``y`` (b, k, h, w) of a view brought back to the window's own orientation."""
    y = _mirrored(y, view)
    return y.transpose(-2, -1) if view[0] else y


def flipped_mean(
    network: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, flips: int
) -> torch.Tensor:
    """The mean of ``network`` over the first ``flips`` views of ``x`` (b, c, h, w).

    Parameters
    ----------
    network
        Maps (b, c, h, w) to (b, k, h, w); fully convolutional, so a transposed window
        (b, c, w, h) is fine when both sides are multiples of its grid.
    x
        The network's input.
    flips
        How many views (1, 2, 4 or 8); 1 is one plain pass.

    Returns
    -------
    torch.Tensor
        (b, k, h, w), in the network's dtype with one view, else float32 (the sum is kept in
        fp32 so bf16 outputs average without rounding).
    """
    if flips == 1:
        return network(x)
    total: torch.Tensor | None = None
    for view in VIEWS[:flips]:
        y = _undo(network(_apply(x, view)), view).float()
        total = y if total is None else total + y
    assert total is not None  # flips >= 1
    return total / flips
