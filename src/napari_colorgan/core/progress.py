"""Terminal progress for scripts and the CLI: tqdm bars over training and colorization events.

tqdm is optional: without it the events pass through unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from .events import Event, Planned, Progress, Started, StepDone


def _bar(total: int | None, initial: int, unit: str) -> Any:
    """A tqdm bar on stderr, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is optional
        return None
    return tqdm(total=total, initial=initial, unit=unit, file=sys.stderr)


def _close(bar: Any) -> None:
    """End the bar's line, also when the work failed: an error message then starts its own line.

    Without this the bar stayed open while the exception's traceback held the generator, and
    the CLI's error line was printed onto the end of the bar.
    """
    if bar is not None:
        bar.close()


def print_planned(event: Planned) -> None:
    """Say on stderr how a colorization tiles its planes, and why."""
    print(f"{event.tiling}\n  why: {event.why}", file=sys.stderr)
    if event.notice:
        print(f"  note: {event.notice}", file=sys.stderr)


def drive_training(events: Iterator[Event]) -> Iterator[Event]:
    """Pass training ``events`` through, showing a progress bar with the losses on stderr."""
    bar = None
    try:
        for event in events:
            if isinstance(event, Started):
                print(
                    f"training on {event.device} ({event.precision}): "
                    f"{event.train_planes} plane(s), {event.val_planes} for validation; "
                    f"perceptual loss: {event.perceptual}",
                    file=sys.stderr,
                )
                bar = _bar(event.total_steps, event.start_step, "step")
            elif isinstance(event, StepDone) and bar is not None:
                bar.update(1)
                losses = event.losses
                bar.set_postfix(G=f"{losses['g_total']:.3f}", D=f"{losses['d_real']:.3f}")
            yield event
    finally:
        _close(bar)


def drive_chunks(events: Iterator[Event], megapixels: float | None = None) -> Iterator[Event]:
    """Pass colorization ``events`` through, showing chunks done (and MP/s) on stderr.

    Parameters
    ----------
    events
        From :func:`~napari_colorgan.core.infer.zarr_store.colorize_to_zarr_iter`.
    megapixels
        Size of the whole job; when given, the bar also shows the throughput.
    """
    bar: Any = None
    try:
        for event in events:
            if isinstance(event, Planned):
                print_planned(event)
            if isinstance(event, Progress):
                bar = bar or _bar(event.total, event.done, "chunk")
                if bar is not None:
                    bar.update(event.done - bar.n)
                    if megapixels and event.elapsed > 0:
                        done = (event.done - event.skipped) / event.total
                        bar.set_postfix_str(f"{done * megapixels / event.elapsed:.2f} MP/s")
            yield event
    finally:
        _close(bar)
