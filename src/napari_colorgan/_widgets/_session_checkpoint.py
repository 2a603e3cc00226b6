"""Where the Train widget keeps its session checkpoint: the user cache, the newest few kept.

It used to sit in a fresh folder under the system's temporary directory, made for every widget
and left there (15 MB for a small model) after the viewer closed. Now it lives in
``<user cache>/sessions/<time>-<pid>/``, the folder is made only when a checkpoint is written,
and starting a training removes all but the :data:`KEEP` newest sessions. A training stopped by
the viewer closing writes its checkpoint there and says where, so it can be resumed with
``napari-colorgan train ... --resume PATH``.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Session folders kept (the newest), so the cache stays bounded.
KEEP = 3


def sessions_dir() -> Path:
    """The folder holding the Train widget's session checkpoints."""
    from napari_colorgan.core.model.vgg import weights_dir

    return weights_dir().parent / "sessions"  # beside the weights, in the user cache


def new_session_checkpoint() -> Path:
    """A checkpoint path for a new session (its folder is made when it is written)."""
    import os

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return sessions_dir() / f"{stamp}-{os.getpid()}" / "session.ckpt.safetensors"


def prune(keeping: Path) -> None:
    """Remove all but the :data:`KEEP` newest session folders, never ``keeping``'s."""
    folders = sorted(
        (p for p in sessions_dir().glob("*") if p.is_dir() and p != keeping.parent),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


#: Checkpoints already announced (each is said once).
_TOLD: set[Path] = set()


def tell_where(checkpoint: Path) -> None:
    """Say on stderr where the session's training checkpoint stays once the widget is gone."""
    if checkpoint.exists() and checkpoint not in _TOLD:
        _TOLD.add(checkpoint)
        print(
            f"napari-colorgan: the Train widget closed; its training's checkpoint is "
            f"{checkpoint} (continue with `napari-colorgan train ... --resume {checkpoint}`)",
            file=sys.stderr,
        )


def closing(stop: Any, running: dict[str, Any], checkpoint: Path) -> Callable[[], None]:
    """What the Train widget does when it is deleted: stop, then say where the checkpoint is.

    Built from the objects themselves, not the widget, whose attributes may be gone by then.
    """

    def closed() -> None:
        import atexit

        stop.set()
        running["closed"] = True  # events still on their way are dropped, not shown
        worker = running.get("worker")
        if worker is None:  # ended already (napari waits for its workers as it closes)
            tell_where(checkpoint)
            return
        worker.finished.connect(lambda: tell_where(checkpoint))
        # The worker may have finished just before this connection: said at exit, then.
        atexit.register(tell_where, checkpoint)

    return closed
