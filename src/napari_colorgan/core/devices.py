"""Device selection and out-of-memory advice shared by training and inference."""

from __future__ import annotations

import torch


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``"auto"`` to CUDA, then Apple MPS, then CPU; check explicit choices exist.

    Raises
    ------
    ValueError
        The name is not a device torch knows (e.g. ``"gpu"``), or a CUDA or MPS device was
        asked for and is not available.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        # torch's own message lists two dozen backends; name the ones this package runs on.
        raise ValueError(
            f"unknown device {device!r}: use auto, cpu, cuda, cuda:N (an NVIDIA GPU) or mps"
        ) from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {device!r} is not supported: use auto, cpu, cuda:N or mps")
    if dev.type == "mps" and not _mps_available():
        raise ValueError(f"device {device!r} asked for, but Apple MPS is not available here")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return dev


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and bool(mps.is_available())


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (oneDNN's check: AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """Mixed-precision dtype for training on ``device``, or None for plain fp32.

    ``"auto"``: bf16 on CUDA that has it and on CPUs with native bf16 (a training step there
    took half the time of fp32), else fp32. ``"fp32"`` and ``"bf16"`` force it.
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


def out_of_memory_message(device: torch.device, setting: str) -> str:
    """An actionable message for an out-of-memory error."""
    return (
        f"out of memory on {device}: lower {setting} (or use a smaller preset / tile), "
        "then run again"
    )


def same_device(a: torch.device, b: torch.device) -> bool:
    """Whether ``a`` and ``b`` name the same device (``cuda`` is the current CUDA device)."""
    if a.type != b.type:
        return False
    if a.type == "cpu":
        return True
    current = torch.cuda.current_device() if a.type == "cuda" and torch.cuda.is_available() else 0
    index_a = current if a.index is None else a.index
    index_b = current if b.index is None else b.index
    return index_a == index_b
