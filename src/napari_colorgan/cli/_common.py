"""What the subcommands share: the one-line error type and input checks."""

from __future__ import annotations

from pathlib import Path

#: Exit status for bad input (argparse's own).
EXIT_USAGE = 2


class CLIError(ValueError):
    """A problem with the user's input, reported as one line (a ``ValueError`` like core's)."""


def require(path: str | None, what: str) -> None:
    """Refuse a path given on the command line that does not exist, naming what it was for."""
    if path is not None and not Path(path).exists():
        raise CLIError(f"{what} not found: {path}")
