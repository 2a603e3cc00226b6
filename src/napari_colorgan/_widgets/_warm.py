"""Torch loaded in the background as soon as a widget opens, not when its first run starts.

In a fresh napari session the first Start or Colorize click used to wait for its worker to
import torch (about 2 s on 2 cores) and, for training, ``torch._dynamo`` (another 2 s: torch's
optimisers import it when they are made), before any preview could come; and a thread
importing them holds Python's lock in long stretches (napari's thread was kept waiting up to
0.4 s at a time). A widget starts that import when it opens, while the user picks layers and
settings. Workers wait for it to finish before they import torch themselves: two threads
importing torch at once can fail (pytorch/pytorch#182560).
"""

from __future__ import annotations

import importlib
import sys
import threading

_LOCK = threading.Lock()
#: Modules still to import, in order, and the thread importing them (None: none running).
_PENDING: list[str] = []
_STATE: dict[str, threading.Thread | None] = {"thread": None}


def warm_up(*modules: str) -> None:
    """Import ``modules`` in order in one background thread, those not imported yet."""
    with _LOCK:
        _PENDING.extend(m for m in modules if m not in sys.modules and m not in _PENDING)
        if _PENDING and _STATE["thread"] is None:
            thread = threading.Thread(target=_import_pending, name="napari-colorgan warm-up")
            thread.daemon = True  # never holds up the end of a script
            _STATE["thread"] = thread
            thread.start()


def ready_for_torch() -> None:
    """Call in a worker before it may import torch: waits for a running warm-up to end."""
    thread = _STATE["thread"]
    if thread is not None and thread is not threading.current_thread():
        thread.join()


def _import_pending() -> None:
    while True:
        with _LOCK:
            if not _PENDING:
                _STATE["thread"] = None
                return
            name = _PENDING[0]
        try:
            importlib.import_module(name)
        except Exception:
            pass
        with _LOCK:
            _PENDING.remove(name)
