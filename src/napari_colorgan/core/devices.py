"""Device selection and out-of-memory advice shared by training and inference."""

from __future__ import annotations

import torch

from .settings import Precision as Precision  # re-exported: where it was defined before


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


#: Compute precision, one meaning for training and inference. ``fp16`` is for inference only
#: (training in fp16 would need loss scaling).
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def compute_dtype(device: torch.device, precision: str = "auto") -> torch.dtype:
    """The dtype work on ``device`` computes in, for training and inference alike.

    ``"auto"``: bf16 on CUDA that has it (fp16 on older CUDA GPUs) and on CPUs with native
    bf16 (a training step and a forward pass there took half the time of fp32), else fp32.
    ``"fp32"``, ``"bf16"`` and ``"fp16"`` force it.

    Raises
    ------
    ValueError
        ``precision`` is not one of :data:`Precision`.
    """
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "cpu" and cpu_has_bf16():
            return torch.bfloat16
        return torch.float32
    if precision not in _DTYPES:
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
    return _DTYPES[precision]


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` as a person reads it: ``bf16``."""
    return {v: k for k, v in _DTYPES.items()}.get(dtype, str(dtype).removeprefix("torch."))


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """Mixed-precision dtype for training on ``device``, or None for plain fp32.

    The same rule as :func:`compute_dtype`; fp16 is refused (training has no loss scaling).
    """
    if precision == "fp16":
        raise ValueError("precision fp16 is for inference: train with auto, fp32 or bf16")
    dtype = compute_dtype(device, precision)
    if dtype == torch.float16:  # auto on a CUDA GPU without bf16: plain fp32 for training
        return None
    return None if dtype == torch.float32 else dtype


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
