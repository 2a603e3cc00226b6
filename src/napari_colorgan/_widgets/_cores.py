"""One CPU core left to napari's own thread while a worker runs torch beside it.

Torch starts one intra-op thread per core. Beside napari's GUI thread that oversubscribes the
CPU: on 2 cores the GUI thread waited for a core behind torch's two (spinning) OpenMP threads,
the viewer stalled for up to 0.5 s at a time while training and the steps themselves ran 3x
slower (``benchmarks/gui_block_train.py``); the colour layer's tiles likewise drew napari's
refreshes out past napari's own cost (``benchmarks/big_view_napari.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
#: Workers holding the cap now, torch's thread count before the first of them, the cap.
_HELD = {"workers": 0, "before": 0, "threads": 1}


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def leaving_a_core_to_napari() -> Iterator[int]:
    """Cap torch's CPU threads at one fewer than the cores while the block runs.

    Training and colour layers may run at once: the first to enter caps, the last to leave
    restores torch's own count (the count is process-wide).

    Yields
    ------
    int
        The thread count the block runs with.
    """
    import torch

    with _LOCK:
        if _HELD["workers"] == 0:
            _HELD["before"] = torch.get_num_threads()
            _HELD["threads"] = max(1, min(_HELD["before"], usable_cores() - 1))
            torch.set_num_threads(_HELD["threads"])
        _HELD["workers"] += 1
        threads = _HELD["threads"]
    try:
        yield threads
    finally:
        with _LOCK:
            _HELD["workers"] -= 1
            if _HELD["workers"] == 0:
                torch.set_num_threads(_HELD["before"])
