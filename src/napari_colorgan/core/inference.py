"""Lazy, tiled colorization: ``colorize`` builds a dask graph; blocks run the network on tiles.

The graph holds the model once (as serialised weights behind one key), so on a
``dask.distributed`` cluster each worker process deserialises it once and keeps it cached,
instead of a model travelling with every task.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .colorizer import Colorizer
from .devices import pick_device
from .normalize import apply_normalization
from .tiling import AxisWindow, TilePlan, round_up

Precision = Literal["auto", "fp32", "bf16", "fp16"]
#: Output block side (pixels) for planes too large to compute as one block.
BLOCK = 4096


@dataclass(frozen=True)
class ModelPayload:
    """A colorizer as bytes (safetensors + metadata) with a content hash for caching."""

    token: str
    data: bytes


def model_payload(colorizer: Colorizer) -> ModelPayload:
    """Serialise ``colorizer`` to bytes, hashed, to travel once through a dask graph.

    Memoised on the colorizer while its weights are unchanged (tensor versions), since
    serialising and hashing a pix2pix generator takes seconds.
    """
    params = colorizer.generator.state_dict().values()
    version = tuple((t.data_ptr(), t._version) for t in params)
    memo = getattr(colorizer, "_payload_memo", None)
    if memo is not None and memo[0] == version:
        return memo[1]
    payload = _serialise(colorizer)
    colorizer._payload_memo = (version, payload)  # type: ignore[attr-defined]
    return payload


def _serialise(colorizer: Colorizer) -> ModelPayload:
    import json

    from safetensors.torch import save

    from .model_file import FORMAT_NAME, FORMAT_VERSION

    meta = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION)}
    meta.update({k: json.dumps(v, sort_keys=True) for k, v in colorizer.metadata().items()})
    state = {k: v.detach().cpu().contiguous() for k, v in colorizer.generator.state_dict().items()}
    data = save(state, metadata=meta)
    # The token names what computes the colours (weights, architecture, input scaling), not
    # when the file was made, so a resumed job recognises the same model.
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].numpy().tobytes())
    for doc in (colorizer.config.to_dict(), colorizer.normalization.to_dict()):
        digest.update(json.dumps(doc, sort_keys=True).encode())
    return ModelPayload(digest.hexdigest()[:16], data)


_CACHE: dict[tuple[str, str], Colorizer] = {}
_CACHE_LOCK = threading.Lock()
# One forward at a time per process and device: tiles are batched, so parallel blocks would only
# fight over the same cores or GPU memory.
_RUN_LOCK = threading.Lock()


def remember_model(payload: ModelPayload, device: str, colorizer: Colorizer) -> None:
    """Let tasks in this process use ``colorizer`` itself instead of rebuilding it from bytes."""
    if pick_device(device) == colorizer.device:
        colorizer.generator.eval()
        with _CACHE_LOCK:
            _CACHE[(payload.token, device)] = colorizer


def cached_model(payload: ModelPayload, device: str) -> Colorizer:
    """The colorizer of ``payload`` on ``device``, built once per process."""
    key = (payload.token, device)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.safetensors"
                path.write_bytes(payload.data)
                model = Colorizer.load(path, device=pick_device(device))
            if len(_CACHE) >= 4:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = model
        return model


def resolve_precision(precision: Precision, device: torch.device) -> torch.dtype:
    """The compute dtype: ``auto`` is bf16 (or fp16) on CUDA and fp32 elsewhere."""
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in table:
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
    return table[precision]


@dataclass(frozen=True)
class BlockJob:
    """What a block task needs besides its input window and the model."""

    plan: TilePlan
    height: int
    width: int
    device: str
    precision: str
    batch_size: int


def _run_windows(model: Colorizer, tiles: list[np.ndarray], job: BlockJob) -> list[np.ndarray]:
    """Colorize normalised windows (c, s, s) in batches; returns RGB float32 (s, s, 3) each."""
    dev = pick_device(job.device)
    dtype = resolve_precision(job.precision, dev)  # type: ignore[arg-type]
    # Channels-last lets oneDNN / cuDNN pick their fast bf16 and fp16 kernels.
    channels_last = dev.type != "cpu" or dtype != torch.float32
    out: list[np.ndarray] = []
    with _RUN_LOCK, torch.inference_mode():
        if channels_last:
            model.generator.to(memory_format=torch.channels_last)  # once per call, not per batch
        for i in range(0, len(tiles), job.batch_size):
            batch = torch.from_numpy(np.stack(tiles[i : i + job.batch_size]))
            if dev.type == "cuda":
                batch = batch.pin_memory()
            x = batch.to(dev, non_blocking=True)  # (b, c, s, s) in [0, 1]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32):
                raw = model.generator(2 * x - 1)  # (b, 2|3, s, s)
            rgb = model.output_to_rgb(raw.float(), x.float())  # colour conversion in fp32
            out.extend(rgb.permute(0, 2, 3, 1).cpu().numpy())
    return out


def colorize_region(
    model: Colorizer,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
    job: BlockJob,
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
    job
        Tiling, device and precision.

    Returns
    -------
    np.ndarray
        float32 RGB (y1 - y0, x1 - x0, 3) in [0, 1].
    """
    plan = job.plan
    oy, ox = origin
    y0, y1, x0, x1 = region
    norm = apply_normalization(window, model.normalization)  # (c, y', x') in [0, 1]
    # Past the plane's end, reflect exactly as whole-plane inference pads the plane.
    pad_y = (
        round_up(job.height, plan.grid) - job.height if oy + norm.shape[-2] == job.height else 0
    )
    pad_x = round_up(job.width, plan.grid) - job.width if ox + norm.shape[-1] == job.width else 0
    if pad_y or pad_x:
        h, w = norm.shape[-2:]
        mode = "reflect" if min(h, w) > 1 else "edge"
        norm = np.pad(norm, ((0, 0), (0, pad_y), (0, pad_x)), mode=mode)
    rows, cols = plan.windows(job.height, y0, y1), plan.windows(job.width, x0, x1)
    pairs = [(r, c) for r in rows for c in cols]
    acc = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
    total = np.zeros((y1 - y0, x1 - x0, 1), np.float32)
    # Stream batch by batch: only one batch of tiles and outputs is alive at a time.
    for i in range(0, len(pairs), job.batch_size):
        chunk = pairs[i : i + job.batch_size]
        tiles = [
            norm[:, r.start - oy : r.start - oy + r.size, c.start - ox : c.start - ox + c.size]
            for r, c in chunk
        ]
        for (r, c), rgb in zip(chunk, _run_windows(model, tiles, job), strict=True):
            _accumulate(acc, total, rgb, r, c, (y0, x0), plan, job)
    return np.clip(acc / np.maximum(total, 1e-12), 0, 1)


def _accumulate(
    acc: np.ndarray,
    total: np.ndarray,
    rgb: np.ndarray,
    r: AxisWindow,
    c: AxisWindow,
    at: tuple[int, int],
    plan: TilePlan,
    job: BlockJob,
) -> None:
    """Add one window's kept pixels, weighted, into the region's accumulators."""
    wy = plan.weights(r, job.height)[r.keep0 - r.start : r.keep1 - r.start]
    wx = plan.weights(c, job.width)[c.keep0 - c.start : c.keep1 - c.start]
    w = (wy[:, None] * wx[None, :])[..., None]  # (ky, kx, 1)
    part = rgb[r.keep0 - r.start : r.keep1 - r.start, c.keep0 - c.start : c.keep1 - c.start]
    ys = slice(r.keep0 - at[0], r.keep1 - at[0])
    xs = slice(c.keep0 - at[1], c.keep1 - at[1])
    acc[ys, xs] += w * part
    total[ys, xs] += w


def _block_task(
    payload: ModelPayload,
    job: BlockJob,
    window: np.ndarray,
    origin: tuple[int, int],
    region: tuple[int, int, int, int],
) -> np.ndarray:
    """One dask task: colorize a block; returns uint8 (y, x, 3)."""
    model = cached_model(payload, job.device)
    window = np.asarray(window)
    planes = window.reshape((-1, *window.shape[-2:]))  # (1 + 2·context, y', x')
    rgb = colorize_region(model, planes, origin, region, job)
    return (rgb * 255 + 0.5).astype(np.uint8)
