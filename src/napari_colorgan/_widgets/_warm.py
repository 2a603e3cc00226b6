"""Torch loaded in the background as soon as a widget opens, not when its first run starts.

In a fresh napari session the first Start or Colorize click used to wait for its worker to
import torch (about 2 s on 2 cores) and, for training, ``torch._dynamo`` (another 2 s: torch's
optimisers import it when they are made), before any preview could come; and a thread
importing them holds Python's lock in long stretches (napari's thread was kept waiting up to
0.4 s at a time). A widget starts that import when it opens, while the user picks layers and
settings. Workers wait for it to finish before they import torch themselves: two threads
importing torch at once can fail (pytorch/pytorch#182560).

Whoever imports torch first loads its shared libraries beforehand with Python's lock released
(``map_torch_libraries``): Python loads an extension module holding that lock, which kept
napari's thread waiting 0.2-0.6 s while libtorch was relocated. A colour layer added from the
console in a fresh session loads torch in its worker only after napari's first draw of the
layer (``after_napari_draws``), which otherwise waited for the library loading.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
import threading
from pathlib import Path

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


#: torch's CPU libraries, the bulk of its loading time (Linux wheels). Not those that pull in
#: CUDA: torch finds its own CUDA libraries in an order of its own.
TORCH_LIBRARIES = ("libc10.so", "libtorch_cpu.so")
#: How long napari's event loop runs after a layer is added before its worker may load torch.
FIRST_DRAW_MS = 250
#: The longest a worker waits for that (a script may run no event loop at all).
FIRST_DRAW_WAIT_S = 1.0


def ready_for_torch(after: threading.Event | None = None) -> None:
    """Call in a worker before it may import torch: waits for a running warm-up to end.

    ``after`` (from :func:`after_napari_draws`): if torch is still to be loaded, wait for
    napari's first draw of a new layer too, which must not share the CPU and the loader with it.
    """
    thread = _STATE["thread"]
    if thread is not None and thread is not threading.current_thread():
        thread.join()
    if after is not None and not torch_loaded():
        after.wait(FIRST_DRAW_WAIT_S)
    map_torch_libraries()


def torch_loaded() -> bool:
    """Whether torch is imported in this process (a fresh napari session: not yet)."""
    return "torch" in sys.modules


def after_napari_draws() -> threading.Event:
    """An event set once napari's event loop has run :data:`FIRST_DRAW_MS` from now.

    Call on napari's thread right after adding a layer: napari draws it first thing, and a
    timer fires only when the loop is free again, so the event comes after that draw. The draw
    compiles shaders in software OpenGL, which looks up symbols under the dynamic loader's lock;
    loading torch's libraries at the same moment held napari there (0.5-0.6 s, 2 cores).
    """
    from qtpy.QtCore import QTimer

    drawn = threading.Event()
    QTimer.singleShot(FIRST_DRAW_MS, drawn.set)
    return drawn


def map_torch_libraries() -> list[str]:
    """Load torch's shared libraries with Python's lock released, before ``import torch``.

    Python loads an extension module while holding its lock, and ``torch._C`` pulls in
    libtorch_cpu (hundreds of megabytes to relocate): 0.2-0.6 s in one hold on a 2-core CPU,
    all that time napari's thread cannot run. A ctypes call releases the lock, so loading the
    libraries first leaves ``import torch`` only holds of about 0.06 s. Returns the libraries
    loaded (none once torch is imported, or off Linux).
    """
    if torch_loaded() or not sys.platform.startswith("linux"):
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    dlopen = ctypes.CDLL(None).dlopen  # a foreign call: Python's lock is released in it
    dlopen.argtypes, dlopen.restype = (ctypes.c_char_p, ctypes.c_int), ctypes.c_void_p
    loaded = []
    for name in TORCH_LIBRARIES:
        path = folder / name
        # Never closed: torch's import finds them loaded and uses them.
        if path.is_file() and dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_LOCAL):
            loaded.append(name)
    return loaded


def _import_pending() -> None:
    while True:
        with _LOCK:
            if not _PENDING:
                _STATE["thread"] = None
                return
            name = _PENDING[0]
        try:
            if name == "torch":
                map_torch_libraries()
            importlib.import_module(name)
        except Exception:
            pass
        with _LOCK:
            _PENDING.remove(name)
