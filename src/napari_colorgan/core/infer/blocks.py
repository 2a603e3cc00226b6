"""Tiled inference on one block of a plane: batched windows, blended in strips of rows."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from ..color import to_uint8
from ..devices import compute_dtype, out_of_memory_message, pick_device
from ..model.colorizer import Colorizer, network_input
from ..model.normalize import apply_normalization
from .flips import flipped_mean
from .payload import ModelPayload, cached_model
from .planner import Plan
from .tiling import AxisWindow, TilePlan, round_up

# One forward at a time per process and device: tiles are batched, so parallel blocks would only
# fight over the same cores or GPU memory.
_RUN_LOCK = threading.Lock()


@contextmanager
def _device_session(
    model: Colorizer, plan: Plan, as_uint8: bool = False
) -> Iterator[Callable[[list[np.ndarray]], list[np.ndarray]]]:
    """Inference mode and mixed precision for one block; gives a batch-colorizing function.

    It returns float32 RGB in [0, 1] for blending, or uint8 RGB with ``as_uint8`` (colour
    converted in strips of rows, about 5x faster on a CPU than float RGB then uint8). With
    ``plan.channels == 5`` (class maps) each window also carries its class probabilities
    (float, for blending) or its class index and confidence (uint8), see :func:`_outputs`.

    One autocast context per block, not per batch: autocast keeps its low-precision copy of
    each weight only while its context is open, so a context per batch would re-cast all the
    weights (54 M for pix2pix) for every batch.
    """
    dev = pick_device(plan.device)
    dtype = compute_dtype(dev, plan.precision)
    # Channels-last lets oneDNN / cuDNN pick their fast bf16 and fp16 kernels.
    channels_last = dev.type != "cpu" or dtype != torch.float32
    if channels_last:
        # Outside inference mode: there, new parameter storage would become inference
        # tensors, and the user could no longer train this model.
        with _RUN_LOCK, torch.no_grad():
            model.generator.to(memory_format=torch.channels_last)

    def forward(tiles: list[np.ndarray]) -> list[np.ndarray]:
        """Normalised windows (c, h, w) to RGB float32 (h, w, 3); one pass per shape.

        Windows of one block share a size, but a block's neighbours may differ (the last
        block of a plane is smaller): equal shapes in a row go through together.
        """
        out: list[np.ndarray] = []
        for _shape, same in itertools.groupby(tiles, key=np.shape):
            out.extend(forward_batch(list(same)))
        return out

    def forward_batch(tiles: list[np.ndarray]) -> list[np.ndarray]:
        """Normalised windows of one shape (c, h, w) to RGB float32 (h, w, 3)."""
        batch = torch.from_numpy(np.stack(tiles))
        if dev.type == "cuda":
            batch = batch.pin_memory()
        # One forward at a time per process: batches already fill the device, so parallel
        # ones would only fight over the same cores or GPU memory. Tiles are cut and
        # normalised outside the lock, overlapping another block's forward.
        with _RUN_LOCK:
            x = batch.to(dev, non_blocking=True)  # (b, c, s, s) in [0, 1]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            try:
                raw = flipped_mean(
                    model.generator, network_input(x), plan.flips
                )  # (b, 2|3|K, s, s)
            except torch.OutOfMemoryError:
                # As training does: name the settings to lower, for scripts, CLI and GUI alike.
                raise MemoryError(out_of_memory_message(dev, "batch_size or tile")) from None
            with torch.autocast(dev.type, enabled=False):  # colour conversion in fp32
                out = _outputs(model, raw, x, as_uint8, plan.channels == 5)
            return list(out.cpu().numpy())

    # Both are thread-local: other threads' blocks are not affected.
    with (
        torch.inference_mode(),
        torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32),
    ):
        yield forward


def _outputs(
    model: Colorizer, raw: torch.Tensor, x: torch.Tensor, as_uint8: bool, classes: bool
) -> torch.Tensor:
    """A batch's windows as (b, s, s, channels), from the raw output and the input ``x``.

    Float32 for blending: RGB in [0, 1], then with ``classes`` the K class probabilities.
    uint8: RGB, then with ``classes`` the top class's index and its probability times 255.
    """
    if as_uint8:
        if not torch.isfinite(raw).all():  # as uint8 NaN would pass as black
            raise ValueError(NOT_FINITE.format(where="in a window"))
        rgb8 = model.raw_to_rgb8(raw, x)  # (b, s, s, 3)
        if not classes:
            return rgb8
        confidence, index = model.class_probabilities(raw).max(1)  # (b, s, s) each
        level = (confidence * 255).round().to(torch.uint8)
        return torch.cat([rgb8, index.to(torch.uint8)[..., None], level[..., None]], -1)
    out = model.raw_to_rgb(raw.float(), x.float())  # (b, 3, s, s)
    if classes:
        out = torch.cat([out, model.class_probabilities(raw)], 1)  # (b, 3 + K, s, s)
    return out.permute(0, 2, 3, 1)


def finish_classes(blended: np.ndarray, out: np.ndarray) -> None:
    """Blended (k, w, 3 + K) RGB and class probabilities into uint8 (k, w, 5) ``out``."""
    to_uint8(blended[..., :3], out=out[..., :3])
    probs = blended[..., 3:]
    out[..., 3] = probs.argmax(-1)
    out[..., 4] = np.rint(probs.max(-1) * 255)


def colorize_region(
    model: Colorizer,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
    plan: Plan,
) -> np.ndarray:
    """Colorize output rows/cols ``region = (y0, y1, x0, x1)`` of one plane as float RGB.

    Parameters
    ----------
    model
        The colorizer (eval mode).
    window
        Raw input (c, y', x'): the plane (and context neighbours) from ``origin`` on, covering
        every tile that contributes to ``region``, cut at the plane's end.
    origin
        Plane coordinates of ``window[..., 0, 0]``.
    region
        Output rows ``[y0, y1)`` and columns ``[x0, x1)``.
    plan
        Tiling, device and precision.

    Returns
    -------
    np.ndarray
        float32 RGB (y1 - y0, x1 - x0, 3) in [0, 1].
    """
    strips: list[np.ndarray] = []
    colorize_strips(model, window, origin, region, plan, lambda _top, rgb: strips.append(rgb))
    return np.concatenate(strips)


def colorize_strips(
    model: Colorizer,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
    plan: Plan,
    emit: Callable[[int, np.ndarray], object],
) -> None:
    """Colorize ``region`` and hand it to ``emit`` in finished strips of rows, top to bottom.

    Windows run in row-major order, so once a row of windows is done, every output row above
    the next window row's first kept row is final. Only those strips (about one window row
    high) are ever accumulated: never a buffer the size of the region.

    ``emit(top, rgb)`` receives the strip's first row (plane coordinates) and its float32 RGB
    (k, x1 - x0, 3) in [0, 1], followed by the K class probabilities when
    ``plan.channels == 5``. It runs while the device is held, so it should be quick and
    should not use torch.
    """
    y0, y1, x0, x1 = region
    raw = _pad_at_plane_end(window, origin, plan)
    rows, cols = plan.windows(region)
    # Each window's blending weights, once: (keep1 - keep0,) per row / column of windows.
    w_rows = [_kept_weights(r, plan.tiling) for r in rows]
    w_cols = [_kept_weights(c, plan.tiling) for c in cols]
    # Window weights are products wy(y)·wx(x) on a grid, so their sum is separable too.
    total_y = np.maximum(_weight_sum(rows, w_rows, y0, y1), 1e-12)  # (y1 - y0,)
    total_x = np.maximum(_weight_sum(cols, w_cols, x0, x1), 1e-12)  # (x1 - x0,)
    channels = 3 + (len(model.config.classes) if plan.channels == 5 else 0)
    acc = np.zeros((0, x1 - x0, channels), np.float32)  # output rows [top, top + len(acc))
    top = y0
    for i, j, rgb in _window_colours(model, raw, origin, (rows, cols), plan, as_uint8=False):
        r = rows[i]
        if r.keep1 > top + len(acc):
            grow = np.zeros((r.keep1 - top - len(acc), x1 - x0, channels), np.float32)
            acc = np.concatenate([acc, grow])
        _accumulate(acc, rgb, r, cols[j], w_rows[i], w_cols[j], (top, x0))
        if j < len(cols) - 1:
            continue
        final = rows[i + 1].keep0 if i + 1 < len(rows) else y1
        if final > top:
            strip = acc[: final - top]
            strip /= total_y[top - y0 : final - y0, None, None]
            strip /= total_x[None, :, None]
            _check_finite(strip, top, final)
            emit(top, np.clip(strip, 0, 1, out=strip))
            acc, top = acc[final - top :], final


def _window_colours(
    model: Colorizer,
    raw: np.ndarray,
    origin: tuple[int, int],
    grid: tuple[list[AxisWindow], list[AxisWindow]],
    plan: Plan,
    as_uint8: bool,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Each window's colour (h, w, 3), row by row, computed in batches: (row, column, rgb).

    ``raw`` is the block's input, padded at the plane's end; float32 RGB in [0, 1], or uint8
    with ``as_uint8``. The consumer runs while the device session is open.
    """
    rows, cols = grid
    pairs = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    with _device_session(model, plan, as_uint8) as forward:
        for b in range(0, len(pairs), plan.batch_size):
            chunk = pairs[b : b + plan.batch_size]
            tiles = [_tile(raw, origin, rows[i], cols[j], model) for i, j in chunk]
            for (i, j), rgb in zip(chunk, forward(tiles), strict=True):
                yield i, j, rgb


NOT_FINITE = (
    "the network produced NaN/Inf colours ({where}): its weights may be corrupt, or fp16 "
    "overflowed (try precision fp32); nothing of it was kept"
)


def _check_finite(rgb: np.ndarray, top: int, bottom: int) -> None:
    """Refuse NaN/Inf colours: as uint8 they would be black, and a store would flag them done."""
    if not np.isfinite(rgb).all():
        raise ValueError(NOT_FINITE.format(where=f"rows {top}-{bottom}"))


def _pad_at_plane_end(window: np.ndarray, origin: tuple[int, int], plan: Plan) -> np.ndarray:
    """Past the plane's end, reflect exactly as whole-plane inference pads the plane."""
    grid = plan.tiling.grid
    reaches_y = origin[0] + window.shape[-2] == plan.height
    reaches_x = origin[1] + window.shape[-1] == plan.width
    pad_y = round_up(plan.height, grid) - plan.height if reaches_y else 0
    pad_x = round_up(plan.width, grid) - plan.width if reaches_x else 0
    if not (pad_y or pad_x):
        return window
    mode = "reflect" if min(window.shape[-2:]) > 1 else "edge"
    return np.pad(window, ((0, 0), (0, pad_y), (0, pad_x)), mode=mode)


def _tile(
    raw: np.ndarray, origin: tuple[int, int], r: AxisWindow, c: AxisWindow, model: Colorizer
) -> np.ndarray:
    """One window of the input, normalised: (c, size, size) float32 in [0, 1].

    Normalising per window (with the model's global statistics) rather than the whole input
    window avoids a float copy of the block; the values are the same.
    """
    ys = slice(r.start - origin[0], r.start - origin[0] + r.size)
    xs = slice(c.start - origin[1], c.start - origin[1] + c.size)
    return apply_normalization(raw[:, ys, xs], model.normalization)


def _kept_weights(w: AxisWindow, tiling: TilePlan) -> np.ndarray:
    """The blending weights of the pixels window ``w`` keeps, shape (keep1 - keep0,)."""
    return tiling.weights(w)[w.keep0 - w.start : w.keep1 - w.start]


def _weight_sum(
    windows: list[AxisWindow], weights: list[np.ndarray], lo: int, hi: int
) -> np.ndarray:
    """Sum over ``windows`` of their kept ``weights`` on ``[lo, hi)``, shape (hi - lo,)."""
    total = np.zeros(hi - lo, np.float32)
    for w, kept in zip(windows, weights, strict=True):
        total[w.keep0 - lo : w.keep1 - lo] += kept
    return total


def _accumulate(
    acc: np.ndarray,
    rgb: np.ndarray,
    r: AxisWindow,
    c: AxisWindow,
    wy: np.ndarray,
    wx: np.ndarray,
    at: tuple[int, int],
) -> None:
    """Add one window's kept pixels, weighted by ``wy ⊗ wx``, into the region's accumulator."""
    w = (wy[:, None] * wx[None, :])[..., None]  # (ky, kx, 1)
    part = rgb[r.keep0 - r.start : r.keep1 - r.start, c.keep0 - c.start : c.keep1 - c.start]
    acc[r.keep0 - at[0] : r.keep1 - at[0], c.keep0 - at[1] : c.keep1 - at[1]] += w * part


def block_task(
    payload: ModelPayload,
    plan: Plan,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
) -> np.ndarray:
    """One dask task: colorize a block; returns uint8 (y, x, plan.channels)."""
    return colorize_block(cached_model(payload, plan.device), plan, window, origin, region)


def colorize_block(
    model: Colorizer,
    plan: Plan,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
) -> np.ndarray:
    """Colorize output ``region`` (y0, y1, x0, x1) of a plane as uint8 RGB (y, x, 3).

    With ``plan.channels == 5``: (y, x, 5), RGB, the class index and the confidence (0-255).

    ``window`` is the raw input the plan's windows for ``region`` read
    (:meth:`~.planner.Plan.input_region`), shape (1 + 2·context, y', x') or (y', x'), its
    first pixel at plane coordinates ``origin``. Any region of any plan gives the pixels the
    whole plane gives there: the windows are the plane's, cut to the region.
    """
    window = np.asarray(window)
    planes = window.reshape((-1, *window.shape[-2:]))  # (1 + 2·context, y', x')
    y0, y1, x0, x1 = region
    out = np.empty((y1 - y0, x1 - x0, plan.channels), np.uint8)
    rows, cols = plan.windows(region)
    if any(w.fade0 or w.fade1 for w in rows + cols):  # blended windows share pixels
        finish = finish_classes if plan.channels == 5 else to_uint8

        def emit(top: int, blended: np.ndarray) -> None:
            finish(blended, out=out[top - y0 : top - y0 + len(blended)])

        colorize_strips(model, planes, origin, region, plan, emit)
        return out
    # Every pixel has one window (exact tiling, or one window): uint8 straight from the network.
    raw = _pad_at_plane_end(planes, origin, plan)
    for i, j, rgb in _window_colours(model, raw, origin, (rows, cols), plan, as_uint8=True):
        r, c = rows[i], cols[j]
        kept = rgb[r.keep0 - r.start : r.keep1 - r.start, c.keep0 - c.start : c.keep1 - c.start]
        out[r.keep0 - y0 : r.keep1 - y0, c.keep0 - x0 : c.keep1 - x0] = kept
    return out
