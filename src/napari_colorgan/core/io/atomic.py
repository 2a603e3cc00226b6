"""Atomic file writes: a crash mid-write never leaves a half-written file (no torch needed)."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

#: The longest hidden stem (``.NAME``) kept whole: with ``.PID.XXXXXXXX.tmp`` (or ``.old``,
#: ``.lock``) it stays within the 255 bytes most file systems allow in a name.
_STEM_MAX = 225


def _stem(path: Path) -> str:
    """``.NAME``, or a shortened ``.NAME~HASH`` when ``NAME`` is too long to carry a suffix.

    A legal 250-byte name would otherwise fail at the end of the work, on its temporary's name.
    """
    raw = os.fsencode(path.name)
    if len(raw) + 1 <= _STEM_MAX:
        return f".{path.name}"
    digest = hashlib.sha1(raw).hexdigest()[:12]
    return f".{raw[:100].decode(errors='ignore')}~{digest}"


def sibling(path: str | os.PathLike[str], tag: str) -> Path:
    """The hidden neighbour ``.NAME.tag`` of ``path`` (name shortened when too long)."""
    path = Path(path)
    return path.with_name(f"{_stem(path)}.{tag}")


def write_atomic(path: str | os.PathLike[str], write: Any) -> Path:
    """Call ``write(tmp_path)`` then move the finished file onto ``path`` in one step.

    A crash mid-write leaves the previous file (if any) intact, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    # The writer's pid in the name: a later write can tell a killed writer's leftover.
    prefix = f"{_stem(path)}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            kept = "the previous file is intact" if path.exists() else "nothing was written"
            raise OSError(
                err.errno,
                f"no space left on the disk of {path} while writing it ({kept}); "
                "free some space and save again",
            ) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    import glob

    return glob.escape(text)


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (another user's counts)."""
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
    stem = _stem(path)
    for tmp in path.parent.glob(f"{glob_escape(stem)}.*.tmp"):
        pid = tmp.name[len(stem) + 1 :].split(".", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
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


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or file system cannot (other systems, some network file
    systems): the caller then falls back to two renames.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    rename = getattr(libc, "renameat2", None)
    if rename is None:  # glibc before 2.28
        return False
    at_fdcwd, exchange = -100, 2
    done = rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange)
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _after(step: str) -> None:
    """Called after each step of :func:`replace_tree`; tests kill the process here."""


def replace_tree(new: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Put the finished folder (or file) ``new`` in the place of ``path``, then delete the old.

    ``path`` holds a complete result at every moment: the old one until a single exchange of
    the two paths, the new one after it (Linux). Where the exchange is not available it is two
    renames, ``path`` -> ``.NAME.old`` then ``new`` -> ``path``; a crash between them leaves
    both complete beside an empty ``path``, and :func:`finish_replacement` (run by every
    writer of ``path`` before it starts) completes the swap.
    """
    new, path = Path(new), Path(path)
    old = sibling(path, "old")
    remove_path(old)
    if not path.exists():
        os.replace(new, path)
        _after("moved")
        return path
    if _exchange(new, path):
        _after("exchanged")
        os.replace(new, old)  # ``new`` holds the old result now: out of the way first
        _after("set aside")
    else:
        os.replace(path, old)
        _after("set aside")
        os.replace(new, path)
        _after("moved")
    remove_path(old)
    return path


def finish_replacement(path: str | os.PathLike[str], new: str | os.PathLike[str]) -> None:
    """Complete a :func:`replace_tree` of ``new`` onto ``path`` that a crash cut short.

    ``path`` missing with ``.NAME.old`` and ``new`` both present: the two-rename swap stopped
    between its renames, so ``new`` (finished: only finished results are swapped in) goes in
    place. A ``.NAME.old`` beside a present ``path`` is the previous result, left by a crash
    before its deletion: deleted.
    """
    path, new = Path(path), Path(new)
    old = sibling(path, "old")
    if not old.exists():
        return
    if not path.exists() and new.exists():
        os.replace(new, path)
    if path.exists():
        remove_path(old)
