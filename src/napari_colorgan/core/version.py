"""The installed package's version, for provenance in model files (core never imports the root)."""

from __future__ import annotations

from functools import cache


@cache
def package_version() -> str:
    """The installed napari-colorgan version, or ``0.0.0+unknown`` in an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("napari-colorgan")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+unknown"
