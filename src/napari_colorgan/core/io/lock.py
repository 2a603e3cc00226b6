"""One writer per output: a lock file beside it, taken over once its owner has gone.

Two runs writing one store at once (two ``--overwrite`` runs of different inputs, say) mixed
their chunks into a store flagged finished. The lock ``.NAME.lock`` holds the owner's process
id and host; a second writer is refused in one line naming them, and a lock whose process is
gone (killed) is taken over.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .atomic import alive, sibling


def _owner(lock: Path) -> tuple[int, str] | None:
    """(pid, host) written in ``lock``, or None when it cannot be read (being written)."""
    try:
        pid, host = lock.read_text().split()
        return int(pid), host
    except (OSError, ValueError):
        return None


def _held_by_someone(lock: Path) -> tuple[int, str] | None:
    """The live owner of ``lock``; None when it is stale (its process is gone)."""
    owner = _owner(lock)
    if owner is None:
        # Just created by another writer and not yet filled in, unless it stayed empty (its
        # writer was killed between the two steps).
        try:
            fresh = time.time() - lock.stat().st_mtime < 10
        except OSError:
            fresh = False
        return (0, "?") if fresh else None
    pid, host = owner
    if host != socket.gethostname() or alive(pid):
        return owner  # another machine's process cannot be checked: taken as live
    return None


@contextmanager
def writer_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the write lock of ``path`` for the ``with`` block; the lock file's path.

    Raises
    ------
    ValueError
        Another live process holds it.
    """
    path = Path(path)
    lock = sibling(path, "lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _held_by_someone(lock)
            if owner is not None:
                raise ValueError(
                    f"{path} is being written by another run (process {owner[0]} on "
                    f"{owner[1]}): wait for it to end, or stop it; if no such run exists, "
                    f"delete {lock}"
                ) from None
            lock.unlink(missing_ok=True)  # its writer was killed: take it over
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()} {socket.gethostname()}\n")
        break
    else:
        raise ValueError(f"cannot take the lock {lock} of {path}: another run keeps taking it")
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)
