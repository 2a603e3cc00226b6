"""Data-parallel training under ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node N -m napari_colorgan.cli train ...`` (or a script calling
:func:`~napari_colorgan.train`) starts N processes; each samples its own patches, gradients are
averaged across them, and only rank 0 validates and writes checkpoints and the model file.
GPUs use NCCL and synchronised batch norm; CPUs use gloo with per-process batch norm (torch's
SyncBatchNorm runs on GPUs only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    """The place of the current process among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True for the process that validates and writes files."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        """True when more than one process trains."""
        return self.size > 1


def current_world() -> World:
    """Join the process group ``torchrun`` describes in the environment, if any."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return World(rank, size, local)


def device_for(world: World, device: torch.device) -> torch.device:
    """One GPU per process: ``cuda:LOCAL_RANK`` when training on CUDA."""
    if world.parallel and device.type == "cuda":
        torch.cuda.set_device(world.local_rank)
        return torch.device("cuda", world.local_rank)
    return device


def wrap(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``module`` (with SyncBatchNorm on GPUs)."""
    if not world.parallel:
        return module
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        return DistributedDataParallel(module, device_ids=[device.index])
    return DistributedDataParallel(module)


def barrier(world: World) -> None:
    """Wait for every process (e.g. until rank 0 has written a checkpoint)."""
    if world.parallel:
        dist.barrier()


def any_process(flag: bool, world: World) -> bool:
    """True if ``flag`` is true in any process: keeps every process stopping at the same step."""
    if not world.parallel:
        return flag
    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
