"""Recently used model files, remembered across napari sessions in the user's config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from napari_colorgan.core.io.atomic import write_atomic

#: How many model files are remembered.
KEEP = 8
#: Overrides the config folder (tests, or a shared lab setup).
ENV = "NAPARI_COLORGAN_CONFIG_DIR"


def config_dir() -> Path:
    """The folder holding ``recent_models.json``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("napari-colorgan", appauthor=False))


def _file() -> Path:
    return config_dir() / "recent_models.json"


def recent_models() -> list[Path]:
    """Remembered model files that still exist, most recent first."""
    try:
        entries = json.loads(_file().read_text())
    except (OSError, ValueError):
        return []  # none yet, or an unreadable list: start afresh rather than fail a widget
    if not isinstance(entries, list):
        return []
    return [Path(p) for p in entries if isinstance(p, str) and Path(p).is_file()][:KEEP]


def remember(path: str | os.PathLike[str]) -> None:
    """Put ``path`` first in the list (written atomically; failures are ignored)."""
    path = Path(path).resolve()
    entries = [str(path)] + [str(p) for p in recent_models() if p.resolve() != path]
    text = json.dumps(entries[:KEEP], indent=1)
    try:
        write_atomic(_file(), lambda tmp: Path(tmp).write_text(text))
    except OSError:
        pass  # a read-only home must not stop anyone colorizing
