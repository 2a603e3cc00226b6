"""Atomic file writes: a crash mid-write never leaves a half-written file (no torch needed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike[str], write: Any) -> Path:
    """Call ``write(tmp_path)`` then move the finished file onto ``path`` in one step.

    A crash mid-write leaves the previous file (if any) intact, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    # The writer's pid in the name: a later write can tell a killed writer's leftover.
    prefix = f".{path.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left beside it.

    A ``kill -9`` mid-write leaves ``.NAME.PID.XXXX.tmp`` (hidden, possibly large); it is
    removed by the next write of ``NAME`` once process PID is gone. Returns what was removed.
    """
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work, a file that could not be written at the end.

    Training for an hour and then failing to save into a read-only folder loses the hour.

    Raises
    ------
    ValueError
        ``path`` is a folder, a file stands where one of its folders should be, or the
        nearest existing folder is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"cannot write {path}: it is a folder; give a file name")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {path}: the folder {folder} is not writable")


def remove_path(path: str | os.PathLike[str]) -> None:
    """Delete a folder (a zarr store) or whatever file stands in its place; nothing if absent."""
    import shutil

    p = Path(path)
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    else:
        p.unlink(missing_ok=True)
