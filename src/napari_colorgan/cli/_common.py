"""What the subcommands share: the one-line error type and input checks."""

from __future__ import annotations

from pathlib import Path

#: Exit status for bad input (argparse's own).
EXIT_USAGE = 2


class CLIError(ValueError):
    """A problem with the user's input, reported as one line (a ``ValueError`` like core's)."""


def require(**paths: str | None) -> None:
    """Refuse paths given on the command line that do not exist, naming what each was for.

    ``require(input=args.input, model_file=args.model)``: the keyword (underscores read as
    spaces) names the path in the message; paths left out (None) are skipped.
    """
    for what, path in paths.items():
        if path is not None and not Path(path).exists():
            raise CLIError(f"{what.replace('_', ' ')} not found: {path}")


def require_palette_with_labels(labels: str | None, palette: str | None) -> None:
    """Labels are painted colours only with the palette that says which colour each id is."""
    if labels and not palette:
        raise CLIError("--labels needs --palette PALETTE.json (label id -> [r, g, b])")
