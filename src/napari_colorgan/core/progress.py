"""Terminal progress for scripts and the CLI: a tqdm bar over training events."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from napari_colorgan.core.events import Event, Started, StepDone


def drive_training(events: Iterator[Event]) -> Iterator[Event]:
    """Pass ``events`` through, showing a progress bar with the losses on stderr."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is optional
        yield from events
        return
    bar = None
    for event in events:
        if isinstance(event, Started):
            print(
                f"training on {event.device}: {event.train_planes} plane(s), "
                f"{event.val_planes} for validation; perceptual loss: {event.perceptual}",
                file=sys.stderr,
            )
            bar = tqdm(
                total=event.total_steps, initial=event.start_step, unit="step", file=sys.stderr
            )
        elif isinstance(event, StepDone) and bar is not None:
            bar.update(1)
            bar.set_postfix(G=f"{event.losses['g_total']:.3f}", D=f"{event.losses['d_real']:.3f}")
        yield event
    if bar is not None:
        bar.close()
